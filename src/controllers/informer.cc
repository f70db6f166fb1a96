#include "controllers/informer.h"

#include <spdlog/spdlog.h>

#include "api/kind.h"

namespace lintel::controllers {

Informer::Informer(std::shared_ptr<client::Client> client, client::Resource resource,
                   InformerHandlers handlers, client::ListOptions selectors)
    : client_(std::move(client)),
      resource_(std::move(resource)),
      handlers_(std::move(handlers)),
      selectors_(std::move(selectors)) {}

Informer::~Informer() { Stop(); }

void Informer::Start() { thread_ = std::thread([this] { Run(); }); }

void Informer::Stop() {
  stop_ = true;
  std::shared_ptr<client::Watch> watch;
  {
    std::lock_guard<std::mutex> l(mu_);
    watch = watch_;
  }
  // Not under mu_: Stop joins the watch's delivery thread, whose handler
  // takes mu_ (a deadlock seen in a CI run).
  if (watch) watch->Stop();
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  {
    std::lock_guard<std::mutex> l(mu_);
    watch = std::move(watch_);
  }
  watch.reset();  // the last reference: destroyed (and joined) outside mu_
}

bool Informer::WaitForSync(std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [this] { return synced_.load() || stop_.load(); }) &&
         synced_;
}

std::string Informer::KeyOf(const Json& obj) {
  const Json& ns = api::At(obj, "/metadata/namespace");
  const Json& name = api::At(obj, "/metadata/name");
  std::string n = name.is_string() ? name.get<std::string>() : "";
  if (ns.is_string() && !ns.get<std::string>().empty()) return ns.get<std::string>() + "/" + n;
  return n;
}

std::optional<Json> Informer::Get(const std::string& key) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = objects_.find(key);
  if (it == objects_.end()) return std::nullopt;
  return it->second;
}

std::vector<Json> Informer::List() const {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<Json> out;
  out.reserve(objects_.size());
  for (const auto& [k, v] : objects_) out.push_back(v);
  return out;
}

Json Informer::Stub(const Json& obj) {
  Json meta = Json::object();
  const Json& m = api::At(obj, "/metadata");
  for (const char* f : {"uid", "name", "namespace"}) {
    if (m.is_object() && m.contains(f)) meta[f] = m[f];
  }
  return Json{{"metadata", std::move(meta)}};
}

Json IdentityOnly(Json&& obj) {
  if (!obj.is_object()) return std::move(obj);
  Json out = Json::object();
  for (const char* f : {"apiVersion", "kind"}) {
    auto it = obj.find(f);
    if (it != obj.end()) out[f] = std::move(*it);
  }
  auto meta = obj.find("metadata");
  if (meta != obj.end() && meta->is_object()) {
    Json& m = out["metadata"] = Json::object();
    for (const char* f : {"name", "namespace", "uid", "resourceVersion", "ownerReferences",
                          "finalizers", "deletionTimestamp"}) {
      auto it = meta->find(f);
      if (it != meta->end()) m[f] = std::move(*it);
    }
  }
  return out;
}

Status Informer::ListOnce(std::string* rv) {
  auto list = client_->List(resource_, "", selectors_);
  if (!list.ok()) return list.error();
  std::map<std::string, Json> fresh;
  for (auto& item : (*list)["items"]) {
    Json obj = handlers_.transform ? handlers_.transform(std::move(item)) : std::move(item);
    std::string key = KeyOf(obj);
    fresh[key] = std::move(obj);
  }
  std::map<std::string, Json> old;
  {
    std::lock_guard<std::mutex> l(mu_);
    old.swap(objects_);
    if (handlers_.keep_objects) {
      objects_ = fresh;
    } else {
      for (const auto& [k, v] : fresh) objects_.emplace_hint(objects_.end(), k, Stub(v));
    }
  }
  for (const auto& [k, v] : fresh) {
    auto it = old.find(k);
    if (it == old.end()) {
      if (handlers_.on_add) handlers_.on_add(v);
    } else if (it->second != v && handlers_.on_update) {
      handlers_.on_update(it->second, v);
    }
  }
  for (const auto& [k, v] : old) {
    if (!fresh.count(k) && handlers_.on_delete) handlers_.on_delete(v);
  }
  *rv = api::At(*list, "/metadata/resourceVersion").get<std::string>();
  if (!synced_) {
    std::lock_guard<std::mutex> l(mu_);
    synced_ = true;
    cv_.notify_all();
  }
  return Status();
}

void Informer::Run() {
  std::string rv;
  bool need_list = true;
  while (!stop_) {
    if (need_list) {
      Status s = ListOnce(&rv);
      if (!s.ok()) {
        spdlog::warn("informer {}: list: {}", resource_.resource, s.ToString());
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait_for(l, std::chrono::seconds(1), [this] { return stop_.load(); });
        continue;
      }
      need_list = false;
    }
    client::ListOptions opts = selectors_;
    opts.resource_version = rv;
    opts.allow_bookmarks = true;
    bool expired = false;
    auto w = client_->WatchResource(resource_, "", opts, [&](client::WatchEvent&& ev) {
      if (ev.type == "ERROR") {
        expired = api::At(ev.object, "/code") == 410;
        return;
      }
      const Json& new_rv = api::At(ev.object, "/metadata/resourceVersion");
      if (new_rv.is_string()) rv = new_rv.get<std::string>();
      if (ev.type == "BOOKMARK") return;
      if (handlers_.transform) ev.object = handlers_.transform(std::move(ev.object));
      std::string key = KeyOf(ev.object);
      std::optional<Json> prev;
      {
        std::lock_guard<std::mutex> l(mu_);
        auto it = objects_.find(key);
        if (it != objects_.end()) prev = it->second;
        if (ev.type == "DELETED") {
          objects_.erase(key);
        } else {
          objects_[key] = handlers_.keep_objects ? ev.object : Stub(ev.object);
        }
      }
      if (ev.type == "DELETED") {
        if (handlers_.on_delete) handlers_.on_delete(ev.object);
      } else if (prev) {
        if (handlers_.on_update) handlers_.on_update(*prev, ev.object);
      } else if (handlers_.on_add) {
        handlers_.on_add(ev.object);
      }
    });
    if (!w.ok()) {
      need_list = w.error().code() == Code::kGone;
      if (!need_list) {
        std::unique_lock<std::mutex> l(mu_);
        cv_.wait_for(l, std::chrono::seconds(1), [this] { return stop_.load(); });
      }
      continue;
    }
    std::shared_ptr<client::Watch> watch = std::move(*w);
    {
      std::lock_guard<std::mutex> l(mu_);
      watch_ = watch;
    }
    if (stop_) break;
    Status ended = watch->Wait();
    if (!ended.ok() && ended.code() == Code::kGone) expired = true;
    {
      std::lock_guard<std::mutex> l(mu_);
      watch_.reset();
    }
    if (expired) need_list = true;
  }
}

}  // namespace lintel::controllers
