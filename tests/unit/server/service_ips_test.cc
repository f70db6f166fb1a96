// Service virtual IPs (ServiceIpAllocator through Resources): allocation at
// create, given addresses, refusals at spec.clusterIP, freeing on delete, dry
// runs and failed creates keeping nothing, updates keeping the address, a
// restart seeing the addresses held, and concurrent creates.
#include "server/service_ips.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "server_fixture.h"

namespace lintel::server {
namespace {

class ServiceIpsTest : public testing::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    Install("10.96.0.0/16");
  }

  void Install(const std::string& range) {
    auto cidr = Cidr::Parse(range);
    ASSERT_TRUE(cidr.ok());
    auto allocator = std::make_unique<ServiceIpAllocator>(*cidr, cache_.get(), &Kind("services"));
    allocator_ = allocator.get();
    resources_->SetAllocator(Kind("services"), std::move(allocator));
  }

  static Json Svc(const std::string& name, const std::string& ip = "") {
    Json s = {{"apiVersion", "lintel.dev/v1alpha1"},
              {"kind", "Service"},
              {"metadata", {{"name", name}}},
              {"spec", {{"selector", {{"app", name}}}, {"ports", {{{"port", 80}}}}}}};
    if (!ip.empty()) s["spec"]["clusterIP"] = ip;
    return s;
  }

  Result<Json> Create(const Json& svc, bool dry_run = false, const std::string& ns = "default") {
    WriteOptions o = Opts();
    o.dry_run = dry_run;
    auto r = resources_->Create(Kind("services"), ns, svc, o);
    if (!r.ok()) return r.error();
    return *ParseJson(r->json);
  }

  static std::string IpOf(const Json& svc) {
    const Json& ip = api::At(svc, "/spec/clusterIP");
    return ip.is_string() ? ip.get<std::string>() : "";
  }

  // The refusal's single cause must be at spec.clusterIP and say `what`.
  static void ExpectRefused(const Result<Json>& r, const std::string& what) {
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code(), Code::kInvalid) << r.error().ToString();
    ASSERT_EQ(r.error().causes().size(), 1u) << r.error().ToString();
    EXPECT_EQ(r.error().causes()[0].field, "spec.clusterIP");
    EXPECT_NE(r.error().causes()[0].message.find(what), std::string::npos)
        << r.error().causes()[0].message;
    EXPECT_NE(r.error().message().find("spec.clusterIP"), std::string::npos) << r.error().message();
  }

  ServiceIpAllocator* allocator_ = nullptr;
};

TEST_F(ServiceIpsTest, AllocatesAFreeAddressAtCreate) {
  auto a = Create(Svc("a"));
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  auto ip = Ipv4::Parse(IpOf(*a));
  ASSERT_TRUE(ip.ok()) << a->dump();
  auto range = *Cidr::Parse("10.96.0.0/16");
  EXPECT_TRUE(range.Contains(*ip));
  EXPECT_NE(*ip, range.Network());
  EXPECT_NE(*ip, range.Broadcast());
  // `lintel get svc` shows it.
  for (const auto& col : Kind("services").columns) {
    if (col.name == "Cluster-IP") {
      EXPECT_EQ(col.cell(*a, {}), IpOf(*a));
    }
  }
  // Stored as returned; a second Service gets another one.
  EXPECT_EQ(IpOf(MustGet("a", "default", "services")), IpOf(*a));
  auto b = Create(Svc("b"));
  ASSERT_TRUE(b.ok());
  EXPECT_NE(IpOf(*b), IpOf(*a));
  EXPECT_TRUE(range.Contains(*Ipv4::Parse(IpOf(*b))));
}

TEST_F(ServiceIpsTest, KeepsAGivenFreeAddress) {
  auto a = Create(Svc("a", "10.96.5.5"));
  ASSERT_TRUE(a.ok()) << a.error().ToString();
  EXPECT_EQ(IpOf(*a), "10.96.5.5");
  EXPECT_EQ(IpOf(MustGet("a", "default", "services")), "10.96.5.5");
}

TEST_F(ServiceIpsTest, RefusesAnAddressAnotherServiceHolds) {
  ASSERT_TRUE(Create(Svc("a", "10.96.5.5")).ok());
  ExpectRefused(Create(Svc("b", "10.96.5.5")), "provided IP is already allocated");
  // Also in another namespace, and while the first create is only reserved.
  ExpectRefused(Create(Svc("b", "10.96.5.5"), false, "other"), "already allocated");
  // An allocated one is skipped by allocation.
  for (int i = 0; i < 5; ++i) {
    auto s = Create(Svc("auto-" + std::to_string(i)));
    ASSERT_TRUE(s.ok());
    EXPECT_NE(IpOf(*s), "10.96.5.5");
  }
}

