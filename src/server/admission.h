// Admission: checks every write must pass after validation and before the
// store, in order (like kube-apiserver's admission chain). Plugins:
//   - NamespaceLifecycle: a namespaced object needs an existing namespace that
//     is not being deleted; the built-in namespaces cannot be deleted.
// Quota, RBAC and isolation policy plug in here as later issues add them.
//
// Threading: Admit is called concurrently from request threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "api/kind.h"
#include "common/json.h"
#include "common/status.h"

namespace lintel::server {

class WatchCache;

struct UserInfo {
  std::string name;
  std::vector<std::string> groups;
};

enum class Operation { kCreate, kUpdate, kDelete };

struct AdmissionRequest {
  const api::KindInfo* kind = nullptr;
  Operation operation = Operation::kCreate;
  std::string ns;
  std::string name;
  const Json* object = nullptr;  // the new object (create, update)
  const Json* old = nullptr;     // the stored object (update, delete)
  bool dry_run = false;
  UserInfo user;
};

class AdmissionPlugin {
 public:
  virtual ~AdmissionPlugin() = default;
  virtual std::string name() const = 0;
  // OK to admit; Forbidden, NotFound or Invalid to refuse.
  virtual Status Admit(const AdmissionRequest& request) = 0;
};

class Admission {
 public:
  void Add(std::unique_ptr<AdmissionPlugin> plugin) { plugins_.push_back(std::move(plugin)); }
  Status Admit(const AdmissionRequest& request) const;

 private:
  std::vector<std::unique_ptr<AdmissionPlugin>> plugins_;
};

// The namespaces the server creates and never lets go.
inline constexpr const char* kSystemNamespaces[] = {"default", "lintel-system",
                                                     "lintel-host-leases"};

std::unique_ptr<AdmissionPlugin> MakeNamespaceLifecycle(WatchCache* cache,
                                                        const api::KindInfo* namespace_kind);

}  // namespace lintel::server
