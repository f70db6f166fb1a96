// lintel edit: the object as YAML in $KUBE_EDITOR, $EDITOR or vi; on save a
// merge patch of the changes, guarded by the resourceVersion it was read at.
//
//   GET ─> write file ─> editor ─> unchanged? ──yes──> "Edit cancelled, no changes made."
//              ^                      │no
//              │                   parse ─error─┐
//              │                      │         │
//              └── header with error ─┴─ PATCH ─┴─ Invalid/BadRequest
//                                        │ok
//                                     "edited"
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "apimachinery/patch.h"
#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/output.h"
#include "cli/resource_args.h"
#include "cli/text.h"
#include "cli/yaml_printer.h"
#include "common/fs.h"

namespace lintel::cli {

namespace {

constexpr char kHeader[] =
    "# Please edit the object below. Lines beginning with a '#' will be ignored,\n"
    "# and an empty file will abort the edit. If an error occurs while saving this file will be\n"
    "# reopened with the relevant failures.\n"
    "#\n";

struct EditFlags {
  std::vector<std::string> args;
  std::string output = "yaml";
  std::string field_manager = "lintel-edit";
  std::string validate = "strict";
};

// kubectl's ManualStrip: the text without comment lines ("#!" lines stay).
// Only used to tell an empty file and to compare files that do not parse;
// parsing drops comments properly, without touching "#" lines inside
// block scalars.
std::string StripComments(std::string_view text) {
  std::string out;
  std::vector<std::string> lines = Split(text, '\n');
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string_view t = TrimSpace(lines[i]);
    if (StartsWith(t, "#") && !StartsWith(t, "#!")) continue;
    out += lines[i];
    if (i + 1 < lines.size()) out += '\n';
  }
  return out;
}

// The text after the comment block at its top (our header, possibly edited).
std::string DropHeader(std::string_view text) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    std::string_view line = text.substr(pos, end == std::string_view::npos ? end : end - pos);
    if (!StartsWith(TrimSpace(line), "#")) break;
    pos = end == std::string_view::npos ? text.size() : end + 1;
  }
  return std::string(text.substr(pos));
}

std::string EditorCommand() {
  for (const char* var : {"KUBE_EDITOR", "EDITOR"}) {
    const char* v = std::getenv(var);  // NOLINT(concurrency-mt-unsafe): single-threaded here
    if (v != nullptr && *v != '\0') return v;
  }
  return "vi";
}

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

Result<std::string> TempFile(const std::string& suffix) {
  const char* dir = std::getenv("TMPDIR");  // NOLINT(concurrency-mt-unsafe)
  std::string tmpl = std::string(dir && *dir ? dir : "/tmp") + "/lintel-edit-XXXXXX" + suffix;
  int fd = ::mkstemps(tmpl.data(), static_cast<int>(suffix.size()));
  if (fd < 0) return CliError("cannot create a temporary file in " + tmpl);
  ::close(fd);
  return tmpl;
}

// Comment lines describing why the last save failed.
std::string ErrorHeader(const ApiResource& r, const std::string& name, const Status& s) {
  std::string out = "# " + r.GroupResource() + " \"" + name + "\" was not valid:\n";
  if (s.causes().empty()) {
    out += "# * " + s.message() + "\n";
  } else {
    for (const auto& c : s.causes()) {
      out += "# * " + (c.field.empty() ? c.message : c.field + ": " + c.message) + "\n";
    }
  }
  return out + "#\n";
}

