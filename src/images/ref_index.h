// RefIndex: image references → manifest digests, in ROOT/refs.json.
//
//   {"version": 1, "refs": {"docker.io/library/busybox:latest":
//       {"digest": "sha256:...", "added": "2026-11-27T21:48:03Z"}}}
//
// The file is small (one line per image) and rewritten whole through
// WriteFileAtomic (temp file, fsync, rename), so readers never lock and never
// see a torn file. Writers serialise on ROOT/refs.lock (flock), which also
// orders processes: `lintel image` and the agent may share a store.
//
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "common/status.h"
#include "images/digest.h"

namespace lintel::images {

struct RefEntry {
  Digest digest;
  std::string added;  // RFC 3339
};

class RefIndex {
 public:
  explicit RefIndex(std::string root) : root_(std::move(root)) {}

  // Every reference, keyed by its canonical string. Empty if no file yet.
  Result<std::map<std::string, RefEntry>> Load() const;
  // Read-modify-write under the writers' lock. `mutate` may change the map;
  // the file is rewritten only if it did.
  Status Update(const std::function<Status(std::map<std::string, RefEntry>&)>& mutate) const;

 private:
  std::string root_;
};

}  // namespace lintel::images
