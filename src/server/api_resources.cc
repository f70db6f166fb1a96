// Resource verbs over HTTP: decoding parameters and bodies, encoding objects,
// lists, Tables and errors, and starting watches.
#include <random>

#include "api/table.h"
#include "server/api_handler.h"
#include "server/negotiation.h"
#include "server/status_json.h"

namespace lintel::server {

namespace {

http::Response ObjectResponse(int status, std::string json,
                              const std::vector<std::string>& warnings = {}) {
  http::Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  for (const auto& w : warnings) {
    std::string escaped;
    for (char c : w) {
      if (c == '"' || c == '\\') escaped.push_back('\\');
      escaped.push_back(c);
    }
    r.headers.Add("Warning", "299 - \"" + escaped + "\"");
  }
  r.body = std::move(json);
  return r;
}

ErrorDetails DetailsFor(const api::KindInfo& kind, const std::string& name, const Status& s) {
  ErrorDetails d;
  d.name = name;
  d.group = kind.group;
  d.kind = s.code() == Code::kInvalid ? kind.kind : kind.plural;
  return d;
}

std::string ListJson(const api::KindInfo& kind, const ListOutput& out) {
  size_t size = 128;
  for (const auto& i : out.items) size += i.size() + 1;
  std::string body;
  body.reserve(size);
  body.append("{\"apiVersion\":\"").append(kind.api_version()).append("\",\"items\":[");
  for (size_t i = 0; i < out.items.size(); ++i) {
    if (i) body.push_back(',');
    body.append(out.items[i]);
  }
  body.append("],\"kind\":\"").append(kind.list_kind()).append("\",\"metadata\":{");
  if (!out.continue_token.empty()) {
    body.append("\"continue\":\"").append(out.continue_token).append("\",");
  }
  body.append("\"resourceVersion\":\"").append(std::to_string(out.rv)).append("\"}}");
  return body;
}

api::IncludeObject IncludeParam(const http::Request& req) {
  auto v = req.query.Get("includeObject");
  if (v && *v == "None") return api::IncludeObject::kNone;
  if (v && *v == "Object") return api::IncludeObject::kObject;
  return api::IncludeObject::kMetadata;
}

Result<FieldValidation> ValidationParam(const http::Request& req) {
  auto v = req.query.Get("fieldValidation");
  if (!v || v->empty() || *v == "Warn") return FieldValidation::kWarn;
  if (*v == "Strict") return FieldValidation::kStrict;
  if (*v == "Ignore") return FieldValidation::kIgnore;
  return BadRequest("fieldValidation must be one of Ignore, Warn or Strict, not \"" +
                    std::string(*v) + "\"");
}

Result<bool> DryRunParam(const http::Request& req) {
  for (auto v : req.query.GetAll("dryRun")) {
    if (v == "All") return true;
    if (!v.empty()) {
      return Invalid("dryRun: Unsupported value: \"" + std::string(v) +
                         "\": supported values: \"All\"",
                     {{"FieldValueNotSupported", "dryRun",
                       "Unsupported value: \"" + std::string(v) + "\""}});
    }
  }
  return false;
}

std::string DefaultManager(const http::Request& req) {
  if (auto m = req.query.Get("fieldManager"); m && !m->empty()) return std::string(*m);
  std::string ua(req.headers.Get("user-agent").value_or(""));
  auto slash = ua.find('/');
  std::string prefix = ua.substr(0, slash);
  return prefix.empty() ? "unknown" : prefix;
}

Result<WriteOptions> WriteParams(const http::Request& req, const UserInfo& user) {
  WriteOptions o;
  LINTEL_ASSIGN_OR_RETURN(o.validation, ValidationParam(req));
  LINTEL_ASSIGN_OR_RETURN(o.dry_run, DryRunParam(req));
  o.field_manager = DefaultManager(req);
  if (o.field_manager.size() > 128) return BadRequest("fieldManager is longer than 128 bytes");
  o.force = req.query.GetBool("force");
  o.user = user;
  return o;
}

// Decodes a create/update body per its Content-Type.
Result<Json> DecodeBody(const http::Request& req) {
  auto ct = req.headers.Get("content-type").value_or("");
  switch (ClassifyContentType(ct)) {
    case BodyType::kJson:
      return ParseJson(req.body);
    case BodyType::kYaml:
      return ParseYaml(req.body);
    default:
      return Status(Code::kUnsupportedMediaType,
                    "the body of the request was in an unknown format - accepted media types "
                    "include: application/json, application/yaml");
  }
}

ListOptions ListParams(const http::Request& req) {
  ListOptions o;
  o.label_selector = std::string(req.query.Get("labelSelector").value_or(""));
  o.field_selector = std::string(req.query.Get("fieldSelector").value_or(""));
  o.continue_token = std::string(req.query.Get("continue").value_or(""));
  o.resource_version = std::string(req.query.Get("resourceVersion").value_or(""));
  o.resource_version_match = std::string(req.query.Get("resourceVersionMatch").value_or(""));
  if (auto l = req.query.Get("limit"); l && !l->empty()) {
    try {
      o.limit = std::stoll(std::string(*l));
    } catch (const std::exception&) {
      o.limit = -1;
    }
  }
  return o;
}

Result<DeleteOptions> DeleteParams(const http::Request& req, const UserInfo& user) {
  DeleteOptions o;
  o.user = user;
  LINTEL_ASSIGN_OR_RETURN(o.dry_run, DryRunParam(req));
  o.propagation_policy = std::string(req.query.Get("propagationPolicy").value_or(""));
  if (!req.body.empty()) {
    auto body = ParseJson(req.body);
    if (!body.ok()) return body.error();
    if (!body->is_object()) return BadRequest("DeleteOptions must be a JSON object");
    const Json& b = *body;
    if (b.contains("propagationPolicy") && b["propagationPolicy"].is_string()) {
      o.propagation_policy = b["propagationPolicy"];
    }
    if (b.contains("orphanDependents") && b["orphanDependents"].is_boolean() &&
        o.propagation_policy.empty()) {
      o.propagation_policy = b["orphanDependents"].get<bool>() ? "Orphan" : "Background";
    }
    if (b.contains("preconditions") && b["preconditions"].is_object()) {
      const Json& p = b["preconditions"];
      if (p.contains("uid") && p["uid"].is_string()) o.precondition_uid = p["uid"];
      if (p.contains("resourceVersion") && p["resourceVersion"].is_string()) {
        o.precondition_rv = p["resourceVersion"];
      }
    }
    if (b.contains("dryRun") && b["dryRun"].is_array()) {
      for (const auto& v : b["dryRun"]) {
        if (v == "All") o.dry_run = true;
      }
    }
  }
  return o;
}

Json TableFor(const api::KindInfo& kind, const std::vector<std::string>& objects,
              api::IncludeObject include, const std::string& version, const std::string& rv,
              const std::string& cont) {
  Json rows = Json::array();
  auto now = std::chrono::system_clock::now();
  for (const auto& o : objects) {
    auto parsed = ParseJson(o);
    if (!parsed.ok()) continue;
    rows.push_back(api::TableRow(kind, *parsed, include, now));
  }
  return api::MakeTable(kind, std::move(rows), "meta.k8s.io/" + version, rv, cont);
}

}  // namespace

std::optional<http::Response> ApiHandler::ServeResource(const http::Request& req,
                                                        const Route& route,
                                                        http::Responder* responder,
                                                        const UserInfo& user, std::string* verb) {
  const api::KindInfo& kind = *route.kind;
  const std::string& m = req.method;
  auto fail = [&](const Status& s) { return StatusResponse(s, DetailsFor(kind, route.name, s)); };
  std::string accept(req.headers.Get("accept").value_or(""));

  // Collections.
  if (route.name.empty()) {
    if (m == "GET") {
      if (req.query.GetBool("watch")) {
        *verb = "WATCH";
        return Watch(req, route, responder);
      }
      *verb = "LIST";
      auto neg = Negotiate(accept, true, false);
      if (!neg.ok()) return fail(neg.error());
      auto out = resources_->List(kind, route.ns, ListParams(req));
      if (!out.ok()) return fail(out.error());
      if (neg->rep == Representation::kTable) {
        Json t = TableFor(kind, out->items, IncludeParam(req), neg->version,
                          std::to_string(out->rv), out->continue_token);
        return ObjectResponse(200, t.dump());
      }
      return ObjectResponse(200, ListJson(kind, *out));
    }
    if (m == "POST") {
      *verb = "POST";
      if (kind.namespaced && route.ns.empty()) {
        return fail(NotFound("the server could not find the requested resource"));
      }
      auto opts = WriteParams(req, user);
      if (!opts.ok()) return fail(opts.error());
      auto body = DecodeBody(req);
      if (!body.ok()) return fail(body.error());
      std::string name = body->is_object() ? api::At(*body, "/metadata/name").is_string()
                                                 ? api::At(*body, "/metadata/name").get<std::string>()
                                                 : ""
                                           : "";
      auto res = resources_->Create(kind, route.ns, std::move(*body), *opts);
      if (!res.ok()) return StatusResponse(res.error(), DetailsFor(kind, name, res.error()));
      return ObjectResponse(201, std::move(res->json), res->warnings);
    }
    if (m == "DELETE") {
      *verb = "DELETECOLLECTION";
      auto opts = DeleteParams(req, user);
      if (!opts.ok()) return fail(opts.error());
      auto res = resources_->DeleteCollection(kind, route.ns, ListParams(req), *opts);
      if (!res.ok()) return fail(res.error());
      ListOutput out;
      out.items = std::move(*res);
      out.rv = resources_->cache()->revision();
      return ObjectResponse(200, ListJson(kind, out));
    }
    return fail(Status(Code::kMethodNotAllowed, "method " + m + " is not allowed on a collection"));
  }

  // Logs, from the Pod's agent.
  if (route.subresource == "log") {
    *verb = "GET";
    if (m != "GET") return fail(Status(Code::kMethodNotAllowed, "log is read with GET"));
    if (!agent_proxy_) {
      return fail(Unavailable("this server reaches no agents (it serves without TLS)"));
    }
    return agent_proxy_->ServeLog(req, route, responder);
  }

  // exec (Pods) and the console (VMs): WebSockets relayed to the agent.
  if (route.subresource == "exec" || route.subresource == "console") {
    *verb = "CONNECT";
    if (m != "GET" && m != "POST") {
      return fail(Status(Code::kMethodNotAllowed, route.subresource + " is a WebSocket (GET)"));
    }
    if (!agent_proxy_) {
      return fail(Unavailable("this server reaches no agents (it serves without TLS)"));
    }
    return route.subresource == "exec" ? agent_proxy_->ServeExec(req, route, responder)
                                       : agent_proxy_->ServeConsole(req, route, responder);
  }

  // VirtualMachine power actions.
  if (IsVmAction(route.subresource)) {
    *verb = "PUT";
    if (m != "PUT" && m != "POST") {
      return fail(Status(Code::kMethodNotAllowed,
                         route.subresource + " is requested with PUT (an empty body)"));
    }
    auto opts = WriteParams(req, user);
    if (!opts.ok()) return fail(opts.error());
    auto res = resources_->VmAction(kind, route.ns, route.name, route.subresource, *opts);
    if (!res.ok()) return StatusResponse(res.error(), DetailsFor(kind, route.name, res.error()));
    return ObjectResponse(200, std::move(res->json), res->warnings);
  }

  // Scale.
  if (route.subresource == "scale") {
    auto opts = WriteParams(req, user);
    if (!opts.ok()) return fail(opts.error());
    Result<Json> scale = Status();
    if (m == "GET") {
      *verb = "GET";
      scale = resources_->GetScale(kind, route.ns, route.name);
    } else if (m == "PUT") {
      *verb = "PUT";
      auto body = DecodeBody(req);
      if (!body.ok()) return fail(body.error());
      scale = resources_->UpdateScale(kind, route.ns, route.name, *body, *opts);
    } else if (m == "PATCH") {
      *verb = "PATCH";
      auto type = ClassifyContentType(req.headers.Get("content-type").value_or("none"));
      if (type != BodyType::kMergePatch && type != BodyType::kJsonPatch) {
        return fail(Status(Code::kUnsupportedMediaType,
                           "the scale subresource accepts application/merge-patch+json and "
                           "application/json-patch+json patches"));
      }
      scale = resources_->PatchScale(kind, route.ns, route.name,
                                     type == BodyType::kJsonPatch ? PatchType::kJson
                                                                  : PatchType::kMerge,
                                     req.body, *opts);
    } else {
      return fail(Status(Code::kMethodNotAllowed, "method " + m + " is not allowed on scale"));
    }
    if (!scale.ok()) return fail(scale.error());
    return ObjectResponse(200, scale->dump());
  }

  Subresource sub =
      route.subresource == "status" ? Subresource::kStatus : Subresource::kNone;
  if (m == "GET") {
    *verb = "GET";
    auto neg = Negotiate(accept, true, false);
    if (!neg.ok()) return fail(neg.error());
    auto obj = resources_->Get(kind, route.ns, route.name,
                               std::string(req.query.Get("resourceVersion").value_or("")));
    if (!obj.ok()) return fail(obj.error());
    if (neg->rep == Representation::kTable) {
      Json t = TableFor(kind, {*obj}, IncludeParam(req), neg->version, "", "");
      return ObjectResponse(200, t.dump());
    }
    return ObjectResponse(200, std::move(*obj));
  }
  if (m == "PUT") {
    *verb = "PUT";
    auto opts = WriteParams(req, user);
    if (!opts.ok()) return fail(opts.error());
    auto body = DecodeBody(req);
    if (!body.ok()) return fail(body.error());
    auto res = resources_->Update(kind, route.ns, route.name, std::move(*body), *opts, sub);
    if (!res.ok()) return fail(res.error());
    return ObjectResponse(200, std::move(res->json), res->warnings);
  }
  if (m == "PATCH") {
    *verb = "PATCH";
    auto opts = WriteParams(req, user);
    if (!opts.ok()) return fail(opts.error());
    PatchType type;
    switch (ClassifyContentType(req.headers.Get("content-type").value_or("none"))) {
      case BodyType::kMergePatch: type = PatchType::kMerge; break;
      case BodyType::kJsonPatch: type = PatchType::kJson; break;
      case BodyType::kApplyPatch: type = PatchType::kApply; break;
      default:
        return fail(Status(Code::kUnsupportedMediaType,
                           "the body of the request was in an unknown format - accepted media "
                           "types include: application/json-patch+json, "
                           "application/merge-patch+json, application/apply-patch+yaml"));
    }
    if (type == PatchType::kApply && !req.query.Get("fieldManager")) opts->field_manager.clear();
    auto res = resources_->Patch(kind, route.ns, route.name, type, req.body, *opts, sub);
    if (!res.ok()) return fail(res.error());
    return ObjectResponse(res->created ? 201 : 200, std::move(res->json), res->warnings);
  }
  if (m == "DELETE" && sub == Subresource::kNone) {
    *verb = "DELETE";
    auto opts = DeleteParams(req, user);
    if (!opts.ok()) return fail(opts.error());
    auto res = resources_->Delete(kind, route.ns, route.name, *opts);
    if (!res.ok()) return fail(res.error());
    return ObjectResponse(200, std::move(res->json));
  }
  return fail(Status(Code::kMethodNotAllowed, "method " + m + " is not allowed here"));
}

std::optional<http::Response> ApiHandler::Watch(const http::Request& req, const Route& route,
                                                http::Responder* responder) {
  const api::KindInfo& kind = *route.kind;
  std::string accept(req.headers.Get("accept").value_or(""));
  auto neg = Negotiate(accept, true, false);
  if (!neg.ok()) return StatusResponse(neg.error());
  ListOptions lo = ListParams(req);
  auto filter = resources_->MakeFilter(kind, route.ns, lo.label_selector, lo.field_selector);
  if (!filter.ok()) return StatusResponse(filter.error());
  Revision from = 0;
  if (!lo.resource_version.empty() && lo.resource_version != "0") {
    try {
      from = std::stoll(lo.resource_version);
    } catch (const std::exception&) {
      from = -1;
    }
    if (from <= 0) return StatusResponse(BadRequest("invalid resourceVersion"));
  }
  WatchFormat fmt;
  fmt.table = neg->rep == Representation::kTable;
  fmt.table_version = neg->version.empty() ? "v1" : neg->version;
  fmt.include = IncludeParam(req);
  fmt.bookmarks = req.query.GetBool("allowWatchBookmarks");
  fmt.send_initial_events_end = req.query.GetBool("sendInitialEvents") && fmt.bookmarks;
  if (req.query.Has("sendInitialEvents") && !req.query.GetBool("sendInitialEvents") && from == 0) {
    // sendInitialEvents=false with no RV: start at the current state.
    from = resources_->cache()->revision();
  }
  if (from == 0 && lo.resource_version.empty()) {
    // RV unset: start from a state at least as new as every acknowledged write.
    Status s = resources_->cache()->Sync();
    if (!s.ok()) return StatusResponse(s);
  }
  std::chrono::seconds timeout = options_.min_watch_timeout;
  if (auto t = req.query.Get("timeoutSeconds"); t && !t->empty()) {
    try {
      timeout = std::chrono::seconds(std::max<long long>(1, std::stoll(std::string(*t))));
    } catch (const std::exception&) {
      return StatusResponse(BadRequest("invalid timeoutSeconds"));
    }
  } else {
    thread_local std::mt19937 rng(std::random_device{}());
    timeout += std::chrono::seconds(
        std::uniform_int_distribution<int64_t>(0, options_.min_watch_timeout.count())(rng));
  }
  http::Headers headers;
  headers.Set("Content-Type", fmt.table ? neg->content_type : "application/json");
  headers.Set("Cache-Control", "no-cache, private");
  auto stream = responder->StartStream(200, std::move(headers));
  auto sink = std::make_shared<HttpWatchSink>(stream, &kind, fmt);
  auto w = resources_->cache()->Watch(kind, std::move(*filter), from, fmt.bookmarks, sink);
  if (!w.ok()) {
    HttpWatchSink::WriteError(*stream, w.error());
    return std::nullopt;
  }
  (*w)->Detach();  // the sink's liveness now decides when it goes
  timers_.CloseAt(std::chrono::steady_clock::now() + timeout, stream);
  return std::nullopt;
}

}  // namespace lintel::server
