#include "server/local_client.h"

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "server/status_json.h"

namespace lintel::server {

namespace {

Result<Json> Parse(Result<std::string>&& s) {
  if (!s.ok()) return s.error();
  return ParseJson(*s);
}

Subresource ToSub(std::string_view s) {
  if (s == "status") return Subresource::kStatus;
  if (s == "scale") return Subresource::kScale;
  return Subresource::kNone;
}

// Queues cache events (under the cache's lock) and delivers them, parsed, on
// its own thread.
class LocalWatch final : public client::Watch, public WatchSink {
 public:
  explicit LocalWatch(std::function<void(client::WatchEvent&&)> fn) : fn_(std::move(fn)) {}
  ~LocalWatch() override { Stop(); }

  void Begin(std::unique_ptr<CacheWatch> handle) {
    handle_ = std::move(handle);
    thread_ = std::thread([this] { Loop(); });
  }

  bool OnEvent(WatchEventType type, const EventPtr& event) override {
    std::lock_guard<std::mutex> l(mu_);
    if (done_) return false;
    queue_.push_back({std::string(WatchEventTypeName(type)), event->object()->json});
    cv_.notify_all();  // Wait() shares the condition variable
    return true;
  }
  bool OnBookmark(Revision) override { return !stopped(); }
  void OnEnd(const Status& why) override {
    std::lock_guard<std::mutex> l(mu_);
    queue_.push_back({"ERROR", StatusJson(why).dump()});
    end_status_ = why;
    ended_ = true;
    cv_.notify_all();  // Wait() shares the condition variable
  }
  bool Alive() const override { return !stopped(); }

  Status Wait() override {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait(l, [this] { return done_; });
    return end_status_;
  }

  void Stop() override {
    {
      std::lock_guard<std::mutex> l(mu_);
      done_ = true;
      stop_requested_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id()) thread_.join();
    if (thread_.joinable()) thread_.detach();
    handle_.reset();
  }

 private:
  bool stopped() const {
    std::lock_guard<std::mutex> l(mu_);
    return done_;
  }
  void Loop() {
    std::unique_lock<std::mutex> l(mu_);
    for (;;) {
      cv_.wait(l, [this] { return stop_requested_ || !queue_.empty(); });
      if (stop_requested_) return;
      auto item = std::move(queue_.front());
      queue_.pop_front();
      bool last = ended_ && queue_.empty();
      l.unlock();
      auto obj = ParseJson(item.second);
      if (obj.ok()) fn_(client::WatchEvent{item.first, std::move(*obj)});
      l.lock();
      if (last) {
        done_ = true;
        cv_.notify_all();
        return;
      }
    }
  }

  std::function<void(client::WatchEvent&&)> fn_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<std::string, std::string>> queue_;
  bool done_ = false, ended_ = false, stop_requested_ = false;
  Status end_status_;
  std::unique_ptr<CacheWatch> handle_;
  std::thread thread_;
};

// Keeps the LocalWatch alive while the cache holds it as a sink.
class WatchHandle final : public client::Watch {
 public:
  explicit WatchHandle(std::shared_ptr<LocalWatch> w) : w_(std::move(w)) {}
  ~WatchHandle() override { w_->Stop(); }
  Status Wait() override { return w_->Wait(); }
  void Stop() override { w_->Stop(); }