TEST_F(ServiceIpsTest, RefusesAddressesOutsideTheRange) {
  ExpectRefused(Create(Svc("a", "10.0.0.1")), "not in the Service range 10.96.0.0/16");
  ExpectRefused(Create(Svc("a", "10.96.0.0")), "network or broadcast");
  ExpectRefused(Create(Svc("a", "10.96.255.255")), "network or broadcast");
  ExpectRefused(Create(Svc("a", "not-an-ip")), "must be a valid IPv4 address");
  EXPECT_EQ(allocator_->reserved(), 0u);
}

TEST_F(ServiceIpsTest, DeletingAServiceFreesItsAddress) {
  ASSERT_TRUE(Create(Svc("a", "10.96.7.7")).ok());
  ExpectRefused(Create(Svc("b", "10.96.7.7")), "already allocated");
  ASSERT_TRUE(resources_->Delete(Kind("services"), "default", "a", {}).ok());
  // At once: the allocator catches up with the cache when an address looks taken.
  auto b = Create(Svc("b", "10.96.7.7"));
  ASSERT_TRUE(b.ok()) << b.error().ToString();
  EXPECT_EQ(IpOf(*b), "10.96.7.7");
}

TEST_F(ServiceIpsTest, DryRunKeepsNothing) {
  auto dry = Create(Svc("a", "10.96.8.8"), true);
  ASSERT_TRUE(dry.ok()) << dry.error().ToString();
  EXPECT_EQ(IpOf(*dry), "10.96.8.8");
  auto dry_auto = Create(Svc("b"), true);
  ASSERT_TRUE(dry_auto.ok());
  EXPECT_FALSE(IpOf(*dry_auto).empty());  // shows what it would get
  EXPECT_EQ(allocator_->reserved(), 0u);
  auto real = Create(Svc("c", "10.96.8.8"));
  ASSERT_TRUE(real.ok()) << real.error().ToString();
  auto again = Create(Svc("d", IpOf(*dry_auto)));
  EXPECT_TRUE(again.ok()) << again.error().ToString();
}

TEST_F(ServiceIpsTest, AFailedCreateKeepsNothing) {
  // Admission refuses (no such namespace) after allocation.
  auto r = Create(Svc("a", "10.96.9.9"), false, "missing");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(allocator_->reserved(), 0u);
  // The name is taken: the store refuses after allocation.
  ASSERT_TRUE(Create(Svc("b", "10.96.9.10")).ok());
  auto dup = Create(Svc("b", "10.96.9.11"));
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().code(), Code::kAlreadyExists);
  EXPECT_TRUE(Create(Svc("c", "10.96.9.9")).ok());
  EXPECT_TRUE(Create(Svc("d", "10.96.9.11")).ok());
}

TEST_F(ServiceIpsTest, UpdatesKeepTheAddress) {
  auto a = Create(Svc("a"));
  ASSERT_TRUE(a.ok());
  const std::string ip = IpOf(*a);
  // A PUT without clusterIP keeps it.
  Json put = *a;
  put["spec"].erase("clusterIP");
  put["spec"]["sessionAffinity"] = "ClientIP";
  auto u = resources_->Update(Kind("services"), "default", "a", put, Opts());
  ASSERT_TRUE(u.ok()) << u.error().ToString();
  EXPECT_EQ(IpOf(*ParseJson(u->json)), ip);
  // A merge patch setting it to "" keeps it too; changing it is refused.
  auto p = resources_->Patch(Kind("services"), "default", "a", PatchType::kMerge,
                             R"({"spec":{"clusterIP":""}})", Opts());
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  EXPECT_EQ(IpOf(*ParseJson(p->json)), ip);
  auto change = resources_->Patch(Kind("services"), "default", "a", PatchType::kMerge,
                                  R"({"spec":{"clusterIP":"10.96.100.100"}})", Opts());
  ASSERT_FALSE(change.ok());
  EXPECT_EQ(change.error().code(), Code::kInvalid);
  EXPECT_NE(change.error().message().find("immutable"), std::string::npos);
  // The create's reservation ends once the cache shows the Service.
  ASSERT_TRUE(cache_->Sync().ok());
  EXPECT_EQ(allocator_->reserved(), 0u);
}

