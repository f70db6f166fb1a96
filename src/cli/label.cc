// lintel label and lintel annotate: a merge patch of metadata.labels or
// metadata.annotations, refusing to change a value without --overwrite.
#include "apimachinery/patch.h"
#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/fetch.h"
#include "cli/label_args.h"
#include "cli/output.h"
#include "cli/resource_args.h"
#include "cli/text.h"
#include "cli/write_flags.h"

namespace lintel::cli {

namespace {

struct LabelFlags {
  std::vector<std::string> args;
  bool overwrite = false;
  bool list = false;
  bool all = false;
  bool all_namespaces = false;
  std::string selector;
  std::string field_selector;
  std::string resource_version;
  std::string field_manager;
  std::string dry_run = "none";
  std::string output;
};

struct Verb {
  const char* command;  // "label"
  MetadataMap which;
  const char* key;      // "labels"
  const char* noun;     // "label"
  const char* done;     // "labeled"
  const char* manager;  // "lintel-label"
};

constexpr Verb kLabel{"label", MetadataMap::kLabels, "labels", "label", "labeled", "lintel-label"};
constexpr Verb kAnnotate{"annotate", MetadataMap::kAnnotations, "annotations", "annotation", "annotated",
                         "lintel-annotate"};

struct Target {
  ApiResource resource;
  std::string ns;
  std::string name;
  Json object;  // when listed already
};

int RunLabel(ClientContext& ctx, const LabelFlags& f, const Verb& verb) {
  auto parsed = ParseLabelArgs(f.args, verb.which);
  if (!parsed.ok()) return PrintError(ctx.err(), parsed.error());
  const MetadataChanges& changes = parsed->changes;
  if (parsed->resources.empty()) {
    return PrintError(ctx.err(), CliError("one or more resources must be specified as <resource> "
                                          "<name> or <resource>/<name>"));
  }
  if (changes.set.empty() && changes.remove.empty() && !f.list) {
    return PrintError(ctx.err(), CliError("at least one " + std::string(verb.noun) +
                                          " update is required"));
  }
  if (f.dry_run != "none" && f.dry_run != "server" && f.dry_run != "client") {
    return PrintError(ctx.err(), CliError("Invalid dry-run value (" + f.dry_run +
                                          "). Must be \"none\", \"server\", or \"client\"."));
  }
  auto discovery = ctx.discovery();
  if (!discovery.ok()) return PrintError(ctx.err(), discovery.error());
  auto requests = ParseResourceArgs(**discovery, parsed->resources, /*allow_categories=*/false);
  if (!requests.ok()) return PrintError(ctx.err(), requests.error());

  int failures = 0;
  std::vector<Target> targets;
  bool selecting = f.all || !f.selector.empty() || !f.field_selector.empty();
  for (const auto& req : *requests) {
    if (!req.names.empty()) {
      for (const auto& n : req.names) {
        targets.push_back({req.resource, ctx.NamespaceFor(req.resource), n, nullptr});
      }
      continue;
    }
    if (!selecting) {
      return PrintError(ctx.err(), CliError("resource(s) were provided, but no name was "
                                            "specified"));
    }
    client::ListOptions o;
    o.label_selector = f.selector;
    o.field_selector = f.field_selector;
    auto list = ListAll(ctx.client(), req.resource,
                        f.all_namespaces ? "" : ctx.NamespaceFor(req.resource), o);
    if (!list.ok()) {
      PrintError(ctx.err(), ServerError(list.error()));
      ++failures;
      continue;
    }
    for (auto& item : (*list)["items"]) {
      targets.push_back({req.resource, StringAt(item, "/metadata/namespace"),
                         StringAt(item, "/metadata/name"), std::move(item)});
    }
  }

  client::WriteOptions opts;
  opts.dry_run = f.dry_run == "server";
  opts.field_manager = f.field_manager.empty() ? verb.manager : f.field_manager;
  std::string suffix = f.dry_run == "server" ? " (server dry run)"
                       : f.dry_run == "client" ? " (dry run)"
                                               : "";
  for (auto& t : targets) {
    Json obj = std::move(t.object);
    if (obj.is_null()) {
      auto got = ctx.client().Get(t.resource.ToResource(), t.ns, t.name);
      if (!got.ok()) {
        PrintError(ctx.err(), ServerError(got.error()));
        ++failures;
        continue;
      }
      obj = std::move(*got);
    }
    Json current = Json::object();
    if (obj.contains("metadata") && obj["metadata"].contains(verb.key)) {
      current = obj["metadata"][verb.key];
    }
    if (f.list) {
      if (current.is_object()) {
        for (const auto& [k, v] : current.items()) {
          ctx.out() << k << "=" << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
        }
      }
      if (changes.set.empty() && changes.remove.empty()) continue;
    }
    std::vector<std::string> missing;
    auto updated = ApplyMetadataChanges(current, changes, verb.which, f.overwrite, &missing);
    if (!updated.ok()) {
      PrintError(ctx.err(), updated.error());
      ++failures;
      continue;
    }
    if (verb.which == MetadataMap::kLabels) {
      for (const auto& key : missing) ctx.out() << verb.noun << " \"" << key << "\" not found.\n";
    }
    Json before = {{"metadata", {{verb.key, current}}}};
    Json after = {{"metadata", {{verb.key, updated->is_null() ? Json::object() : *updated}}}};
    Json patch = apimachinery::CreateMergePatch(before, after);
    std::string message = verb.done;
    if (verb.which == MetadataMap::kLabels) {
      if (patch.empty()) {
        message = "not labeled";
      } else if (!f.overwrite && after.dump().size() < before.dump().size()) {
        message = "unlabeled";
      }
    }
    if (!patch.empty() && f.dry_run != "client") {
      if (!f.resource_version.empty()) patch["metadata"]["resourceVersion"] = f.resource_version;
      auto r = ctx.client().Patch(t.resource.ToResource(), t.ns, t.name,
                                  client::PatchType::kMerge, patch, opts);
      if (!r.ok()) {
        PrintError(ctx.err(), ServerError(r.error()));
        ++failures;
        continue;
      }
    }
    if (f.output == "name") {
      ctx.out() << ObjectRef(t.resource, t.name) << "\n";
    } else {
      ctx.out() << ObjectRef(t.resource, t.name) << " " << message << suffix << "\n";
    }
    ctx.out().flush();
  }
  return failures > 0 ? 1 : 0;
}

void AddMetadataCommand(CLI::App& app, GlobalOptions& g, Runner* run, const Verb& verb,
                        const char* help) {
  auto f = std::make_shared<LabelFlags>();
  auto* cmd = app.add_subcommand(verb.command, help);
  cmd->add_option("args", f->args,
                  std::string("TYPE NAME... KEY=VALUE... KEY-... (or TYPE/NAME)"));
  cmd->add_flag("--overwrite", f->overwrite, std::string("Allow changing an existing ") +
                                                 verb.noun + "'s value");
  cmd->add_flag("--list", f->list, std::string("Print each object's ") + verb.key);
  cmd->add_flag("--all", f->all, "Every object of the type in the namespace");
  cmd->add_flag("-A,--all-namespaces", f->all_namespaces, "Select across all namespaces");
  cmd->add_option("-l,--selector", f->selector, "Label selector");
  cmd->add_option("--field-selector", f->field_selector, "Field selector");
  cmd->add_option("--resource-version", f->resource_version,
                  "Only change the object if it is still at this resourceVersion");
  cmd->add_option("--field-manager", f->field_manager, "Manager name");
  cmd->add_option("--dry-run", f->dry_run, "none, server or client")->capture_default_str();
  cmd->add_option("-o,--output", f->output, "name: print kind.group/name only");
  cmd->callback([f, run, &g, &verb] {
    *run = [f, &g, &verb] {
      return WithContext(g, [&](ClientContext& ctx) { return RunLabel(ctx, *f, verb); });
    };
  });
}

}  // namespace

void AddLabelCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  AddMetadataCommand(app, g, run, kLabel, "Update the labels on resources");
}

void AddAnnotateCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  AddMetadataCommand(app, g, run, kAnnotate, "Update the annotations on resources");
}

}  // namespace lintel::cli
