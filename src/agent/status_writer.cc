#include "agent/status_writer.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace lintel::agent {

namespace {

constexpr std::chrono::milliseconds kFirstBackoff{100};
constexpr std::chrono::milliseconds kMaxBackoff{10'000};
constexpr int kConflictRetries = 5;

bool WorthRetrying(const Status& s) {
  switch (s.code()) {
    case Code::kUnavailable:
    case Code::kTimeout:
    case Code::kConflict:
    case Code::kTooManyRequests:
    case Code::kInternal:
      return true;
    default:
      return s.retryable();
  }
}

std::chrono::milliseconds Backoff(int attempts) {
  auto d = kFirstBackoff * (1 << std::min(attempts, 10));
  return std::min(d, kMaxBackoff);
}

const Json& Field(const Json& obj, const char* a, const char* b) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(a);
  if (it == obj.end() || !it->is_object()) return kNull;
  auto jt = it->find(b);
  return jt == it->end() ? kNull : *jt;
}

}  // namespace

StatusWriter::StatusWriter(int threads)
    : pool_("status writer", threads, [this](const std::string& key) { return Run(key); }) {}

StatusWriter::~StatusWriter() { Stop(); }

void StatusWriter::Start() { pool_.Start(); }

void StatusWriter::Stop() { pool_.Stop(); }

void StatusWriter::Submit(const std::string& key, Job job, Priority priority) {
  {
    std::lock_guard<std::mutex> l(mu_);
    ++stats_.submitted;
    Slot& s = slots_[key];
    if (s.job) ++stats_.coalesced;
    s.job = std::move(job);
    s.priority = priority;
    s.attempts = 0;
  }
  pool_.Add(key, priority);
}

WriterStats StatusWriter::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

std::chrono::milliseconds StatusWriter::Run(const std::string& key) {
  Job job;
  int attempts;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = slots_.find(key);
    if (it == slots_.end() || !it->second.job) return std::chrono::milliseconds(0);
    job = std::move(it->second.job);
    it->second.job = nullptr;
    attempts = it->second.attempts;
  }
  Status s;
  try {
    s = job();
  } catch (const std::exception& e) {
    s = Internal(std::string("status write threw: ") + e.what());
  }
  std::lock_guard<std::mutex> l(mu_);
  auto it = slots_.find(key);
  bool newer = it != slots_.end() && it->second.job;
  if (s.ok()) {
    ++stats_.succeeded;
    if (!newer) slots_.erase(key);
    return std::chrono::milliseconds(0);
  }
  if (newer) return std::chrono::milliseconds(0);  // superseded; the pool runs the newer one
  if (!WorthRetrying(s)) {
    ++stats_.dropped;
    spdlog::warn("status write {}: {} (dropped)", key, s.ToString());
    slots_.erase(key);
    return std::chrono::milliseconds(0);
  }
  ++stats_.retried;
  if (attempts >= 3) spdlog::warn("status write {}: {} (attempt {})", key, s.ToString(), attempts);
  Slot& slot = slots_[key];
  slot.job = std::move(job);
  slot.attempts = attempts + 1;
  return Backoff(attempts);
}

Json UpsertConditions(const Json& current, const Json& updates) {
  Json out = current.is_array() ? current : Json::array();
  for (const auto& u : updates) {
    const std::string type = u.value("type", "");
    auto it = std::find_if(out.begin(), out.end(), [&](const Json& c) {
      return c.is_object() && c.value("type", "") == type;
    });
    Json next = u;
    if (it != out.end()) {
      if (it->value("status", "") == u.value("status", "") && it->contains("lastTransitionTime")) {
        next["lastTransitionTime"] = (*it)["lastTransitionTime"];
      }
      *it = std::move(next);
    } else {
      out.push_back(std::move(next));
    }
  }
  return out;
}

Status WriteWorkloadStatus(client::Client& client, WorkloadStatusPatch p) {
  const std::string what = p.resource.resource + " " + p.ns + "/" + p.name;
  for (int attempt = 0; attempt <= kConflictRetries; ++attempt) {
    if (p.resource_version.empty()) {
      auto fresh = client.Get(p.resource, p.ns, p.name);
      if (!fresh.ok()) {
        if (fresh.error().code() == Code::kNotFound) return Status();
        return fresh.error().Wrap("read " + what);
      }
      if (Field(*fresh, "metadata", "uid") != p.uid || Field(*fresh, "status", "host") != p.host) {
        return Status();  // replaced, or bound elsewhere: not ours to write
      }
      const Json& rv = Field(*fresh, "metadata", "resourceVersion");
      p.resource_version = rv.is_string() ? rv.get<std::string>() : "";
      p.current_conditions = Field(*fresh, "status", "conditions");
    }
    Json status = p.status;
    status["conditions"] = UpsertConditions(p.current_conditions, p.conditions);
    Json patch = {{"metadata", {{"resourceVersion", p.resource_version}}},
                  {"status", std::move(status)}};
    auto r = client.Patch(p.resource, p.ns, p.name, client::PatchType::kMerge, patch, {}, "status");
    if (r.ok()) return Status();
    if (r.error().code() == Code::kNotFound) return Status();
    if (r.error().code() != Code::kConflict) return r.error().Wrap("write status of " + what);
    p.resource_version.clear();  // someone wrote meanwhile: read and try again
  }
  return Conflict("write status of " + what + ": still conflicting after " +
                  std::to_string(kConflictRetries) + " re-reads")
      .SetRetryable();
}

}  // namespace lintel::agent
