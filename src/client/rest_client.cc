#include "client/rest_client.h"

#include <mutex>

#include "client/url.h"

namespace lintel::client {

namespace {

constexpr std::string_view kJson = "application/json";
constexpr size_t kMaxErrorText = 1024;

// "?a=1&b=2", values percent-encoded.
class QueryBuilder {
 public:
  void Add(std::string_view key, std::string_view value) {
    out_ += out_.empty() ? '?' : '&';
    out_ += UrlEncode(key);
    out_ += '=';
    out_ += UrlEncode(value);
  }
  void AddIf(bool cond, std::string_view key, std::string_view value) {
    if (cond) {
      Add(key, value);
    }
  }
  const std::string& ToString() const { return out_; }

 private:
  std::string out_;
};

void AddListOptions(const ListOptions& o, bool watch, QueryBuilder* q) {
  q->AddIf(!o.label_selector.empty(), "labelSelector", o.label_selector);
  q->AddIf(!o.field_selector.empty(), "fieldSelector", o.field_selector);
  q->AddIf(o.limit > 0 && !watch, "limit", std::to_string(o.limit));
  q->AddIf(!o.continue_token.empty() && !watch, "continue", o.continue_token);
  q->AddIf(!o.resource_version.empty(), "resourceVersion", o.resource_version);
  q->AddIf(o.timeout_seconds > 0, "timeoutSeconds", std::to_string(o.timeout_seconds));
  if (watch) {
    q->Add("watch", "true");
    q->AddIf(o.allow_bookmarks, "allowWatchBookmarks", "true");
  }
}

void AddWriteOptions(const WriteOptions& o, bool apply, QueryBuilder* q) {
  q->AddIf(o.dry_run, "dryRun", "All");
  q->AddIf(!o.field_manager.empty(), "fieldManager", o.field_manager);
  q->AddIf(!o.field_validation.empty(), "fieldValidation", o.field_validation);
  // The server refuses force on anything but an apply patch.
  q->AddIf(apply && o.force, "force", "true");
}

std::string_view PatchContentType(PatchType type) {
  switch (type) {
    case PatchType::kMerge:
      return "application/merge-patch+json";
    case PatchType::kJson:
      return "application/json-patch+json";
    case PatchType::kApply:
      return "application/apply-patch+yaml";  // JSON is valid YAML
  }
  return "application/merge-patch+json";
}

Code CodeFromHttp(int http_status) {
  switch (http_status) {
    case 400:
      return Code::kBadRequest;
    case 401:
      return Code::kUnauthorized;
    case 403:
      return Code::kForbidden;
    case 404:
      return Code::kNotFound;
    case 405:
      return Code::kMethodNotAllowed;
    case 406:
      return Code::kNotAcceptable;
    case 409:
      return Code::kConflict;
    case 410:
      return Code::kGone;
    case 413:
      return Code::kRequestEntityTooLarge;
    case 415:
      return Code::kUnsupportedMediaType;
    case 422:
      return Code::kInvalid;
    case 429:
      return Code::kTooManyRequests;
    case 501:
      return Code::kNotSupported;
    case 503:
      return Code::kUnavailable;
    case 504:
      return Code::kTimeout;
    default:
      return http_status >= 400 && http_status < 500 ? Code::kBadRequest : Code::kInternal;
  }
}

Status MarkRetryable(Status s) {
  if (s.code() == Code::kUnavailable || s.code() == Code::kTimeout ||
      s.code() == Code::kTooManyRequests) {
    s.SetRetryable();
  }
  return s;
}

std::string StringField(const Json& obj, std::string_view key) {
  if (!obj.is_object()) {
    return "";
  }
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// The namespace to use for an object: the argument, else the object's own.
std::string NamespaceFor(const Resource& r, std::string_view ns, const Json& obj) {
  if (!r.namespaced || !ns.empty()) {
    return std::string(ns);
  }
  return obj.contains("metadata") ? StringField(obj["metadata"], "namespace") : std::string();
}

// Watch state shared between the stream's thread and the RestWatch.
struct WatchState {
  std::function<void(WatchEvent&&)> on_event;
  std::mutex mu;
  Status error;  // guarded by mu: what ended the watch, if not the stream itself
};

class RestWatch final : public Watch {
 public:
  RestWatch(std::unique_ptr<HttpStream> stream, std::shared_ptr<WatchState> state)
      : stream_(std::move(stream)), state_(std::move(state)) {}
  ~RestWatch() override { stream_.reset(); }  // cancels and joins

  Status Wait() override {
    Status s = stream_->Wait();
    std::lock_guard lock(state_->mu);
    return state_->error.ok() ? s : state_->error;
  }
  void Stop() override { stream_->Cancel(); }

 private:
  std::unique_ptr<HttpStream> stream_;
  std::shared_ptr<WatchState> state_;
};

// One line of a watch: {"type":..., "object":...}. False ends the watch.
bool OnWatchLine(WatchState& state, std::string_view line) {
  if (line.find_first_not_of(" \t") == std::string_view::npos) {
    return true;
  }
  auto parsed = ParseJson(line);
  if (!parsed || !parsed->is_object() || !(*parsed)["type"].is_string()) {
    std::lock_guard lock(state.mu);
    state.error =
        BadRequest("watch: malformed event: " + std::string(line.substr(0, kMaxErrorText)));
    return false;
  }
  WatchEvent event;
  event.type = (*parsed)["type"].get<std::string>();
  event.object = std::move((*parsed)["object"]);
  bool is_error = event.type == "ERROR";
  Status error = is_error ? StatusFromObject(event.object) : Status();
  state.on_event(std::move(event));
  if (is_error) {
    std::lock_guard lock(state.mu);
    state.error = std::move(error);
    return false;
  }
  return true;
}

}  // namespace

Code CodeFromReason(std::string_view reason, int http_status) {
  struct Entry {
    std::string_view reason;
    Code code;
  };
  static constexpr Entry kReasons[] = {
      {"BadRequest", Code::kBadRequest},
      {"Unauthorized", Code::kUnauthorized},
      {"Forbidden", Code::kForbidden},
      {"NotFound", Code::kNotFound},
      {"MethodNotAllowed", Code::kMethodNotAllowed},
      {"NotAcceptable", Code::kNotAcceptable},
      {"AlreadyExists", Code::kAlreadyExists},
      {"Conflict", Code::kConflict},
      {"Gone", Code::kGone},
      {"Expired", Code::kGone},
      {"RequestEntityTooLarge", Code::kRequestEntityTooLarge},
      {"UnsupportedMediaType", Code::kUnsupportedMediaType},
      {"Invalid", Code::kInvalid},
      {"TooManyRequests", Code::kTooManyRequests},
      {"InternalError", Code::kInternal},
      {"NotSupported", Code::kNotSupported},
      {"ServiceUnavailable", Code::kUnavailable},
      {"Timeout", Code::kTimeout},
      {"ServerTimeout", Code::kTimeout},
  };
  for (const Entry& e : kReasons) {
    if (e.reason == reason) {
      return e.code;
    }
  }
  return CodeFromHttp(http_status);
}

Status StatusFromObject(const Json& status, int http_status) {
  int code = http_status;
  if (status.is_object() && status.contains("code") && status["code"].is_number_integer()) {
    code = status["code"].get<int>();
  }
  std::string reason = StringField(status, "reason");
  std::string message = StringField(status, "message");
  if (message.empty()) {
    message = "the server responded with HTTP " + std::to_string(code) +
              (reason.empty() ? "" : " (" + reason + ")");
  }
  Status s(CodeFromReason(reason, code), std::move(message));
  if (s.ok()) {
    s = Status(Code::kInternal,
               "the server sent a failure Status with code " + std::to_string(code));
  }
  if (status.is_object() && status.contains("details") && status["details"].is_object()) {
    const Json& details = status["details"];
    if (details.contains("causes") && details["causes"].is_array()) {
      for (const Json& c : details["causes"]) {
        s.AddCause(
            Cause{StringField(c, "reason"), StringField(c, "field"), StringField(c, "message")});
      }
    }
  }
  return MarkRetryable(std::move(s));
}

Status DecodeErrorResponse(int http_status, std::string_view body) {
  auto parsed = ParseJson(body);
  if (parsed && parsed->is_object() && StringField(*parsed, "kind") == "Status") {
    return StatusFromObject(*parsed, http_status);
  }
  std::string text(body.substr(0, kMaxErrorText));
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) {
    text.pop_back();
  }
  std::string message = "the server responded with HTTP " + std::to_string(http_status);
  if (!text.empty()) {
    message += ": " + text;
  }
  return MarkRetryable(Status(CodeFromHttp(http_status), std::move(message)));
}

RestClient::RestClient(std::shared_ptr<HttpClient> http) : http_(std::move(http)) {}

Result<std::unique_ptr<RestClient>> RestClient::Create(HttpClientOptions options) {
  LINTEL_ASSIGN_OR_RETURN(std::unique_ptr<HttpClient> http, HttpClient::Create(std::move(options)));
  return std::make_unique<RestClient>(std::shared_ptr<HttpClient>(std::move(http)));
}

Result<std::unique_ptr<RestClient>> RestClient::FromKubeconfig(const Kubeconfig& config) {
  auto client = Create(config.ToHttpClientOptions());
  if (!client) {
    return client.error().Wrap("kubeconfig " + config.path);
  }
  return client;
}

std::string RestClient::ResourcePath(const Resource& r, std::string_view ns, std::string_view name,
                                     std::string_view subresource) {
  std::string p = r.group.empty() ? "/api/" + r.version : "/apis/" + r.group + "/" + r.version;
  if (r.namespaced && !ns.empty()) {
    p += "/namespaces/" + UrlEncode(ns);
  }
  p += "/" + r.resource;
  if (!name.empty()) {
    p += "/" + UrlEncode(name);
    if (!subresource.empty()) {
      p += "/" + std::string(subresource);
    }
  }
  return p;
}

Result<Json> RestClient::Call(std::string_view method, const std::string& target,
                              std::string_view body, std::string_view content_type) {
  HttpHeaders headers{{"Accept", std::string(kJson)}};
  if (!content_type.empty()) {
    headers.Add("Content-Type", content_type);
  }
  LINTEL_ASSIGN_OR_RETURN(HttpResponse resp, http_->Do(method, target, headers, body));
  if (resp.status < 200 || resp.status > 299) {
    return DecodeErrorResponse(resp.status, resp.body);
  }
  if (resp.body.empty()) {
    return Json::object();
  }
  auto parsed = ParseJson(resp.body);
  if (!parsed) {
    return Internal(std::string(method) + " " + target +
                    ": decode response: " + parsed.error().message());
  }
  return std::move(*parsed);
}

Result<Json> RestClient::Get(const Resource& r, std::string_view ns, std::string_view name) {
  return Call("GET", ResourcePath(r, ns, name));
}

Result<Json> RestClient::List(const Resource& r, std::string_view ns, const ListOptions& opts) {
  QueryBuilder q;
  AddListOptions(opts, /*watch=*/false, &q);
  return Call("GET", ResourcePath(r, ns) + q.ToString());
}

Result<Json> RestClient::Create(const Resource& r, std::string_view ns, const Json& obj,
                                const WriteOptions& opts) {
  QueryBuilder q;
  AddWriteOptions(opts, /*apply=*/false, &q);
  return Call("POST", ResourcePath(r, NamespaceFor(r, ns, obj)) + q.ToString(), obj.dump(), kJson);
}

Result<Json> RestClient::Update(const Resource& r, std::string_view ns, const Json& obj,
                                const WriteOptions& opts, std::string_view subresource) {
  std::string name = obj.contains("metadata") ? StringField(obj["metadata"], "name") : "";
  if (name.empty()) {
    return BadRequest("update " + r.resource + ": metadata.name is required");
  }
  QueryBuilder q;
  AddWriteOptions(opts, /*apply=*/false, &q);
  return Call("PUT", ResourcePath(r, NamespaceFor(r, ns, obj), name, subresource) + q.ToString(),
              obj.dump(), kJson);
}

Result<Json> RestClient::Patch(const Resource& r, std::string_view ns, std::string_view name,
                               PatchType type, const Json& patch, const WriteOptions& opts,
                               std::string_view subresource) {
  QueryBuilder q;
  AddWriteOptions(opts, type == PatchType::kApply, &q);
  return Call("PATCH", ResourcePath(r, ns, name, subresource) + q.ToString(), patch.dump(),
              PatchContentType(type));
}

Result<Json> RestClient::Delete(const Resource& r, std::string_view ns, std::string_view name,
                                const DeleteOptions& opts) {
  Json body = {{"kind", "DeleteOptions"}, {"apiVersion", "v1"}};
  if (!opts.propagation_policy.empty()) {
    body["propagationPolicy"] = opts.propagation_policy;
  }
  if (!opts.precondition_uid.empty()) {
    body["preconditions"]["uid"] = opts.precondition_uid;
  }
  if (!opts.precondition_resource_version.empty()) {
    body["preconditions"]["resourceVersion"] = opts.precondition_resource_version;
  }
  if (opts.grace_period_seconds) {
    body["gracePeriodSeconds"] = *opts.grace_period_seconds;
  }
  QueryBuilder q;
  if (opts.dry_run) {
    body["dryRun"] = Json::array({"All"});
    q.Add("dryRun", "All");
  }
  return Call("DELETE", ResourcePath(r, ns, name) + q.ToString(), body.dump(), kJson);
}

Result<std::unique_ptr<Watch>> RestClient::WatchResource(
    const Resource& r, std::string_view ns, const ListOptions& opts,
    std::function<void(WatchEvent&&)> on_event) {
  QueryBuilder q;
  AddListOptions(opts, /*watch=*/true, &q);
  std::string target = ResourcePath(r, ns) + q.ToString();
  auto state = std::make_shared<WatchState>();
  state->on_event = std::move(on_event);
  HttpHeaders headers{{"Accept", std::string(kJson)}};
  LINTEL_ASSIGN_OR_RETURN(StreamResponse resp, http_->DoStream("GET", target, headers, {},
                                                               [state](std::string_view line) {
                                                                 return OnWatchLine(*state, line);
                                                               }));
  if (resp.status < 200 || resp.status > 299) {
    return DecodeErrorResponse(resp.status, resp.body);
  }
  return std::unique_ptr<Watch>(std::make_unique<RestWatch>(std::move(resp.stream), state));
}

Result<Json> RestClient::RawGet(std::string_view path_and_query, std::string_view accept) {
  HttpHeaders headers{{"Accept", std::string(accept)}};
  LINTEL_ASSIGN_OR_RETURN(HttpResponse resp, http_->Do("GET", path_and_query, headers));
  if (resp.status < 200 || resp.status > 299) {
    return DecodeErrorResponse(resp.status, resp.body);
  }
  auto parsed = ParseJson(resp.body);
  if (!parsed) {
    return Internal("GET " + std::string(path_and_query) +
                    ": decode response: " + parsed.error().message());
  }
  return std::move(*parsed);
}

Result<HttpResponse> RestClient::Raw(std::string_view method, std::string_view path_and_query,
                                     const HttpHeaders& headers, std::string_view body) {
  return http_->Do(method, path_and_query, headers, body);
}

}  // namespace lintel::client
