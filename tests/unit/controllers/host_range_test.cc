// The host range controller against a real API stack (Resources on SQLite,
// in-process client): distinct ranges, the estate's ranges on every Host,
// reuse after a delete, exhaustion and its retry, restarts keeping what the
// Hosts hold, and Hosts with a colliding or foreign range moved.
#include <set>
#include <thread>

#include "controllers/network/host_range_controller.h"
#include "server/local_client.h"
#include "server_fixture.h"

namespace lintel::controllers::network {
namespace {

using std::chrono::milliseconds;

const client::Resource kHosts{"lintel.dev", "v1alpha1", "hosts", false};
const client::Resource kEvents{"lintel.dev", "v1alpha1", "events", true};

class HostRangeTest : public server::testing::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    client_ = std::make_shared<server::LocalClient>(resources_.get());
  }
  void TearDown() override {
    if (controller_) controller_->Stop();
    controller_.reset();
    ServerFixture::TearDown();
  }

  void StartController(NetworkSettings settings = {}) {
    auto ranges = ParseNetworkSettings(settings);
    ASSERT_TRUE(ranges.ok()) << ranges.error().ToString();
    controller_ = std::make_unique<HostRangeController>(client_, *ranges);
    ASSERT_TRUE(controller_->Start().ok());
  }
  void StopController() {
    controller_->Stop();
    controller_.reset();
  }

  void AddHost(const std::string& name) {
    MustCreate(
        {{"apiVersion", "lintel.dev/v1alpha1"}, {"kind", "Host"}, {"metadata", {{"name", name}}}},
        "", "hosts");
  }
  void DeleteHost(const std::string& name) {
    auto r = client_->Delete(kHosts, "", name);
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }
  // As a foreign writer (or an older server) would leave it.
  void SetPodCidr(const std::string& name, const std::string& cidr) {
    auto r = client_->Patch(kHosts, "", name, client::PatchType::kMerge,
                            {{"status", {{"podCIDR", cidr}}}}, {}, "status");
    ASSERT_TRUE(r.ok()) << r.error().ToString();
  }

  std::string Status(const std::string& host, const char* field) {
    auto r = client_->Get(kHosts, "", host);
    if (!r.ok()) return "";
    const Json& v = api::At(*r, std::string("/status/") + field);
    return v.is_string() ? v.get<std::string>() : "";
  }
  std::string PodCidr(const std::string& host) { return Status(host, "podCIDR"); }

  bool Eventually(const std::function<bool()>& cond, milliseconds timeout = milliseconds(10000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (cond()) return true;
      std::this_thread::sleep_for(milliseconds(2));
    }
    return cond();
  }
  std::string WaitForCidr(const std::string& host) {
    EXPECT_TRUE(Eventually([&] { return !PodCidr(host).empty(); })) << host;
    return PodCidr(host);
  }

  // Messages of the Events about Host `host` with `reason`.
  std::vector<std::string> Events(const std::string& host, const std::string& reason) {
    std::vector<std::string> out;
    auto list = client_->List(kEvents, "default", {});
    if (!list.ok()) return out;
    for (const auto& e : (*list)["items"]) {
      if (api::At(e, "/involvedObject/name") == host && e.value("reason", "") == reason) {
        out.push_back(e.value("message", ""));
      }
    }
    return out;
  }

  std::shared_ptr<client::Client> client_;
  std::unique_ptr<HostRangeController> controller_;
};

TEST_F(HostRangeTest, EveryHostGetsItsOwnRangeAndTheEstatesRanges) {
  StartController();
  const auto start = std::chrono::steady_clock::now();
  AddHost("h1");
  const std::string first = WaitForCidr("h1");
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, milliseconds(1000));  // aim: ~100 ms for a registering Host
  std::printf("first range after %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<milliseconds>(took).count()));
  AddHost("h2");
  AddHost("h3");
  std::set<std::string> ranges = {first, WaitForCidr("h2"), WaitForCidr("h3")};
  EXPECT_EQ(ranges, (std::set<std::string>{"10.244.0.0/24", "10.244.1.0/24", "10.244.2.0/24"}));
  for (const char* h : {"h1", "h2", "h3"}) {
    EXPECT_TRUE(Eventually([&] { return Status(h, "serviceCIDR") == "10.96.0.0/16"; })) << h;
    EXPECT_EQ(Status(h, "clusterCIDR"), "10.244.0.0/16");
  }
}

TEST_F(HostRangeTest, ADeletedHostsRangeIsReused) {
  StartController();
  for (const char* h : {"h1", "h2", "h3"}) {
    AddHost(h);
    WaitForCidr(h);
  }
  const std::string freed = PodCidr("h2");
  DeleteHost("h2");
  AddHost("h4");
  EXPECT_EQ(WaitForCidr("h4"), freed);
  EXPECT_EQ(freed, "10.244.1.0/24");  // the lowest free one
}

