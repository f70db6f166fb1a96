// lintel apply -f: client-side apply, compatible with kubectl's (the
// last-applied annotation and a three-way JSON merge patch), or server-side
// apply with --server-side.
//
// Client-side, per object:
//
//   GET ──404──> POST manifest+annotation ─────────────────> "created"
//    │
//    └─found──> patch = 3way(last-applied, manifest+annotation, live)
//                 {} ──────────────────────────────────────> "unchanged"
//                 else PATCH merge ──ok──────────────────────> "configured"
//                                 └─409 Conflict: GET again (up to kMaxAttempts)
#include <thread>

#include "apimachinery/patch.h"
#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/last_applied.h"
#include "cli/manifest.h"
#include "cli/manifest_target.h"
#include "cli/output.h"
#include "cli/text.h"
#include "cli/write_flags.h"

namespace lintel::cli {

namespace {

constexpr int kMaxAttempts = 6;
constexpr char kClientSideManager[] = "lintel-client-side-apply";
constexpr char kServerSideManager[] = "lintel";

struct ApplyFlags {
  std::vector<std::string> files;
  bool recursive = false;
  bool server_side = false;
  bool force_conflicts = false;
  std::string field_manager;
  WriteFlags write;
  std::string output;
};

struct Outcome {
  std::string operation;  // created, configured, unchanged, serverside-applied
  Json object;            // what the server returned (or the live object)
};

class Applier {
 public:
  Applier(ClientContext& ctx, const ApplyFlags& f) : ctx_(ctx), f_(f) {}

  Result<Outcome> Apply(const ManifestTarget& t) {
    return f_.server_side ? ServerSide(t) : ClientSide(t);
  }

 private:
  client::WriteOptions Options(const char* default_manager) const {
    client::WriteOptions o = f_.write.ToWriteOptions();
    o.field_manager = f_.field_manager.empty() ? default_manager : f_.field_manager;
    o.force = f_.force_conflicts;
    return o;
  }

  Result<Outcome> ServerSide(const ManifestTarget& t) {
    if (f_.write.dry_run == "client") return Outcome{"serverside-applied", t.object};
    auto r = ctx_.client().Patch(t.resource.ToResource(), t.ns, t.name, client::PatchType::kApply,
                                 t.object, Options(kServerSideManager));
    if (!r.ok()) return ServerError(r.error(), "error when applying \"" + t.source + "\"");
    return Outcome{"serverside-applied", std::move(*r)};
  }

  Result<Outcome> ClientSide(const ManifestTarget& t) {
    ModifiedConfiguration mc = GetModifiedConfiguration(t.object);
    client::WriteOptions opts = Options(kClientSideManager);
    const client::Resource res = t.resource.ToResource();
    for (int attempt = 1;; ++attempt) {
      auto live = ctx_.client().Get(res, t.ns, t.name);
      if (!live.ok() && live.error().code() != Code::kNotFound) {
        return ServerError(live.error(), "error when retrieving current configuration of \"" +
                                             t.source + "\"");
      }
      if (!live.ok()) {
        if (f_.write.dry_run == "client") return Outcome{"created", mc.modified};
        auto created = ctx_.client().Create(res, t.ns, mc.modified, opts);
        if (created.ok()) return Outcome{"created", std::move(*created)};
        if (created.error().code() == Code::kAlreadyExists && attempt < kMaxAttempts) continue;
        return ServerError(created.error(), "error when creating \"" + t.source + "\"");
      }
      Json original = LastAppliedOf(*live);
      if (original.is_null() && attempt == 1) {
        ctx_.err() << "Warning: resource " << t.resource.name << "/" << t.name
                   << " is missing the " << kLastAppliedAnnotation
                   << " annotation which is required by lintel apply. lintel apply should only "
                      "be used on resources created declaratively by either lintel create "
                      "--save-config or lintel apply. The missing annotation will be patched "
                      "automatically.\n";
      }
      Json patch = apimachinery::CreateThreeWayMergePatch(original, mc.modified, *live);
      if (patch.is_object() && patch.empty()) return Outcome{"unchanged", std::move(*live)};
      if (f_.write.dry_run == "client") return Outcome{"configured", std::move(*live)};
      auto patched = ctx_.client().Patch(res, t.ns, t.name, client::PatchType::kMerge, patch, opts);
      if (patched.ok()) return Outcome{"configured", std::move(*patched)};
      bool retry = (patched.error().code() == Code::kConflict ||
                    patched.error().code() == Code::kNotFound) &&
                   attempt < kMaxAttempts;
      if (!retry) {
        return ServerError(patched.error(), "error when applying patch to \"" + t.source + "\"");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50 * attempt));
    }
  }

