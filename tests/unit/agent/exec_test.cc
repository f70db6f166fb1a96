// kubectl exec and VM consoles end to end over loopback: a WebSocket client →
// the API server (pods/NAME/exec, virtualmachines/NAME/console) → the agent's
// endpoint → the fake driver's Exec and OpenConsole.
#include <gtest/gtest.h>

#include <optional>

#include "agent/agent.h"
#include "agent/agent_endpoint.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "drivers/fake/fake_driver.h"
#include "eventually.h"
#include "server/api_server.h"
#include "server/http/remote_command.h"
#include "server/http/websocket.h"
#include "support/temp_dir.h"

namespace lintel::agent {
namespace {

namespace rc = http::remotecommand;
using testing::Eventually;

const client::Resource kPods{"lintel.dev", "v1alpha1", "pods", true};
const client::Resource kVms{"lintel.dev", "v1alpha1", "virtualmachines", true};

// What an exec session gave back.
struct ExecResult {
  std::string out, err;
  std::optional<int> exit_code;
  std::string status;  // the raw channel-3 message
};

class ExecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server::ServerConfig c;
    c.data_dir = dir_.File("server");
    c.listen = "127.0.0.1:0";
    c.store_sync_full = false;
    c.write_user_kubeconfig = false;
    c.worker_threads = 8;
    auto s = server::ApiServer::Start(std::move(c));
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    server_ = std::move(*s);
    auto kc = client::LoadKubeconfig(server_->kubeconfig_path());
    ASSERT_TRUE(kc.ok());
    auto rest = client::RestClient::FromKubeconfig(*kc);
    ASSERT_TRUE(rest.ok());
    rest_ = std::move(*rest);
    auto agent_rest = client::RestClient::FromKubeconfig(*kc);
    ASSERT_TRUE(agent_rest.ok());
    agent_ = std::make_unique<Agent>(std::shared_ptr<client::Client>(std::move(*agent_rest)),
                                     AgentOptions{});
    AgentEndpointOptions eo;
    eo.listen = "127.0.0.1:0";
    eo.pki_dir = dir_.File("agent-pki");
    eo.cluster_ca_pem = kc->ca_pem;
    auto ep = AgentEndpoint::Start(eo, agent_.get());
    ASSERT_TRUE(ep.ok()) << ep.error().ToString();
    endpoint_ = std::move(*ep);
    HostConfig h;
    h.name = "h1";
    h.capacity = {{"cpu", "8"}, {"memory", "16Gi"}, {"pods", "110"}, {"vms", "8"}};
    h.agent_endpoint = endpoint_->Advertised();
    drivers::fake::FakeOptions fo;
    fo.run_delay = std::chrono::milliseconds(0);
    agent_->AddHost(h, std::make_unique<drivers::fake::FakeDriver>(fo),
                    std::make_unique<MemoryHandleStore>());
    ASSERT_TRUE(agent_->Start().ok());
    ASSERT_TRUE(agent_->WaitRegistered(std::chrono::seconds(10)));
  }
  void TearDown() override {
    endpoint_.reset();
    if (agent_) agent_->Stop();
    agent_.reset();
    if (server_) server_->Stop();
  }

  void Run(const client::Resource& r, const std::string& name, Json spec) {
    Json obj = {{"apiVersion", "lintel.dev/v1alpha1"},
                {"kind", r.resource == "pods" ? "Pod" : "VirtualMachine"},
                {"metadata", {{"name", name}}},
                {"spec", std::move(spec)}};
    ASSERT_TRUE(rest_->Create(r, "default", obj).ok());
    ASSERT_TRUE(Eventually([&] {
      auto p = rest_->Get(r, "default", name);
      return p.ok() && p->contains("status") && (*p)["status"].value("phase", "") == "Running";
    })) << name
        << " never ran";
  }
  void RunPod(const std::string& name) {
    Run(kPods, name, {{"containers", Json::array({{{"name", "main"}, {"image", "busybox"}}})}});
  }

  Result<http::WebSocketDial> Dial(const std::string& target,
                                   std::vector<std::string> protos = {std::string(rc::kV5)}) {
    return http::DialWebSocket(rest_->http().options(), target, protos);
  }

  static std::string ExecPath(const std::string& pod, const std::vector<std::string>& command,
                              const std::string& extra = "") {
    std::string t = "/apis/lintel.dev/v1alpha1/namespaces/default/pods/" + pod +
                    "/exec?stdout=true&stderr=true" + extra;
    for (const auto& c : command) t += "&command=" + c;
    return t;
  }

  // Sends `input` (then closes stdin, v5) and reads to the end.
  ExecResult Exec(const std::string& target, const std::string& input = "",
                  bool close_stdin = false) {
    ExecResult res;
    auto d = Dial(target);
    EXPECT_TRUE(d.ok()) << d.error().ToString();
    if (!d.ok()) return res;
    EXPECT_TRUE(d->socket) << d->status << " " << d->body;
    if (!d->socket) return res;
    EXPECT_EQ(d->socket->subprotocol(), rc::kV5);
    if (!input.empty()) d->socket->Write(rc::Frame(rc::kStdin, input));
    if (close_stdin) d->socket->Write(rc::Frame(rc::kClose, std::string(1, '\0')));
    while (auto m = d->socket->Read()) {
      auto msg = rc::Parse(*m);
      if (!msg) continue;
      if (msg->channel == rc::kStdout) res.out += msg->data;
      if (msg->channel == rc::kStderr) res.err += msg->data;
      if (msg->channel == rc::kError) {
        res.status = std::string(msg->data);
        auto code = rc::ExitCodeOf(msg->data);
        if (code.ok()) res.exit_code = *code;
      }
    }
    return res;
  }

