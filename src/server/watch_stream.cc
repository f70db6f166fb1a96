#include "server/watch_stream.h"

#include "common/time_format.h"
#include "server/status_json.h"

namespace lintel::server {

bool HttpWatchSink::OnEvent(WatchEventType type, const EventPtr& event) {
  if (stream_->Closed()) return false;
  if (stream_->QueuedBytes() > kMaxQueuedBytes) {
    stream_->Close();
    return false;
  }
  std::string_view type_name = WatchEventTypeName(type);
  std::shared_ptr<const std::string> line;
  if (!format_.table) {
    line = event->Encoded(std::string("j:") + std::string(type_name), [&] {
      const std::string& obj = event->object()->json;
      std::string s;
      s.reserve(obj.size() + 32);
      s.append("{\"type\":\"").append(type_name).append("\",\"object\":");
      s.append(obj).append("}\n");
      return s;
    });
  } else {
    std::string key = "t:" + format_.table_version + ":" +
                      std::to_string(static_cast<int>(format_.include)) + ":" +
                      std::string(type_name);
    const api::KindInfo* kind = kind_;
    const WatchFormat& fmt = format_;
    line = event->Encoded(key, [&] {
      auto parsed = ParseJson(event->object()->json);
      Json obj = parsed.ok() ? std::move(*parsed) : Json::object();
      Json rows = Json::array();
      rows.push_back(api::TableRow(*kind, obj, fmt.include, std::chrono::system_clock::now()));
      Json table = api::MakeTable(*kind, std::move(rows), "meta.k8s.io/" + fmt.table_version,
                                  std::to_string(event->rv()), "");
      Json ev = {{"type", type_name}, {"object", std::move(table)}};
      return ev.dump() + "\n";
    });
  }
  return stream_->Write(std::move(line));
}

std::string HttpWatchSink::BookmarkLine(Revision rv, bool initial_end) const {
  Json meta = {{"resourceVersion", std::to_string(rv)}};
  if (initial_end) meta["annotations"] = {{"k8s.io/initial-events-end", "true"}};
  Json ev = {{"type", "BOOKMARK"},
             {"object",
              {{"kind", kind_->kind}, {"apiVersion", kind_->api_version()}, {"metadata", meta}}}};
  return ev.dump() + "\n";
}

bool HttpWatchSink::OnBookmark(Revision rv) {
  if (stream_->Closed()) return false;
  return stream_->Write(BookmarkLine(rv, false));
}

void HttpWatchSink::OnInitialEventsEnd(Revision rv) {
  if (format_.send_initial_events_end) stream_->Write(BookmarkLine(rv, true));
}

void HttpWatchSink::OnEnd(const Status& why) { WriteError(*stream_, why); }

void HttpWatchSink::WriteError(http::Stream& stream, const Status& status) {
  Json ev = {{"type", "ERROR"}, {"object", StatusJson(status)}};
  stream.Write(ev.dump() + "\n");
  stream.Close();
}

StreamTimers::StreamTimers() : thread_([this] { Loop(); }) {}

StreamTimers::~StreamTimers() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void StreamTimers::CloseAt(std::chrono::steady_clock::time_point when,
                           std::weak_ptr<http::Stream> stream) {
  {
    std::lock_guard<std::mutex> l(mu_);
    heap_.push(Entry{when, std::move(stream)});
  }
  cv_.notify_all();
}

void StreamTimers::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    if (heap_.empty()) {
      cv_.wait(l);
      continue;
    }
    auto when = heap_.top().when;
    if (std::chrono::steady_clock::now() < when) {
      cv_.wait_until(l, when);
      continue;
    }
    auto stream = heap_.top().stream.lock();
    heap_.pop();
    l.unlock();
    if (stream) stream->Close();
    l.lock();
  }
}

}  // namespace lintel::server
