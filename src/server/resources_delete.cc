// Deletes: preconditions, finalizers, propagation policies, collections.
#include <algorithm>

#include "server/resources.h"

namespace lintel::server {

namespace {
constexpr int kDeleteRetries = 8;
constexpr char kOrphanFinalizer[] = "orphan";
constexpr char kForegroundFinalizer[] = "foregroundDeletion";
}  // namespace

Result<WriteResult> Resources::Delete(const api::KindInfo& kind, const std::string& ns,
                                      const std::string& name, const DeleteOptions& opts) {
  const std::string& policy = opts.propagation_policy;
  if (!policy.empty() && policy != "Background" && policy != "Foreground" && policy != "Orphan") {
    return Invalid("DeleteOptions.meta.k8s.io \"\" is invalid: propagationPolicy: Unsupported "
                   "value: \"" + policy + "\": supported values: \"Foreground\", "
                   "\"Background\", \"Orphan\"",
                   {{"FieldValueNotSupported", "propagationPolicy",
                     "Unsupported value: \"" + policy + "\""}});
  }
  const std::string key = StorageKey(kind, ns, name);
  for (int attempt = 0;; ++attempt) {
    LINTEL_ASSIGN_OR_RETURN(Current cur, ReadCurrent(kind, key, name));
    const Json& meta = cur.obj["metadata"];
    if (opts.precondition_uid && *opts.precondition_uid != meta.value("uid", "")) {
      return ConflictError(kind, name,
                           "Precondition failed: UID in precondition: " + *opts.precondition_uid +
                               ", UID in object meta: " + meta.value("uid", ""));
    }
    if (opts.precondition_rv && *opts.precondition_rv != std::to_string(cur.rv)) {
      return ConflictError(kind, name,
                           "Precondition failed: ResourceVersion in precondition: " +
                               *opts.precondition_rv + ", ResourceVersion in object meta: " +
                               std::to_string(cur.rv));
    }
    AdmissionRequest ar;
    ar.kind = &kind;
    ar.operation = Operation::kDelete;
    ar.ns = ns;
    ar.name = name;
    ar.old = &cur.obj;
    ar.dry_run = opts.dry_run;
    ar.user = opts.user;
    LINTEL_RETURN_IF_ERROR(admission_->Admit(ar));

    Json next = cur.obj;
    next["metadata"].erase("resourceVersion");
    Json& fins = next["metadata"]["finalizers"];
    if (!fins.is_array()) fins = Json::array();
    bool added = false;
    auto add = [&](const char* f) {
      if (std::find(fins.begin(), fins.end(), f) == fins.end()) {
        fins.push_back(f);
        added = true;
      }
    };
    const bool deleting = meta.contains("deletionTimestamp");
    if (policy == "Orphan") add(kOrphanFinalizer);
    if (policy == "Foreground") add(kForegroundFinalizer);
    if (!fins.empty()) {
      WriteResult out;
      if (deleting && !added) {
        out.json = WithResourceVersion(EncodeForStorage(next), cur.rv);
        return out;  // already being deleted: a repeated DELETE changes nothing
      }
      if (!deleting) {
        next["metadata"]["deletionTimestamp"] = Now();
        next["metadata"]["deletionGracePeriodSeconds"] = 0;
      }
      if (kind.prepare) kind.prepare(&next, &cur.obj);
      std::string stored = EncodeForStorage(next);
      if (opts.dry_run) {
        out.json = WithResourceVersion(stored, cur.rv);
        return out;
      }
      auto rv = store_->Update(key, stored, cur.rv, cur.lease);
      if (!rv.ok()) {
        if ((rv.error().code() == Code::kConflict || rv.error().code() == Code::kNotFound) &&
            attempt < kDeleteRetries) {
          continue;
        }
        return rv.error();
      }
      out.json = WithResourceVersion(stored, *rv);
      return out;
    }
    WriteResult out;
    std::string stored = EncodeForStorage(next);
    if (fins.empty()) {
      next["metadata"].erase("finalizers");
      stored = EncodeForStorage(next);
    }
    if (opts.dry_run) {
      out.json = WithResourceVersion(stored, cur.rv);
      return out;
    }
    auto rv = store_->Delete(key, cur.rv);
    if (!rv.ok()) {
      if (rv.error().code() == Code::kConflict && attempt < kDeleteRetries) continue;
      if (rv.error().code() == Code::kNotFound) return NotFoundError(kind, name);
      return rv.error();
    }
    out.json = WithResourceVersion(stored, *rv);
    return out;
  }
}

Result<std::vector<std::string>> Resources::DeleteCollection(const api::KindInfo& kind,
                                                             const std::string& ns,
                                                             const ListOptions& selectors,
                                                             const DeleteOptions& opts) {
  ListOptions lo;
  lo.label_selector = selectors.label_selector;
  lo.field_selector = selectors.field_selector;
  LINTEL_ASSIGN_OR_RETURN(ListOutput list, List(kind, ns, lo));
  std::vector<std::string> out;
  for (const auto& obj : list.cached) {
    auto r = Delete(kind, obj->ns, obj->name, opts);
    if (!r.ok()) {
      if (r.error().code() == Code::kNotFound) continue;  // gone meanwhile
      return r.error();
    }
    out.push_back(std::move(r->json));
  }
  return out;
}

}  // namespace lintel::server
