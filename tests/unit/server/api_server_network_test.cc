// The estate network's server side in a whole `lintel server` (ApiServer on
// loopback with TLS, over HTTP): its settings checked at start, a Host's
// ranges, a Service's virtual IP (and a refusal's cause over HTTP), and its
// endpoints.
#include <gtest/gtest.h>

#include <thread>

#include "api/kind.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "server/api_server.h"
#include "support/temp_dir.h"

namespace lintel::server {
namespace {

const client::Resource kHosts{"lintel.dev", "v1alpha1", "hosts", false};
const client::Resource kPods{"lintel.dev", "v1alpha1", "pods", true};
const client::Resource kServices{"lintel.dev", "v1alpha1", "services", true};

ServerConfig Config(const lintel::testing::TempDir& dir) {
  ServerConfig c;
  c.data_dir = dir.File("data");
  c.listen = "127.0.0.1:0";
  c.store_sync_full = false;
  c.write_user_kubeconfig = false;
  c.worker_threads = 4;
  return c;
}

std::string Str(const Json& obj, const char* pointer) {
  const Json& v = api::At(obj, pointer);
  return v.is_string() ? v.get<std::string>() : "";
}

template <typename F>
bool Eventually(F&& f) {
  for (int i = 0; i < 1000; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return f();
}

TEST(ApiServerNetworkTest, OverlappingRangesStopTheStart) {
  lintel::testing::TempDir dir;
  ServerConfig c = Config(dir);
  c.network.service_cidr = "10.244.16.0/20";
  auto s = ApiServer::Start(std::move(c));
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.error().message().find("network settings"), std::string::npos);
  EXPECT_NE(s.error().message().find("overlap"), std::string::npos) << s.error().message();
}

TEST(ApiServerNetworkTest, HostRangesVirtualIpsAndEndpointsOverHttp) {
  lintel::testing::TempDir dir;
  ServerConfig c = Config(dir);
  c.network.cluster_cidr = "10.50.0.0/16";
  c.network.host_cidr_prefix = 25;
  c.network.service_cidr = "10.60.0.0/24";
  // The test plays the agent's part for the Pod; the scheduler would write
  // its conditions too (Unschedulable: the Host is not Ready).
  c.run_scheduler = false;
  auto s = ApiServer::Start(std::move(c));
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  auto kc = client::LoadKubeconfig((*s)->kubeconfig_path());
  ASSERT_TRUE(kc.ok());
  auto rest = client::RestClient::FromKubeconfig(*kc);
  ASSERT_TRUE(rest.ok());
  client::Client& api = **rest;

  // A Host gets its range and the estate's.
  ASSERT_TRUE(api.Create(kHosts, "",
                         {{"apiVersion", "lintel.dev/v1alpha1"},
                          {"kind", "Host"},
                          {"metadata", {{"name", "h1"}}}})
                  .ok());
  Json host;
  ASSERT_TRUE(Eventually([&] {
    auto h = api.Get(kHosts, "", "h1");
    if (h.ok()) host = *h;
    return h.ok() && !Str(host, "/status/podCIDR").empty();
  }));
  EXPECT_EQ(Str(host, "/status/podCIDR"), "10.50.0.0/25");
  EXPECT_EQ(Str(host, "/status/clusterCIDR"), "10.50.0.0/16");
  EXPECT_EQ(Str(host, "/status/serviceCIDR"), "10.60.0.0/24");

  // A Service gets a virtual IP at create; a taken one is refused at spec.clusterIP.
  Json svc = {{"apiVersion", "lintel.dev/v1alpha1"},
              {"kind", "Service"},
              {"metadata", {{"name", "web"}}},
              {"spec",
               {{"selector", {{"app", "web"}}},
                {"ports", {{{"name", "http"}, {"port", 80}, {"targetPort", "http"}}}}}}};
  auto created = api.Create(kServices, "default", svc);
  ASSERT_TRUE(created.ok()) << created.error().ToString();
  const std::string ip = Str(*created, "/spec/clusterIP");
  ASSERT_TRUE(Cidr::Parse("10.60.0.0/24")->Contains(*Ipv4::Parse(ip))) << ip;
  Json taken = svc;
  taken["metadata"]["name"] = "other";
  taken["spec"]["clusterIP"] = ip;
  auto refused = api.Create(kServices, "default", taken);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().code(), Code::kInvalid);
  ASSERT_EQ(refused.error().causes().size(), 1u) << refused.error().ToString();
  EXPECT_EQ(refused.error().causes()[0].field, "spec.clusterIP");
  EXPECT_NE(refused.error().message().find("provided IP is already allocated"), std::string::npos);

  // A ready Pod with the named port becomes its endpoint.
  Json pod = {{"apiVersion", "lintel.dev/v1alpha1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "web-1"}, {"labels", {{"app", "web"}}}}},
              {"spec",
               {{"containers",
                 {{{"name", "m"},
                   {"image", "busybox"},
                   {"ports", {{{"name", "http"}, {"containerPort", 8080}}}}}}}}}};
  ASSERT_TRUE(api.Create(kPods, "default", pod).ok());
  Json status = {{"status",
                  {{"podIP", "10.50.0.2"},
                   {"host", "h1"},
                   {"conditions", {{{"type", "Ready"}, {"status", "True"}}}}}}};
  ASSERT_TRUE(
      api.Patch(kPods, "default", "web-1", client::PatchType::kMerge, status, {}, "status").ok());
  Json got;
  ASSERT_TRUE(Eventually([&] {
    auto r = api.Get(kServices, "default", "web");
    if (r.ok()) got = *r;
    return r.ok() && api::At(got, "/status/readyEndpoints") == 1;
  })) << got.dump();
  EXPECT_EQ(api::At(got, "/status/endpoints"),
            Json::parse(R"([{"kind":"Pod","name":"web-1","ip":"10.50.0.2","host":"h1",
                "ready":true,"ports":[{"name":"http","port":8080,"protocol":"TCP"}]}])"));
  (*s)->Stop();
}

}  // namespace
}  // namespace lintel::server
