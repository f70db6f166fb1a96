#include "client/http_client.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "client/url.h"
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

// A one-thread TCP server that runs a script per accepted connection, for
// exact control over when a connection dies.
class ScriptedServer {
 public:
  using Script = std::function<void(int fd)>;
  explicit ScriptedServer(std::vector<Script> scripts) : scripts_(std::move(scripts)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
    ::listen(fd_, 8);
    socklen_t len = sizeof(addr);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread([this] {
      for (auto& script : scripts_) {
        int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) {
          return;
        }
        ++accepted_;
        script(c);
        ::close(c);
      }
    });
  }
  ~ScriptedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
  }
  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

  // Reads until the end of one request head (no bodies in these tests).
  static bool ReadRequest(int fd) {
    std::string buf;
    char c;
    while (buf.find("\r\n\r\n") == std::string::npos) {
      if (::recv(fd, &c, 1, 0) != 1) {
        return false;
      }
      buf.push_back(c);
    }
    return true;
  }
  static void Send(int fd, std::string_view s) { ::send(fd, s.data(), s.size(), MSG_NOSIGNAL); }

 private:
  std::vector<Script> scripts_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

class HttpClientTest : public ::testing::Test {
 protected:
  void StartServer(FuncHandler::Fn fn, http::ServerOptions opts = {}) {
    handler_ = std::make_unique<FuncHandler>(std::move(fn));
    server_ = std::make_unique<http::HttpServer>(opts, handler_.get());
    Status s = server_->Start();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  HttpClientOptions Options(uint16_t port) {
    HttpClientOptions o;
    o.base_url = "http://127.0.0.1:" + std::to_string(port);
    o.request_timeout = 10s;
    return o;
  }
  std::unique_ptr<HttpClient> NewClient(HttpClientOptions o) {
    auto c = HttpClient::Create(std::move(o));
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return std::move(*c);
  }

  std::mutex mu_;
  std::vector<std::shared_ptr<http::Stream>> streams_;
  std::atomic<int> stream_closed_{0};
  std::unique_ptr<FuncHandler> handler_;
  std::unique_ptr<http::HttpServer> server_;
};

TEST(BaseUrlTest, Parses) {
  auto u = ParseBaseUrl("https://127.0.0.1:6443");
  ASSERT_TRUE(u.ok());
  EXPECT_TRUE(u->tls);
  EXPECT_EQ(u->host, "127.0.0.1");
  EXPECT_EQ(u->port, 6443);
  EXPECT_TRUE(u->host_is_ip);
  EXPECT_EQ(u->HostHeader(), "127.0.0.1:6443");

  auto v6 = ParseBaseUrl("http://[::1]:8080/prefix/");
  ASSERT_TRUE(v6.ok());
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->path_prefix, "/prefix");
  EXPECT_EQ(v6->HostHeader(), "[::1]:8080");
  EXPECT_EQ(v6->ToString(), "http://[::1]:8080/prefix");

  auto dns = ParseBaseUrl("https://api.example");
  ASSERT_TRUE(dns.ok());
  EXPECT_EQ(dns->port, 443);
  EXPECT_FALSE(dns->host_is_ip);

  for (const char* bad : {"ftp://x", "http://", "http://h:0", "http://h:70000", "http://[::1",
                          "127.0.0.1:6443", "http://u@h"}) {
    SCOPED_TRACE(bad);
    EXPECT_EQ(ParseBaseUrl(bad).status().code(), Code::kBadRequest);
  }
}

TEST(UrlEncodeTest, EncodesAllButUnreserved) {
  EXPECT_EQ(UrlEncode("env in (dev,prod)"), "env%20in%20%28dev%2Cprod%29");
  EXPECT_EQ(UrlEncode("a=b&c+d/é"), "a%3Db%26c%2Bd%2F%C3%A9");
  EXPECT_EQ(UrlEncode("AZaz09-._~"), "AZaz09-._~");
}

TEST(SplitAbsoluteUrlTest, SplitsBaseAndTarget) {
  auto u = SplitAbsoluteUrl("https://auth.example:8443/token?service=r&scope=a:b:pull");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->base, "https://auth.example:8443");
  EXPECT_EQ(u->target, "/token?service=r&scope=a:b:pull");
  auto bare = SplitAbsoluteUrl("http://127.0.0.1:5000?x=1#frag");
  ASSERT_TRUE(bare.ok());
  EXPECT_EQ(bare->base, "http://127.0.0.1:5000");
  EXPECT_EQ(bare->target, "/?x=1");
  EXPECT_FALSE(SplitAbsoluteUrl("/v2/x").ok());
  EXPECT_FALSE(SplitAbsoluteUrl("ftp://h/x").ok());
}

