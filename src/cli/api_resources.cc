// lintel api-resources: the resource types the server offers, from discovery.
#include <algorithm>

#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/tab_writer.h"
#include "cli/text.h"

namespace lintel::cli {

namespace {

struct ApiResourcesFlags {
  std::string output;
  std::string namespaced;  // "", "true", "false"
  std::string api_group;
  std::vector<std::string> verbs;
  bool no_headers = false;
  std::string sort_by;
};

int RunApiResources(ClientContext& ctx, const ApiResourcesFlags& f) {
  if (!f.output.empty() && f.output != "wide" && f.output != "name") {
    return PrintError(ctx.err(), CliError("--output " + f.output +
                                          " is not available, allowed formats are: name,wide"));
  }
  auto discovery = ctx.discovery();
  if (!discovery.ok()) return PrintError(ctx.err(), discovery.error());
  std::vector<ApiResource> rs;
  for (const auto& r : (*discovery)->Preferred()) {
    if (!f.namespaced.empty() && (r.namespaced ? "true" : "false") != f.namespaced) continue;
    if (!f.api_group.empty() && r.group != f.api_group) continue;
    bool verbs_ok = std::all_of(f.verbs.begin(), f.verbs.end(),
                                [&](const std::string& v) { return r.HasVerb(v); });
    if (!verbs_ok) continue;
    rs.push_back(r);
  }
  std::stable_sort(rs.begin(), rs.end(), [&](const ApiResource& a, const ApiResource& b) {
    if (f.sort_by == "kind") return a.kind < b.kind;
    if (f.sort_by == "name") return a.name < b.name;
    if (a.group != b.group) return a.group < b.group;
    return a.name < b.name;
  });
  if (f.output == "name") {
    for (const auto& r : rs) ctx.out() << r.GroupResource() << "\n";
    return 0;
  }
  bool wide = f.output == "wide";
  TabWriter w(ctx.out(), 6, 3);
  if (!f.no_headers) {
    w.Write(wide ? "NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND\tVERBS\tCATEGORIES\n"
                 : "NAME\tSHORTNAMES\tAPIVERSION\tNAMESPACED\tKIND\n");
  }
  for (const auto& r : rs) {
    std::string line = r.name + "\t" + Join(r.short_names, ",") + "\t" + r.GroupVersion() + "\t" +
                       (r.namespaced ? "true" : "false") + "\t" + r.kind;
    if (wide) {
      std::vector<std::string> verbs = r.verbs;
      std::sort(verbs.begin(), verbs.end());
      line += "\t" + Join(verbs, ",") + "\t" + Join(r.categories, ",");
    }
    w.Write(line + "\n");
  }
  w.Flush();
  return 0;
}

}  // namespace

void AddApiResourcesCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto f = std::make_shared<ApiResourcesFlags>();
  auto* cmd = app.add_subcommand("api-resources", "Print the resource types the server offers");
  cmd->add_option("-o,--output", f->output, "wide or name");
  cmd->add_option("--namespaced", f->namespaced, "true or false: only namespaced (or cluster) "
                                                  "types")
      ->check(CLI::IsMember({"true", "false"}));
  cmd->add_option("--api-group", f->api_group, "Only this API group");
  cmd->add_option("--verbs", f->verbs, "Only types that support these verbs")
      ->delimiter(',')
      ->allow_extra_args(false);
  cmd->add_flag("--no-headers", f->no_headers, "Do not print the header line");
  cmd->add_option("--sort-by", f->sort_by, "name or kind")->check(CLI::IsMember({"name", "kind"}));
  cmd->callback([f, run, &g] {
    *run = [f, &g] {
      return WithContext(g, [&](ClientContext& ctx) { return RunApiResources(ctx, *f); });
    };
  });
}

}  // namespace lintel::cli
