// Read queries over the schema in schema.h, shared by the read pool (Get,
// List), the watch dispatcher (replay) and the writer (preconditions, prev).
// Each runs on a Connection the caller uses exclusively; multi-statement reads
// open a ReadTransaction so they see one snapshot.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/sqlite/connection.h"
#include "store/sqlite/key_range.h"
#include "store/store.h"

namespace lintel::store::sqlite {

// "required revision 5 has been compacted (compacted revision 9)"
Status CompactedError(Revision required, Revision compacted);

// The current state of `key`, or nullopt.
Result<std::optional<KeyValue>> ReadCurrent(Connection& conn, std::string_view key);

// List for Store::List, in one snapshot: checks the revision against the
// current and compacted ones (BadRequest, Gone), then reads the latest state
// from kv, or a past one from history.
Result<ListResult> ReadList(Connection& conn, std::string_view prefix, const ListOptions& options);

// A page of replay for a watch: events with after < revision <= upto on keys in
// `range`, ascending, at most `max`. Gone if history after `after` has been
// compacted. With prev filled from history.
Result<std::vector<Event>> ReadEvents(Connection& conn, const KeyRange& range, Revision after,
                                      Revision upto, size_t max);

}  // namespace lintel::store::sqlite
