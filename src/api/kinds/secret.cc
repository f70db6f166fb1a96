#include <string>

#include "api/kinds/common_schemas.h"
#include "api/kinds/kinds.h"
#include "common/base64.h"

namespace lintel::api {

namespace {

constexpr size_t kMaxSecretBytes = 1 << 20;  // as Kubernetes

bool IsDataKey(const std::string& k) {
  if (k.empty() || k.size() > 253 || k == "." || k == "..") return false;
  for (char c : k) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

// Kubernetes' Secret, in lintel.dev: small data that workloads reference by
// name in their namespace (a VM's cloud-init user data, keys). Values are
// base64 in `data`; `stringData` is a write-only convenience merged into
// `data` on every write, as Kubernetes does.
KindInfo SecretKind() {
  KindInfo k;
  k.kind = "Secret";
  k.plural = "secrets";
  k.singular = "secret";
  k.has_status = false;
  k.description = "Small pieces of data workloads reference by name: a VM's cloud-init user "
                  "data (spec.cloudInit.userDataSecretRef), keys. Values are base64 in data.";
  k.schema = ObjectSchema(
      std::nullopt, std::nullopt,
      {
          {"type", String().Default("Opaque").Doc("What the data is for (free form).")},
          {"data", StringMap().Doc("Key to base64-encoded value.")},
          {"stringData", StringMap().Doc("Key to plain value, merged into data on write "
                                         "(written, never read back).")},
          {"immutable", Bool().Doc("When true, data can no longer change.")},
      });
  k.prepare = [](Json* obj, const Json*) {
    auto sd = obj->find("stringData");
    if (sd == obj->end()) return;
    if (sd->is_object()) {
      Json& data = (*obj)["data"];
      if (!data.is_object()) data = Json::object();
      for (auto it = sd->begin(); it != sd->end(); ++it) {
        if (it->is_string()) data[it.key()] = Base64Encode(it->get<std::string>());
      }
    }
    obj->erase("stringData");
  };
  k.validate = [](const Json& obj, const Json* old, std::vector<Cause>* causes) {
    const Json& data = At(obj, "/data");
    size_t total = 0;
    if (data.is_object()) {
      for (auto it = data.begin(); it != data.end(); ++it) {
        const std::string path = "data[" + it.key() + "]";
        if (!IsDataKey(it.key())) {
          causes->push_back(InvalidValue(path, it.key(),
                                         "a valid key must consist of alphanumeric characters, "
                                         "'-', '_' or '.'"));
        }
        if (!it->is_string()) continue;
        auto raw = Base64Decode(it->get<std::string>());
        if (!raw.ok()) {
          causes->push_back(InvalidValue(path, *it, "must be base64-encoded"));
        } else {
          total += raw->size();
        }
      }
    }
    if (total > kMaxSecretBytes) {
      causes->push_back(ForbiddenField("data", "may not be more than 1048576 bytes in total"));
    }
    if (old != nullptr && At(*old, "/immutable") == true) {
      if (At(obj, "/data") != At(*old, "/data") || At(obj, "/immutable") != true) {
        causes->push_back(ForbiddenField("data", "field is immutable when `immutable` is set"));
      }
    }
  };
  k.columns = {
      StringColumn("Type", "/type", "What the data is for."),
      {"Data", "integer", "", "How many keys.", 0,
       [](const Json& o, auto) -> Json {
         const Json& d = At(o, "/data");
         return d.is_object() ? static_cast<int64_t>(d.size()) : 0;
       }},
      {"Age", "string", "", "Since creation.", 0,
       [](const Json& o, std::chrono::system_clock::time_point now) -> Json {
         return AgeCell(o, "/metadata/creationTimestamp", now);
       }},
  };
  return k;
}

}  // namespace lintel::api
