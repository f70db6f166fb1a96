// lintel rollout status|restart|pause|resume deployment/NAME, as kubectl's.
//   status   watches the Deployment, printing a line each time its progress
//            changes, until it has rolled out (or --timeout, or its progress
//            deadline passed)
//   restart  sets the template annotation lintel.dev/restartedAt to now, so
//            that every Pod is replaced by the Deployment's strategy
//   pause    sets spec.paused (template changes wait; scaling goes on)
//   resume   clears it
#include <chrono>

#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/output.h"
#include "cli/resource_args.h"
#include "cli/rollout_status.h"
#include "cli/text.h"
#include "cli/waiter.h"
#include "common/time_format.h"

namespace lintel::cli {

namespace {

constexpr char kRestartedAt[] = "lintel.dev/restartedAt";

struct RolloutFlags {
  std::vector<std::string> args;
  std::string timeout = "0s";
  bool watch = true;
};

struct Target {
  ApiResource resource;
  std::string ns;
  std::string name;
};

// The Deployments the arguments name; kubectl's errors otherwise.
Result<std::vector<Target>> Targets(ClientContext& ctx, const std::vector<std::string>& args) {
  if (args.empty()) return CliError("required resource not specified");
  auto discovery = ctx.discovery();
  if (!discovery.ok()) return discovery.error();
  auto requests = ParseResourceArgs(**discovery, args, /*allow_categories=*/false);
  if (!requests.ok()) return requests.error();
  std::vector<Target> out;
  for (const auto& req : *requests) {
    if (req.resource.kind != "Deployment") {
      return CliError("no rollout support has been implemented for " + req.resource.KindGroup());
    }
    if (req.names.empty()) {
      return CliError("resource(s) were provided, but no name was specified");
    }
    for (const auto& n : req.names) out.push_back({req.resource, ctx.NamespaceFor(req.resource), n});
  }
  return out;
}

int RunStatus(ClientContext& ctx, const RolloutFlags& f) {
  auto timeout = ParseDuration(f.timeout);
  if (!timeout.ok()) return PrintError(ctx.err(), CliError(timeout.error().message()));
  auto targets = Targets(ctx, f.args);
  if (!targets.ok()) return PrintError(ctx.err(), targets.error());
  if (targets->size() != 1) {
    return PrintError(ctx.err(), CliError("rollout status takes exactly one resource"));
  }
  const Target& t = targets->front();
  std::string last;
  Status viewer_error;
  // Called for the object as listed and then for each change the watch shows.
  auto done = [&](const Json& d) {
    auto state = DeploymentRolloutState(d);
    if (!state.ok()) {
      viewer_error = state.error();
      return true;
    }
    if (state->message != last) {
      ctx.out() << state->message << "\n";
      ctx.out().flush();
      last = state->message;
    }
    return state->done || !f.watch;
  };
  Status s = WaitForObject(ctx.client(), {t.resource, t.ns, t.name, ""}, done,
                           DeadlineAfter(*timeout));
  if (!viewer_error.ok()) return PrintError(ctx.err(), viewer_error);
  if (s.ok()) return 0;
  if (s.code() == Code::kTimeout) {
    return PrintError(ctx.err(), CliError("timed out waiting for the condition"));
  }
  return PrintError(ctx.err(), ServerError(s));
}

// Patches each target with what `patch_for` makes of it: a merge patch, null
// when there is nothing to do, or an error (kubectl's message).
int PatchEach(ClientContext& ctx, const RolloutFlags& f, const char* done_word,
              const std::function<Result<Json>(const Json& live)>& patch_for) {
  auto targets = Targets(ctx, f.args);
  if (!targets.ok()) return PrintError(ctx.err(), targets.error());
  client::WriteOptions opts;
  opts.field_manager = "lintel-rollout";
  int failures = 0;
  for (const auto& t : *targets) {
    const client::Resource res = t.resource.ToResource();
    auto live = ctx.client().Get(res, t.ns, t.name);
    if (!live.ok()) {
      PrintError(ctx.err(), ServerError(live.error()));
      ++failures;
      continue;
    }
    auto patch = patch_for(*live);
    if (!patch.ok()) {
      PrintError(ctx.err(), patch.error());
      ++failures;
      continue;
    }
    if (patch->is_null()) {
      ctx.out() << ObjectRef(t.resource, t.name) << " already " << done_word << "\n";
      continue;
    }
    auto r = ctx.client().Patch(res, t.ns, t.name, client::PatchType::kMerge, *patch, opts);
    if (!r.ok()) {
      PrintError(ctx.err(), ServerError(r.error()));
      ++failures;
      continue;
    }
    ctx.out() << ObjectRef(t.resource, t.name) << " " << done_word << "\n";
  }
  return failures > 0 ? 1 : 0;
}

bool Paused(const Json& d) {
  const Json::json_pointer p("/spec/paused");
  return d.contains(p) && d.at(p).is_boolean() && d.at(p).get<bool>();
}

int RunRestart(ClientContext& ctx, const RolloutFlags& f) {
  const std::string now = FormatRfc3339(std::chrono::system_clock::now());
  return PatchEach(ctx, f, "restarted", [&](const Json& live) -> Result<Json> {
    if (Paused(live)) {
      return CliError("deployments \"" + StringAt(live, "/metadata/name") +
                      "\" can't restart paused deployment (run rollout resume first)");
    }
    return Json{{"spec", {{"template", {{"metadata", {{"annotations", {{kRestartedAt, now}}}}}}}}}};
  });
}

int RunSetPaused(ClientContext& ctx, const RolloutFlags& f, bool paused) {
  return PatchEach(ctx, f, paused ? "paused" : "resumed", [&](const Json& live) -> Result<Json> {
    if (Paused(live) == paused) return Json();  // nothing to do
    return Json{{"spec", {{"paused", paused}}}};
  });
}

}  // namespace

void AddRolloutCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto* cmd = app.add_subcommand("rollout", "Manage the rollout of a Deployment");
  cmd->require_subcommand(1);
  auto add = [&](const char* verb, const char* help,
                 std::function<int(ClientContext&, const RolloutFlags&)> body) {
    auto f = std::make_shared<RolloutFlags>();
    auto* sub = cmd->add_subcommand(verb, help);
    sub->add_option("args", f->args, "TYPE/NAME... | TYPE NAME...");
    if (std::string(verb) == "status") {
      sub->add_option("--timeout", f->timeout,
                      "How long to wait before giving up (e.g. 5m); 0 waits forever")
          ->capture_default_str();
      sub->add_flag("-w,--watch{true},!--no-watch", f->watch,
                    "Watch until the rollout ends (--watch=false: print the state once)")
          ->capture_default_str();
    }
    sub->callback([f, run, &g, body] {
      *run = [f, &g, body] {
        return WithContext(g, [&](ClientContext& ctx) { return body(ctx, *f); });
      };
    });
  };
  add("status", "Show the status of the rollout", RunStatus);
  add("restart", "Restart every Pod of a Deployment by its rollout strategy", RunRestart);
  add("pause", "Pause a Deployment: template changes wait until resumed",
      [](ClientContext& ctx, const RolloutFlags& f) { return RunSetPaused(ctx, f, true); });
  add("resume", "Resume a paused Deployment",
      [](ClientContext& ctx, const RolloutFlags& f) { return RunSetPaused(ctx, f, false); });
}

}  // namespace lintel::cli
