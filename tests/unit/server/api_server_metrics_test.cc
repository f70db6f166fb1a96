// /metrics of a whole `lintel server` (ApiServer on loopback with TLS): the
// scheduler's counters and queues are sampled at each scrape.
#include <gtest/gtest.h>

#include <thread>

#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "server/api_server.h"
#include "support/temp_dir.h"

namespace lintel::server {
namespace {

TEST(ApiServerMetricsTest, SchedulerQueuesAndOutcomesAreExported) {
  lintel::testing::TempDir dir;
  ServerConfig c;
  c.data_dir = dir.File("data");
  c.listen = "127.0.0.1:0";
  c.store_sync_full = false;
  c.write_user_kubeconfig = false;
  c.worker_threads = 4;
  auto s = ApiServer::Start(std::move(c));
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  auto kc = client::LoadKubeconfig((*s)->kubeconfig_path());
  ASSERT_TRUE(kc.ok());
  auto rest = client::RestClient::FromKubeconfig(*kc);
  ASSERT_TRUE(rest.ok());
  // No hosts: the Pod is decided unschedulable and parked.
  Json pod = {{"apiVersion", "lintel.dev/v1alpha1"},
              {"kind", "Pod"},
              {"metadata", {{"name", "p"}}},
              {"spec", {{"containers", {{{"name", "m"}, {"image", "busybox"}}}}}}};
  ASSERT_TRUE((*rest)->Create({"lintel.dev", "v1alpha1", "pods", true}, "default", pod).ok());
  std::string text;
  for (int i = 0; i < 500; ++i) {
    auto r = (*rest)->http().Do("GET", "/metrics");
    ASSERT_TRUE(r.ok()) << r.error().ToString();
    ASSERT_EQ(r->status, 200);
    text = r->body;
    if (text.find("lintel_scheduler_queue{queue=\"parked\"} 1") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_NE(text.find("lintel_scheduler_queue{queue=\"parked\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("lintel_scheduler_decisions{result=\"unschedulable\"} 1"),
            std::string::npos);
  EXPECT_NE(text.find("lintel_scheduler_decisions{result=\"bound\"} 0"), std::string::npos);
  (*s)->Stop();
}

}  // namespace
}  // namespace lintel::server