TEST_F(HttpClientTest, DoToSinkDeliversChunksAndReusesTheConnection) {
  std::string big(3 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  StartServer([&](Request&& req, std::unique_ptr<Responder> r) {
    r->Respond(req.path == "/big" ? TextResponse(200, big) : TextResponse(404, "no such blob"));
  });
  auto c = NewClient(Options(server_->port()));
  std::string got;
  int chunks = 0;
  auto sink = [&](std::string_view data) {
    got.append(data);
    ++chunks;
    return Status();
  };
  auto resp = c->DoToSink("GET", "/big", {}, {}, sink);
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->status, 200);
  EXPECT_TRUE(resp->body.empty());
  EXPECT_TRUE(got == big);
  EXPECT_GT(chunks, 1);
  EXPECT_EQ(c->IdleConnections(), 1u);

  // An error status comes back whole, without calling the sink.
  got.clear();
  auto missing = c->DoToSink("GET", "/missing", {}, {}, sink);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->body, "no such blob");
  EXPECT_TRUE(got.empty());

  // The sink's error stops the read and is returned; the connection is dropped.
  auto stopped = c->DoToSink("GET", "/big", {}, {}, [](std::string_view) {
    return Internal("disk full");
  });
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.status().message(), "disk full");
  auto again = c->Do("GET", "/missing");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->status, 404);
}

TEST_F(HttpClientTest, SendsTokenAndUserAgent) {
  StartServer([](Request&& req, std::unique_ptr<Responder> r) {
    r->Respond(TextResponse(200, std::string(req.headers.Get("authorization").value_or("")) + "|" +
                                     std::string(req.headers.Get("user-agent").value_or("")) + "|" +
                                     std::string(req.headers.Get("host").value_or(""))));
  });
  HttpClientOptions o = Options(server_->port());
  o.bearer_token = "s3cret";
  o.user_agent = "lintel-test/1";
  auto c = NewClient(o);
  auto resp = c->Do("GET", "/");
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->body, "Bearer s3cret|lintel-test/1|127.0.0.1:" + std::to_string(server_->port()));
  // A request's own Authorization wins.
  auto own = c->Do("GET", "/", {{"Authorization", "Bearer other"}});
  ASSERT_TRUE(own.ok());
  EXPECT_TRUE(own->body.starts_with("Bearer other|"));
}

TEST_F(HttpClientTest, ConnectionRefusedIsRetryableUnavailable) {
  uint16_t port;
  {
    // A port that was free a moment ago: bind a server and stop it.
    FuncHandler h([](Request&&, std::unique_ptr<Responder>) {});
    http::HttpServer s({}, &h);
    ASSERT_TRUE(s.Start().ok());
    port = s.port();
  }
  auto c = NewClient(Options(port));
  auto resp = c->Do("GET", "/x");
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), Code::kUnavailable);
  EXPECT_TRUE(resp.status().retryable());
  EXPECT_NE(resp.status().message().find("GET http://127.0.0.1:"), std::string::npos)
      << resp.status().message();
}

TEST_F(HttpClientTest, RequestTimeout) {
  std::mutex mu;
  std::vector<std::unique_ptr<Responder>> held;
  StartServer([&](Request&&, std::unique_ptr<Responder> r) {
    std::lock_guard lock(mu);
    held.push_back(std::move(r));  // never answered until the test ends
  });
  HttpClientOptions o = Options(server_->port());
  o.request_timeout = 200ms;
  auto c = NewClient(o);
  auto start = std::chrono::steady_clock::now();
  auto resp = c->Do("GET", "/slow");
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().code(), Code::kTimeout);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  server_->Stop();
  std::lock_guard lock(mu);
  held.clear();
}

