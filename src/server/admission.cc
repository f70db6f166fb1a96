#include "server/admission.h"

#include "server/object_codec.h"
#include "server/watch_cache.h"

namespace lintel::server {

Status Admission::Admit(const AdmissionRequest& request) const {
  for (const auto& p : plugins_) {
    Status s = p->Admit(request);
    if (!s.ok()) return s;
  }
  return Status();
}

namespace {

class NamespaceLifecycle final : public AdmissionPlugin {
 public:
  NamespaceLifecycle(WatchCache* cache, const api::KindInfo* ns_kind)
      : cache_(cache), ns_kind_(ns_kind) {}
  std::string name() const override { return "NamespaceLifecycle"; }

  Status Admit(const AdmissionRequest& r) override {
    if (r.kind == ns_kind_ || r.kind->kind == "Namespace") {
      if (r.operation == Operation::kDelete) {
        for (const char* sys : kSystemNamespaces) {
          if (r.name == sys) {
            return Forbidden("namespaces \"" + r.name +
                             "\" is forbidden: this namespace may not be deleted");
          }
        }
      }
      return Status();
    }
    if (!r.kind->namespaced || r.operation != Operation::kCreate) return Status();
    ObjectPtr ns = cache_->Get(*ns_kind_, StorageKey(*ns_kind_, "", r.ns));
    if (!ns) {
      // The cache may trail a namespace created a moment ago: catch up once.
      if (cache_->Sync().ok()) ns = cache_->Get(*ns_kind_, StorageKey(*ns_kind_, "", r.ns));
    }
    if (!ns) {
      Status s = NotFound("namespaces \"" + r.ns + "\" not found");
      return s;
    }
    if (ns->deleting) {
      return Forbidden(r.kind->plural + " \"" + r.name + "\" is forbidden: unable to create new "
                       "content in namespace " + r.ns + " because it is being terminated");
    }
    return Status();
  }

 private:
  WatchCache* cache_;
  const api::KindInfo* ns_kind_;
};

}  // namespace

std::unique_ptr<AdmissionPlugin> MakeNamespaceLifecycle(WatchCache* cache,
                                                        const api::KindInfo* namespace_kind) {
  return std::make_unique<NamespaceLifecycle>(cache, namespace_kind);
}

}  // namespace lintel::server
