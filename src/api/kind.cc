#include "api/kind.h"

#include <set>

#include "apimachinery/names.h"

namespace lintel::api {

const Schema& ObjectMetaSchema() {
  static const Schema* const kMeta = new Schema(
      Object({
          {"name", String().Doc("Name, unique within its namespace (or the cluster for "
                                "cluster-scoped kinds). Cannot be changed.")},
          {"generateName",
           String().Doc("A prefix from which the server generates a unique name when name is "
                        "empty.")},
          {"namespace", String().Doc("The namespace (tenant) of a namespaced object.")},
          {"uid", String().Doc("Unique id of this object in time and space. Set by the server.")},
          {"resourceVersion",
           String().Doc("Opaque version of this object, for optimistic concurrency and "
                        "watches. Set by the server.")},
          {"generation", Int().Doc("Incremented by the server on each change of the desired "
                                   "state (spec).")},
          {"creationTimestamp", Time().Doc("When the object was created. Set by the server.")},
          {"deletionTimestamp",
           Time().Doc("When deletion was requested; the object goes once its finalizers are "
                      "removed. Set by the server.")},
          {"deletionGracePeriodSeconds", Int().Doc("Grace period of a requested deletion.")},
          {"labels", StringMap().Doc("Key/value pairs for selecting and grouping objects.")},
          {"annotations", StringMap().Doc("Non-identifying metadata for tools and people.")},
          {"finalizers", Array(String()).ListSet().Doc(
                             "Keys that must be removed before the object is deleted.")},
          {"ownerReferences",
           Array(Object({
                     {"apiVersion", String().Required().Doc("API version of the owner.")},
                     {"kind", String().Required().Doc("Kind of the owner.")},
                     {"name", String().Required().Doc("Name of the owner.")},
                     {"uid", String().Required().Doc("UID of the owner.")},
                     {"controller", Bool().Doc("True if the owner is the managing controller.")},
                     {"blockOwnerDeletion",
                      Bool().Doc("Foreground deletion of the owner waits for this object.")},
                 }))
               .ListMap({"uid"})
               .Doc("Objects this one depends on; it is garbage-collected when they are gone.")},
          {"managedFields", Array(AnyJson()).Doc(
                                "Which manager owns which fields (server-side apply).")},
          {"selfLink", String().Doc("Deprecated; not set.")},
      }).Doc("Standard object metadata."));
  return *kMeta;
}

Schema ObjectSchema(const std::optional<Schema>& spec, const std::optional<Schema>& status,
                    std::initializer_list<Property> extra) {
  Schema s = Object({
      {"apiVersion", String().Doc("The versioned schema of this object: lintel.dev/v1alpha1.")},
      {"kind", String().Doc("The kind of this object.")},
      {"metadata", ObjectMetaSchema()},
  });
  if (spec) s = Extend(s, {{"spec", *spec}});
  if (status) s = Extend(s, {{"status", *status}});
  for (const auto& p : extra) s = Extend(s, {p});
  return s;
}

void ValidateObjectMeta(const KindInfo& kind, const Json& metadata, std::vector<Cause>* causes) {
  if (!metadata.is_object()) {
    causes->push_back(RequiredValue("metadata"));
    return;
  }
  auto name_it = metadata.find("name");
  if (name_it == metadata.end() || !name_it->is_string() ||
      name_it->get_ref<const std::string&>().empty()) {
    causes->push_back(RequiredValue("metadata.name", "name or generateName is required"));
  } else {
    const auto& name = name_it->get_ref<const std::string&>();
    auto errs = kind.name_is_label ? apimachinery::IsDns1123Label(name)
                                   : apimachinery::IsDns1123Subdomain(name);
    for (const auto& e : errs) causes->push_back(InvalidValue("metadata.name", *name_it, e));
  }
  if (auto it = metadata.find("labels"); it != metadata.end() && !it->is_null()) {
    for (auto& c : apimachinery::ValidateLabels(*it, "metadata.labels")) {
      causes->push_back(std::move(c));
    }
  }
  if (auto it = metadata.find("annotations"); it != metadata.end() && !it->is_null()) {
    for (auto& c : apimachinery::ValidateAnnotations(*it, "metadata.annotations")) {
      causes->push_back(std::move(c));
    }
  }
  if (auto it = metadata.find("finalizers"); it != metadata.end() && it->is_array()) {
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& f = (*it)[i];
      if (!f.is_string()) continue;  // the schema reports the type
      for (const auto& e : apimachinery::IsQualifiedName(f.get<std::string>())) {
        causes->push_back(InvalidValue(IndexPath("metadata.finalizers", i), f, e));
      }
    }
  }
  if (auto it = metadata.find("ownerReferences"); it != metadata.end() && it->is_array()) {
    int controllers = 0;
    for (size_t i = 0; i < it->size(); ++i) {
      const Json& ref = (*it)[i];
      if (!ref.is_object()) continue;
      if (ref.value("controller", false)) ++controllers;
      if (ref.contains("uid") && ref["uid"].is_string() && ref["uid"].get<std::string>().empty()) {
        causes->push_back(InvalidValue(IndexPath("metadata.ownerReferences", i) + ".uid",
                                       ref["uid"], "uid must not be empty"));
      }
    }
    if (controllers > 1) {
      causes->push_back(InvalidValue("metadata.ownerReferences", *it,
                                     "Only one reference can have Controller set to true"));
    }
  }
}

const Json& At(const Json& obj, const std::string& pointer) {
  static const Json kNull;
  const Json* cur = &obj;
  size_t pos = 1;
  while (pos <= pointer.size() && pos > 0) {
    size_t end = pointer.find('/', pos);
    std::string token = pointer.substr(pos, end == std::string::npos ? end : end - pos);
    if (cur->is_object()) {
      auto it = cur->find(token);
      if (it == cur->end()) return kNull;
      cur = &*it;
    } else if (cur->is_array()) {
      size_t idx = 0;
      for (char c : token) {
        if (c < '0' || c > '9') return kNull;
        idx = idx * 10 + static_cast<size_t>(c - '0');
      }
      if (token.empty() || idx >= cur->size()) return kNull;
      cur = &(*cur)[idx];
    } else {
      return kNull;
    }
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return *cur;
}

Column StringColumn(std::string name, std::string pointer, std::string description,
                    int priority) {
  Column c;
  c.name = std::move(name);
  c.type = "string";
  c.description = std::move(description);
  c.priority = priority;
  c.cell = [pointer = std::move(pointer)](const Json& obj, auto) -> Json {
    const Json& v = At(obj, pointer);
    if (v.is_null()) return "";
    if (v.is_string()) return v;
    return v.dump();
  };
  return c;
}

Column IntColumn(std::string name, std::string pointer, std::string description, int priority) {
  Column c;
  c.name = std::move(name);
  c.type = "integer";
  c.description = std::move(description);
  c.priority = priority;
  c.cell = [pointer = std::move(pointer)](const Json& obj, auto) -> Json {
    const Json& v = At(obj, pointer);
    if (v.is_number()) return v;
    return 0;
  };
  return c;
}

}  // namespace lintel::api
