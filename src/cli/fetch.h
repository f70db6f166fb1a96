// Reading collections and objects for the verbs: Tables for `get`'s human
// output, whole lists for everything else, with kubectl's paging (limit 500,
// following `continue`). Errors are the server's, unformatted.
//
// Blocking; any thread (the client is thread-safe).
#pragma once

#include <string>
#include <string_view>

#include "cli/discovery.h"
#include "client/client.h"
#include "client/rest_client.h"
#include "common/json.h"
#include "common/status.h"

namespace lintel::cli {

// kubectl's Accept for `get`: a meta.k8s.io Table, else plain JSON.
inline constexpr char kTableAccept[] =
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;"
    "g=meta.k8s.io,application/json";

inline constexpr int64_t kDefaultChunkSize = 500;

// "?labelSelector=...&fieldSelector=...&limit=...&continue=...&resourceVersion=..."
// (plus watch=true and allowWatchBookmarks when `watch`).
std::string ListQuery(const client::ListOptions& opts, bool watch);

// One object as a Table (a Table with one row).
Result<Json> GetTable(client::RestClient& client, const ApiResource& r, std::string_view ns,
                      std::string_view name);
// A collection as one Table: the rows of every page, the first page's
// columns and resourceVersion. A server that does not answer with a Table
// gets one made here (Name column, object as the row's object).
Result<Json> ListTable(client::RestClient& client, const ApiResource& r, std::string_view ns,
                       client::ListOptions opts);
// A collection as one list: the items of every page, each with apiVersion and
// kind set, and the first page's metadata.
Result<Json> ListAll(client::Client& client, const ApiResource& r, std::string_view ns,
                     client::ListOptions opts);

// A Table built on the client for objects (kubectl's fallback: NAME only).
Json TableFromObjects(const Json& list);

}  // namespace lintel::cli
