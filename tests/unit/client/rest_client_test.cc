// RestClient against a small in-test handler that answers like the API server.
#include "client/rest_client.h"

#include <gtest/gtest.h>

#include <mutex>

#include "server/http/http_server.h"
#include "unit/http/http_test_util.h"

namespace lintel::client {
namespace {

using http::Request;
using http::Responder;
using http::testing::FuncHandler;
using http::testing::TextResponse;
using http::testing::WaitFor;
using namespace std::chrono_literals;

const Resource kPods{"", "v1", "pods", true};
const Resource kVms{"lintel.dev", "v1alpha1", "virtualmachines", true};
const Resource kHosts{"lintel.dev", "v1alpha1", "hosts", false};

std::string StatusBody(int code, const std::string& reason, const std::string& message,
                       Json details = nullptr) {
  Json j = {{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", Json::object()},
            {"status", "Failure"}, {"message", message}, {"reason", reason},
            {"code", code}};
  if (!details.is_null()) {
    j["details"] = details;
  }
  return j.dump();
}

struct Seen {
  std::string method;
  std::string path;
  std::string target;
  http::Query query;
  std::string content_type;
  std::string accept;
  std::string body;
};

class RestClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    handler_ = std::make_unique<FuncHandler>([this](Request&& req, std::unique_ptr<Responder> r) {
      Serve(std::move(req), std::move(r));
    });
    server_ = std::make_unique<http::HttpServer>(http::ServerOptions{}, handler_.get());
    ASSERT_TRUE(server_->Start().ok());
    HttpClientOptions o;
    o.base_url = "http://127.0.0.1:" + std::to_string(server_->port());
    o.request_timeout = 10s;
    auto c = RestClient::Create(o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    client_ = std::move(*c);
  }

  void Serve(Request&& req, std::unique_ptr<Responder> r) {
    Seen seen{req.method,
              req.path,
              req.target,
              req.query,
              std::string(req.headers.Get("content-type").value_or("")),
              std::string(req.headers.Get("accept").value_or("")),
              req.body};
    {
      std::lock_guard lock(mu_);
      seen_.push_back(seen);
    }
    auto json = [&](int code, const std::string& body) {
      r->Respond(TextResponse(code, body, "application/json"));
    };
    const std::string& p = req.path;
    if (p == "/version") {
      json(200, R"({"major":"1","minor":"30","gitVersion":"v1.30.0-lintel"})");
    } else if (p.ends_with("/missing")) {
      json(404, StatusBody(404, "NotFound", "pods \"missing\" not found",
                           {{"name", "missing"}, {"kind", "pods"}}));
    } else if (p.ends_with("/invalid")) {
      json(422, StatusBody(422, "Invalid", "VirtualMachine \"invalid\" is invalid",
                           {{"causes", Json::array({{{"reason", "FieldValueInvalid"},
                                                     {"field", "spec.cpu"},
                                                     {"message", "must be positive"}},
                                                    {{"reason", "FieldValueRequired"},
                                                     {"field", "spec.image"},
                                                     {"message", "Required value"}}})}}));
    } else if (p.ends_with("/expired")) {
      json(410, StatusBody(410, "Expired", "too old resource version: 1 (50)"));
    } else if (p.ends_with("/teapot")) {
      json(418, StatusBody(418, "SomethingNew", "short and stout"));
    } else if (p.ends_with("/gateway")) {
      r->Respond(TextResponse(502, "bad gateway\n"));
    } else if (p.ends_with("/notjson")) {
      r->Respond(TextResponse(200, "not json"));
    } else if (req.query.GetBool("watch")) {
      Watch(req, std::move(r));
    } else if (req.method == "PATCH" &&
               seen.content_type == "application/strategic-merge-patch+json") {
      json(415, StatusBody(415, "UnsupportedMediaType", "strategic merge patch is not supported"));
    } else if (req.method == "GET" || req.method == "DELETE") {
      json(200, Json({{"kind", "Thing"}, {"path", p}}).dump());
    } else {
      // Echo writes back as the "stored" object.
      json(req.method == "POST" ? 201 : 200, req.body);
    }
  }

  void Watch(const Request& req, std::unique_ptr<Responder> r) {
    if (req.path.find("/forbidden") != std::string::npos) {
      r->Respond(
          TextResponse(403, StatusBody(403, "Forbidden", "no watching"), "application/json"));
      return;
    }
    auto stream = r->StartStream(200, http::Headers());
    stream->OnClose([this] { ++watch_closed_; });
    auto obj = [](const std::string& name, int rv) {
      return Json({{"kind", "VirtualMachine"},
                   {"metadata", {{"name", name}, {"resourceVersion", std::to_string(rv)}}}});
    };
    stream->Write(Json({{"type", "ADDED"}, {"object", obj("a", 1)}}).dump() + "\n");
    if (req.query.Get("resourceVersion") == "expire") {
      stream->Write(Json({{"type", "ERROR"},
                          {"object", Json::parse(StatusBody(410, "Expired",
                                                            "too old resource version: 1 (9)"))}})
                        .dump() +
                    "\n");
      stream->Write(Json({{"type", "ADDED"}, {"object", obj("after-error", 2)}}).dump() + "\n");
    }
    std::lock_guard lock(mu_);
    watch_streams_.push_back(stream);
  }

  Seen Last() {
    std::lock_guard lock(mu_);
    return seen_.back();
  }

  std::shared_ptr<http::Stream> WatchStream() {
    EXPECT_TRUE(WaitFor([&] {
      std::lock_guard lock(mu_);
      return !watch_streams_.empty();
    }));
    std::lock_guard lock(mu_);
    return watch_streams_.back();
  }

  std::mutex mu_;
  std::vector<Seen> seen_;
  std::vector<std::shared_ptr<http::Stream>> watch_streams_;
  std::atomic<int> watch_closed_{0};
  std::unique_ptr<FuncHandler> handler_;
  std::unique_ptr<http::HttpServer> server_;
  std::unique_ptr<RestClient> client_;
};

TEST(RestPathTest, BuildsPaths) {
  struct Case {
    const char* name;
    Resource r;
    std::string ns, obj, sub, want;
  };
  std::vector<Case> cases = {
      {"core namespaced", kPods, "default", "web", "", "/api/v1/namespaces/default/pods/web"},
      {"core collection", kPods, "default", "", "", "/api/v1/namespaces/default/pods"},
      {"core all namespaces", kPods, "", "", "", "/api/v1/pods"},
      {"group namespaced", kVms, "prod", "vm-1", "",
       "/apis/lintel.dev/v1alpha1/namespaces/prod/virtualmachines/vm-1"},
      {"subresource", kVms, "prod", "vm-1", "status",
       "/apis/lintel.dev/v1alpha1/namespaces/prod/virtualmachines/vm-1/status"},
      {"cluster-scoped ignores ns", kHosts, "prod", "h1", "", "/apis/lintel.dev/v1alpha1/hosts/h1"},
      {"cluster-scoped collection", kHosts, "", "", "", "/apis/lintel.dev/v1alpha1/hosts"},
      {"escaped name", kPods, "default", "a b", "", "/api/v1/namespaces/default/pods/a%20b"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    EXPECT_EQ(RestClient::ResourcePath(c.r, c.ns, c.obj, c.sub), c.want);
  }
}

TEST(DecodeErrorTest, StatusBodies) {
  Status s = DecodeErrorResponse(409, StatusBody(409, "AlreadyExists", "vm \"a\" already exists"));
  EXPECT_EQ(s.code(), Code::kAlreadyExists);
  EXPECT_EQ(s.message(), "vm \"a\" already exists");
  EXPECT_EQ(DecodeErrorResponse(409, StatusBody(409, "Conflict", "modified")).code(),
            Code::kConflict);
  EXPECT_EQ(DecodeErrorResponse(410, StatusBody(410, "Gone", "gone")).code(), Code::kGone);
  EXPECT_EQ(DecodeErrorResponse(401, StatusBody(401, "Unauthorized", "who")).code(),
            Code::kUnauthorized);
  EXPECT_EQ(DecodeErrorResponse(415, StatusBody(415, "UnsupportedMediaType", "no")).code(),
            Code::kUnsupportedMediaType);
  EXPECT_EQ(DecodeErrorResponse(413, StatusBody(413, "RequestEntityTooLarge", "big")).code(),
            Code::kRequestEntityTooLarge);
  Status busy = DecodeErrorResponse(503, StatusBody(503, "ServiceUnavailable", "later"));
  EXPECT_EQ(busy.code(), Code::kUnavailable);
  EXPECT_TRUE(busy.retryable());
  // Unknown reason: the HTTP code decides. No message: one is made up.
  EXPECT_EQ(DecodeErrorResponse(404, StatusBody(404, "Whatever", "x")).code(), Code::kNotFound);
  Status bare = DecodeErrorResponse(403, R"({"kind":"Status","code":403})");
  EXPECT_EQ(bare.code(), Code::kForbidden);
  EXPECT_EQ(bare.message(), "the server responded with HTTP 403");
  // Not a Status at all.
  Status text = DecodeErrorResponse(500, "upstream exploded\n");
  EXPECT_EQ(text.code(), Code::kInternal);
  EXPECT_EQ(text.message(), "the server responded with HTTP 500: upstream exploded");
  EXPECT_EQ(DecodeErrorResponse(422, "").code(), Code::kInvalid);
}

TEST_F(RestClientTest, GetAndNotFound) {
  auto obj = client_->Get(kPods, "default", "web");
  ASSERT_TRUE(obj.ok()) << obj.status().ToString();
  EXPECT_EQ((*obj)["path"], "/api/v1/namespaces/default/pods/web");
  EXPECT_EQ(Last().accept, "application/json");

  auto missing = client_->Get(kPods, "default", "missing");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), Code::kNotFound);
  EXPECT_EQ(missing.status().message(), "pods \"missing\" not found");
}

TEST_F(RestClientTest, InvalidCarriesCauses) {
  auto bad = client_->Update(kVms, "default", Json({{"metadata", {{"name", "invalid"}}}}));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), Code::kInvalid);
  ASSERT_EQ(bad.status().causes().size(), 2u);
  EXPECT_EQ(bad.status().causes()[0], (Cause{"FieldValueInvalid", "spec.cpu", "must be positive"}));
  EXPECT_EQ(bad.status().causes()[1],
            (Cause{"FieldValueRequired", "spec.image", "Required value"}));
}