int EditOne(ClientContext& ctx, const EditFlags& f, const ApiResource& r, const std::string& name) {
  const client::Resource res = r.ToResource();
  std::string ns = ctx.NamespaceFor(r);
  auto live = ctx.client().Get(res, ns, name);
  if (!live.ok()) return PrintError(ctx.err(), ServerError(live.error()));
  Json original = std::move(*live);
  StripManagedFields(&original);
  bool json = f.output == "json";
  std::string rendered = json ? PrettyJson(original) : KubectlYaml(original);
  auto file = TempFile(json ? ".json" : ".yaml");
  if (!file.ok()) return PrintError(ctx.err(), file.error());
  std::string body = rendered;        // what the user sees under the header
  std::string header = kHeader;
  Json previous_attempt;              // what the last failed save held
  bool failed_before = false;
  while (true) {
    if (Status s = WriteFileAtomic(*file, header + body, 0600); !s.ok()) {
      return PrintError(ctx.err(), CliError("write " + *file + ": " + s.message()));
    }
    std::string command = EditorCommand() + " " + ShellQuote(*file);
    int rc = std::system(command.c_str());  // NOLINT(concurrency-mt-unsafe)
    if (rc != 0) {
      return PrintError(ctx.err(), CliError("there was a problem with the editor \"" +
                                            EditorCommand() + "\""));
    }
    auto edited_text = ReadFile(*file);
    if (!edited_text.ok()) return PrintError(ctx.err(), CliError(edited_text.error().message()));
    // Comments go with parsing; a file that does not parse is compared as
    // text without its comment lines.
    auto edited = ParseYaml(*edited_text);
    Json attempt = edited.ok() ? *edited : Json(StripComments(*edited_text));
    if (failed_before && attempt == previous_attempt) {
      ctx.err() << "error: Edit cancelled, no valid changes were saved.\n"
                << "A copy of your changes has been stored to \"" << *file << "\"\n";
      return 1;
    }
    if (edited.ok() && *edited == original) {
      std::remove(file->c_str());
      ctx.err() << "Edit cancelled, no changes made.\n";
      return 0;
    }
    if (TrimSpace(StripComments(*edited_text)).empty() || (edited.ok() && edited->is_null())) {
      std::remove(file->c_str());
      ctx.err() << "Edit cancelled, saved file was empty.\n";
      return 0;
    }
    Status failure;
    if (!edited.ok() || !edited->is_object()) {
      failure = BadRequest(edited.ok() ? "the document is not an object" : edited.error().message());
      header = std::string(kHeader) + "# The edited file had a syntax error: " +
               Split(failure.message(), '\n')[0] + "\n#\n";
    } else if (edited->value("apiVersion", "") != original.value("apiVersion", "") ||
               edited->value("kind", "") != original.value("kind", "") ||
               StringAt(*edited, "/metadata/name") != name) {
      failure = BadRequest("At least one of apiVersion, kind and name was changed");
      header = std::string(kHeader) + ErrorHeader(r, name, failure);
    } else {
      Json patch = apimachinery::CreateMergePatch(original, *edited);
      if (patch.is_object() && patch.empty()) {
        std::remove(file->c_str());
        ctx.err() << "Edit cancelled, no changes made.\n";
        return 0;
      }
      // The version it was read at: a concurrent change makes this a 409.
      patch["metadata"]["resourceVersion"] = StringAt(original, "/metadata/resourceVersion");
      client::WriteOptions opts;
      opts.field_manager = f.field_manager;
      opts.field_validation = f.validate == "warn"     ? "Warn"
                              : f.validate == "ignore" || f.validate == "false" ? "Ignore"
                                                                                : "Strict";
      auto patched = ctx.client().Patch(res, ns, name, client::PatchType::kMerge, patch, opts);
      if (patched.ok()) {
        std::remove(file->c_str());
        ctx.out() << ObjectRef(r, name) << " edited\n";
        return 0;
      }
      failure = patched.error();
      if (failure.code() != Code::kInvalid && failure.code() != Code::kBadRequest) {
        PrintError(ctx.err(), ServerError(failure));
        ctx.err() << "A copy of your changes has been stored to \"" << *file << "\"\n";
        return 1;
      }
      header = std::string(kHeader) + ErrorHeader(r, name, failure);
    }
    failed_before = true;
    previous_attempt = std::move(attempt);
    body = DropHeader(*edited_text);
  }
}

int RunEdit(ClientContext& ctx, const EditFlags& f) {
  if (f.output != "yaml" && f.output != "json") {
    return PrintError(ctx.err(), CliError("the edit mode must be yaml or json"));
  }
  auto discovery = ctx.discovery();
  if (!discovery.ok()) return PrintError(ctx.err(), discovery.error());
  auto requests = ParseResourceArgs(**discovery, f.args, /*allow_categories=*/false);
  if (!requests.ok()) return PrintError(ctx.err(), requests.error());
  int failures = 0;
  for (const auto& req : *requests) {
    if (req.names.empty()) {
      return PrintError(ctx.err(), CliError("resource(s) were provided, but no name was "
                                            "specified"));
    }
    for (const auto& name : req.names) failures += EditOne(ctx, f, req.resource, name);
  }
  return failures > 0 ? 1 : 0;
}

}  // namespace

void AddEditCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto f = std::make_shared<EditFlags>();
  auto* cmd = app.add_subcommand("edit", "Edit a resource in $KUBE_EDITOR, $EDITOR or vi");
  cmd->add_option("args", f->args, "TYPE NAME... | TYPE/NAME...");
  cmd->add_option("-o,--output", f->output, "Edit as yaml or json")->capture_default_str();
  cmd->add_option("--field-manager", f->field_manager, "Manager name")->capture_default_str();
  cmd->add_option("--validate", f->validate, "strict, warn or ignore")->capture_default_str();
  cmd->callback([f, run, &g] {
    *run = [f, &g] { return WithContext(g, [&](ClientContext& ctx) { return RunEdit(ctx, *f); }); };
  });
}

}  // namespace lintel::cli
