// The WebSocket transport over plain TCP (TLS is covered end to end by the
// agent's exec tests) and the remotecommand channel framing.
#include "server/http/websocket.h"

#include <gtest/gtest.h>

#include <thread>

#include "server/http/http_server.h"
#include "server/http/remote_command.h"
#include "unit/http/http_test_util.h"

namespace lintel::http {
namespace {

namespace rc = remotecommand;
using testing::FuncHandler;

TEST(RemoteCommandTest, FramesCarryAChannelByte) {
  std::string f = rc::Frame(rc::kStdout, "hi");
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], '\x01');
  auto m = rc::Parse(f);
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->channel, rc::kStdout);
  EXPECT_EQ(m->data, "hi");
  EXPECT_FALSE(rc::Parse("").has_value());
  auto close = rc::Parse(rc::Frame(rc::kClose, std::string(1, '\0')));
  ASSERT_TRUE(close.has_value());
  EXPECT_EQ(close->channel, 255);
  EXPECT_EQ(close->data, std::string(1, '\0'));
}

TEST(RemoteCommandTest, PicksTheNewestOfferedProtocol) {
  EXPECT_EQ(rc::PickSubprotocol({"v4.channel.k8s.io", "v5.channel.k8s.io"}), rc::kV5);
  EXPECT_EQ(rc::PickSubprotocol({"channel.k8s.io", "v4.channel.k8s.io"}), rc::kV4);
  EXPECT_EQ(rc::PickSubprotocol({"base64.channel.k8s.io"}), "");
}

TEST(RemoteCommandTest, ExitStatusesRoundTrip) {
  EXPECT_EQ(rc::ExitStatus(0), R"({"metadata":{},"status":"Success"})");
  std::string failed = rc::ExitStatus(42);
  EXPECT_NE(failed.find(R"("reason":"NonZeroExitCode")"), std::string::npos) << failed;
  EXPECT_NE(failed.find(R"({"message":"42","reason":"ExitCode"})"), std::string::npos) << failed;
  EXPECT_EQ(*rc::ExitCodeOf(rc::ExitStatus(0)), 0);
  EXPECT_EQ(*rc::ExitCodeOf(failed), 42);
  auto err = rc::ExitCodeOf(rc::ErrorStatus(BadRequest("container main is not running")));
  ASSERT_FALSE(err.ok());
  EXPECT_EQ(err.error().message(), "container main is not running");
  EXPECT_FALSE(rc::ExitCodeOf("not json").ok());
}

TEST(RemoteCommandTest, ResizeMessages) {
  EXPECT_EQ(rc::ResizeMessage(120, 40), R"({"Height":40,"Width":120})");
  auto size = rc::ParseResize(R"({"Width":80,"Height":24})");
  ASSERT_TRUE(size.ok());
  EXPECT_EQ(size->first, 80);
  EXPECT_EQ(size->second, 24);
  EXPECT_FALSE(rc::ParseResize(R"({"Width":-1})").ok());
}

TEST(WebSocketTest, UpgradeNegotiatesAndEchoes) {
  FuncHandler handler([](Request&& req, std::unique_ptr<Responder> responder) {
    if (!IsWebSocketUpgrade(req)) {
      responder->Respond(testing::TextResponse(400, "not an upgrade"));
      return;
    }
    auto offered = OfferedSubprotocols(req);
    ASSERT_EQ(offered.size(), 2u);
    EXPECT_EQ(offered[0], "a.example");
    EXPECT_EQ(offered[1], "b.example");
    auto ws = responder->AcceptWebSocket("b.example");
    std::thread([ws] {
      while (auto m = ws->Read()) {
        if (*m == "bye") break;
        ws->Write("echo:" + *m);
      }
      ws->Close();
    }).detach();
  });
  HttpServer server({}, &handler);
  ASSERT_TRUE(server.Start().ok());
  client::HttpClientOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(server.port());
  auto d = DialWebSocket(o, "/ws", {"a.example", "b.example"});
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  ASSERT_TRUE(d->socket);
  EXPECT_EQ(d->socket->subprotocol(), "b.example");
  std::string big(1 << 20, 'x');
  ASSERT_TRUE(d->socket->Write("one"));
  ASSERT_TRUE(d->socket->Write(big));
  EXPECT_EQ(d->socket->Read(), "echo:one");
  EXPECT_EQ(d->socket->Read(), "echo:" + big);
  ASSERT_TRUE(d->socket->Write("bye"));
  EXPECT_FALSE(d->socket->Read().has_value());  // the server closed
  EXPECT_FALSE(d->socket->Write("late"));

  d->socket.reset();
  server.Stop();
}

TEST(WebSocketTest, ARefusedUpgradeReturnsTheResponse) {
  FuncHandler handler([](Request&&, std::unique_ptr<Responder> responder) {
    responder->Respond(testing::TextResponse(404, "no such thing"));
  });
  HttpServer server({}, &handler);
  ASSERT_TRUE(server.Start().ok());
  client::HttpClientOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(server.port());
  auto d = DialWebSocket(o, "/missing", {});
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  EXPECT_FALSE(d->socket);
  EXPECT_EQ(d->status, 404);
  EXPECT_EQ(d->body, "no such thing");
  server.Stop();
}

TEST(WebSocketTest, DialingNothingIsUnavailable) {
  client::HttpClientOptions o;
  o.base_url = "http://127.0.0.1:1";
  auto d = DialWebSocket(o, "/", {});
  ASSERT_FALSE(d.ok());
  EXPECT_EQ(d.error().code(), Code::kUnavailable);
}

}  // namespace
}  // namespace lintel::http