TEST_F(RestClientTest, ErrorReasonsAndFallbacks) {
  EXPECT_EQ(client_->Get(kVms, "ns", "expired").status().code(), Code::kGone);
  EXPECT_EQ(client_->Get(kVms, "ns", "teapot").status().code(), Code::kBadRequest);  // 418: a 4xx
  Status gw = client_->Get(kVms, "ns", "gateway").status();
  EXPECT_EQ(gw.code(), Code::kInternal);
  EXPECT_EQ(gw.message(), "the server responded with HTTP 502: bad gateway");
  EXPECT_EQ(client_->Get(kVms, "ns", "notjson").status().code(), Code::kInternal);
}

TEST_F(RestClientTest, ListEncodesOptions) {
  ListOptions opts;
  opts.label_selector = "env in (dev,prod),!canary";
  opts.field_selector = "metadata.name=web-1";
  opts.limit = 500;
  opts.continue_token = "abc+/=";
  opts.resource_version = "0";
  auto list = client_->List(kVms, "", opts);
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  Seen s = Last();
  EXPECT_EQ(s.path, "/apis/lintel.dev/v1alpha1/virtualmachines");
  EXPECT_EQ(s.query.Get("labelSelector"), "env in (dev,prod),!canary");
  EXPECT_EQ(s.query.Get("fieldSelector"), "metadata.name=web-1");
  EXPECT_EQ(s.query.Get("limit"), "500");
  EXPECT_EQ(s.query.Get("continue"), "abc+/=");
  EXPECT_EQ(s.query.Get("resourceVersion"), "0");
  EXPECT_FALSE(s.query.Has("watch"));
}

