// lintel create -f: POST each object; an existing one is an error.
#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/last_applied.h"
#include "cli/manifest.h"
#include "cli/manifest_target.h"
#include "cli/output.h"
#include "cli/write_flags.h"

namespace lintel::cli {

namespace {

constexpr char kCreateManager[] = "lintel-create";

struct CreateFlags {
  std::vector<std::string> files;
  bool recursive = false;
  bool save_config = false;
  std::string field_manager = kCreateManager;
  std::string output;
  WriteFlags write;
};

int RunCreate(ClientContext& ctx, const CreateFlags& f) {
  if (f.files.empty()) {
    return PrintError(ctx.err(), CliError("must specify one of -f and -k"));
  }
  auto format = ParseOutputFormat(f.output);
  if (!format.ok()) return PrintError(ctx.err(), format.error());
  if (Status s = f.write.Validate(); !s.ok()) return PrintError(ctx.err(), s);
  auto manifests = ReadManifests(f.files, ctx.in(), f.recursive);
  if (!manifests.ok()) return PrintError(ctx.err(), CliError(manifests.error().message()));
  if (manifests->empty()) return PrintError(ctx.err(), CliError("no objects passed to create"));
  client::WriteOptions opts = f.write.ToWriteOptions();
  opts.field_manager = f.field_manager;
  int failures = 0;
  std::vector<Json> printed;
  for (auto& m : *manifests) {
    auto t = ResolveManifest(ctx, std::move(m), /*allow_generate_name=*/true);
    if (!t.ok()) {
      PrintError(ctx.err(), t.error());
      ++failures;
      continue;
    }
    Json body = f.save_config ? GetModifiedConfiguration(t->object).modified : t->object;
    Json created = body;
    if (f.write.dry_run != "client") {
      auto r = ctx.client().Create(t->resource.ToResource(), t->ns, body, opts);
      if (!r.ok()) {
        PrintError(ctx.err(), ServerError(r.error(), "error when creating \"" + t->source + "\""));
        ++failures;
        continue;
      }
      created = std::move(*r);
    }
    std::string name = created.contains("metadata") ? created["metadata"].value("name", t->name)
                                                    : t->name;
    if (*format == OutputFormat::kYaml || *format == OutputFormat::kJson) {
      StripManagedFields(&created);
      printed.push_back(std::move(created));
    } else if (*format == OutputFormat::kName) {
      ctx.out() << ObjectRef(t->resource, name) << "\n";
    } else {
      ctx.out() << ObjectRef(t->resource, name) << " created" << f.write.DryRunSuffix() << "\n";
    }
    ctx.out().flush();
  }
  if (!printed.empty()) PrintObjects(ctx.out(), printed, *format, printed.size() == 1);
  return failures > 0 ? 1 : 0;
}

}  // namespace

void AddCreateCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto f = std::make_shared<CreateFlags>();
  auto* cmd = app.add_subcommand("create", "Create resources from files or stdin");
  cmd->add_option("-f,--filename", f->files, "File, directory or - (stdin); repeatable")
      ->allow_extra_args(false);
  cmd->add_flag("-R,--recursive", f->recursive, "Read directories recursively");
  cmd->add_flag("--save-config", f->save_config,
                "Record the manifest as last-applied, so that apply can follow");
  cmd->add_option("--field-manager", f->field_manager, "Manager name")->capture_default_str();
  cmd->add_option("-o,--output", f->output, "Print the objects: yaml, json or name");
  AddWriteFlags(cmd, &f->write);
  cmd->callback([f, run, &g] {
    *run = [f, &g] { return WithContext(g, [&](ClientContext& ctx) { return RunCreate(ctx, *f); }); };
  });
}

}  // namespace lintel::cli
