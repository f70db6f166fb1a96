// Allocator: a kind's allocation step on writes, for values that must be
// unique across all objects of the kind (a Service's virtual IP) and so need
// server state, which the kind's pure hooks (api/kind.h) cannot hold.
//
// Resources calls it on create and on update of the main resource, after
// validation and before admission. What it takes is held by the Allocation
// it returns until the write lands (Commit) or does not (the Allocation is
// destroyed uncommitted: a failed write, a refusal by admission, a dry run).
//
// Threading: Allocate is called concurrently from request threads;
// implementations serialize themselves. An Allocation is used by one thread.
#pragma once

#include <memory>

#include "common/json.h"
#include "common/status.h"
#include "store/store.h"

namespace lintel::server {

class Allocation {
 public:
  // Releases what was taken unless committed.
  virtual ~Allocation() = default;
  // The write landed at `rv`.
  virtual void Commit(store::Revision rv) = 0;
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  // Fills or checks fields of `obj`; `old` is the stored object on update,
  // null on create. Invalid with field causes to refuse the write; a null
  // Allocation when nothing was taken.
  virtual Result<std::unique_ptr<Allocation>> Allocate(Json* obj, const Json* old) = 0;
};

}  // namespace lintel::server