TEST_F(RestClientTest, CreateWithWriteOptions) {
  Json vm = {{"kind", "VirtualMachine"}, {"metadata", {{"name", "a"}, {"namespace", "team"}}}};
  WriteOptions opts;
  opts.dry_run = true;
  opts.field_manager = "lintel-cli";
  opts.field_validation = "Strict";
  opts.force = true;  // ignored: not an apply
  auto created = client_->Create(kVms, "", vm, opts);
  ASSERT_TRUE(created.ok()) << created.status().ToString();
  EXPECT_EQ(*created, vm);
  Seen s = Last();
  EXPECT_EQ(s.method, "POST");
  EXPECT_EQ(s.path,
            "/apis/lintel.dev/v1alpha1/namespaces/team/virtualmachines");  // from the object
  EXPECT_EQ(s.content_type, "application/json");
  EXPECT_EQ(s.query.Get("dryRun"), "All");
  EXPECT_EQ(s.query.Get("fieldManager"), "lintel-cli");
  EXPECT_EQ(s.query.Get("fieldValidation"), "Strict");
  EXPECT_FALSE(s.query.Has("force"));
  EXPECT_EQ(Json::parse(s.body), vm);
}

TEST_F(RestClientTest, UpdatePutsToNameAndSubresource) {
  Json vm = {{"metadata", {{"name", "a"}}}, {"status", {{"phase", "Running"}}}};
  ASSERT_TRUE(client_->Update(kVms, "prod", vm, {}, "status").ok());
  EXPECT_EQ(Last().method, "PUT");
  EXPECT_EQ(Last().path, "/apis/lintel.dev/v1alpha1/namespaces/prod/virtualmachines/a/status");
  auto unnamed = client_->Update(kVms, "prod", Json({{"metadata", Json::object()}}));
  EXPECT_EQ(unnamed.status().code(), Code::kBadRequest);
}

