// lintel delete: by name, by selector, --all, or the objects of -f files;
// then, unless --wait=false, until each is gone.
#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/fetch.h"
#include "cli/manifest.h"
#include "cli/manifest_target.h"
#include "cli/output.h"
#include "cli/resource_args.h"
#include "cli/text.h"
#include "cli/waiter.h"

namespace lintel::cli {

namespace {

struct DeleteFlags {
  std::vector<std::string> args;
  std::vector<std::string> files;
  bool recursive = false;
  std::string selector;
  std::string field_selector;
  bool all = false;
  bool all_namespaces = false;
  bool ignore_not_found = false;
  std::string cascade = "background";
  bool wait = true;
  std::string timeout = "0s";
  int64_t grace_period = -1;
  bool now = false;
  std::string dry_run = "none";
  std::string output;
};

struct Target {
  ApiResource resource;
  std::string ns;
  std::string name;
};

Result<std::string> PropagationPolicy(const std::string& cascade) {
  std::string c = ToLower(cascade);
  if (c == "background" || c == "true") return std::string("Background");
  if (c == "foreground") return std::string("Foreground");
  if (c == "orphan" || c == "false") return std::string("Orphan");
  return CliError("invalid cascade value (" + cascade +
                  "). Must be \"background\", \"foreground\", or \"orphan\"");
}

// The objects named on the command line or in files, or selected.
Result<std::vector<Target>> Targets(ClientContext& ctx, const DeleteFlags& f, int* failures) {
  std::vector<Target> out;
  if (!f.files.empty()) {
    if (!f.args.empty()) {
      return CliError("when paths, URLs, or stdin is provided as input, you may not specify "
                      "resource arguments as well");
    }
    auto manifests = ReadManifests(f.files, ctx.in(), f.recursive);
    if (!manifests.ok()) return CliError(manifests.error().message());
    for (auto& m : *manifests) {
      auto t = ResolveManifest(ctx, std::move(m));
      if (!t.ok()) {
        PrintError(ctx.err(), t.error());
        ++*failures;
        continue;
      }
      out.push_back({t->resource, t->ns, t->name});
    }
    return out;
  }
  if (f.args.empty()) {
    return CliError("You must provide one or more resources by argument or filename.");
  }
  LINTEL_ASSIGN_OR_RETURN(const Discovery* d, ctx.discovery());
  LINTEL_ASSIGN_OR_RETURN(std::vector<ResourceRequest> requests,
                          ParseResourceArgs(*d, f.args, /*allow_categories=*/true));
  bool selecting = f.all || !f.selector.empty() || !f.field_selector.empty();
  for (const auto& req : requests) {
    if (!req.names.empty()) {
      if (selecting) return CliError("name cannot be provided when a selector is specified");
      for (const auto& name : req.names) {
        out.push_back({req.resource, ctx.NamespaceFor(req.resource), name});
      }
      continue;
    }
    if (!selecting) return CliError("resource(s) were provided, but no name was specified");
    client::ListOptions o;
    o.label_selector = f.selector;
    o.field_selector = f.field_selector;
    std::string ns = f.all_namespaces ? "" : ctx.NamespaceFor(req.resource);
    auto list = ListAll(ctx.client(), req.resource, ns, o);
    if (!list.ok()) {
      PrintError(ctx.err(), ServerError(list.error()));
      ++*failures;
      continue;
    }
    for (const auto& item : (*list)["items"]) {
      out.push_back({req.resource, StringAt(item, "/metadata/namespace"),
                     StringAt(item, "/metadata/name")});
    }
  }
  if (out.empty() && *failures == 0) ctx.out() << "No resources found\n";
  return out;
}

int RunDelete(ClientContext& ctx, const DeleteFlags& f) {
  auto policy = PropagationPolicy(f.cascade);
  if (!policy.ok()) return PrintError(ctx.err(), policy.error());
  auto timeout = ParseDuration(f.timeout);
  if (!timeout.ok()) return PrintError(ctx.err(), CliError(timeout.error().message()));
  if (f.dry_run != "none" && f.dry_run != "server" && f.dry_run != "client") {
    return PrintError(ctx.err(), CliError("Invalid dry-run value (" + f.dry_run +
                                          "). Must be \"none\", \"server\", or \"client\"."));
  }
  if (f.all && !f.selector.empty()) {
    return PrintError(ctx.err(), CliError("cannot set --all and --selector at the same time"));
  }
  int failures = 0;
  auto targets = Targets(ctx, f, &failures);
  if (!targets.ok()) return PrintError(ctx.err(), targets.error());
  client::DeleteOptions opts;
  opts.propagation_policy = *policy;
  opts.dry_run = f.dry_run == "server";
  if (f.now) opts.grace_period_seconds = 1;
  if (f.grace_period >= 0) opts.grace_period_seconds = f.grace_period;
  std::string suffix = f.dry_run == "server" ? " (server dry run)"
                       : f.dry_run == "client" ? " (dry run)"
                                               : "";
  std::vector<WaitTarget> deleted;
  for (const auto& t : *targets) {
    std::string uid;
    if (f.dry_run != "client") {
      auto r = ctx.client().Delete(t.resource.ToResource(), t.ns, t.name, opts);
      if (!r.ok()) {
        if (r.error().code() == Code::kNotFound && f.ignore_not_found) continue;
        PrintError(ctx.err(), ServerError(r.error()));
        ++failures;
        continue;
      }
      uid = StringAt(*r, "/metadata/uid");
    }
    if (f.output == "name") {
      ctx.out() << ObjectRef(t.resource, t.name) << "\n";
    } else {
      ctx.out() << QuotedRef(t.resource, t.name) << " deleted" << suffix << "\n";
    }
    ctx.out().flush();
    deleted.push_back({t.resource, t.ns, t.name, uid});
  }
  if (f.wait && f.dry_run == "none") {
    Deadline deadline = DeadlineAfter(*timeout);
    for (const auto& w : deleted) {
      Status s = WaitForDeletion(ctx.client(), w, deadline);
      if (s.ok() || s.code() == Code::kNotFound) continue;
      if (s.code() == Code::kTimeout) {
        PrintError(ctx.err(), CliError("timed out waiting for the condition on " +
                                       w.resource.name + "/" + w.name));
      } else {
        PrintError(ctx.err(), ServerError(s));
      }
      ++failures;
    }
  }
  return failures > 0 ? 1 : 0;
}

}  // namespace

void AddDeleteCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto f = std::make_shared<DeleteFlags>();
  auto* cmd = app.add_subcommand("delete", "Delete resources by names, selectors or files");
  cmd->add_option("args", f->args, "TYPE [NAME...] | TYPE/NAME...");
  cmd->add_option("-f,--filename", f->files, "File, directory or - (stdin); repeatable")
      ->allow_extra_args(false);
  cmd->add_flag("-R,--recursive", f->recursive, "Read directories recursively");
  cmd->add_option("-l,--selector", f->selector, "Delete the objects this label selector matches");
  cmd->add_option("--field-selector", f->field_selector,
                  "Delete the objects this field selector matches");
  cmd->add_flag("--all", f->all, "Delete every object of the types given");
  cmd->add_flag("-A,--all-namespaces", f->all_namespaces, "Select across all namespaces");
  cmd->add_flag("--ignore-not-found", f->ignore_not_found, "Treat missing objects as deleted");
  cmd->add_option("--cascade", f->cascade, "background, foreground or orphan")
      ->capture_default_str();
  cmd->add_option("--wait", f->wait, "Wait until the objects are gone")
      ->expected(0, 1)
      ->default_str("true");
  cmd->add_option("--timeout", f->timeout, "How long to wait (e.g. 30s); 0 means a week")
      ->capture_default_str();
  cmd->add_option("--grace-period", f->grace_period,
                  "Seconds given to the object to terminate (-1: its default)")
      ->capture_default_str();
  cmd->add_flag("--now", f->now, "Terminate at once (grace period 1)");
  cmd->add_option("--dry-run", f->dry_run, "none, server or client")->capture_default_str();
  cmd->add_option("-o,--output", f->output, "name: print kind.group/name only");
  cmd->callback([f, run, &g] {
    *run = [f, &g] { return WithContext(g, [&](ClientContext& ctx) { return RunDelete(ctx, *f); }); };
  });
}

}  // namespace lintel::cli
