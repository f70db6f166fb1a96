#include "server/http/http_server.h"

#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "client/http_client.h"
#include "unit/http/http_test_util.h"

namespace lintel::http {
namespace {

using client::HttpClient;
using client::HttpClientOptions;
using testing::FuncHandler;
using testing::RawConn;
using testing::TextResponse;
using testing::WaitFor;
using namespace std::chrono_literals;

// A handler that opens a stream and hands it to the test.
struct StreamCatcher {
  std::mutex mu;
  std::vector<std::shared_ptr<Stream>> streams;
  std::atomic<int> closed{0};

  FuncHandler::Fn Handler() {
    return [this](Request&& req, std::unique_ptr<Responder> responder) {
      if (req.path != "/watch") {
        responder->Respond(TextResponse(200, "plain:" + req.path));
        return;
      }
      Headers h;
      h.Set("Content-Type", "application/json");
      auto stream = responder->StartStream(200, std::move(h));
      stream->OnClose([this] { ++closed; });
      std::lock_guard lock(mu);
      streams.push_back(stream);
    };
  }
  size_t count() {
    std::lock_guard lock(mu);
    return streams.size();
  }
  std::shared_ptr<Stream> at(size_t i) {
    std::lock_guard lock(mu);
    return streams.at(i);
  }
};

class HttpServerTest : public ::testing::Test {
 protected:
  void StartServer(FuncHandler::Fn fn, ServerOptions options = {}) {
    handler_ = std::make_unique<FuncHandler>(std::move(fn));
    server_ = std::make_unique<HttpServer>(std::move(options), handler_.get());
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
    ASSERT_NE(server_->port(), 0);
  }

  std::unique_ptr<HttpClient> NewClient() {
    HttpClientOptions o;
    o.base_url = "http://127.0.0.1:" + std::to_string(server_->port());
    o.request_timeout = 10s;
    auto c = HttpClient::Create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(*c);
  }

