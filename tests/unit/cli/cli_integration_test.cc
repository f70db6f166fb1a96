// The client verbs end to end against an in-process API server on loopback
// (TLS and a bearer token, as `lintel server` serves): each test runs the
// command line as `lintel` would parse it and checks the output and, through
// the API, the result.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <thread>

#include "cli/commands.h"
#include "cli/last_applied.h"
#include "client/kubeconfig.h"
#include "client/rest_client.h"
#include "server/api_server.h"
#include "support/temp_dir.h"

namespace lintel::cli {
namespace {

struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

class CliIntegrationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new lintel::testing::TempDir();
    server::ServerConfig c;
    c.data_dir = dir_->File("data");
    c.listen = "127.0.0.1:0";
    c.store_sync_full = false;
    c.write_user_kubeconfig = false;
    c.io_threads = 1;
    c.worker_threads = 8;
    // The CLI prints what the server holds; a scheduler marking VMs
    // unschedulable (no hosts here) would change the tables under test.
    c.run_scheduler = false;
    auto s = server::ApiServer::Start(std::move(c));
    ASSERT_TRUE(s.ok()) << s.error().ToString();
    server_ = s->release();
    auto kc = client::LoadKubeconfig(server_->kubeconfig_path());
    ASSERT_TRUE(kc.ok()) << kc.error().ToString();
    auto rest = client::RestClient::FromKubeconfig(*kc);
    ASSERT_TRUE(rest.ok());
    api_ = rest->release();
  }

  static void TearDownTestSuite() {
    delete api_;
    if (server_) server_->Stop();
    delete server_;
    delete dir_;
  }

  // Runs `lintel --kubeconfig K ARGS...` with `input` as stdin.
  static RunResult Lintel(std::vector<std::string> args, const std::string& input = "") {
    CLI::App app{"lintel", "lintel"};
    app.require_subcommand(1);
    GlobalOptions g;
    std::istringstream in(input);
    std::ostringstream out, err;
    g.in = &in;
    g.out = &out;
    g.err = &err;
    app.add_option("--kubeconfig", g.kubeconfig);
    app.add_option("--context", g.context);
    app.add_option("-n,--namespace", g.ns);
    app.fallthrough();
    Runner run;
    AddClientCommands(app, g, &run);
    args.insert(args.begin(), {"--kubeconfig", server_->kubeconfig_path()});
    std::reverse(args.begin(), args.end());
    RunResult r;
    try {
      app.parse(args);
      r.code = run ? run() : -1;
    } catch (const CLI::ParseError& e) {
      r.code = app.exit(e, out, err);
    }
    r.out = out.str();
    r.err = err.str();
    return r;
  }

  static std::string WriteManifest(const std::string& name, const std::string& text) {
    std::string path = dir_->File(name);
    std::ofstream(path) << text;
    return path;
  }

  static std::string Vm(const std::string& name, int cpu, const std::string& extra = "") {
    return "apiVersion: lintel.dev/v1alpha1\nkind: VirtualMachine\nmetadata:\n  name: " + name +
           "\n" + extra + "spec:\n  image: tiny\n  cpu: " + std::to_string(cpu) + "\n";
  }

  static Result<Json> GetVm(const std::string& name, const std::string& ns = "default") {
    return api_->Get({"lintel.dev", "v1alpha1", "virtualmachines", true}, ns, name);
  }

  static lintel::testing::TempDir* dir_;
  static server::ApiServer* server_;
  static client::RestClient* api_;
};

lintel::testing::TempDir* CliIntegrationTest::dir_ = nullptr;
server::ApiServer* CliIntegrationTest::server_ = nullptr;
client::RestClient* CliIntegrationTest::api_ = nullptr;