TEST_F(RestClientTest, PatchContentTypes) {
  struct Case {
    PatchType type;
    std::string content_type;
  };
  for (const Case& c : {Case{PatchType::kMerge, "application/merge-patch+json"},
                        Case{PatchType::kJson, "application/json-patch+json"},
                        Case{PatchType::kApply, "application/apply-patch+yaml"}}) {
    SCOPED_TRACE(c.content_type);
    WriteOptions opts;
    opts.field_manager = "kubectl";
    opts.force = true;
    Json patch = c.type == PatchType::kJson
                     ? Json::array({{{"op", "replace"}, {"path", "/spec/cpu"}, {"value", 2}}})
                     : Json({{"spec", {{"cpu", 2}}}});
    auto r = client_->Patch(kVms, "default", "a", c.type, patch, opts, "scale");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    Seen s = Last();
    EXPECT_EQ(s.method, "PATCH");
    EXPECT_EQ(s.path, "/apis/lintel.dev/v1alpha1/namespaces/default/virtualmachines/a/scale");
    EXPECT_EQ(s.content_type, c.content_type);
    EXPECT_EQ(Json::parse(s.body), patch);
    EXPECT_EQ(s.query.Get("fieldManager"), "kubectl");
    EXPECT_EQ(s.query.Has("force"), c.type == PatchType::kApply);
  }
}

