// The TYPE and NAME arguments of get, describe, delete, label, annotate,
// scale and wait, in kubectl's forms:
//   TYPE[,TYPE...] [NAME...]     vm db-1 db-2, vm,deploy, all
//   TYPE/NAME [TYPE/NAME...]     vm/db-1 deploy/api
// Pure functions over a Discovery; any thread.
#pragma once

#include <string>
#include <vector>

#include "cli/discovery.h"
#include "common/status.h"

namespace lintel::cli {

struct ResourceRequest {
  ApiResource resource;
  std::vector<std::string> names;  // empty: the whole collection
};

// Consecutive TYPE/NAME arguments of one type share a request. Categories
// ("all") expand only when allowed. Errors carry kubectl's "error: ..." line.
Result<std::vector<ResourceRequest>> ParseResourceArgs(const Discovery& discovery,
                                                       const std::vector<std::string>& args,
                                                       bool allow_categories);

}  // namespace lintel::cli
