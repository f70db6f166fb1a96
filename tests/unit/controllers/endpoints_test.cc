// The endpoints controller against a real API stack (Resources on SQLite,
// in-process client), plus table tests of the pure parts (endpoints.h):
// Pods and VMs matched by labels, readiness, label changes, named target
// ports, selectors matching nothing, deletions.
#include <thread>

#include "controllers/network/endpoints_controller.h"
#include "server/local_client.h"
#include "server_fixture.h"

namespace lintel::controllers::network {
namespace {

using std::chrono::milliseconds;

const client::Resource kPods{"lintel.dev", "v1alpha1", "pods", true};
const client::Resource kVms{"lintel.dev", "v1alpha1", "virtualmachines", true};
const client::Resource kServices{"lintel.dev", "v1alpha1", "services", true};

// ---- pure parts ---------------------------------------------------------------

WorkloadFacts Pod(const std::string& name, Json labels, const std::string& ip, bool ready,
                  std::vector<NamedPort> ports = {}) {
  WorkloadFacts w;
  w.kind = "Pod";
  w.ns = "default";
  w.name = name;
  w.labels = std::move(labels);
  w.ip = ip;
  w.host = "h1";
  w.ready = ready;
  w.serving = !ip.empty();
  w.ports = std::move(ports);
  return w;
}

ServiceFacts ServiceWith(Json selector, Json ports) {
  return FactsOfService({{"metadata", {{"name", "s"}, {"namespace", "default"}}},
                         {"spec", {{"selector", selector}, {"ports", ports}}}});
}

TEST(EndpointsOf, ResolvesTargetPortsPerEndpoint) {
  ServiceFacts svc =
      ServiceWith({{"app", "web"}},
                  {{{"name", "http"}, {"port", 80}, {"targetPort", "web"}},
                   {{"name", "dns"}, {"port", 53}, {"protocol", "UDP"}, {"targetPort", "dns"}},
                   {{"name", "plain"}, {"port", 81}},
                   {{"name", "num"}, {"port", 82}, {"targetPort", 9090}}});
  std::vector<WorkloadFacts> ws = {
      Pod("b", {{"app", "web"}}, "10.244.0.3", true,
          {{"web", 8080, "TCP"}, {"dns", 5353, "TCP"}}),  // dns/TCP: not the UDP port
      Pod("a", {{"app", "web"}}, "10.244.0.2", false, {{"dns", 5353, "UDP"}}),
      Pod("c", {{"app", "db"}}, "10.244.0.4", true),
      Pod("d", {{"app", "web"}}, "", true),
  };
  WorkloadFacts vm = Pod("vm", {{"app", "web"}}, "10.244.1.2", true, {{"web", 8081, ""}});
  vm.kind = "VirtualMachine";
  ws.push_back(vm);
  Json eps = EndpointsOf(svc, ws);
  ASSERT_EQ(eps.size(), 3u) << eps.dump();
  EXPECT_EQ(eps[0]["name"], "a");
  EXPECT_EQ(eps[1]["name"], "b");
  EXPECT_EQ(eps[2]["kind"], "VirtualMachine");
  EXPECT_EQ(eps[0]["ports"], Json::parse(R"([{"name":"dns","port":5353,"protocol":"UDP"},
                            {"name":"plain","port":81,"protocol":"TCP"},
                            {"name":"num","port":9090,"protocol":"TCP"}])"));
  EXPECT_EQ(eps[1]["ports"], Json::parse(R"([{"name":"http","port":8080,"protocol":"TCP"},
                            {"name":"plain","port":81,"protocol":"TCP"},
                            {"name":"num","port":9090,"protocol":"TCP"}])"));
  EXPECT_EQ(eps[2]["ports"][0], Json::parse(R"({"name":"http","port":8081,"protocol":"TCP"})"));
  EXPECT_EQ(eps[1]["ip"], "10.244.0.3");
  EXPECT_EQ(eps[1]["host"], "h1");
  EXPECT_EQ(eps[1]["ready"], true);
}

TEST(EndpointsOf, NoSelectorSelectsNothing) {
  std::vector<WorkloadFacts> ws = {Pod("a", {{"app", "web"}}, "10.244.0.2", true)};
  EXPECT_TRUE(EndpointsOf(ServiceWith(Json::object(), Json::array()), ws).empty());
  EXPECT_TRUE(EndpointsOf(ServiceWith(nullptr, Json::array()), ws).empty());
}

TEST(EndpointsStatus, ConditionAndCounts) {
  ServiceFacts svc = ServiceWith({{"app", "web"}}, Json::array());
  Json none = EndpointsStatus(svc, Json::array(), Json::object(), "t0");
  EXPECT_EQ(none["readyEndpoints"], 0);
  EXPECT_EQ(none["conditions"][0]["reason"], "NoEndpoints");
  EXPECT_EQ(none["conditions"][0]["status"], "False");
  Json eps = Json::parse(R"([{"kind":"Pod","name":"a","ready":false}])");
  Json unready = EndpointsStatus(svc, eps, none, "t1");
  EXPECT_EQ(unready["conditions"][0]["reason"], "NoReadyEndpoints");
  EXPECT_EQ(unready["conditions"][0]["lastTransitionTime"], "t0");  // still False
  EXPECT_TRUE(StatusDiffers(unready, none));
  eps[0]["ready"] = true;
  Json ready = EndpointsStatus(svc, eps, unready, "t2");
  EXPECT_EQ(ready["readyEndpoints"], 1);
  EXPECT_EQ(ready["conditions"][0]["status"], "True");
  EXPECT_EQ(ready["conditions"][0]["reason"], "EndpointsReady");
  EXPECT_EQ(ready["conditions"][0]["lastTransitionTime"], "t2");
  EXPECT_FALSE(StatusDiffers(EndpointsStatus(svc, eps, ready, "t3"), ready));
  // Other conditions are kept.
  Json other = ready;
  other["conditions"].push_back({{"type", "Other"}, {"status", "True"}});
  Json kept = EndpointsStatus(svc, eps, other, "t4");
  ASSERT_EQ(kept["conditions"].size(), 2u);
  EXPECT_EQ(kept["conditions"][1]["type"], "Other");
}

// ---- the controller -----------------------------------------------------------

class EndpointsTest : public server::testing::ServerFixture {
 protected:
  void SetUp() override {
    ServerFixture::SetUp();
    client_ = std::make_shared<server::LocalClient>(resources_.get());
    controller_ = std::make_unique<EndpointsController>(client_);
    ASSERT_TRUE(controller_->Start().ok());
  }
  void TearDown() override {
    if (controller_) controller_->Stop();
    controller_.reset();
    ServerFixture::TearDown();
  }

