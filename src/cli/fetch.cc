#include "cli/fetch.h"

#include "client/url.h"

namespace lintel::cli {

namespace {

void AddParam(std::string* q, std::string_view key, std::string_view value) {
  *q += q->empty() ? '?' : '&';
  *q += client::UrlEncode(key);
  *q += '=';
  *q += client::UrlEncode(value);
}

bool IsTable(const Json& j) { return j.is_object() && j.value("kind", "") == "Table"; }

}  // namespace

std::string ListQuery(const client::ListOptions& o, bool watch) {
  std::string q;
  if (!o.label_selector.empty()) AddParam(&q, "labelSelector", o.label_selector);
  if (!o.field_selector.empty()) AddParam(&q, "fieldSelector", o.field_selector);
  if (o.limit > 0 && !watch) AddParam(&q, "limit", std::to_string(o.limit));
  if (!o.continue_token.empty() && !watch) AddParam(&q, "continue", o.continue_token);
  if (!o.resource_version.empty()) AddParam(&q, "resourceVersion", o.resource_version);
  if (o.timeout_seconds > 0) AddParam(&q, "timeoutSeconds", std::to_string(o.timeout_seconds));
  if (watch) {
    AddParam(&q, "watch", "true");
    if (o.allow_bookmarks) AddParam(&q, "allowWatchBookmarks", "true");
  }
  return q;
}

Json TableFromObjects(const Json& list) {
  Json table = {{"kind", "Table"},
                {"apiVersion", "meta.k8s.io/v1"},
                {"metadata", list.value("metadata", Json::object())},
                {"columnDefinitions",
                 Json::array({{{"name", "Name"}, {"type", "string"}, {"format", "name"},
                               {"priority", 0}}})},
                {"rows", Json::array()}};
  auto add = [&](const Json& obj) {
    std::string name;
    if (obj.contains("metadata") && obj["metadata"].is_object()) {
      name = obj["metadata"].value("name", "");
    }
    table["rows"].push_back({{"cells", Json::array({name})}, {"object", obj}});
  };
  if (list.contains("items") && list["items"].is_array()) {
    for (const auto& item : list["items"]) add(item);
  } else {
    add(list);
  }
  return table;
}

Result<Json> GetTable(client::RestClient& client, const ApiResource& r, std::string_view ns,
                      std::string_view name) {
  LINTEL_ASSIGN_OR_RETURN(
      Json j, client.RawGet(client::RestClient::ResourcePath(r.ToResource(), ns, name),
                            kTableAccept));
  if (!IsTable(j)) return TableFromObjects(j);
  return j;
}

Result<Json> ListTable(client::RestClient& client, const ApiResource& r, std::string_view ns,
                       client::ListOptions opts) {
  if (opts.limit == 0) opts.limit = kDefaultChunkSize;
  std::string path = client::RestClient::ResourcePath(r.ToResource(), ns);
  Json out;
  while (true) {
    LINTEL_ASSIGN_OR_RETURN(Json page, client.RawGet(path + ListQuery(opts, false), kTableAccept));
    if (!IsTable(page)) page = TableFromObjects(page);
    std::string next;
    if (page.contains("metadata") && page["metadata"].is_object()) {
      next = page["metadata"].value("continue", "");
    }
    if (out.is_null()) {
      out = std::move(page);
      if (!out.contains("rows") || !out["rows"].is_array()) out["rows"] = Json::array();
    } else if (page.contains("rows") && page["rows"].is_array()) {
      for (auto& row : page["rows"]) out["rows"].push_back(std::move(row));
    }
    if (next.empty()) break;
    opts.continue_token = next;
    opts.resource_version.clear();
  }
  if (out.contains("metadata") && out["metadata"].is_object()) out["metadata"].erase("continue");
  return out;
}

Result<Json> ListAll(client::Client& client, const ApiResource& r, std::string_view ns,
                     client::ListOptions opts) {
  if (opts.limit == 0) opts.limit = kDefaultChunkSize;
  Json out;
  while (true) {
    LINTEL_ASSIGN_OR_RETURN(Json page, client.List(r.ToResource(), ns, opts));
    std::string next;
    if (page.contains("metadata") && page["metadata"].is_object()) {
      next = page["metadata"].value("continue", "");
    }
    if (!page.contains("items") || !page["items"].is_array()) page["items"] = Json::array();
    for (auto& item : page["items"]) {
      if (!item.is_object()) continue;
      if (!item.contains("apiVersion")) item["apiVersion"] = r.GroupVersion();
      if (!item.contains("kind")) item["kind"] = r.kind;
    }
    if (out.is_null()) {
      out = std::move(page);
    } else {
      for (auto& item : page["items"]) out["items"].push_back(std::move(item));
    }
    if (next.empty()) break;
    opts.continue_token = next;
    opts.resource_version.clear();
  }
  if (out.contains("metadata") && out["metadata"].is_object()) out["metadata"].erase("continue");
  return out;
}

}  // namespace lintel::cli