TEST_F(HostRangeTest, ExhaustionWarnsAndRetriesWhenAHostGoes) {
  NetworkSettings small;
  small.cluster_cidr = "10.244.0.0/23";  // two /24s
  StartController(small);
  AddHost("h1");
  AddHost("h2");
  WaitForCidr("h1");
  WaitForCidr("h2");
  AddHost("h3");
  ASSERT_TRUE(Eventually([&] { return !Events("h3", "CIDRNotAvailable").empty(); }));
  EXPECT_EQ(Events("h3", "CIDRNotAvailable")[0], "no free /24 left in 10.244.0.0/23");
  EXPECT_EQ(PodCidr("h3"), "");
  const std::string freed = PodCidr("h1");
  DeleteHost("h1");
  EXPECT_EQ(WaitForCidr("h3"), freed);
  EXPECT_NE(PodCidr("h2"), freed);
}

TEST_F(HostRangeTest, ARestartKeepsWhatTheHostsHold) {
  StartController();
  std::map<std::string, std::string> before;
  for (const char* h : {"h1", "h2", "h3"}) {
    AddHost(h);
    before[h] = WaitForCidr(h);
  }
  StopController();
  // While no controller runs: one Host goes, one comes.
  DeleteHost("h1");
  AddHost("h4");
  StartController();
  // h4 takes the lowest range nobody holds: h1's, not h2's or h3's.
  EXPECT_EQ(WaitForCidr("h4"), before["h1"]);
  std::this_thread::sleep_for(milliseconds(100));
  EXPECT_EQ(PodCidr("h2"), before["h2"]);
  EXPECT_EQ(PodCidr("h3"), before["h3"]);
  AddHost("h5");
  EXPECT_EQ(WaitForCidr("h5"), "10.244.3.0/24");
}

TEST_F(HostRangeTest, ACollidingOrForeignRangeIsMovedWithAWarning) {
  // Written while no controller ran: h1 and h2 claim one range (the older,
  // then the lesser name, keeps it), h3 one outside the cluster range.
  AddHost("h1");
  AddHost("h2");
  AddHost("h3");
  SetPodCidr("h1", "10.244.5.0/24");
  SetPodCidr("h2", "10.244.5.0/24");
  SetPodCidr("h3", "192.168.7.0/24");
  StartController();
  ASSERT_TRUE(Eventually(
      [&] { return PodCidr("h2") != "10.244.5.0/24" && PodCidr("h3") != "192.168.7.0/24"; }));
  EXPECT_EQ(PodCidr("h1"), "10.244.5.0/24");
  std::set<std::string> ranges = {PodCidr("h1"), PodCidr("h2"), PodCidr("h3")};
  EXPECT_EQ(ranges.size(), 3u);
  EXPECT_EQ(ranges, (std::set<std::string>{"10.244.0.0/24", "10.244.1.0/24", "10.244.5.0/24"}));
  ASSERT_TRUE(Eventually([&] { return !Events("h2", "PodCIDRReassigned").empty(); }));
  EXPECT_NE(Events("h2", "PodCIDRReassigned")[0].find("Host h1's"), std::string::npos)
      << Events("h2", "PodCIDRReassigned")[0];
  ASSERT_TRUE(Eventually([&] { return !Events("h3", "PodCIDRReassigned").empty(); }));
  EXPECT_NE(Events("h3", "PodCIDRReassigned")[0].find("not a /24 of the cluster range"),
            std::string::npos);
  EXPECT_TRUE(Events("h1", "PodCIDRReassigned").empty());

  // With the controller running, a foreign write of a held range is undone.
  SetPodCidr("h3", "10.244.5.0/24");
  ASSERT_TRUE(Eventually([&] { return PodCidr("h3") != "10.244.5.0/24"; }));
  EXPECT_EQ(PodCidr("h1"), "10.244.5.0/24");
}

TEST_F(HostRangeTest, SettingsAreChecked) {
  NetworkSettings s;
  s.service_cidr = "10.244.128.0/20";
  auto overlap = ParseNetworkSettings(s);
  ASSERT_FALSE(overlap.ok());
  EXPECT_NE(overlap.error().message().find("overlap"), std::string::npos);
  s = {};
  s.cluster_cidr = "10.244.1.0/16";
  auto unaligned = ParseNetworkSettings(s);
  ASSERT_FALSE(unaligned.ok());
  EXPECT_NE(unaligned.error().message().find("did you mean 10.244.0.0/16"), std::string::npos);
  s = {};
  s.host_cidr_prefix = 12;
  EXPECT_FALSE(ParseNetworkSettings(s).ok());
  s = {};
  s.cluster_cidr = "nonsense";
  EXPECT_FALSE(ParseNetworkSettings(s).ok());
  auto ok = ParseNetworkSettings({});
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->cluster.ToString(), "10.244.0.0/16");
  EXPECT_EQ(ok->host_prefix, 24);
  EXPECT_EQ(ok->service.ToString(), "10.96.0.0/16");
}

}  // namespace
}  // namespace lintel::controllers::network