TEST_F(CliIntegrationTest, ApplyCreatesChangesAndLeavesUnchanged) {
  std::string path = WriteManifest("apply-1.yaml", Vm("apply-1", 1, "  labels:\n    app: db\n"));
  RunResult r = Lintel({"apply", "-f", path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "virtualmachine.lintel.dev/apply-1 created\n");

  auto live = GetVm("apply-1");
  ASSERT_TRUE(live.ok());
  EXPECT_EQ((*live)["metadata"]["annotations"][kLastAppliedAnnotation],
            "{\"apiVersion\":\"lintel.dev/v1alpha1\",\"kind\":\"VirtualMachine\",\"metadata\":{"
            "\"annotations\":{},\"labels\":{\"app\":\"db\"},\"name\":\"apply-1\",\"namespace\":"
            "\"default\"},\"spec\":{\"cpu\":1,\"image\":\"tiny\"}}\n");

  r = Lintel({"apply", "-f", path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "virtualmachine.lintel.dev/apply-1 unchanged\n");

  // cpu changes and the label is dropped from the manifest: both reach the
  // object, and what the server defaulted (memory) stays.
  WriteManifest("apply-1.yaml", Vm("apply-1", 2));
  r = Lintel({"apply", "-f", path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "virtualmachine.lintel.dev/apply-1 configured\n");
  live = GetVm("apply-1");
  ASSERT_TRUE(live.ok());
  EXPECT_EQ((*live)["spec"]["cpu"], 2);
  EXPECT_FALSE((*live)["metadata"].contains("labels") &&
               (*live)["metadata"]["labels"].contains("app"));
  EXPECT_EQ((*live)["spec"]["memory"], "256Mi");
  EXPECT_EQ(Lintel({"apply", "-f", path}).out, "virtualmachine.lintel.dev/apply-1 unchanged\n");
}

TEST_F(CliIntegrationTest, ApplyFromStdinWithListsAndDryRun) {
  std::string input = "apiVersion: v1\nkind: List\nitems:\n- " +
                      std::string("apiVersion: lintel.dev/v1alpha1\n  kind: VirtualMachine\n  "
                                  "metadata: {name: stdin-1}\n  spec: {image: tiny}\n") +
                      "---\n" + Vm("stdin-2", 1);
  RunResult dry = Lintel({"apply", "-f", "-", "--dry-run=server"}, input);
  ASSERT_EQ(dry.code, 0) << dry.err;
  EXPECT_EQ(dry.out,
            "virtualmachine.lintel.dev/stdin-1 created (server dry run)\n"
            "virtualmachine.lintel.dev/stdin-2 created (server dry run)\n");
  EXPECT_EQ(GetVm("stdin-1").status().code(), Code::kNotFound);

  RunResult r = Lintel({"apply", "-f", "-"}, input);
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "virtualmachine.lintel.dev/stdin-1 created\n"
            "virtualmachine.lintel.dev/stdin-2 created\n");
}

TEST_F(CliIntegrationTest, ApplyGoesOnPastAFailingObject) {
  std::string input = Vm("bad-1", 0) + "---\n" + Vm("good-1", 1);
  RunResult r = Lintel({"apply", "-f", "-"}, input);
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out, "virtualmachine.lintel.dev/good-1 created\n");
  EXPECT_EQ(r.err.rfind("The VirtualMachine \"bad-1\" is invalid: spec.cpu", 0), 0u) << r.err;
}

TEST_F(CliIntegrationTest, ServerSideApply) {
  std::string path = WriteManifest("ssa-1.yaml", Vm("ssa-1", 3));
  RunResult r = Lintel({"apply", "--server-side", "-f", path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "virtualmachine.lintel.dev/ssa-1 serverside-applied\n");
  auto live = GetVm("ssa-1");
  ASSERT_TRUE(live.ok());
  EXPECT_EQ((*live)["spec"]["cpu"], 3);
  bool has_manager = false;
  for (const auto& mf : (*live)["metadata"]["managedFields"]) {
    has_manager = has_manager || (mf["manager"] == "lintel" && mf["operation"] == "Apply");
  }
  EXPECT_TRUE(has_manager) << (*live)["metadata"].dump();
}

TEST_F(CliIntegrationTest, CreateRefusesExistingObjects) {
  std::string path = WriteManifest("create-1.yaml", Vm("create-1", 1));
  RunResult r = Lintel({"create", "-f", path});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "virtualmachine.lintel.dev/create-1 created\n");
  r = Lintel({"create", "-f", path});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error from server (AlreadyExists): error when creating \"" + path +
                       "\": virtualmachines.lintel.dev \"create-1\" already exists\n");
}