  lintel::testing::TempDir dir_;
  std::unique_ptr<server::ApiServer> server_;
  std::unique_ptr<client::RestClient> rest_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<AgentEndpoint> endpoint_;
};

TEST_F(ExecTest, EchoPrintsItsArgumentsAndSucceeds) {
  RunPod("p");
  ExecResult r = Exec(ExecPath("p", {"echo", "hello", "world"}));
  EXPECT_EQ(r.out, "hello world\n");
  EXPECT_EQ(r.err, "");
  ASSERT_TRUE(r.exit_code.has_value()) << r.status;
  EXPECT_EQ(*r.exit_code, 0);
  EXPECT_NE(r.status.find("\"Success\""), std::string::npos) << r.status;
}

TEST_F(ExecTest, ANonZeroExitComesBackAsNonZeroExitCode) {
  RunPod("p");
  ExecResult r = Exec(ExecPath("p", {"exit", "3"}));
  ASSERT_TRUE(r.exit_code.has_value()) << r.status;
  EXPECT_EQ(*r.exit_code, 3);
  EXPECT_NE(r.status.find("NonZeroExitCode"), std::string::npos) << r.status;
  r = Exec(ExecPath("p", {"nosuchcommand"}));
  EXPECT_EQ(r.exit_code, 127);
  EXPECT_NE(r.err.find("command not found"), std::string::npos) << r.err;
}

TEST_F(ExecTest, StdinIsRelayedUntilItIsClosed) {
  RunPod("p");
  ExecResult r = Exec(ExecPath("p", {"cat"}, "&stdin=true"), "line one\nline two\n", true);
  EXPECT_EQ(r.out, "line one\nline two\n");
  EXPECT_EQ(r.exit_code, 0);
}

TEST_F(ExecTest, ATerminalCarriesInputAndOutputOnOneStream) {
  RunPod("p");
  ExecResult r = Exec(ExecPath("p", {"cat"}, "&stdin=true&tty=true"), "typed\x04");
  EXPECT_EQ(r.out, "typed");
  EXPECT_EQ(r.exit_code, 0);
}

TEST_F(ExecTest, V4IsAcceptedWhenOffered) {
  RunPod("p");
  auto d = Dial(ExecPath("p", {"echo", "hi"}), {"v4.channel.k8s.io"});
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  ASSERT_TRUE(d->socket) << d->body;
  EXPECT_EQ(d->socket->subprotocol(), rc::kV4);
  std::string out;
  while (auto m = d->socket->Read()) {
    if (!m->empty() && (*m)[0] == rc::kStdout) out += m->substr(1);
  }
  EXPECT_EQ(out, "hi\n");
}

TEST_F(ExecTest, ErrorsBeforeTheUpgradeAreStatuses) {
  RunPod("p");
  auto d = Dial(ExecPath("missing", {"echo"}));
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  EXPECT_FALSE(d->socket);
  EXPECT_EQ(d->status, 404);
  EXPECT_NE(d->body.find("\"reason\":\"NotFound\""), std::string::npos) << d->body;
  d = Dial(ExecPath("p", {"echo"}, "&container=nope"));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->status, 404) << d->body;
  EXPECT_NE(d->body.find("container nope"), std::string::npos) << d->body;
  d = Dial(ExecPath("p", {}));
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->status, 400) << d->body;
  d = Dial(ExecPath("p", {"echo"}), {"channel.k8s.io"});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->status, 400) << d->body;
  // Not a WebSocket at all.
  auto plain = rest_->http().Do("GET", ExecPath("p", {"echo"}));
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(plain->status, 400) << plain->body;
}

TEST_F(ExecTest, AConsoleIsAByteStreamBothWays) {
  Run(kVms, "vm", {{"image", "tiny"}, {"cpu", 1}, {"memory", "512Mi"}});
  auto d = Dial("/apis/lintel.dev/v1alpha1/namespaces/default/virtualmachines/vm/console", {});
  ASSERT_TRUE(d.ok()) << d.error().ToString();
  ASSERT_TRUE(d->socket) << d->status << " " << d->body;
  ASSERT_TRUE(d->socket->Write("login: root\r\n"));
  std::string got;
  while (got.size() < 13) {
    auto m = d->socket->Read();
    ASSERT_TRUE(m.has_value());
    got += *m;
  }
  EXPECT_EQ(got, "login: root\r\n");
  d->socket->Close();
  EXPECT_FALSE(d->socket->Read().has_value());
}

TEST_F(ExecTest, AConsoleOfAPodIsNotFound) {
  RunPod("p");
  auto d = Dial("/apis/lintel.dev/v1alpha1/namespaces/default/pods/p/console", {});
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->status, 404) << d->body;
}

}  // namespace
}  // namespace lintel::agent
