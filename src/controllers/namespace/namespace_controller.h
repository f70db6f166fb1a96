// NamespaceController: empties a Namespace marked for deletion, then removes
// its "lintel.dev/namespace" finalizer so that it goes.
//
//   informer(namespaces) --> queue of names --> Process: delete every namespaced
//   object in it (Background); none left -> drop the finalizer; else retry in 1 s.
//
// Threading: the informer thread enqueues; one worker processes.
#pragma once

#include <memory>
#include <string>

#include "api/registry.h"
#include "client/client.h"
#include "controllers/controller.h"
#include "controllers/informer.h"
#include "controllers/workqueue.h"

namespace lintel::controllers {

inline constexpr char kNamespaceFinalizer[] = "lintel.dev/namespace";

class NamespaceController final : public Controller {
 public:
  NamespaceController(std::shared_ptr<client::Client> client, const api::Registry& registry);
  ~NamespaceController() override;
  std::string name() const override { return "namespace"; }
  Status Start() override;
  void Stop() override;

 private:
  std::chrono::milliseconds Process(const std::string& name);

  std::shared_ptr<client::Client> client_;
  const api::Registry& registry_;
  const api::KindInfo* ns_kind_;
  std::unique_ptr<Informer> informer_;
  WorkQueue queue_;
};

}  // namespace lintel::controllers