TEST_F(ServiceIpsTest, AServiceStoredWithoutAnAddressGetsOneOnUpdate) {
  resources_->SetAllocator(Kind("services"), nullptr);  // as before virtual IPs
  auto legacy = Create(Svc("legacy"));
  ASSERT_TRUE(legacy.ok());
  ASSERT_EQ(IpOf(*legacy), "");
  ASSERT_TRUE(Create(Svc("taken", "10.96.1.1")).ok());
  ASSERT_TRUE(cache_->Sync().ok());  // the new allocator reads what is held from the cache
  Install("10.96.0.0/16");
  // Setting a taken one is refused like at create; leaving it out allocates.
  auto refused = resources_->Patch(Kind("services"), "default", "legacy", PatchType::kMerge,
                                   R"({"spec":{"clusterIP":"10.96.1.1"}})", Opts());
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().causes().at(0).field, "spec.clusterIP");
  auto u = resources_->Patch(Kind("services"), "default", "legacy", PatchType::kMerge,
                             R"({"spec":{"sessionAffinity":"ClientIP"}})", Opts());
  ASSERT_TRUE(u.ok()) << u.error().ToString();
  const std::string ip = IpOf(*ParseJson(u->json));
  EXPECT_TRUE(Cidr::Parse("10.96.0.0/16")->Contains(*Ipv4::Parse(ip))) << ip;
  EXPECT_NE(ip, "10.96.1.1");
  // A status write allocates nothing.
  resources_->SetAllocator(Kind("services"), nullptr);
  ASSERT_TRUE(Create(Svc("legacy2")).ok());
  ASSERT_TRUE(cache_->Sync().ok());
  Install("10.96.0.0/16");
  auto st = resources_->Patch(Kind("services"), "default", "legacy2", PatchType::kMerge,
                              R"({"status":{"readyEndpoints":0}})", Opts(), Subresource::kStatus);
  ASSERT_TRUE(st.ok()) << st.error().ToString();
  EXPECT_EQ(IpOf(*ParseJson(st->json)), "");
}

TEST_F(ServiceIpsTest, ARestartedAllocatorSeesTheAddressesHeld) {
  auto a = Create(Svc("a"));
  ASSERT_TRUE(a.ok());
  ASSERT_TRUE(Create(Svc("b", "10.96.3.3")).ok());
  // As after a restart: the cache loaded, only the Services say what is held.
  ASSERT_TRUE(cache_->Sync().ok());
  Install("10.96.0.0/16");
  ExpectRefused(Create(Svc("c", "10.96.3.3")), "already allocated");
  ExpectRefused(Create(Svc("c", IpOf(*a))), "already allocated");
  auto c = Create(Svc("c"));
  ASSERT_TRUE(c.ok());
  EXPECT_NE(IpOf(*c), IpOf(*a));
  EXPECT_NE(IpOf(*c), "10.96.3.3");
}

TEST_F(ServiceIpsTest, AFullRangeRefusesCreates) {
  Install("10.96.0.0/30");  // two addresses: .1 and .2
  ASSERT_TRUE(Create(Svc("a")).ok());
  ASSERT_TRUE(Create(Svc("b")).ok());
  auto c = Create(Svc("c"));
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message().find("10.96.0.0/30 is full"), std::string::npos)
      << c.error().ToString();
  std::set<std::string> ips = {IpOf(MustGet("a", "default", "services")),
                               IpOf(MustGet("b", "default", "services"))};
  EXPECT_EQ(ips, (std::set<std::string>{"10.96.0.1", "10.96.0.2"}));
  ASSERT_TRUE(resources_->Delete(Kind("services"), "default", "a", {}).ok());
  EXPECT_TRUE(Create(Svc("c")).ok());
}

TEST_F(ServiceIpsTest, ConcurrentCreatesGetDistinctAddresses) {
  constexpr int kServices = 50;
  std::mutex mu;
  std::vector<std::string> ips;
  std::vector<std::string> errors;
  std::vector<std::thread> threads;
  for (int i = 0; i < kServices; ++i) {
    threads.emplace_back([&, i] {
      auto r = Create(Svc("svc-" + std::to_string(i)));
      std::lock_guard<std::mutex> l(mu);
      if (r.ok()) {
        ips.push_back(IpOf(*r));
      } else {
        errors.push_back(r.error().ToString());
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(errors.empty()) << errors.front();
  ASSERT_EQ(ips.size(), static_cast<size_t>(kServices));
  EXPECT_EQ(std::set<std::string>(ips.begin(), ips.end()).size(), ips.size());
  // The stored Services agree.
  std::set<std::string> stored;
  for (int i = 0; i < kServices; ++i) {
    stored.insert(IpOf(MustGet("svc-" + std::to_string(i), "default", "services")));
  }
  EXPECT_EQ(stored.size(), static_cast<size_t>(kServices));
}

}  // namespace
}  // namespace lintel::server
