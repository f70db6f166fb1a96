#include "controllers/event_recorder.h"

#include <spdlog/spdlog.h>

#include "api/kind.h"
#include "common/time_format.h"

namespace lintel::controllers {

namespace {

constexpr size_t kMaxSeen = 100000;

const client::Resource& EventsResource() {
  static const client::Resource r{"lintel.dev", "v1alpha1", "events", true};
  return r;
}

}  // namespace

EventRecorder::EventRecorder(std::shared_ptr<client::Client> client, std::string component)
    : client_(std::move(client)), component_(std::move(component)) {}

void EventRecorder::Record(const Json& object, const std::string& type, const std::string& reason,
                           const std::string& message) {
  const Json& meta = api::At(object, "/metadata");
  std::string ns = meta.value("namespace", "");
  if (ns.empty()) ns = "default";  // events about cluster-scoped objects
  const std::string uid = meta.value("uid", "");
  const std::string now = FormatRfc3339(std::chrono::system_clock::now());
  const std::string key = uid + "\n" + reason + "\n" + message;

  Seen seen;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = seen_.find(key);
    if (it != seen_.end()) {
      it->second.count++;
      seen = it->second;
    }
  }
  if (!seen.event_name.empty()) {
    Json patch = {{"count", seen.count}, {"lastTimestamp", now}};
    auto r = client_->Patch(EventsResource(), ns, seen.event_name, client::PatchType::kMerge,
                            patch);
    if (r.ok()) return;
    // Expired or deleted: write a new one below.
  }
  Json ev = {
      {"apiVersion", "lintel.dev/v1alpha1"},
      {"kind", "Event"},
      {"metadata", {{"generateName", meta.value("name", "object") + "."}, {"namespace", ns}}},
      {"involvedObject",
       {{"apiVersion", object.value("apiVersion", "")},
        {"kind", object.value("kind", "")},
        {"name", meta.value("name", "")},
        {"uid", uid},
        {"resourceVersion", meta.value("resourceVersion", "")}}},
      {"reason", reason},
      {"message", message.substr(0, 4096)},
      {"type", type},
      {"source", {{"component", component_}}},
      {"reportingComponent", component_},
      {"firstTimestamp", now},
      {"lastTimestamp", now},
      {"count", 1},
  };
  if (meta.contains("namespace")) ev["involvedObject"]["namespace"] = ns;
  auto created = client_->Create(EventsResource(), ns, ev);
  if (!created.ok()) {
    spdlog::debug("event {} about {}: {}", reason, meta.value("name", ""),
                  created.error().ToString());
    return;
  }
  std::lock_guard<std::mutex> l(mu_);
  if (seen_.size() >= kMaxSeen) seen_.clear();
  seen_[key] = Seen{api::At(*created, "/metadata/name").get<std::string>(), 1};
}

}  // namespace lintel::controllers