TEST_F(HttpClientTest, ServerRestartReplacesPooledConnection) {
  StartServer([](Request&&, std::unique_ptr<Responder> r) { r->Respond(TextResponse(200, "a")); });
  uint16_t port = server_->port();
  auto c = NewClient(Options(port));
  ASSERT_TRUE(c->Do("GET", "/").ok());
  EXPECT_EQ(c->IdleConnections(), 1u);
  server_.reset();  // closes the pooled connection from the server side
  http::ServerOptions opts;
  opts.listen = "127.0.0.1:" + std::to_string(port);
  StartServer([](Request&&, std::unique_ptr<Responder> r) { r->Respond(TextResponse(200, "b")); },
              opts);
  auto resp = c->Do("POST", "/", {}, "not idempotent, but the dead connection is seen first");
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  EXPECT_EQ(resp->body, "b");
}

TEST(HttpClientRetryTest, IdempotentRequestRetriedWhenReusedConnectionDies) {
  constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  ScriptedServer server({
      [&](int fd) {
        // Answers one request, then takes the next one and dies without answering.
        ASSERT_TRUE(ScriptedServer::ReadRequest(fd));
        ScriptedServer::Send(fd, kOk);
        ScriptedServer::ReadRequest(fd);
      },
      [&](int fd) {
        ASSERT_TRUE(ScriptedServer::ReadRequest(fd));
        ScriptedServer::Send(fd, kOk);
      },
  });
  HttpClientOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(server.port());
  o.request_timeout = 10s;
  auto c = HttpClient::Create(o);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Do("GET", "/1").ok());
  auto second = (*c)->Do("GET", "/2");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->body, "ok");
  EXPECT_EQ(server.accepted(), 2);
}

TEST(HttpClientRetryTest, PostIsNotRetriedAfterItWasSent) {
  constexpr std::string_view kOk = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  ScriptedServer server({
      [&](int fd) {
        ASSERT_TRUE(ScriptedServer::ReadRequest(fd));
        ScriptedServer::Send(fd, kOk);
        ScriptedServer::ReadRequest(fd);
      },
  });
  HttpClientOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(server.port());
  o.request_timeout = 10s;
  auto c = HttpClient::Create(o);
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE((*c)->Do("GET", "/1").ok());
  auto post = (*c)->Do("POST", "/2", {}, "{}");
  ASSERT_FALSE(post.ok());
  EXPECT_EQ(post.status().code(), Code::kUnavailable);
}

TEST_F(HttpClientTest, ConcurrentRequestsShareASmallPool) {
  std::atomic<int> calls{0};
  StartServer([&](Request&& req, std::unique_ptr<Responder> r) {
    ++calls;
    r->Respond(TextResponse(200, req.path));
  });
  HttpClientOptions o = Options(server_->port());
  o.max_idle_connections = 3;
  auto c = NewClient(o);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        std::string path = "/" + std::to_string(t) + "/" + std::to_string(i);
        auto resp = c->Do("GET", path);
        if (!resp.ok() || resp->body != path) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) {
    t.join();
  }
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(calls.load(), 400);
  EXPECT_LE(c->IdleConnections(), 3u);
}

// The handler streams the chunks it is told to, from the test thread.
class StreamingTest : public HttpClientTest {
 protected:
  void SetUp() override {
    StartServer([this](Request&& req, std::unique_ptr<Responder> r) {
      if (req.path == "/error") {
        r->Respond(TextResponse(403, "{\"kind\":\"Status\"}", "application/json"));
        return;
      }
      auto stream = r->StartStream(200, http::Headers());
      stream->OnClose([this] { ++stream_closed_; });
      std::lock_guard lock(mu_);
      streams_.push_back(stream);
    });
  }
  std::shared_ptr<http::Stream> WaitStream() {
    EXPECT_TRUE(WaitFor([&] {
      std::lock_guard lock(mu_);
      return !streams_.empty();
    }));
    std::lock_guard lock(mu_);
    return streams_.empty() ? nullptr : streams_.back();
  }
};

struct Lines {
  std::mutex mu;
  std::vector<std::string> lines;
  std::function<bool(std::string_view)> Callback(int stop_after = -1) {
    return [this, stop_after](std::string_view line) {
      std::lock_guard lock(mu);
      lines.emplace_back(line);
      return stop_after < 0 || static_cast<int>(lines.size()) < stop_after;
    };
  }
  size_t size() {
    std::lock_guard lock(mu);
    return lines.size();
  }
  std::vector<std::string> get() {
    std::lock_guard lock(mu);
    return lines;
  }
};

