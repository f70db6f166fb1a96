// Waiting for one object to reach a state: gone (delete --wait, wait
// --for=delete) or matching a predicate (wait --for=condition=...), the way
// kubectl waits: list it by name (metadata.name field selector) to learn its
// state and a resourceVersion, then watch from there; a 410 or a closed
// watch lists again.
//
// Blocking; call from one thread (the watch delivers on its own thread).
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "cli/discovery.h"
#include "client/client.h"
#include "common/json.h"
#include "common/status.h"

namespace lintel::cli {

struct WaitTarget {
  ApiResource resource;
  std::string ns;
  std::string name;
  std::string uid;  // when set, an object with another uid counts as gone
};

using Deadline = std::chrono::steady_clock::time_point;

// OK once the object is gone; NotFound when it was gone already at the
// first look; Timeout at the deadline; the server's error (unformatted) when
// listing or watching fails.
Status WaitForDeletion(client::Client& client, const WaitTarget& target, Deadline deadline);

// OK once `done(object)` holds for the live object. NotFound when it does
// not exist (or disappears); Timeout at the deadline.
Status WaitForObject(client::Client& client, const WaitTarget& target,
                     const std::function<bool(const Json&)>& done, Deadline deadline);

// Deadline from a --timeout duration; zero or negative means a week, as in
// kubectl delete.
Deadline DeadlineAfter(std::chrono::milliseconds timeout);

}  // namespace lintel::cli
