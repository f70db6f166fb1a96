// lintel scale: a merge patch of spec.replicas on the /scale subresource.
#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/output.h"
#include "cli/resource_args.h"
#include "cli/text.h"

namespace lintel::cli {

namespace {

struct ScaleFlags {
  std::vector<std::string> args;
  int64_t replicas = -1;
  int64_t current_replicas = -1;
  std::string resource_version;
  std::string dry_run = "none";
};

int RunScale(ClientContext& ctx, const ScaleFlags& f) {
  if (f.replicas < 0) {
    return PrintError(ctx.err(), CliError("The --replicas=COUNT flag is required, and COUNT must "
                                          "be greater than or equal to 0"));
  }
  if (f.args.empty()) {
    return PrintError(ctx.err(), CliError("Required resource not specified."));
  }
  auto discovery = ctx.discovery();
  if (!discovery.ok()) return PrintError(ctx.err(), discovery.error());
  auto requests = ParseResourceArgs(**discovery, f.args, /*allow_categories=*/false);
  if (!requests.ok()) return PrintError(ctx.err(), requests.error());
  client::WriteOptions opts;
  opts.dry_run = f.dry_run == "server";
  opts.field_manager = "lintel-scale";
  int failures = 0;
  for (const auto& req : *requests) {
    if (req.names.empty()) {
      return PrintError(ctx.err(), CliError("resource(s) were provided, but no name was "
                                            "specified"));
    }
    const client::Resource res = req.resource.ToResource();
    std::string ns = ctx.NamespaceFor(req.resource);
    for (const auto& name : req.names) {
      if (f.current_replicas >= 0 || !f.resource_version.empty()) {
        auto scale = ctx.client().RawGet(client::RestClient::ResourcePath(res, ns, name, "scale"));
        if (!scale.ok()) {
          PrintError(ctx.err(), ServerError(scale.error()));
          ++failures;
          continue;
        }
        const Json& spec = (*scale)["spec"];
        int64_t have = spec.is_object() && spec.contains("replicas") && spec["replicas"].is_number()
                           ? spec["replicas"].get<int64_t>()
                           : 0;
        if (f.current_replicas >= 0 && have != f.current_replicas) {
          PrintError(ctx.err(), CliError("Expected replicas to be " +
                                         std::to_string(f.current_replicas) + ", was " +
                                         std::to_string(have)));
          ++failures;
          continue;
        }
      }
      Json patch = {{"spec", {{"replicas", f.replicas}}}};
      if (!f.resource_version.empty()) patch["metadata"]["resourceVersion"] = f.resource_version;
      if (f.dry_run != "client") {
        auto r = ctx.client().Patch(res, ns, name, client::PatchType::kMerge, patch, opts,
                                    "scale");
        if (!r.ok()) {
          PrintError(ctx.err(), ServerError(r.error()));
          ++failures;
          continue;
        }
      }
      std::string suffix = f.dry_run == "server" ? " (server dry run)"
                           : f.dry_run == "client" ? " (dry run)"
                                                   : "";
      ctx.out() << ObjectRef(req.resource, name) << " scaled" << suffix << "\n";
    }
  }
  return failures > 0 ? 1 : 0;
}

}  // namespace

void AddScaleCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto f = std::make_shared<ScaleFlags>();
  auto* cmd = app.add_subcommand("scale", "Set a new size for a Deployment or other scalable kind");
  cmd->add_option("args", f->args, "TYPE NAME... | TYPE/NAME...");
  cmd->add_option("--replicas", f->replicas, "The new number of replicas")->required();
  cmd->add_option("--current-replicas", f->current_replicas,
                  "Only scale if the current number of replicas is this");
  cmd->add_option("--resource-version", f->resource_version,
                  "Only scale if the object is still at this resourceVersion");
  cmd->add_option("--dry-run", f->dry_run, "none, server or client")->capture_default_str();
  cmd->callback([f, run, &g] {
    *run = [f, &g] { return WithContext(g, [&](ClientContext& ctx) { return RunScale(ctx, *f); }); };
  });
}

}  // namespace lintel::cli
