#include "agent/resource_watch.h"

#include <spdlog/spdlog.h>

namespace lintel::agent {

namespace {

constexpr int64_t kPageSize = 500;

const Json& Meta(const Json& obj, const char* field) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto m = obj.find("metadata");
  if (m == obj.end() || !m->is_object()) return kNull;
  auto it = m->find(field);
  return it == m->end() ? kNull : *it;
}

}  // namespace

std::string UidOf(const Json& obj) {
  const Json& uid = Meta(obj, "uid");
  return uid.is_string() ? uid.get<std::string>() : "";
}

ResourceWatch::ResourceWatch(client::Client* client, client::Resource resource,
                             client::ListOptions selectors, WatchHandlers handlers)
    : client_(client),
      resource_(std::move(resource)),
      selectors_(std::move(selectors)),
      handlers_(std::move(handlers)) {}

ResourceWatch::~ResourceWatch() { Stop(); }

void ResourceWatch::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ResourceWatch::Stop() {
  stop_ = true;
  {
    std::lock_guard<std::mutex> l(mu_);
    if (watch_) watch_->Stop();
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> l(mu_);
  watch_.reset();
}

bool ResourceWatch::WaitForSync(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> l(mu_);
  return cv_.wait_for(l, timeout, [this] { return synced_ || stop_.load(); }) && synced_;
}

void ResourceWatch::Pause(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, d, [this] { return stop_.load(); });
}

Status ResourceWatch::ListAll(std::string* rv) {
  std::unordered_set<std::string> uids;
  client::ListOptions opts = selectors_;
  opts.limit = kPageSize;
  std::string first_rv;
  do {
    auto page = client_->List(resource_, "", opts);
    if (!page.ok()) return page.error();
    if (first_rv.empty()) {
      first_rv = (*page)["metadata"].value("resourceVersion", "");
    }
    for (auto& item : (*page)["items"]) {
      uids.insert(UidOf(item));
      if (handlers_.on_upsert) handlers_.on_upsert(std::move(item));
    }
    opts.continue_token = (*page)["metadata"].value("continue", "");
  } while (!opts.continue_token.empty() && !stop_);
  if (stop_) return Status();
  if (handlers_.on_listed) handlers_.on_listed(uids);
  *rv = first_rv;
  ++lists_;
  {
    std::lock_guard<std::mutex> l(mu_);
    synced_ = true;
  }
  cv_.notify_all();
  return Status();
}

void ResourceWatch::Run() {
  std::string rv;
  bool need_list = true;
  auto backoff = std::chrono::milliseconds(200);
  auto grow = [&backoff] { backoff = std::min(backoff * 2, std::chrono::milliseconds(10'000)); };
  while (!stop_) {
    if (need_list) {
      Status s = ListAll(&rv);
      if (!s.ok()) {
        spdlog::warn("agent: list {}: {}", resource_.resource, s.ToString());
        Pause(backoff);
        grow();
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
        expired = ev.object.value("code", 0) == 410;
        return;
      }
      const Json& new_rv = Meta(ev.object, "resourceVersion");
      if (new_rv.is_string()) rv = new_rv.get<std::string>();
      if (ev.type == "BOOKMARK") return;
      if (ev.type == "DELETED") {
        if (handlers_.on_delete) handlers_.on_delete(std::move(ev.object));
      } else if (handlers_.on_upsert) {
        handlers_.on_upsert(std::move(ev.object));
      }
    });
    if (!w.ok()) {
      need_list = w.error().code() == Code::kGone;
      if (!need_list) {
        spdlog::warn("agent: watch {}: {}", resource_.resource, w.error().ToString());
        Pause(backoff);
        grow();
      }
      continue;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      watch_ = std::move(*w);
      if (stop_) break;
    }
    Status ended = watch_->Wait();
    if (!ended.ok() && ended.code() == Code::kGone) expired = true;
    {
      std::lock_guard<std::mutex> l(mu_);
      watch_.reset();
    }
    if (expired) {
      need_list = true;
    } else if (!ended.ok() && !stop_) {
      spdlog::warn("agent: watch {} ended: {}", resource_.resource, ended.ToString());
      Pause(backoff);
      grow();
      continue;
    }
    backoff = std::chrono::milliseconds(200);
  }
}

}  // namespace lintel::agent