TEST_F(StreamingTest, DeliversLinesAsTheyArrive) {
  auto c = NewClient(Options(server_->port()));
  Lines lines;
  auto resp = c->DoStream("GET", "/watch", {}, {}, lines.Callback());
  ASSERT_TRUE(resp.ok()) << resp.status().ToString();
  ASSERT_EQ(resp->status, 200);
  ASSERT_TRUE(resp->stream);
  auto stream = WaitStream();
  stream->Write(std::string("one\n"));
  ASSERT_TRUE(WaitFor([&] { return lines.size() == 1; }));  // before anything else is sent
  stream->Write(std::string("tw"));
  stream->Write(std::string("o\r\nthree\nfour"));
  ASSERT_TRUE(WaitFor([&] { return lines.size() == 3; }));
  stream->Close();
  EXPECT_TRUE(resp->stream->Wait().ok());
  EXPECT_EQ(lines.get(), (std::vector<std::string>{"one", "two", "three", "four"}));
}

TEST_F(StreamingTest, ErrorStatusReturnsBodyAndNoStream) {
  auto c = NewClient(Options(server_->port()));
  Lines lines;
  auto resp = c->DoStream("GET", "/error", {}, {}, lines.Callback());
  ASSERT_TRUE(resp.ok());
  EXPECT_EQ(resp->status, 403);
  EXPECT_EQ(resp->body, "{\"kind\":\"Status\"}");
  EXPECT_FALSE(resp->stream);
}

TEST_F(StreamingTest, CancelFromAnotherThreadWhileIdle) {
  auto c = NewClient(Options(server_->port()));
  Lines lines;
  auto resp = c->DoStream("GET", "/watch", {}, {}, lines.Callback());
  ASSERT_TRUE(resp.ok());
  WaitStream();
  std::thread canceller([&] { resp->stream->Cancel(); });
  canceller.join();
  EXPECT_TRUE(resp->stream->Wait().ok());
  EXPECT_TRUE(resp->stream->Done());
  EXPECT_TRUE(WaitFor([&] { return stream_closed_.load() == 1; }));  // the server noticed
}

TEST_F(StreamingTest, CallbackCanStopTheStream) {
  auto c = NewClient(Options(server_->port()));
  Lines lines;
  auto resp = c->DoStream("GET", "/watch", {}, {}, lines.Callback(/*stop_after=*/2));
  ASSERT_TRUE(resp.ok());
  auto stream = WaitStream();
  stream->Write(std::string("a\nb\nc\nd\n"));
  EXPECT_TRUE(resp->stream->Wait().ok());
  EXPECT_EQ(lines.get(), (std::vector<std::string>{"a", "b"}));
}

TEST_F(StreamingTest, ServerStopEndsTheStreamWithAnError) {
  auto c = NewClient(Options(server_->port()));
  Lines lines;
  auto resp = c->DoStream("GET", "/watch", {}, {}, lines.Callback());
  ASSERT_TRUE(resp.ok());
  WaitStream();
  server_->Stop();
  Status s = resp->stream->Wait();
  EXPECT_EQ(s.code(), Code::kUnavailable) << s.ToString();
}

TEST_F(StreamingTest, DestroyFromInsideTheCallback) {
  auto c = NewClient(Options(server_->port()));
  // Shared with the callback by value: the stream's thread is detached when the
  // stream is destroyed from it, and may still run after the test body ends.
  struct Shared {
    std::mutex mu;
    std::unique_ptr<HttpStream> holder;
    std::atomic<bool> destroyed{false};
  };
  auto shared = std::make_shared<Shared>();
  auto resp = c->DoStream("GET", "/watch", {}, {}, [shared](std::string_view) {
    std::unique_ptr<HttpStream> doomed;
    {
      std::lock_guard lock(shared->mu);
      doomed = std::move(shared->holder);
    }
    doomed.reset();  // destroys the stream from its own thread
    shared->destroyed = true;
    return true;
  });
  ASSERT_TRUE(resp.ok());
  {
    std::lock_guard lock(shared->mu);
    shared->holder = std::move(resp->stream);
  }
  WaitStream()->Write(std::string("x\n"));
  EXPECT_TRUE(WaitFor([&] { return shared->destroyed.load(); }));
  EXPECT_TRUE(WaitFor([&] { return stream_closed_.load() == 1; }));
}

}  // namespace
}  // namespace lintel::client
