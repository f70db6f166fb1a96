// Logs through the API: a whole `lintel server` (TLS, scheduler) on loopback,
// an agent whose host runs a fake driver that keeps logs, and the agent's
// endpoint between them. GET pods/NAME/log is relayed from the driver.
#include "agent/agent_endpoint.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <thread>

#include "agent/agent.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "drivers/fake/fake_driver.h"
#include "eventually.h"
#include "server/api_server.h"
#include "support/temp_dir.h"

namespace lintel::agent {
namespace {

using testing::Eventually;

const client::Resource kPods{"lintel.dev", "v1alpha1", "pods", true};

// The fake driver with logs: each workload's containers log "NAME line N"
// for N in 1..3; a follow then writes one more line every 10ms until the
// reader goes away (counted in follows_cancelled).
class LoggingDriver final : public drivers::Driver {
 public:
  LoggingDriver() {
    drivers::fake::FakeOptions o;
    o.run_delay = std::chrono::milliseconds(0);
    fake_ = std::make_unique<drivers::fake::FakeDriver>(o);
  }
  drivers::Capabilities capabilities() const override { return fake_->capabilities(); }
  void SetListener(drivers::Listener l) override { fake_->SetListener(std::move(l)); }
  Result<drivers::Handle> Start(const drivers::WorkloadSpec& s) override { return fake_->Start(s); }
  Status Recover(const drivers::Handle& h, const drivers::WorkloadSpec& s) override {
    return fake_->Recover(h, s);
  }
  Status Stop(const std::string& uid, std::chrono::milliseconds grace) override {
    return fake_->Stop(uid, grace);
  }
  Status Destroy(const std::string& uid) override { return fake_->Destroy(uid); }
  Result<drivers::WorkloadStatus> StatusOf(const std::string& uid) const override {
    return fake_->StatusOf(uid);
  }
  Status Logs(const std::string& uid, const drivers::LogOptions& o,
              const drivers::LogSink& sink) override {
    if (!fake_->StatusOf(uid).ok()) return NotFound("no workload " + uid);
    const std::string c = o.container.empty() ? "main" : o.container;
    if (c != "main" && c != "side") {
      return BadRequest("container " + c + " is not valid for the pod");
    }
    if (o.previous) return BadRequest("previous terminated container " + c + " not found");
    std::vector<std::string> lines;
    for (int i = 1; i <= 3; ++i) lines.push_back(c + " line " + std::to_string(i));
    size_t from = o.tail_lines >= 0 && static_cast<size_t>(o.tail_lines) < lines.size()
                      ? lines.size() - static_cast<size_t>(o.tail_lines)
                      : 0;
    auto t = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    for (size_t i = from; i < lines.size(); ++i) {
      if (!sink({t, "stdout", lines[i]})) return Status();
    }
    if (!o.follow) return Status();
    for (int n = 4;; ++n) {
      if (o.cancelled && o.cancelled()) {
        ++follows_cancelled;
        return Status();
      }
      if (!sink({t, "stdout", c + " line " + std::to_string(n)})) {
        ++follows_cancelled;
        return Status();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }

  std::atomic<int> follows_cancelled{0};

 private:
  std::unique_ptr<drivers::fake::FakeDriver> fake_;
};

class AgentEndpointTest : public ::testing::Test {
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
    kubeconfig_ = *kc;
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
    auto d = std::make_unique<LoggingDriver>();
    driver_ = d.get();
    agent_->AddHost(h, std::move(d), std::make_unique<MemoryHandleStore>());
    ASSERT_TRUE(agent_->Start().ok());
    ASSERT_TRUE(agent_->WaitRegistered(std::chrono::seconds(10)));
  }
  void TearDown() override {
    endpoint_.reset();
    if (agent_) agent_->Stop();
    agent_.reset();
    if (server_) server_->Stop();
  }

  // A Pod of two containers, bound and Running on h1 (the scheduler places it).
  void RunPod(const std::string& name) {
    Json pod = {{"apiVersion", "lintel.dev/v1alpha1"},
                {"kind", "Pod"},
                {"metadata", {{"name", name}}},
                {"spec",
                 {{"containers", Json::array({{{"name", "main"}, {"image", "busybox"}},
                                              {{"name", "side"}, {"image", "busybox"}}})}}}};
    ASSERT_TRUE(rest_->Create(kPods, "default", pod).ok());
    ASSERT_TRUE(Eventually([&] {
      auto p = rest_->Get(kPods, "default", name);
      return p.ok() && p->contains("status") && (*p)["status"].value("phase", "") == "Running";
    })) << "pod "
        << name << " never ran";
  }

  client::HttpResponse Get(const std::string& target) {
    auto r = rest_->http().Do("GET", target);
    EXPECT_TRUE(r.ok()) << r.error().ToString();
    return r.ok() ? *r : client::HttpResponse{};
  }

  static std::string LogPath(const std::string& pod) {
    return "/apis/lintel.dev/v1alpha1/namespaces/default/pods/" + pod + "/log";
  }

  lintel::testing::TempDir dir_;
  std::unique_ptr<server::ApiServer> server_;
  client::Kubeconfig kubeconfig_;
  std::unique_ptr<client::RestClient> rest_;
  std::unique_ptr<Agent> agent_;
  std::unique_ptr<AgentEndpoint> endpoint_;
  LoggingDriver* driver_ = nullptr;
};

TEST_F(AgentEndpointTest, TheHostPublishesItsEndpoint) {
  auto host = rest_->Get({"lintel.dev", "v1alpha1", "hosts", false}, "", "h1");
  ASSERT_TRUE(host.ok());
  const Json& ep = (*host)["status"]["agentEndpoint"];
  EXPECT_EQ(ep.value("url", ""), "https://127.0.0.1:" + std::to_string(endpoint_->port()));
  EXPECT_NE(ep.value("caBundle", "").find("BEGIN CERTIFICATE"), std::string::npos);
}

TEST_F(AgentEndpointTest, LogsAreRelayedFromTheDriver) {
  RunPod("p");
  auto r = Get(LogPath("p") + "?container=side");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "side line 1\nside line 2\nside line 3\n");
  r = Get(LogPath("p") + "?tailLines=1&timestamps=true");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "2023-11-14T22:13:20.000000Z main line 3\n");
}

TEST_F(AgentEndpointTest, ErrorsComeBackAsStatuses) {
  RunPod("p");
  auto r = Get(LogPath("p") + "?container=nope");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("container nope is not valid"), std::string::npos) << r.body;
  r = Get(LogPath("p") + "?previous=true");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("previous terminated container"), std::string::npos) << r.body;
  r = Get(LogPath("missing"));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"reason\":\"NotFound\""), std::string::npos) << r.body;
  r = Get(LogPath("p") + "?tailLines=x");
  EXPECT_EQ(r.status, 400) << r.body;
}

