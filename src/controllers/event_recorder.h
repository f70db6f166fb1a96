// EventRecorder: writes Events (lintel.dev/v1alpha1, kind Event) about objects,
// as kube's record.EventRecorder does: a repeat of the same reason and message
// about the same object bumps `count` and `lastTimestamp` of the Event already
// written instead of creating another. Writes go through the client; a failed
// write is logged and dropped (Events are history, never state).
//
// Threading: thread-safe; Record blocks for one API write.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "client/client.h"
#include "common/json.h"

namespace lintel::controllers {

class EventRecorder {
 public:
  EventRecorder(std::shared_ptr<client::Client> client, std::string component);

  // `object` is the involved object (its apiVersion, kind, metadata are read).
  // `type` is "Normal" or "Warning".
  void Record(const Json& object, const std::string& type, const std::string& reason,
              const std::string& message);

 private:
  struct Seen {
    std::string event_name;
    int64_t count = 0;
  };
  std::shared_ptr<client::Client> client_;
  std::string component_;
  std::mutex mu_;
  // uid + reason + message -> the Event written for it. Bounded: cleared when
  // it grows past a limit (a repeat then writes a new Event, as after expiry).
  std::unordered_map<std::string, Seen> seen_;
};

}  // namespace lintel::controllers
