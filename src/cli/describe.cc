// lintel describe: objects as readable text, with the events about them.
#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/describe_printer.h"
#include "cli/errors.h"
#include "cli/fetch.h"
#include "cli/resource_args.h"
#include "cli/text.h"

namespace lintel::cli {

namespace {

struct DescribeFlags {
  std::vector<std::string> args;
  std::string selector;
  bool all_namespaces = false;
  bool show_events = true;
};

// The events resource: "events" of the object's own group if it has one,
// else the first "events" resource the server lists.
std::optional<ApiResource> EventsResource(const Discovery& d, const ApiResource& of) {
  std::optional<ApiResource> any;
  for (const auto& r : d.Preferred()) {
    if (r.name != "events" || r.kind != "Event") continue;
    if (r.group == of.group) return r;
    if (!any) any = r;
  }
  return any;
}

std::vector<Json> EventsFor(ClientContext& ctx, const std::optional<ApiResource>& events,
                            const Json& obj) {
  if (!events) return {};
  std::string ns = StringAt(obj, "/metadata/namespace");
  client::ListOptions o;
  o.field_selector = "involvedObject.name=" + StringAt(obj, "/metadata/name") +
                     ",involvedObject.namespace=" + ns +
                     ",involvedObject.kind=" + StringAt(obj, "/kind") +
                     ",involvedObject.uid=" + StringAt(obj, "/metadata/uid");
  // Events about cluster-scoped objects may be kept in any namespace.
  auto list = ListAll(ctx.client(), *events, ns, o);
  if (!list.ok()) return {};  // as kubectl: no events rather than no description
  std::vector<Json> out;
  for (auto& e : (*list)["items"]) out.push_back(std::move(e));
  return out;
}

int RunDescribe(ClientContext& ctx, const DescribeFlags& f) {
  auto discovery = ctx.discovery();
  if (!discovery.ok()) return PrintError(ctx.err(), discovery.error());
  if (f.args.empty()) {
    return PrintError(ctx.err(), CliError("You must specify the type of resource to describe. "
                                          "Use \"lintel api-resources\" for a complete list of "
                                          "supported resources."));
  }
  auto requests = ParseResourceArgs(**discovery, f.args, /*allow_categories=*/true);
  if (!requests.ok()) return PrintError(ctx.err(), requests.error());
  int failures = 0;
  bool printed = false;
  bool any_collection = false;
  // Objects found by a name prefix print as kubectl prints them: each with a
  // newline after it rather than blank lines between.
  auto describe = [&](const ApiResource& r, Json obj, bool by_prefix = false) {
    if (!obj.contains("kind")) obj["kind"] = r.kind;
    if (!obj.contains("apiVersion")) obj["apiVersion"] = r.GroupVersion();
    std::vector<Json> events;
    if (f.show_events) events = EventsFor(ctx, EventsResource(**discovery, r), obj);
    if (printed && !by_prefix) ctx.out() << "\n\n";
    ctx.out() << DescribeObject(obj, events, f.show_events, std::chrono::system_clock::now());
    if (by_prefix) ctx.out() << "\n";
    ctx.out().flush();
    printed = true;
  };
  for (const auto& req : *requests) {
    const ApiResource& r = req.resource;
    if (req.names.empty()) {
      any_collection = true;
      client::ListOptions o;
      o.label_selector = f.selector;
      auto list = ListAll(ctx.client(), r, f.all_namespaces ? "" : ctx.NamespaceFor(r), o);
      if (!list.ok()) {
        PrintError(ctx.err(), ServerError(list.error()));
        ++failures;
        continue;
      }
      for (auto& item : (*list)["items"]) describe(r, std::move(item));
      continue;
    }
    for (const auto& name : req.names) {
      auto obj = ctx.client().Get(r.ToResource(), ctx.NamespaceFor(r), name);
      if (obj.ok()) {
        describe(r, std::move(*obj));
        continue;
      }
      if (obj.error().code() != Code::kNotFound) {
        PrintError(ctx.err(), ServerError(obj.error()));
        ++failures;
        continue;
      }
      // As kubectl: no exact match describes every object the name prefixes.
      auto list = ListAll(ctx.client(), r, ctx.NamespaceFor(r), {});
      bool found = false;
      if (list.ok()) {
        for (auto& item : (*list)["items"]) {
          if (StartsWith(StringAt(item, "/metadata/name"), name)) {
            describe(r, std::move(item), /*by_prefix=*/true);
            found = true;
          }
        }
      }
      if (!found) {
        PrintError(ctx.err(), ServerError(obj.error()));
        ++failures;
      }
    }
  }
  if (!printed && any_collection && failures == 0) {
    // kubectl names the namespace here even for cluster-scoped types.
    if (!f.all_namespaces) {
      ctx.err() << "No resources found in " << ctx.ns() << " namespace.\n";
    } else {
      ctx.err() << "No resources found\n";
    }
  }
  return failures > 0 ? 1 : 0;
}

}  // namespace

void AddDescribeCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto f = std::make_shared<DescribeFlags>();
  auto* cmd = app.add_subcommand("describe", "Show details of a resource or group of resources");
  cmd->add_option("args", f->args, "TYPE [NAME_PREFIX...] | TYPE/NAME...");
  cmd->add_option("-l,--selector", f->selector, "Label selector");
  cmd->add_flag("-A,--all-namespaces", f->all_namespaces, "Across all namespaces");
  cmd->add_flag("--show-events{true},!--no-show-events", f->show_events,
                "Show the events about each object")
      ->capture_default_str();
  cmd->callback([f, run, &g] {
    *run = [f, &g] { return WithContext(g, [&](ClientContext& ctx) { return RunDescribe(ctx, *f); }); };
  });
}

}  // namespace lintel::cli