  void AddPod(const std::string& name, Json labels, Json ports = Json::array()) {
    Json container = {{"name", "main"}, {"image", "busybox"}};
    if (!ports.empty()) container["ports"] = ports;
    MustCreate({{"apiVersion", "lintel.dev/v1alpha1"},
                {"kind", "Pod"},
                {"metadata", {{"name", name}, {"labels", labels}}},
                {"spec", {{"containers", {container}}}}},
               "default", "pods");
  }
  void AddVm(const std::string& name, Json labels, Json annotations = Json::object()) {
    Json vm = Vm(name, labels);
    if (!annotations.empty()) vm["metadata"]["annotations"] = annotations;
    MustCreate(vm);
  }
  // What the agent reports: an address, the host, Ready.
  void SetStatus(const client::Resource& r, const std::string& name, const std::string& ip,
                 bool ready) {
    Json status = {{"host", "h1"},
                   {"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "False"}}}}};
    status[r.resource == "pods" ? "podIP" : "ip"] = ip;
    auto p = client_->Patch(r, "default", name, client::PatchType::kMerge, {{"status", status}}, {},
                            "status");
    ASSERT_TRUE(p.ok()) << p.error().ToString();
  }
  void SetLabels(const client::Resource& r, const std::string& name, Json labels) {
    auto p = client_->Patch(r, "default", name, client::PatchType::kMerge,
                            {{"metadata", {{"labels", labels}}}}, {}, "");
    ASSERT_TRUE(p.ok()) << p.error().ToString();
  }
  void AddService(const std::string& name, Json selector, Json ports) {
    Json svc = {{"apiVersion", "lintel.dev/v1alpha1"},
                {"kind", "Service"},
                {"metadata", {{"name", name}}},
                {"spec", {{"ports", ports}}}};
    if (!selector.is_null()) svc["spec"]["selector"] = selector;
    MustCreate(svc, "default", "services");
  }

  Json Svc(const std::string& name) {
    auto r = client_->Get(kServices, "default", name);
    return r.ok() ? *r : Json();
  }
  // "Kind/name" of the endpoints, in order.
  std::vector<std::string> Names(const std::string& svc) {
    std::vector<std::string> out;
    const Json obj = Svc(svc);
    const Json& eps = api::At(obj, "/status/endpoints");
    if (eps.is_array()) {
      for (const auto& e : eps) {
        out.push_back(e.value("kind", "") + "/" + e.value("name", ""));
      }
    }
    return out;
  }
  int64_t Ready(const std::string& svc) {
    const Json obj = Svc(svc);
    const Json& n = api::At(obj, "/status/readyEndpoints");
    return n.is_number() ? n.get<int64_t>() : -1;
  }
  std::string Reason(const std::string& svc) {
    const Json obj = Svc(svc);
    const Json& conds = api::At(obj, "/status/conditions");
    if (conds.is_array()) {
      for (const auto& c : conds) {
        if (c.value("type", "") == "EndpointsReady") return c.value("reason", "");
      }
    }
    return "";
  }
  bool Eventually(const std::function<bool()>& cond, milliseconds timeout = milliseconds(10000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (cond()) return true;
      std::this_thread::sleep_for(milliseconds(2));
    }
    return cond();
  }
  using Names_t = std::vector<std::string>;

  std::shared_ptr<client::Client> client_;
  std::unique_ptr<EndpointsController> controller_;
};

TEST_F(EndpointsTest, PodsAndVmsMatchedByLabelsWithReadiness) {
  AddPod("web-1", {{"app", "web"}});
  AddPod("web-2", {{"app", "web"}});
  AddPod("web-3", {{"app", "web"}});  // no address yet
  AddPod("db-1", {{"app", "db"}});
  AddVm("vm-1", {{"app", "web"}});
  SetStatus(kPods, "web-1", "10.244.0.5", true);
  SetStatus(kPods, "web-2", "10.244.0.6", false);
  SetStatus(kPods, "db-1", "10.244.0.7", true);
  SetStatus(kVms, "vm-1", "10.244.1.9", true);
  AddService("web", {{"app", "web"}}, {{{"port", 80}, {"targetPort", 8080}}});
  const Names_t want = {"Pod/web-1", "Pod/web-2", "VirtualMachine/vm-1"};
  ASSERT_TRUE(Eventually([&] { return Names("web") == want; })) << Svc("web").dump();
  EXPECT_EQ(Ready("web"), 2);
  EXPECT_EQ(Reason("web"), "EndpointsReady");
  const Json web = Svc("web");
  const Json& eps = api::At(web, "/status/endpoints");
  EXPECT_EQ(eps[0], Json::parse(R"({"kind":"Pod","name":"web-1","ip":"10.244.0.5","host":"h1",
      "ready":true,"ports":[{"name":"","port":8080,"protocol":"TCP"}]})"));
  EXPECT_EQ(eps[1]["ready"], false);
  EXPECT_EQ(eps[2]["ip"], "10.244.1.9");

  // Readiness changes reach the Service quickly.
  auto start = std::chrono::steady_clock::now();
  SetStatus(kPods, "web-2", "10.244.0.6", true);
  ASSERT_TRUE(Eventually([&] { return Ready("web") == 3; }));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, milliseconds(1000));
  std::printf("readiness reached the Service after %lld ms\n",
              static_cast<long long>(std::chrono::duration_cast<milliseconds>(took).count()));
  SetStatus(kVms, "vm-1", "10.244.1.9", false);
  ASSERT_TRUE(Eventually([&] { return Ready("web") == 2; }));
  SetStatus(kPods, "web-1", "10.244.0.5", false);
  SetStatus(kPods, "web-2", "10.244.0.6", false);
  ASSERT_TRUE(Eventually([&] { return Ready("web") == 0; }));
  EXPECT_EQ(Reason("web"), "NoReadyEndpoints");
  // An address arrives.
  SetStatus(kPods, "web-3", "10.244.0.8", true);
  const Names_t four = {"Pod/web-1", "Pod/web-2", "Pod/web-3", "VirtualMachine/vm-1"};
  ASSERT_TRUE(Eventually([&] { return Names("web") == four; }));
  EXPECT_EQ(Ready("web"), 1);
  // `lintel get svc`: ENDPOINTS is ready/all.
  const Json svc = Svc("web");
  for (const auto& col : Kind("services").columns) {
    if (col.name == "Endpoints") {
      EXPECT_EQ(col.cell(svc, {}), "1/4");
    }
  }
}

TEST_F(EndpointsTest, EndpointsOnAHostThatIsNotReadyAreNotReady) {
  const client::Resource hosts{"lintel.dev", "v1alpha1", "hosts", false};
  MustCreate(
      {{"apiVersion", "lintel.dev/v1alpha1"}, {"kind", "Host"}, {"metadata", {{"name", "h1"}}}}, "",
      "hosts");
  auto host_ready = [&](bool ready) {
    Json st = {{"conditions", {{{"type", "Ready"}, {"status", ready ? "True" : "Unknown"}}}}};
    auto p =
        client_->Patch(hosts, "", "h1", client::PatchType::kMerge, {{"status", st}}, {}, "status");
    ASSERT_TRUE(p.ok()) << p.error().ToString();
  };
  host_ready(true);
  AddPod("web-1", {{"app", "web"}});
  SetStatus(kPods, "web-1", "10.244.0.5", true);
  AddService("web", {{"app", "web"}}, {{{"port", 80}}});
  ASSERT_TRUE(Eventually([&] { return Ready("web") == 1; })) << Svc("web").dump();
  // The host's agent stops heartbeating: its Pod still says Ready, but
  // nothing there can be trusted to serve.
  host_ready(false);
  ASSERT_TRUE(Eventually([&] { return Ready("web") == 0; })) << Svc("web").dump();
  EXPECT_EQ(Names("web"), (Names_t{"Pod/web-1"}));  // listed, not ready
  host_ready(true);
  ASSERT_TRUE(Eventually([&] { return Ready("web") == 1; }));
}

TEST_F(EndpointsTest, ALabelChangeMovesAnEndpoint) {
  AddPod("a", {{"app", "web"}});
  AddVm("v", {{"app", "web"}});
  SetStatus(kPods, "a", "10.244.0.5", true);
  SetStatus(kVms, "v", "10.244.0.6", true);
  AddService("web", {{"app", "web"}}, {{{"port", 80}}});
  AddService("api", {{"app", "api"}}, {{{"port", 80}}});
  ASSERT_TRUE(Eventually([&] { return Names("web").size() == 2; }));
  SetLabels(kPods, "a", {{"app", "api"}});
  ASSERT_TRUE(Eventually([&] { return Names("web") == Names_t{"VirtualMachine/v"}; }));
  ASSERT_TRUE(Eventually([&] { return Names("api") == Names_t{"Pod/a"}; }));
  SetLabels(kVms, "v", {{"app", "none"}});
  ASSERT_TRUE(Eventually([&] { return Names("web").empty() && Reason("web") == "NoEndpoints"; }));
}

TEST_F(EndpointsTest, NamedTargetPorts) {
  AddPod("p", {{"app", "web"}}, {{{"name", "web"}, {"containerPort", 8080}}});
  AddPod("q", {{"app", "web"}});  // names no ports
  AddVm("v", {{"app", "web"}}, {{"lintel.dev/port.web", "8081"}});
  SetStatus(kPods, "p", "10.244.0.5", true);
  SetStatus(kPods, "q", "10.244.0.6", true);
  SetStatus(kVms, "v", "10.244.0.7", true);
  AddService("web", {{"app", "web"}},
             {{{"name", "http"}, {"port", 80}, {"targetPort", "web"}},
              {{"name", "admin"}, {"port", 9000}}});
  ASSERT_TRUE(Eventually([&] { return Names("web").size() == 3; }));
  const Json web = Svc("web");
  const Json& eps = api::At(web, "/status/endpoints");
  EXPECT_EQ(eps[0]["ports"], Json::parse(R"([{"name":"http","port":8080,"protocol":"TCP"},
                                              {"name":"admin","port":9000,"protocol":"TCP"}])"));
  EXPECT_EQ(eps[1]["ports"], Json::parse(R"([{"name":"admin","port":9000,"protocol":"TCP"}])"));
  EXPECT_EQ(eps[2]["ports"], Json::parse(R"([{"name":"http","port":8081,"protocol":"TCP"},
                                              {"name":"admin","port":9000,"protocol":"TCP"}])"));
}

TEST_F(EndpointsTest, SelectorsMatchingNothing) {
  AddPod("a", {{"app", "web"}});
  SetStatus(kPods, "a", "10.244.0.5", true);
  AddService("nobody", {{"app", "nobody"}}, {{{"port", 80}}});
  AddService("noselector", nullptr, {{{"port", 80}}});
  for (const char* s : {"nobody", "noselector"}) {
    ASSERT_TRUE(Eventually([&] { return Reason(s) == "NoEndpoints"; })) << s;
    EXPECT_TRUE(api::At(Json(Svc(s)), "/status/endpoints").is_array());
    EXPECT_TRUE(Names(s).empty());
    EXPECT_EQ(Ready(s), 0);
  }
}

TEST_F(EndpointsTest, DeletedWorkloadsLeave) {
  AddPod("a", {{"app", "web"}});
  AddVm("v", {{"app", "web"}});
  SetStatus(kPods, "a", "10.244.0.5", true);
  SetStatus(kVms, "v", "10.244.0.6", true);
  AddService("web", {{"app", "web"}}, {{{"port", 80}}});
  ASSERT_TRUE(Eventually([&] { return Names("web").size() == 2; }));
  ASSERT_TRUE(client_->Delete(kPods, "default", "a", {}).ok());
  ASSERT_TRUE(Eventually([&] { return Names("web") == Names_t{"VirtualMachine/v"}; }));
  ASSERT_TRUE(client_->Delete(kVms, "default", "v", {}).ok());
  ASSERT_TRUE(Eventually([&] { return Names("web").empty(); }));
  EXPECT_EQ(Reason("web"), "NoEndpoints");
}

TEST_F(EndpointsTest, WritesOnlyWhenChanged) {
  AddPod("a", {{"app", "web"}});
  SetStatus(kPods, "a", "10.244.0.5", true);
  AddService("web", {{"app", "web"}}, {{{"port", 80}}});
  ASSERT_TRUE(Eventually([&] { return Ready("web") == 1; }));
  const std::string rv = api::At(Svc("web"), "/metadata/resourceVersion").get<std::string>();
  // A change endpoints do not read (another label) writes nothing.
  SetLabels(kPods, "a", {{"app", "web"}, {"tier", "front"}});
  std::this_thread::sleep_for(milliseconds(200));
  EXPECT_EQ(api::At(Svc("web"), "/metadata/resourceVersion").get<std::string>(), rv);
}

}  // namespace
}  // namespace lintel::controllers::network
