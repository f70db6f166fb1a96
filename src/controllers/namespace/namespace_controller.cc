#include "controllers/namespace/namespace_controller.h"

#include <spdlog/spdlog.h>

namespace lintel::controllers {

namespace {
client::Resource ResourceOf(const api::KindInfo& k) {
  return client::Resource{k.group, k.version, k.plural, k.namespaced};
}
}  // namespace

NamespaceController::NamespaceController(std::shared_ptr<client::Client> client,
                                         const api::Registry& registry)
    : client_(std::move(client)),
      registry_(registry),
      ns_kind_(registry.ByName("namespaces")),
      queue_([this](const std::string& name) { return Process(name); }) {}

NamespaceController::~NamespaceController() { Stop(); }

Status NamespaceController::Start() {
  if (!ns_kind_) return Internal("namespace controller: no Namespace kind");
  InformerHandlers h;
  auto maybe_add = [this](const Json& o) {
    if (api::At(o, "/metadata/deletionTimestamp").is_string()) {
      queue_.Add(o["metadata"].value("name", ""));
    }
  };
  h.on_add = maybe_add;
  h.on_update = [maybe_add](const Json&, const Json& o) { maybe_add(o); };
  informer_ = std::make_unique<Informer>(client_, ResourceOf(*ns_kind_), std::move(h));
  queue_.Start();
  informer_->Start();
  return Status();
}

void NamespaceController::Stop() {
  if (informer_) informer_->Stop();
  queue_.Stop();
}

std::chrono::milliseconds NamespaceController::Process(const std::string& name) {
  auto ns = client_->Get(ResourceOf(*ns_kind_), "", name);
  if (!ns.ok()) return std::chrono::milliseconds(0);  // gone
  if (!api::At(*ns, "/metadata/deletionTimestamp").is_string()) return std::chrono::milliseconds(0);
  size_t remaining = 0;
  for (const auto& k : registry_.kinds()) {
    if (!k.namespaced) continue;
    auto list = client_->List(ResourceOf(k), name, {});
    if (!list.ok()) {
      spdlog::warn("namespace {}: list {}: {}", name, k.plural, list.error().ToString());
      return std::chrono::seconds(1);
    }
    for (const auto& item : (*list)["items"]) {
      ++remaining;
      if (api::At(item, "/metadata/deletionTimestamp").is_string()) continue;
      client::DeleteOptions d;
      d.propagation_policy = "Background";
      auto r = client_->Delete(ResourceOf(k), name, item["metadata"].value("name", ""), d);
      if (!r.ok() && r.error().code() != Code::kNotFound) {
        spdlog::warn("namespace {}: delete {}: {}", name, k.plural, r.error().ToString());
      }
    }
  }
  if (remaining > 0) return std::chrono::seconds(1);
  Json fins = Json::array();
  for (const auto& f : (*ns)["metadata"].value("finalizers", Json::array())) {
    if (f != kNamespaceFinalizer) fins.push_back(f);
  }
  Json patch = {{"metadata",
                 {{"finalizers", fins},
                  {"resourceVersion", (*ns)["metadata"]["resourceVersion"]}}}};
  auto r = client_->Patch(ResourceOf(*ns_kind_), "", name, client::PatchType::kMerge, patch);
  if (!r.ok() && r.error().code() != Code::kNotFound) return std::chrono::seconds(1);
  spdlog::info("namespace {} emptied and deleted", name);
  return std::chrono::milliseconds(0);
}

}  // namespace lintel::controllers