 private:
  std::shared_ptr<LocalWatch> w_;
};

}  // namespace

Result<const api::KindInfo*> LocalClient::Kind(const client::Resource& r) const {
  const api::KindInfo* k = resources_->registry().ByResource(r.group, r.version, r.resource);
  if (!k) return NotFound("the server could not find the requested resource");
  return k;
}

WriteOptions LocalClient::ToWrite(const client::WriteOptions& o) const {
  WriteOptions w;
  w.dry_run = o.dry_run;
  w.field_manager = o.field_manager.empty() ? "lintel-controller" : o.field_manager;
  w.force = o.force;
  w.validation = o.field_validation == "Strict"   ? FieldValidation::kStrict
                 : o.field_validation == "Ignore" ? FieldValidation::kIgnore
                                                  : FieldValidation::kWarn;
  w.user.name = user_;
  return w;
}

Result<Json> LocalClient::Get(const client::Resource& r, std::string_view ns,
                              std::string_view name) {
  LINTEL_ASSIGN_OR_RETURN(const api::KindInfo* k, Kind(r));
  return Parse(resources_->Get(*k, std::string(ns), std::string(name)));
}

Result<Json> LocalClient::List(const client::Resource& r, std::string_view ns,
                               const client::ListOptions& opts) {
  LINTEL_ASSIGN_OR_RETURN(const api::KindInfo* k, Kind(r));
  ListOptions lo;
  lo.label_selector = opts.label_selector;
  lo.field_selector = opts.field_selector;
  lo.limit = opts.limit;
  lo.continue_token = opts.continue_token;
  lo.resource_version = opts.resource_version;
  LINTEL_ASSIGN_OR_RETURN(ListOutput out, resources_->List(*k, std::string(ns), lo));
  Json items = Json::array();
  for (const auto& s : out.items) {
    auto o = ParseJson(s);
    if (o.ok()) items.push_back(std::move(*o));
  }
  Json meta = {{"resourceVersion", std::to_string(out.rv)}};
  if (!out.continue_token.empty()) meta["continue"] = out.continue_token;
  return Json{{"apiVersion", k->api_version()},
              {"kind", k->list_kind()},
              {"metadata", meta},
              {"items", std::move(items)}};
}

Result<Json> LocalClient::Create(const client::Resource& r, std::string_view ns, const Json& obj,
                                 const client::WriteOptions& opts) {
  LINTEL_ASSIGN_OR_RETURN(const api::KindInfo* k, Kind(r));
  auto res = resources_->Create(*k, std::string(ns), obj, ToWrite(opts));
  if (!res.ok()) return res.error();
  return ParseJson(res->json);
}

Result<Json> LocalClient::Update(const client::Resource& r, std::string_view ns, const Json& obj,
                                 const client::WriteOptions& opts,
                                 std::string_view subresource) {
  LINTEL_ASSIGN_OR_RETURN(const api::KindInfo* k, Kind(r));
  std::string name = obj.is_object() ? api::At(obj, "/metadata/name").get<std::string>() : "";
  if (subresource == "scale") {
    return resources_->UpdateScale(*k, std::string(ns), name, obj, ToWrite(opts));
  }
  auto res = resources_->Update(*k, std::string(ns), name, obj, ToWrite(opts), ToSub(subresource));
  if (!res.ok()) return res.error();
  return ParseJson(res->json);
}

Result<Json> LocalClient::Patch(const client::Resource& r, std::string_view ns,
                                std::string_view name, client::PatchType type, const Json& patch,
                                const client::WriteOptions& opts,
                                std::string_view subresource) {
  LINTEL_ASSIGN_OR_RETURN(const api::KindInfo* k, Kind(r));
  PatchType t = type == client::PatchType::kJson    ? PatchType::kJson
                : type == client::PatchType::kApply ? PatchType::kApply
                                                    : PatchType::kMerge;
  if (subresource == "scale") {
    return resources_->PatchScale(*k, std::string(ns), std::string(name), t, patch.dump(),
                                  ToWrite(opts));
  }
  auto res = resources_->Patch(*k, std::string(ns), std::string(name), t, patch.dump(),
                               ToWrite(opts), ToSub(subresource));
  if (!res.ok()) return res.error();
  return ParseJson(res->json);
}

Result<Json> LocalClient::Delete(const client::Resource& r, std::string_view ns,
                                 std::string_view name, const client::DeleteOptions& opts) {
  LINTEL_ASSIGN_OR_RETURN(const api::KindInfo* k, Kind(r));
  DeleteOptions d;
  d.propagation_policy = opts.propagation_policy;
  if (!opts.precondition_uid.empty()) d.precondition_uid = opts.precondition_uid;
  if (!opts.precondition_resource_version.empty()) {
    d.precondition_rv = opts.precondition_resource_version;
  }
  d.dry_run = opts.dry_run;
  d.user.name = user_;
  auto res = resources_->Delete(*k, std::string(ns), std::string(name), d);
  if (!res.ok()) return res.error();
  return ParseJson(res->json);
}

Result<std::unique_ptr<client::Watch>> LocalClient::WatchResource(
    const client::Resource& r, std::string_view ns, const client::ListOptions& opts,
    std::function<void(client::WatchEvent&&)> on_event) {
  LINTEL_ASSIGN_OR_RETURN(const api::KindInfo* k, Kind(r));
  LINTEL_ASSIGN_OR_RETURN(Filter filter, resources_->MakeFilter(*k, std::string(ns),
                                                                opts.label_selector,
                                                                opts.field_selector));
  Revision from = 0;
  if (!opts.resource_version.empty() && opts.resource_version != "0") {
    from = std::stoll(opts.resource_version);
  } else if (opts.resource_version.empty()) {
    LINTEL_RETURN_IF_ERROR(resources_->cache()->Sync());
  }
  auto w = std::make_shared<LocalWatch>(std::move(on_event));
  auto handle = resources_->cache()->Watch(*k, std::move(filter), from, opts.allow_bookmarks, w);
  if (!handle.ok()) return handle.error();
  w->Begin(std::move(*handle));
  return std::unique_ptr<client::Watch>(new WatchHandle(std::move(w)));
}

}  // namespace lintel::server