TEST_F(AgentEndpointTest, APodWithoutAHostHasNoLogsYet) {
  // Unschedulable (asks for more CPU than h1 has): never bound.
  Json pod = {{"apiVersion", "lintel.dev/v1alpha1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "big"}}},
              {"spec",
               {{"containers", Json::array({{{"name", "main"},
                                             {"image", "busybox"},
                                             {"resources", {{"requests", {{"cpu", "64"}}}}}}})}}}};
  ASSERT_TRUE(rest_->Create(kPods, "default", pod).ok());
  auto r = Get(LogPath("big"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("is not on a host yet"), std::string::npos) << r.body;
}

TEST_F(AgentEndpointTest, FollowStreamsUntilTheReaderLeaves) {
  RunPod("p");
  std::mutex mu;
  std::vector<std::string> lines;
  auto r = rest_->http().DoStream("GET", LogPath("p") + "?follow=true", {}, "",
                                  [&](std::string_view line) {
                                    std::lock_guard<std::mutex> l(mu);
                                    lines.emplace_back(line);
                                    return true;
                                  });
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->status, 200) << r->body;
  ASSERT_TRUE(Eventually([&] {
    std::lock_guard<std::mutex> l(mu);
    return lines.size() >= 6;
  }));
  {
    std::lock_guard<std::mutex> l(mu);
    EXPECT_EQ(lines[0], "main line 1");
    EXPECT_EQ(lines[5], "main line 6");
  }
  // The reader goes: the server hangs up on the agent, whose follow ends.
  r->stream.reset();
  EXPECT_TRUE(Eventually([&] { return driver_->follows_cancelled.load() == 1; }));
}

TEST_F(AgentEndpointTest, TheEndpointServesOnlyTheApiServer) {
  // The admin's token (or a client certificate for anyone else) is refused.
  client::HttpClientOptions o;
  o.base_url = "https://127.0.0.1:" + std::to_string(endpoint_->port());
  o.ca_pem = endpoint_->Advertised()["caBundle"].get<std::string>();
  o.bearer_token = kubeconfig_.token;
  auto http = client::HttpClient::Create(o);
  ASSERT_TRUE(http.ok());
  auto r = (*http)->Do("GET", "/v1/workloads/x/logs");
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  EXPECT_EQ(r->status, 403) << r->body;
}

}  // namespace
}  // namespace lintel::agent
