// lintel start|stop|restart|pause|unpause vm/NAME: a PUT of the
// VirtualMachine's action subresource (the server records the intent, the
// VM's agent carries it out).
#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/output.h"
#include "cli/resource_args.h"

namespace lintel::cli {

namespace {

struct PowerFlags {
  std::vector<std::string> args;
};

std::string PastTense(const std::string& action) {
  if (action == "stop") return "stopped";
  if (action == "pause") return "paused";
  if (action == "unpause") return "unpaused";
  if (action == "restart") return "restarted";
  return "started";
}

int RunPower(ClientContext& ctx, const std::string& action, const PowerFlags& f) {
  if (f.args.empty()) {
    return PrintError(ctx.err(), CliError("Required resource not specified: vm/NAME"));
  }
  auto discovery = ctx.discovery();
  if (!discovery.ok()) return PrintError(ctx.err(), discovery.error());
  auto requests = ParseResourceArgs(**discovery, f.args, /*allow_categories=*/false);
  if (!requests.ok()) return PrintError(ctx.err(), requests.error());
  int failures = 0;
  for (const auto& req : *requests) {
    if (req.resource.kind != "VirtualMachine") {
      return PrintError(
          ctx.err(),
          CliError(action + " applies to virtual machines (vm/NAME), not " + req.resource.name));
    }
    if (req.names.empty()) {
      return PrintError(ctx.err(), CliError("resource(s) were provided, but no name was "
                                            "specified"));
    }
    const client::Resource res = req.resource.ToResource();
    std::string ns = ctx.NamespaceFor(req.resource);
    for (const auto& name : req.names) {
      auto resp = ctx.client().Raw("PUT", client::RestClient::ResourcePath(res, ns, name, action),
                                   {{"Content-Type", "application/json"}}, "{}");
      Status s;
      if (!resp.ok()) {
        s = resp.error();
      } else if (resp->status < 200 || resp->status > 299) {
        s = client::DecodeErrorResponse(resp->status, resp->body);
      }
      if (!s.ok()) {
        PrintError(ctx.err(), ServerError(s));
        ++failures;
        continue;
      }
      ctx.out() << ObjectRef(req.resource, name) << " " << PastTense(action) << "\n";
    }
  }
  return failures > 0 ? 1 : 0;
}

void AddPower(CLI::App& app, GlobalOptions& g, Runner* run, const std::string& action,
              const std::string& help) {
  auto f = std::make_shared<PowerFlags>();
  auto* cmd = app.add_subcommand(action, help);
  cmd->add_option("args", f->args, "vm/NAME... | vm NAME...");
  cmd->callback([f, run, &g, action] {
    *run = [f, &g, action] {
      return WithContext(g, [&](ClientContext& ctx) { return RunPower(ctx, action, *f); });
    };
  });
}

}  // namespace

void AddPowerCommands(CLI::App& app, GlobalOptions& g, Runner* run) {
  AddPower(app, g, run, "start", "Start a virtual machine (runStrategy Halted becomes Always)");
  AddPower(app, g, run, "stop",
           "Stop a virtual machine gracefully (ACPI, then a hard stop after its grace period)");
  AddPower(app, g, run, "restart", "Restart a virtual machine on the same disks");
  AddPower(app, g, run, "pause", "Freeze a running virtual machine's vCPUs");
  AddPower(app, g, run, "unpause", "Resume a paused virtual machine");
}

}  // namespace lintel::cli