  ClientContext& ctx_;
  const ApplyFlags& f_;
};

int RunApply(ClientContext& ctx, const ApplyFlags& f) {
  if (f.files.empty()) {
    return PrintError(ctx.err(), CliError("must specify one of -f and -k"));
  }
  if (f.force_conflicts && !f.server_side) {
    return PrintError(ctx.err(), CliError("--force-conflicts only works with --server-side"));
  }
  auto format = ParseOutputFormat(f.output);
  if (!format.ok()) return PrintError(ctx.err(), format.error());
  Status flags = f.write.Validate();
  if (!flags.ok()) return PrintError(ctx.err(), flags);
  auto manifests = ReadManifests(f.files, ctx.in(), f.recursive);
  if (!manifests.ok()) return PrintError(ctx.err(), CliError(manifests.error().message()));
  if (manifests->empty()) return PrintError(ctx.err(), CliError("no objects passed to apply"));
  Applier applier(ctx, f);
  int failures = 0;
  std::vector<Json> printed;
  for (auto& m : *manifests) {
    auto target = ResolveManifest(ctx, std::move(m));
    if (!target.ok()) {
      PrintError(ctx.err(), target.error());
      ++failures;
      continue;
    }
    auto outcome = applier.Apply(*target);
    if (!outcome.ok()) {
      PrintError(ctx.err(), outcome.error());
      ++failures;
      continue;
    }
    if (*format == OutputFormat::kYaml || *format == OutputFormat::kJson) {
      StripManagedFields(&outcome->object);
      printed.push_back(std::move(outcome->object));
    } else if (*format == OutputFormat::kName) {
      ctx.out() << ObjectRef(target->resource, target->name) << "\n";
    } else {
      ctx.out() << ObjectRef(target->resource, target->name) << " " << outcome->operation
                << f.write.DryRunSuffix() << "\n";
    }
    ctx.out().flush();
  }
  if (!printed.empty()) PrintObjects(ctx.out(), printed, *format, printed.size() == 1);
  return failures > 0 ? 1 : 0;
}

}  // namespace

void AddApplyCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto f = std::make_shared<ApplyFlags>();
  auto* cmd = app.add_subcommand("apply", "Apply a configuration to resources from files or stdin");
  cmd->add_option("-f,--filename", f->files, "File, directory or - (stdin); repeatable")
      ->allow_extra_args(false);
  cmd->add_flag("-R,--recursive", f->recursive, "Read directories recursively");
  cmd->add_flag("--server-side", f->server_side, "Server-side apply (fieldManager lintel)");
  cmd->add_flag("--force-conflicts", f->force_conflicts,
                "Server-side apply: take over fields other managers own");
  cmd->add_option("--field-manager", f->field_manager,
                  "Manager name (default lintel-client-side-apply, or lintel with --server-side)");
  cmd->add_option("-o,--output", f->output, "Print the objects: yaml, json or name");
  AddWriteFlags(cmd, &f->write);
  cmd->callback([f, run, &g] {
    *run = [f, &g] { return WithContext(g, [&](ClientContext& ctx) { return RunApply(ctx, *f); }); };
  });
}

}  // namespace lintel::cli