TEST_F(CliIntegrationTest, GetPrintsTablesYamlJsonAndNames) {
  ASSERT_EQ(Lintel({"apply", "-f", "-", "-n", "get-ns"}, "apiVersion: lintel.dev/v1alpha1\n"
                   "kind: Namespace\nmetadata: {name: get-ns}\n").code, 0);
  ASSERT_EQ(Lintel({"apply", "-n", "get-ns", "-f", "-"},
                   Vm("get-1", 2, "  labels:\n    app: web\n")).code, 0);

  RunResult table = Lintel({"get", "vm", "-n", "get-ns", "--show-labels"});
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(table.out.substr(0, table.out.find('\n')),
            "NAME    PHASE   HOST   CPUS   MEMORY   IP    AGE   LABELS");
  EXPECT_NE(table.out.find("get-1"), std::string::npos);
  EXPECT_NE(table.out.find("app=web"), std::string::npos);

  RunResult wide = Lintel({"get", "vms", "get-1", "-n", "get-ns", "-o", "wide"});
  ASSERT_EQ(wide.code, 0) << wide.err;
  EXPECT_NE(wide.out.find("IMAGE"), std::string::npos);

  RunResult all_ns = Lintel({"get", "vm", "-A", "-l", "app=web"});
  ASSERT_EQ(all_ns.code, 0) << all_ns.err;
  EXPECT_EQ(all_ns.out.rfind("NAMESPACE   NAME", 0), 0u) << all_ns.out;
  EXPECT_NE(all_ns.out.find("get-ns      get-1"), std::string::npos) << all_ns.out;

  RunResult name = Lintel({"get", "virtualmachines.lintel.dev", "-n", "get-ns", "-o", "name"});
  EXPECT_EQ(name.out, "virtualmachine.lintel.dev/get-1\n");

  RunResult yaml = Lintel({"get", "vm/get-1", "-n", "get-ns", "-o", "yaml"});
  ASSERT_EQ(yaml.code, 0) << yaml.err;
  auto obj = ParseYaml(yaml.out);
  ASSERT_TRUE(obj.ok());
  EXPECT_EQ((*obj)["kind"], "VirtualMachine");
  EXPECT_EQ((*obj)["spec"]["cpu"], 2);
  EXPECT_FALSE((*obj)["metadata"].contains("managedFields"));

  RunResult json = Lintel({"get", "vm", "-n", "get-ns", "-o", "json"});
  ASSERT_EQ(json.code, 0) << json.err;
  auto list = ParseJson(json.out);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ((*list)["kind"], "List");
  ASSERT_EQ((*list)["items"].size(), 1u);
  EXPECT_EQ((*list)["items"][0]["metadata"]["name"], "get-1");

  RunResult missing = Lintel({"get", "vm", "nope", "-n", "get-ns"});
  EXPECT_EQ(missing.code, 1);
  EXPECT_EQ(missing.err,
            "Error from server (NotFound): virtualmachines.lintel.dev \"nope\" not found\n");

  RunResult empty = Lintel({"get", "deploy", "-n", "get-ns"});
  EXPECT_EQ(empty.code, 0);
  EXPECT_EQ(empty.out, "");
  EXPECT_EQ(empty.err, "No resources found in get-ns namespace.\n");

  RunResult unknown = Lintel({"get", "widgets"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_EQ(unknown.err, "error: the server doesn't have a resource type \"widgets\"\n");

  RunResult several = Lintel({"get", "all", "-n", "get-ns"});
  ASSERT_EQ(several.code, 0) << several.err;
  EXPECT_NE(several.out.find("virtualmachine.lintel.dev/get-1"), std::string::npos);
}

TEST_F(CliIntegrationTest, LabelAndAnnotate) {
  ASSERT_EQ(Lintel({"apply", "-f", "-"}, Vm("label-1", 1)).code, 0);
  RunResult r = Lintel({"label", "vm", "label-1", "env=prod"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "virtualmachine.lintel.dev/label-1 labeled\n");
  EXPECT_EQ((*GetVm("label-1"))["metadata"]["labels"]["env"], "prod");

  r = Lintel({"label", "vm/label-1", "env=dev"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: 'env' already has a value (prod), and --overwrite is false\n");
  r = Lintel({"label", "vm/label-1", "env=dev", "--overwrite"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ((*GetVm("label-1"))["metadata"]["labels"]["env"], "dev");

  r = Lintel({"label", "vm", "label-1", "env-"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "virtualmachine.lintel.dev/label-1 unlabeled\n");
  auto live = GetVm("label-1");
  EXPECT_FALSE((*live)["metadata"].contains("labels") &&
               (*live)["metadata"]["labels"].contains("env"));

  r = Lintel({"annotate", "vm", "label-1", "note=a=b"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "virtualmachine.lintel.dev/label-1 annotated\n");
  EXPECT_EQ((*GetVm("label-1"))["metadata"]["annotations"]["note"], "a=b");
}

TEST_F(CliIntegrationTest, DeleteWaitsAndReportsMissingObjects) {
  ASSERT_EQ(Lintel({"apply", "-f", "-"}, Vm("del-1", 1) + "---\n" + Vm("del-2", 1)).code, 0);
  RunResult r = Lintel({"delete", "vm", "del-1", "--timeout=20s"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "virtualmachine.lintel.dev \"del-1\" deleted\n");
  EXPECT_EQ(GetVm("del-1").status().code(), Code::kNotFound);

  r = Lintel({"delete", "vm", "del-1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error from server (NotFound): virtualmachines.lintel.dev \"del-1\" not found\n");
  EXPECT_EQ(Lintel({"delete", "vm", "del-1", "--ignore-not-found"}).code, 0);

  std::string path = WriteManifest("del-2.yaml", Vm("del-2", 1));
  r = Lintel({"delete", "-f", path, "--wait=false"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "virtualmachine.lintel.dev \"del-2\" deleted\n");
  EXPECT_EQ(Lintel({"wait", "--for=delete", "vm/del-2", "--timeout=20s"}).code, 0);

  r = Lintel({"delete", "vm", "-l", "app=none"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "No resources found\n");
}

TEST_F(CliIntegrationTest, DescribeScaleAndApiResources) {
  ASSERT_EQ(Lintel({"apply", "-f", "-"}, Vm("desc-1", 1, "  labels:\n    app: db\n")).code, 0);
  RunResult d = Lintel({"describe", "vm", "desc-1"});
  ASSERT_EQ(d.code, 0) << d.err;
  EXPECT_EQ(d.out.rfind("Name:         desc-1\nNamespace:    default\nLabels:       app=db\n", 0),
            0u)
      << d.out;
  EXPECT_NE(d.out.find("Spec:\n"), std::string::npos);
  EXPECT_NE(d.out.find("Events:"), std::string::npos);

  std::string deploy =
      "apiVersion: lintel.dev/v1alpha1\nkind: Deployment\nmetadata: {name: scale-1}\nspec:\n"
      "  replicas: 1\n  selector: {matchLabels: {app: s}}\n  template:\n    metadata: {labels: "
      "{app: s}}\n    spec:\n      containers: [{name: main, image: busybox}]\n";
  ASSERT_EQ(Lintel({"apply", "-f", "-"}, deploy).code, 0);
  RunResult s = Lintel({"scale", "deploy", "scale-1", "--replicas=3"});
  ASSERT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(s.out, "deployment.lintel.dev/scale-1 scaled\n");
  auto live = api_->Get({"lintel.dev", "v1alpha1", "deployments", true}, "default", "scale-1");
  ASSERT_TRUE(live.ok());
  EXPECT_EQ((*live)["spec"]["replicas"], 3);

  RunResult ar = Lintel({"api-resources"});
  ASSERT_EQ(ar.code, 0) << ar.err;
  EXPECT_EQ(ar.out.substr(0, ar.out.find('\n')),
            "NAME                       SHORTNAMES   APIVERSION            NAMESPACED   KIND");
  EXPECT_NE(ar.out.find("virtualmachines            vm,vms       lintel.dev/v1alpha1   true"),
            std::string::npos);
}

TEST_F(CliIntegrationTest, EditSendsTheChange) {
  ASSERT_EQ(Lintel({"apply", "-f", "-"}, Vm("edit-1", 1)).code, 0);
  std::string script = WriteManifest("editor.sh", "#!/bin/sh\nsed -i 's/cpu: 1/cpu: 4/' \"$1\"\n");
  ::chmod(script.c_str(), 0755);
  ::setenv("KUBE_EDITOR", script.c_str(), 1);  // NOLINT(concurrency-mt-unsafe)
  RunResult r = Lintel({"edit", "vm", "edit-1"});
  ASSERT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "virtualmachine.lintel.dev/edit-1 edited\n");
  EXPECT_EQ((*GetVm("edit-1"))["spec"]["cpu"], 4);

  ::setenv("KUBE_EDITOR", "true", 1);  // NOLINT(concurrency-mt-unsafe)
  r = Lintel({"edit", "vm/edit-1"});
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.err, "Edit cancelled, no changes made.\n");
  ::unsetenv("KUBE_EDITOR");  // NOLINT(concurrency-mt-unsafe)
}

TEST_F(CliIntegrationTest, RolloutStatusRestartPauseResume) {
  const client::Resource deployments{"lintel.dev", "v1alpha1", "deployments", true};
  const client::Resource pods{"lintel.dev", "v1alpha1", "pods", true};
  std::string deploy =
      "apiVersion: lintel.dev/v1alpha1\nkind: Deployment\nmetadata: {name: ro-1}\nspec:\n"
      "  replicas: 2\n  selector: {matchLabels: {app: ro}}\n  template:\n    metadata: {labels: "
      "{app: ro}}\n    spec:\n      containers: [{name: main, image: busybox}]\n";
  ASSERT_EQ(Lintel({"apply", "-f", "-"}, deploy).code, 0);
  // The controller makes the Pods; nothing runs them here (no scheduler, no
  // agent), so none is available.
  auto updated = [&](int64_t n) {
    for (int i = 0; i < 2000; ++i) {
      auto d = api_->Get(deployments, "default", "ro-1");
      if (d.ok() && d->contains("status") && (*d)["status"].value("updatedReplicas", -1) == n &&
          (*d)["status"].value("observedGeneration", 0) == (*d)["metadata"]["generation"]) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  ASSERT_TRUE(updated(2));
  RunResult r = Lintel({"rollout", "status", "deploy/ro-1", "--timeout=300ms"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.out,
            "Waiting for deployment \"ro-1\" rollout to finish: 0 of 2 updated replicas are "
            "available...\n");
  EXPECT_EQ(r.err, "error: timed out waiting for the condition\n");
  r = Lintel({"rollout", "status", "deployment", "ro-1", "--watch=false"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("Waiting for deployment \"ro-1\" rollout to finish: ", 0), 0u) << r.out;

  // The Pods become ready (as an agent would say): rolled out.
  client::ListOptions sel;
  sel.label_selector = "app=ro";
  auto list = api_->List(pods, "default", sel);
  ASSERT_TRUE(list.ok());
  for (const auto& p : (*list)["items"]) {
    Json status = {{"status",
                    {{"phase", "Running"},
                     {"host", "h1"},
                     {"conditions",
                      {{{"type", "Ready"},
                        {"status", "True"},
                        {"lastTransitionTime", "2026-01-01T00:00:00Z"}}}}}}};
    ASSERT_TRUE(api_->Patch(pods, "default", p["metadata"]["name"].get<std::string>(),
                            client::PatchType::kMerge, status, {}, "status")
                    .ok());
  }
  r = Lintel({"rollout", "status", "deploy/ro-1", "--timeout=20s"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1),
            "deployment \"ro-1\" successfully rolled out\n")
      << r.out;

  r = Lintel({"rollout", "restart", "deploy/ro-1"});
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out, "deployment.lintel.dev/ro-1 restarted\n");
  auto live = api_->Get(deployments, "default", "ro-1");
  ASSERT_TRUE(live.ok());
  EXPECT_TRUE((*live)["spec"]["template"]["metadata"]["annotations"].contains(
      "lintel.dev/restartedAt"));
  EXPECT_EQ((*live)["metadata"]["generation"], 2);

  EXPECT_EQ(Lintel({"rollout", "pause", "deploy/ro-1"}).out, "deployment.lintel.dev/ro-1 paused\n");
  EXPECT_EQ(Lintel({"rollout", "pause", "deploy/ro-1"}).out,
            "deployment.lintel.dev/ro-1 already paused\n");
  r = Lintel({"rollout", "restart", "deploy/ro-1"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err,
            "error: deployments \"ro-1\" can't restart paused deployment (run rollout resume "
            "first)\n");
  EXPECT_EQ(Lintel({"rollout", "resume", "deploy/ro-1"}).out,
            "deployment.lintel.dev/ro-1 resumed\n");

  r = Lintel({"rollout", "status", "vm/none"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "error: no rollout support has been implemented for "
                   "virtualmachine.lintel.dev\n");
  r = Lintel({"rollout", "status", "deploy/none", "--timeout=1s"});
  EXPECT_EQ(r.code, 1);
  EXPECT_EQ(r.err, "Error from server (NotFound): deployments.lintel.dev \"none\" not found\n");
}

TEST_F(CliIntegrationTest, BadFlagsAreUsageErrors) {
  RunResult r = Lintel({"get", "vm", "--no-such-flag"});
  EXPECT_NE(r.code, 0);
  EXPECT_NE(r.err.find("--no-such-flag"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace lintel::cli
