#include "cli/waiter.h"

#include <algorithm>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "cli/text.h"

namespace lintel::cli {

namespace {

// What the object looks like now: absent, or present (and done or not).
enum class State { kAbsent, kPending, kDone };

struct WatchState {
  std::mutex mu;
  std::condition_variable cv;
  State state = State::kPending;
  bool expired = false;
  bool ended = false;
  Status error;
  std::string rv;
};

// One waiting loop for both kinds of wait; `classify` maps an object (or
// nullptr for absent) to a State, and `want` is the state that ends it.
Status WaitFor(client::Client& client, const WaitTarget& t,
               const std::function<State(const Json*)>& classify, State want,
               Deadline deadline) {
  const client::Resource res = t.resource.ToResource();
  client::ListOptions list_opts;
  list_opts.field_selector = "metadata.name=" + t.name;
  for (bool first = true;; first = false) {
    auto list = client.List(res, t.ns, list_opts);
    if (!list.ok()) return list.error();
    const Json* obj = nullptr;
    if (list->contains("items") && (*list)["items"].is_array() && !(*list)["items"].empty()) {
      obj = &(*list)["items"][0];
    }
    State now = classify(obj);
    if (now == want && first && want == State::kAbsent) {
      return NotFound(t.resource.GroupResource() + " \"" + t.name + "\" not found");
    }
    if (now == want) return Status::Ok();
    if (now == State::kAbsent) return NotFound(t.resource.GroupResource() + " \"" + t.name +
                                               "\" not found");
    if (std::chrono::steady_clock::now() >= deadline) return Timeout("timed out");
    auto st = std::make_shared<WatchState>();
    st->rv = StringAt(*list, "/metadata/resourceVersion");
    client::ListOptions wopts = list_opts;
    wopts.resource_version = st->rv;
    wopts.allow_bookmarks = true;
    auto remaining = std::chrono::duration_cast<std::chrono::seconds>(
        deadline - std::chrono::steady_clock::now());
    wopts.timeout_seconds = static_cast<int>(std::clamp<int64_t>(remaining.count() + 1, 1, 1800));
    auto watch = client.WatchResource(res, t.ns, wopts, [st, &classify, &t](client::WatchEvent&& ev) {
      std::lock_guard<std::mutex> lock(st->mu);
      if (ev.type == "ERROR") {
        int code = ev.object.value("code", 0);
        if (code == 410) {
          st->expired = true;
        } else {
          st->error = Internal(ev.object.value("message", "watch failed"));
        }
      } else if (ev.type == "BOOKMARK") {
        return;
      } else if (ev.type == "DELETED") {
        st->state = State::kAbsent;
      } else if (StringAt(ev.object, "/metadata/name") == t.name) {
        st->state = classify(&ev.object);
      }
      st->cv.notify_all();
    });
    if (!watch.ok()) {
      if (watch.error().code() == Code::kGone) continue;
      return watch.error();
    }
    std::thread ender([st, w = watch->get()] {
      Status s = w->Wait();
      std::lock_guard<std::mutex> lock(st->mu);
      st->ended = true;
      if (!s.ok() && st->error.ok()) st->error = s;
      st->cv.notify_all();
    });
    State result;
    bool ended;
    bool timed_out;
    Status error;
    {
      std::unique_lock<std::mutex> lock(st->mu);
      timed_out = !st->cv.wait_until(lock, deadline, [&] {
        return st->state != State::kPending || st->expired || st->ended || !st->error.ok();
      });
      result = st->state;
      ended = st->ended || st->expired;
      error = st->error;
    }
    (*watch)->Stop();
    ender.join();
    watch->reset();
    if (result == want) return Status::Ok();
    if (result == State::kAbsent) {
      return NotFound(t.resource.GroupResource() + " \"" + t.name + "\" not found");
    }
    if (!error.ok() && !ended) return error;
    if (timed_out) return Timeout("timed out");
    // The watch ended (server timeout, 410, broken stream): list again.
    if (!error.ok() && error.code() != Code::kUnavailable) return error;
  }
}

}  // namespace

Deadline DeadlineAfter(std::chrono::milliseconds timeout) {
  if (timeout.count() <= 0) timeout = std::chrono::hours(24 * 7);
  return std::chrono::steady_clock::now() + timeout;
}

Status WaitForDeletion(client::Client& client, const WaitTarget& target, Deadline deadline) {
  auto classify = [&](const Json* obj) {
    if (obj == nullptr) return State::kAbsent;
    if (!target.uid.empty() && StringAt(*obj, "/metadata/uid") != target.uid) {
      return State::kAbsent;
    }
    return State::kPending;
  };
  return WaitFor(client, target, classify, State::kAbsent, deadline);
}

Status WaitForObject(client::Client& client, const WaitTarget& target,
                     const std::function<bool(const Json&)>& done, Deadline deadline) {
  auto classify = [&](const Json* obj) {
    if (obj == nullptr) return State::kAbsent;
    return done(*obj) ? State::kDone : State::kPending;
  };
  return WaitFor(client, target, classify, State::kDone, deadline);
}

}  // namespace lintel::cli