  StreamCatcher catcher;  // outlives the server, whose streams call into it
  std::unique_ptr<FuncHandler> handler_;
  std::unique_ptr<HttpServer> server_;  // destroyed before the handler
};

TEST_F(HttpServerTest, RoundTripCarriesRequestAndResponse) {
  StartServer([](Request&& req, std::unique_ptr<Responder> responder) {
    nlohmann::json j = {{"method", req.method},
                        {"path", req.path},
                        {"target", req.target},
                        {"x", std::string(req.query.Get("x").value_or(""))},
                        {"y", std::string(req.query.Get("y").value_or(""))},
                        {"header", std::string(req.headers.Get("x-test").value_or(""))},
                        {"body", req.body},
                        {"tls", req.tls},
                        {"remote", req.remote_address}};
    Response r;
    r.status = 201;
    r.headers.Set("X-Custom", "yes");
    r.body = j.dump();
    responder->Respond(std::move(r));
  });
  auto client = NewClient();
  auto resp = client->Do("POST", "/a%20b/c?x=1+2&y=%2F", {{"X-Test", "hi"}}, "hello");
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 201);
  EXPECT_EQ(resp->headers.Get("content-type"), "application/json");  // the default
  EXPECT_EQ(resp->headers.Get("x-custom"), "yes");
  auto j = nlohmann::json::parse(resp->body);
  EXPECT_EQ(j["method"], "POST");
  EXPECT_EQ(j["path"], "/a b/c");
  EXPECT_EQ(j["target"], "/a%20b/c?x=1+2&y=%2F");
  EXPECT_EQ(j["x"], "1 2");
  EXPECT_EQ(j["y"], "/");
  EXPECT_EQ(j["header"], "hi");
  EXPECT_EQ(j["body"], "hello");
  EXPECT_EQ(j["tls"], false);
  EXPECT_TRUE(j["remote"].get<std::string>().starts_with("127.0.0.1:"));
}

TEST_F(HttpServerTest, KeepAliveUsesOneConnection) {
  std::mutex mu;
  std::set<std::string> remotes;
  std::atomic<int> calls{0};
  StartServer([&](Request&& req, std::unique_ptr<Responder> responder) {
    {
      std::lock_guard lock(mu);
      remotes.insert(req.remote_address);
    }
    ++calls;
    responder->Respond(TextResponse(200, "ok"));
  });
  auto client = NewClient();
  for (int i = 0; i < 50; ++i) {
    auto resp = client->Do(i % 2 ? "GET" : "PUT", "/x", {}, i % 2 ? "" : "body");
    ASSERT_TRUE(resp.ok()) << resp.status().ToString();
    ASSERT_EQ(resp->status, 200);
  }
  EXPECT_EQ(calls.load(), 50);
  EXPECT_EQ(remotes.size(), 1u);  // one TCP connection (one client port) for all
  EXPECT_EQ(client->IdleConnections(), 1u);
}

TEST_F(HttpServerTest, PipelinedRequestsAnsweredInOrder) {
  StartServer([](Request&& req, std::unique_ptr<Responder> responder) {
    responder->Respond(TextResponse(200, req.path));
  });
  RawConn conn(server_->port());
  ASSERT_TRUE(conn.connected());
  ASSERT_TRUE(
      conn.Send("GET /first HTTP/1.1\r\nHost: x\r\n\r\nGET /second HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string r1 = conn.ReadResponse();
  std::string r2 = conn.ReadResponse();
  EXPECT_TRUE(r1.ends_with("/first")) << r1;
  EXPECT_TRUE(r2.ends_with("/second")) << r2;
}

TEST_F(HttpServerTest, BodyOverLimitByContentLengthIs413WithoutCallingHandler) {
  std::atomic<int> calls{0};
  ServerOptions opts;
  opts.max_body_bytes = 1000;
  StartServer(
      [&](Request&&, std::unique_ptr<Responder> responder) {
        ++calls;
        responder->Respond(TextResponse(200, "ok"));
      },
      opts);
  RawConn conn(server_->port());
  ASSERT_TRUE(conn.Send("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
                        std::string(100, 'a')));
  std::string resp = conn.ReadResponse();
  ASSERT_TRUE(resp.starts_with("HTTP/1.1 413 ")) << resp;
  std::string body = resp.substr(resp.find("\r\n\r\n") + 4);
  auto j = nlohmann::json::parse(body);
  EXPECT_EQ(j["kind"], "Status");
  EXPECT_EQ(j["apiVersion"], "v1");
  EXPECT_EQ(j["status"], "Failure");
  EXPECT_EQ(j["reason"], "RequestEntityTooLarge");
  EXPECT_EQ(j["code"], 413);
  EXPECT_TRUE(j["metadata"].is_object());
  EXPECT_TRUE(conn.WaitClosed());
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(HttpServerTest, ChunkedBodyOverLimitIs413) {
  std::atomic<int> calls{0};
  ServerOptions opts;
  opts.max_body_bytes = 1000;
  StartServer(
      [&](Request&&, std::unique_ptr<Responder> responder) {
        ++calls;
        responder->Respond(TextResponse(200, "ok"));
      },
      opts);
  RawConn conn(server_->port());
  std::string req = "POST /x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (int i = 0; i < 3; ++i) {
    req += "200\r\n" + std::string(0x200, 'b') + "\r\n";  // 3 x 512 bytes > 1000
  }
  ASSERT_TRUE(conn.Send(req));
  std::string resp = conn.ReadResponse();
  EXPECT_TRUE(resp.starts_with("HTTP/1.1 413 ")) << resp;
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(HttpServerTest, ClientSeesThe413ForABigBodyItIsStillSending) {
  std::atomic<int> calls{0};
  ServerOptions opts;
  opts.max_body_bytes = 64 * 1024;
  StartServer(
      [&](Request&&, std::unique_ptr<Responder> responder) {
        ++calls;
        responder->Respond(TextResponse(200, "ok"));
      },
      opts);
  auto client = NewClient();
  auto resp = client->Do("POST", "/x", {}, std::string(4 << 20, 'x'));
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 413);
  EXPECT_EQ(calls.load(), 0);
  // The client recovers on a new connection.
  auto small = client->Do("POST", "/x", {}, "small");
  ASSERT_TRUE(small.ok()) << small.status().ToString();
  EXPECT_EQ(small->status, 200);
}

TEST_F(HttpServerTest, HeadersOverLimitAre431) {
  ServerOptions opts;
  opts.max_header_bytes = 4096;
  std::atomic<int> calls{0};
  StartServer(
      [&](Request&&, std::unique_ptr<Responder> responder) {
        ++calls;
        responder->Respond(TextResponse(200, "ok"));
      },
      opts);
  RawConn conn(server_->port());
  ASSERT_TRUE(
      conn.Send("GET /x HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8000, 'h') + "\r\n\r\n"));
  std::string resp = conn.ReadResponse();
  ASSERT_TRUE(resp.starts_with("HTTP/1.1 431 ")) << resp;
  EXPECT_NE(resp.find("\"reason\":\"RequestHeaderFieldsTooLarge\""), std::string::npos);
  EXPECT_TRUE(conn.WaitClosed());
  EXPECT_EQ(calls.load(), 0);
}

TEST_F(HttpServerTest, MalformedRequestIs400AndCloses) {
  StartServer([](Request&&, std::unique_ptr<Responder> responder) {
    responder->Respond(TextResponse(200, "ok"));
  });
  RawConn conn(server_->port());
  ASSERT_TRUE(conn.Send("GET /x HTTP/1.1\r\nBad Header Line\r\n\r\n"));
  std::string resp = conn.ReadResponse();
  EXPECT_TRUE(resp.starts_with("HTTP/1.1 400 ")) << resp;
  EXPECT_NE(resp.find("\"reason\":\"BadRequest\""), std::string::npos);
  EXPECT_TRUE(conn.WaitClosed());
}

TEST_F(HttpServerTest, HandlerExceptionIs500AndConnectionLivesOn) {
  StartServer([](Request&& req, std::unique_ptr<Responder> responder) {
    if (req.path == "/throw") {
      throw std::runtime_error("boom");
    }
    responder->Respond(TextResponse(200, "fine"));
  });
  auto client = NewClient();
  auto resp = client->Do("GET", "/throw");
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 500);
  auto j = nlohmann::json::parse(resp->body);
  EXPECT_EQ(j["reason"], "InternalError");
  EXPECT_NE(j["message"].get<std::string>().find("boom"), std::string::npos);
  auto ok = client->Do("GET", "/fine");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(HttpServerTest, DroppedResponderIs500) {
  StartServer([](Request&&, std::unique_ptr<Responder>) {});
  auto client = NewClient();
  auto resp = client->Do("GET", "/x");
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 500);
}

TEST_F(HttpServerTest, RespondFromAnotherThreadLater) {
  std::vector<std::thread> threads;
  std::mutex mu;
  StartServer([&](Request&& req, std::unique_ptr<Responder> responder) {
    std::lock_guard lock(mu);
    threads.emplace_back([r = std::move(responder), path = req.path]() mutable {
      std::this_thread::sleep_for(20ms);
      r->Respond(TextResponse(200, "late:" + path));
    });
  });
  auto client = NewClient();
  auto resp = client->Do("GET", "/x");
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "late:/x");
  std::lock_guard lock(mu);
  for (auto& t : threads) {
    t.join();
  }
}

TEST_F(HttpServerTest, NoContentHasNoBody) {
  StartServer([](Request&&, std::unique_ptr<Responder> responder) {
    responder->Respond(TextResponse(204, "ignored"));
  });
  RawConn conn(server_->port());
  ASSERT_TRUE(conn.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string resp = conn.ReadResponse();
  EXPECT_TRUE(resp.starts_with("HTTP/1.1 204 ")) << resp;
  EXPECT_TRUE(resp.ends_with("\r\n\r\n")) << resp;
  EXPECT_EQ(resp.find("Content-Length"), std::string::npos) << resp;
}

TEST_F(HttpServerTest, Expect100Continue) {
  StartServer([](Request&& req, std::unique_ptr<Responder> responder) {
    responder->Respond(TextResponse(200, "got:" + req.body));
  });
  RawConn conn(server_->port());
  ASSERT_TRUE(
      conn.Send("PUT /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n"));
  ASSERT_TRUE(conn.ReadUntil("HTTP/1.1 100 Continue\r\n\r\n"));
  conn.buffer().clear();
  ASSERT_TRUE(conn.Send("data"));
  std::string resp = conn.ReadResponse();
  EXPECT_TRUE(resp.ends_with("got:data")) << resp;
}

TEST_F(HttpServerTest, StreamDeliversEachChunkPromptly) {
  StartServer(catcher.Handler());
  RawConn conn(server_->port());
  ASSERT_TRUE(conn.Send("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(WaitFor([&] { return catcher.count() == 1; }));
  auto stream = catcher.at(0);
  ASSERT_TRUE(stream->Write(std::string("{\"n\":1}\n")));
  // The head and chunk 1 arrive before chunk 2 is even written.
  ASSERT_TRUE(conn.ReadUntil("8\r\n{\"n\":1}\n\r\n")) << conn.buffer();
  EXPECT_TRUE(conn.buffer().starts_with("HTTP/1.1 200 OK\r\n"));
  EXPECT_NE(conn.buffer().find("Transfer-Encoding: chunked\r\n"), std::string::npos);
  EXPECT_EQ(conn.buffer().find("{\"n\":2}"), std::string::npos);
  ASSERT_TRUE(stream->Write(std::make_shared<const std::string>("{\"n\":2}\n")));
  ASSERT_TRUE(conn.ReadUntil("8\r\n{\"n\":2}\n\r\n")) << conn.buffer();
  EXPECT_TRUE(WaitFor([&] { return stream->QueuedBytes() == 0; }));
  EXPECT_TRUE(stream->Write(std::string()));  // empty: nothing to send, not the end
  stream->Close();
  EXPECT_TRUE(stream->Closed());
  EXPECT_FALSE(stream->Write(std::string("late\n")));
  ASSERT_TRUE(conn.ReadUntil("\r\n0\r\n\r\n")) << conn.buffer();
  EXPECT_TRUE(WaitFor([&] { return catcher.closed.load() == 1; }));
  // The connection serves the next request after the stream.
  conn.buffer().clear();
  ASSERT_TRUE(conn.Send("GET /after HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string resp = conn.ReadResponse();
  EXPECT_TRUE(resp.ends_with("plain:/after")) << resp;
}

TEST_F(HttpServerTest, RequestPipelinedDuringStreamIsServedAfterIt) {
  StartServer(catcher.Handler());
  RawConn conn(server_->port());
  ASSERT_TRUE(conn.Send("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(WaitFor([&] { return catcher.count() == 1; }));
  ASSERT_TRUE(conn.ReadUntil("\r\n\r\n"));
  ASSERT_TRUE(conn.Send("GET /next HTTP/1.1\r\nHost: x\r\n\r\n"));
  catcher.at(0)->Write(std::string("event\n"));
  catcher.at(0)->Close();
  ASSERT_TRUE(conn.ReadUntil("plain:/next")) << conn.buffer();
  EXPECT_NE(conn.buffer().find("0\r\n\r\n"), std::string::npos);
}

TEST_F(HttpServerTest, ClientDisconnectFiresOnCloseOnce) {
  StartServer(catcher.Handler());
  auto conn = std::make_unique<RawConn>(server_->port());
  ASSERT_TRUE(conn->Send("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_TRUE(WaitFor([&] { return catcher.count() == 1; }));
  ASSERT_TRUE(conn->ReadUntil("\r\n\r\n"));  // the head is out; nothing else is written
  auto stream = catcher.at(0);
  std::atomic<int> second{0};
  stream->OnClose([&] { ++second; });
  conn.reset();  // the client goes away while the stream is idle
  ASSERT_TRUE(WaitFor([&] { return catcher.closed.load() == 1 && second.load() == 1; }));
  EXPECT_TRUE(stream->Closed());
  EXPECT_FALSE(stream->Write(std::string("x\n")));
  stream->Close();
  // Registered after the end: runs at once, on this thread.
  bool ran = false;
  stream->OnClose([&] { ran = true; });
  EXPECT_TRUE(ran);
  EXPECT_EQ(catcher.closed.load(), 1);
}

TEST_F(HttpServerTest, StopClosesOpenStreams) {
  StartServer(catcher.Handler());
  std::vector<std::unique_ptr<RawConn>> conns;
  for (int i = 0; i < 5; ++i) {
    conns.push_back(std::make_unique<RawConn>(server_->port()));
    ASSERT_TRUE(conns.back()->Send("GET /watch HTTP/1.1\r\nHost: x\r\n\r\n"));
  }
  ASSERT_TRUE(WaitFor([&] { return catcher.count() == 5; }));
  catcher.at(0)->Write(std::string("queued\n"));
  server_->Stop();
  EXPECT_EQ(catcher.closed.load(), 5);
  for (size_t i = 0; i < 5; ++i) {
    EXPECT_TRUE(catcher.at(i)->Closed());
    EXPECT_FALSE(catcher.at(i)->Write(std::string("x\n")));
  }
  for (auto& c : conns) {
    EXPECT_TRUE(c->WaitClosed());
  }
  server_->Stop();  // idempotent
}

TEST_F(HttpServerTest, IdleConnectionIsClosed) {
  ServerOptions opts;
  opts.idle_timeout = 1s;
  StartServer(
      [](Request&&, std::unique_ptr<Responder> responder) {
        responder->Respond(TextResponse(200, "ok"));
      },
      opts);
  RawConn conn(server_->port());
  ASSERT_TRUE(conn.Send("GET /x HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_FALSE(conn.ReadResponse().empty());
  auto start = std::chrono::steady_clock::now();
  EXPECT_TRUE(conn.WaitClosed(10s));
  EXPECT_GE(std::chrono::steady_clock::now() - start, 900ms);
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  StartServer([](Request&&, std::unique_ptr<Responder> responder) {
    responder->Respond(TextResponse(200, "ok"));
  });
  RawConn conn(server_->port());
  ASSERT_TRUE(conn.Send("GET /x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string resp = conn.ReadResponse();
  EXPECT_NE(resp.find("Connection: close\r\n"), std::string::npos) << resp;
  EXPECT_TRUE(conn.WaitClosed());
}

TEST_F(HttpServerTest, ListensOnIpv6Loopback) {
  ServerOptions opts;
  opts.listen = "[::1]:0";
  handler_ = std::make_unique<FuncHandler>([](Request&& req, std::unique_ptr<Responder> r) {
    r->Respond(TextResponse(200, req.remote_address));
  });
  server_ = std::make_unique<HttpServer>(opts, handler_.get());
  Status s = server_->Start();
  if (!s.ok()) {
    GTEST_SKIP() << "no IPv6 loopback: " << s.ToString();
  }
  HttpClientOptions o;
  o.base_url = "http://[::1]:" + std::to_string(server_->port());
  auto client = HttpClient::Create(o);
  ASSERT_TRUE(client.ok());
  auto resp = (*client)->Do("GET", "/");
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_TRUE(resp->body.starts_with("[::1]:")) << resp->body;
}

TEST_F(HttpServerTest, BadListenAddressesAreUnavailable) {
  FuncHandler handler([](Request&&, std::unique_ptr<Responder>) {});
  for (std::string listen : {"nonsense", "example.com:80", "127.0.0.1:99999", "127.0.0.1:x"}) {
    SCOPED_TRACE(listen);
    ServerOptions opts;
    opts.listen = listen;
    HttpServer server(opts, &handler);
    EXPECT_EQ(server.Start().code(), Code::kUnavailable);
  }
  ServerOptions first;
  HttpServer a(first, &handler);
  ASSERT_TRUE(a.Start().ok());
  ServerOptions second;
  second.listen = "127.0.0.1:" + std::to_string(a.port());
  HttpServer b(second, &handler);
  Status s = b.Start();
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_NE(s.message().find("bind"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace lintel::http