TEST_F(RestClientTest, DeleteSendsOptions) {
  DeleteOptions opts;
  opts.propagation_policy = "Foreground";
  opts.precondition_uid = "u-1";
  opts.precondition_resource_version = "42";
  opts.grace_period_seconds = 0;
  opts.dry_run = true;
  auto r = client_->Delete(kHosts, "ignored", "h1", opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Seen s = Last();
  EXPECT_EQ(s.method, "DELETE");
  EXPECT_EQ(s.path, "/apis/lintel.dev/v1alpha1/hosts/h1");
  EXPECT_EQ(s.query.Get("dryRun"), "All");
  Json body = Json::parse(s.body);
  EXPECT_EQ(body["kind"], "DeleteOptions");
  EXPECT_EQ(body["propagationPolicy"], "Foreground");
  EXPECT_EQ(body["preconditions"]["uid"], "u-1");
  EXPECT_EQ(body["preconditions"]["resourceVersion"], "42");
  EXPECT_EQ(body["gracePeriodSeconds"], 0);
  EXPECT_EQ(body["dryRun"], Json::array({"All"}));
}

TEST_F(RestClientTest, RawGetAndRaw) {
  auto v = client_->RawGet("/version");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ((*v)["gitVersion"], "v1.30.0-lintel");
  auto accept = client_->RawGet(
      "/apis",
      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json");
  ASSERT_TRUE(accept.ok());
  EXPECT_EQ(
      Last().accept,
      "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json");
  auto raw = client_->Raw("GET", "/x/gateway");
  ASSERT_TRUE(raw.ok());
  EXPECT_EQ(raw->status, 502);
  EXPECT_EQ(raw->body, "bad gateway\n");
}

struct Events {
  std::mutex mu;
  std::vector<WatchEvent> events;
  std::function<void(WatchEvent&&)> Callback() {
    return [this](WatchEvent&& e) {
      std::lock_guard lock(mu);
      events.push_back(std::move(e));
    };
  }
  size_t size() {
    std::lock_guard lock(mu);
    return events.size();
  }
};

TEST_F(RestClientTest, WatchStreamsEventsUntilTheServerEnds) {
  Events events;
  ListOptions opts;
  opts.resource_version = "10";
  opts.allow_bookmarks = true;
  opts.timeout_seconds = 30;
  opts.label_selector = "app=web";
  opts.limit = 5;  // not sent on a watch
  auto watch = client_->WatchResource(kVms, "default", opts, events.Callback());
  ASSERT_TRUE(watch.ok()) << watch.status().ToString();
  Seen s = Last();
  EXPECT_EQ(s.path, "/apis/lintel.dev/v1alpha1/namespaces/default/virtualmachines");
  EXPECT_TRUE(s.query.GetBool("watch"));
  EXPECT_EQ(s.query.Get("resourceVersion"), "10");
  EXPECT_EQ(s.query.Get("allowWatchBookmarks"), "true");
  EXPECT_EQ(s.query.Get("timeoutSeconds"), "30");
  EXPECT_EQ(s.query.Get("labelSelector"), "app=web");
  EXPECT_FALSE(s.query.Has("limit"));
  ASSERT_TRUE(WaitFor([&] { return events.size() == 1; }));
  auto stream = WatchStream();
  stream->Write("\n");  // blank lines are ignored
  stream->Write(Json({{"type", "MODIFIED"}, {"object", {{"metadata", {{"name", "a"}}}}}}).dump() +
                "\n");
  ASSERT_TRUE(WaitFor([&] { return events.size() == 2; }));
  stream->Close();
  EXPECT_TRUE((*watch)->Wait().ok());
  std::lock_guard lock(events.mu);
  EXPECT_EQ(events.events[0].type, "ADDED");
  EXPECT_EQ(events.events[0].object["metadata"]["name"], "a");
  EXPECT_EQ(events.events[1].type, "MODIFIED");
}

TEST_F(RestClientTest, WatchErrorEventEndsTheWatch) {
  Events events;
  ListOptions opts;
  opts.resource_version = "expire";
  auto watch = client_->WatchResource(kVms, "default", opts, events.Callback());
  ASSERT_TRUE(watch.ok());
  Status s = (*watch)->Wait();
  EXPECT_EQ(s.code(), Code::kGone);
  EXPECT_EQ(s.message(), "too old resource version: 1 (9)");
  std::lock_guard lock(events.mu);
  ASSERT_EQ(events.events.size(), 2u);  // ADDED, ERROR; nothing after the error
  EXPECT_EQ(events.events[1].type, "ERROR");
  EXPECT_EQ(events.events[1].object["code"], 410);
}

TEST_F(RestClientTest, WatchRefusedUpFront) {
  Events events;
  auto watch = client_->WatchResource(kVms, "forbidden", {}, events.Callback());
  ASSERT_FALSE(watch.ok());
  EXPECT_EQ(watch.status().code(), Code::kForbidden);
  EXPECT_EQ(watch.status().message(), "no watching");
}

TEST_F(RestClientTest, StoppingAndDestroyingAWatch) {
  Events events;
  auto watch = client_->WatchResource(kPods, "", {}, events.Callback());
  ASSERT_TRUE(watch.ok());
  EXPECT_EQ(Last().path, "/api/v1/pods");
  ASSERT_TRUE(WaitFor([&] { return events.size() == 1; }));
  std::thread stopper([&] { (*watch)->Stop(); });
  stopper.join();
  EXPECT_TRUE((*watch)->Wait().ok());
  EXPECT_TRUE(WaitFor([&] { return watch_closed_.load() == 1; }));

  auto second = client_->WatchResource(kPods, "", {}, events.Callback());
  ASSERT_TRUE(second.ok());
  second->reset();  // destroying stops it
  EXPECT_TRUE(WaitFor([&] { return watch_closed_.load() == 2; }));
}

TEST_F(RestClientTest, MalformedWatchLineEndsWithError) {
  Events events;
  auto watch = client_->WatchResource(kVms, "default", {}, events.Callback());
  ASSERT_TRUE(watch.ok());
  WatchStream()->Write("{not json\n");
  Status s = (*watch)->Wait();
  EXPECT_EQ(s.code(), Code::kBadRequest);
  EXPECT_NE(s.message().find("malformed event"), std::string::npos);
}

}  // namespace
}  // namespace lintel::client
