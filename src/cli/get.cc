// lintel get: tables (the server renders them), yaml, json, names; -w to
// follow changes.
#include <mutex>

#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/fetch.h"
#include "cli/output.h"
#include "cli/resource_args.h"
#include "cli/table_printer.h"
#include "cli/text.h"
#include "cli/yaml_printer.h"

namespace lintel::cli {

namespace {

struct GetFlags {
  std::vector<std::string> args;
  std::string output;
  std::string selector;
  std::string field_selector;
  bool all_namespaces = false;
  bool watch = false;
  bool watch_only = false;
  bool show_labels = false;
  std::vector<std::string> label_columns;
  bool no_headers = false;
  bool show_managed_fields = false;
  bool ignore_not_found = false;
  int64_t chunk_size = kDefaultChunkSize;
};

std::string ResourceVersionOf(const Json& obj) {
  return StringAt(obj, "/metadata/resourceVersion");
}

class Getter {
 public:
  Getter(ClientContext& ctx, const GetFlags& f, OutputFormat format)
      : ctx_(ctx), f_(f), format_(format), tabs_(ctx.out(), 6, 3) {}

  int Run() {
    auto discovery = ctx_.discovery();
    if (!discovery.ok()) return PrintError(ctx_.err(), discovery.error());
    if (f_.args.empty()) {
      ctx_.err() << "You must specify the type of resource to get. Use \"lintel api-resources\" "
                    "for a complete list of supported resources.\n\n";
      return PrintError(ctx_.err(), CliError("Required resource not specified."));
    }
    auto requests = ParseResourceArgs(**discovery, f_.args, /*allow_categories=*/true);
    if (!requests.ok()) return PrintError(ctx_.err(), requests.error());
    for (const auto& req : *requests) {
      if (!req.names.empty() && !f_.selector.empty()) {
        return PrintError(ctx_.err(), CliError("name cannot be provided when a selector is "
                                               "specified"));
      }
    }
    if (f_.watch || f_.watch_only) {
      if (requests->size() != 1 || requests->front().names.size() > 1) {
        return PrintError(ctx_.err(), CliError("watch is only supported on individual resources "
                                               "and resource collections, but " +
                                               std::to_string(requests->size()) +
                                               " resources were found"));
      }
      return Watch(requests->front());
    }
    bool with_kind = requests->size() > 1;
    bool all_namespaced = true;
    bool any_collection = false;
    for (const auto& req : *requests) {
      all_namespaced = all_namespaced && req.resource.namespaced;
      any_collection = any_collection || req.names.empty();
      if (IsTableFormat()) {
        PrintTables(req, with_kind);
      } else {
        CollectObjects(req);
      }
    }
    if (!IsTableFormat()) {
      bool single = requests->size() == 1 && requests->front().names.size() == 1;
      if (format_ == OutputFormat::kName) {
        for (const auto& [r, obj] : objects_) {
          ctx_.out() << ObjectRef(r, StringAt(obj, "/metadata/name")) << "\n";
        }
      } else if (!(single && objects_.empty())) {
        std::vector<Json> objs;
        for (auto& [r, obj] : objects_) objs.push_back(std::move(obj));
        PrintObjects(ctx_.out(), objs, format_, single);
      }
    } else {
      tabs_.Flush();
      if (rows_ == 0 && any_collection && failures_ == 0) {
        if (!f_.all_namespaces && all_namespaced) {
          ctx_.err() << "No resources found in " << ctx_.ns() << " namespace.\n";
        } else {
          ctx_.err() << "No resources found\n";
        }
      }
    }
    ctx_.out().flush();
    return failures_ > 0 ? 1 : 0;
  }

 private:
  bool IsTableFormat() const {
    return format_ == OutputFormat::kTable || format_ == OutputFormat::kWide;
  }

  std::string Namespace(const ApiResource& r) const {
    if (!r.namespaced || f_.all_namespaces) return "";
    return ctx_.ns();
  }

  client::ListOptions ListOpts() const {
    client::ListOptions o;
    o.label_selector = f_.selector;
    o.field_selector = f_.field_selector;
    o.limit = f_.chunk_size;
    return o;
  }

  TablePrintOptions PrintOptions(const ApiResource& r, bool with_kind) const {
    TablePrintOptions o;
    o.wide = format_ == OutputFormat::kWide;
    o.with_namespace = f_.all_namespaces && r.namespaced;
    o.show_labels = f_.show_labels;
    o.no_headers = f_.no_headers;
    for (const auto& l : f_.label_columns) {
      for (const auto& key : Split(l, ',')) {
        if (!key.empty()) o.label_columns.push_back(key);
      }
    }
    if (with_kind) o.kind_prefix = r.KindGroup();
    return o;
  }

  void ReportError(const Status& s) {
    if (f_.ignore_not_found && s.code() == Code::kNotFound) return;
    tabs_.Flush();
    ctx_.out().flush();
    PrintError(ctx_.err(), ServerError(s));
    ++failures_;
  }

  // Rows of one request; a blank line before a second table, as kubectl.
  void PrintTables(const ResourceRequest& req, bool with_kind) {
    TablePrinter printer(tabs_, PrintOptions(req.resource, with_kind));
    auto print = [&](const Json& table) {
      if (!printer.header_printed() && rows_ > 0 && TableHasRows(table)) tabs_.Write("\n");
      rows_ += printer.Print(table);
    };
    if (req.names.empty()) {
      auto table = ListTable(ctx_.client(), req.resource, Namespace(req.resource), ListOpts());
      if (!table.ok()) return ReportError(table.error());
      print(*table);
      return;
    }
    for (const auto& name : req.names) {
      auto table = GetTable(ctx_.client(), req.resource, ctx_.NamespaceFor(req.resource), name);
      if (!table.ok()) {
        ReportError(table.error());
        continue;
      }
      print(*table);
    }
  }

  static bool TableHasRows(const Json& table) {
    return table.contains("rows") && table["rows"].is_array() && !table["rows"].empty();
  }

  void AddObject(const ApiResource& r, Json obj) {
    if (!f_.show_managed_fields) StripManagedFields(&obj);
    if (!obj.contains("apiVersion")) obj["apiVersion"] = r.GroupVersion();
    if (!obj.contains("kind")) obj["kind"] = r.kind;
    objects_.emplace_back(r, std::move(obj));
  }

  void CollectObjects(const ResourceRequest& req) {
    if (req.names.empty()) {
      auto list = ListAll(ctx_.client(), req.resource, Namespace(req.resource), ListOpts());
      if (!list.ok()) return ReportError(list.error());
      for (auto& item : (*list)["items"]) AddObject(req.resource, std::move(item));
      return;
    }
    for (const auto& name : req.names) {
      auto obj = ctx_.client().Get(req.resource.ToResource(), ctx_.NamespaceFor(req.resource),
                                   name);
      if (!obj.ok()) {
        ReportError(obj.error());
        continue;
      }
      AddObject(req.resource, std::move(*obj));
    }
  }

  // -w: the list (unless --watch-only), then every change, until interrupted
  // or the connection fails. A 410 (the list's resourceVersion is too old)
  // lists again and resumes from there.
  int Watch(const ResourceRequest& req) {
    const ApiResource& r = req.resource;
    std::string ns = req.names.empty() ? Namespace(r) : ctx_.NamespaceFor(r);
    client::ListOptions opts = ListOpts();
    if (!req.names.empty()) opts.field_selector = "metadata.name=" + req.names[0];
    TablePrinter printer(tabs_, PrintOptions(r, false));
    // Rows arrive one flush at a time; keep them under the header's columns.
    tabs_.set_remember_widths(true);
    bool print_list = !f_.watch_only;
    std::string rv;
    auto relist = [&](bool print) -> Status {
      if (IsTableFormat()) {
        auto table = ListTable(ctx_.client(), r, ns, opts);
        if (!table.ok()) return table.error();
        rv = StringAt(*table, "/metadata/resourceVersion");
        if (print) printer.Print(*table);
        tabs_.Flush();
        if (print && !TableHasRows(*table) && !req.names.empty()) {
          return Status(Code::kNotFound, r.GroupResource() + " \"" + req.names[0] +
                                             "\" not found");
        }
      } else {
        auto list = ListAll(ctx_.client(), r, ns, opts);
        if (!list.ok()) return list.error();
        rv = StringAt(*list, "/metadata/resourceVersion");
        if (print) {
          for (auto& item : (*list)["items"]) PrintWatchedObject(r, std::move(item));
        }
      }
      ctx_.out().flush();
      return Status::Ok();
    };
    if (Status s = relist(print_list); !s.ok()) return PrintError(ctx_.err(), ServerError(s));
    while (true) {
      client::ListOptions wopts = opts;
      wopts.limit = 0;
      wopts.resource_version = rv;
      wopts.allow_bookmarks = true;
      bool expired = false;
      std::string error;
      std::mutex mu;
      auto on_line = [&](std::string_view line) {
        std::lock_guard<std::mutex> lock(mu);
        if (TrimSpace(line).empty()) return true;
        auto ev = ParseJson(line);
        if (!ev.ok() || !ev->is_object()) return true;
        std::string type = ev->value("type", "");
        Json& object = (*ev)["object"];
        if (type == "ERROR") {
          Status s = client::StatusFromObject(object);
          if (s.code() == Code::kGone) {
            expired = true;
          } else {
            error = ServerErrorLine(s);
          }
          return false;
        }
        if (type == "BOOKMARK") {
          std::string brv = ResourceVersionOf(object);
          if (!brv.empty()) rv = brv;
          return true;
        }
        if (IsTableFormat()) {
          if (object.value("kind", "") != "Table") object = TableFromObjects(object);
          if (TableHasRows(object)) {
            std::string orv = StringAt(object["rows"][0], "/object/metadata/resourceVersion");
            if (!orv.empty()) rv = orv;
          }
          printer.Print(object);
          tabs_.Flush();
        } else {
          std::string orv = ResourceVersionOf(object);
          if (!orv.empty()) rv = orv;
          PrintWatchedObject(r, std::move(object));
        }
        ctx_.out().flush();
        return true;
      };
      std::string target = client::RestClient::ResourcePath(r.ToResource(), ns) +
                           ListQuery(wopts, /*watch=*/true);
      client::HttpHeaders headers{
          {"Accept", IsTableFormat() ? kTableAccept : "application/json"}};
      auto resp = ctx_.client().http().DoStream("GET", target, headers, {}, on_line);
      if (!resp.ok()) return PrintError(ctx_.err(), ServerError(resp.error()));
      if (resp->status == 410) {
        expired = true;
      } else if (resp->status < 200 || resp->status > 299) {
        return PrintError(ctx_.err(),
                          ServerError(client::DecodeErrorResponse(resp->status, resp->body)));
      } else {
        Status s = resp->stream->Wait();
        if (!s.ok()) return PrintError(ctx_.err(), ServerError(s));
      }
      if (!error.empty()) return PrintError(ctx_.err(), Status(Code::kInternal, error));
      if (expired) {
        if (Status s = relist(true); !s.ok()) return PrintError(ctx_.err(), ServerError(s));
      }
      // A clean end (the server's timeout): resume from the last version seen.
    }
  }

  void PrintWatchedObject(const ApiResource& r, Json obj) {
    if (!f_.show_managed_fields) StripManagedFields(&obj);
    switch (format_) {
      case OutputFormat::kName:
        ctx_.out() << ObjectRef(r, StringAt(obj, "/metadata/name")) << "\n";
        break;
      case OutputFormat::kJson:
        ctx_.out() << PrettyJson(obj);
        break;
      default:
        if (watched_ > 0) ctx_.out() << "---\n";
        ctx_.out() << KubectlYaml(obj);
        break;
    }
    ++watched_;
  }

  ClientContext& ctx_;
  const GetFlags& f_;
  OutputFormat format_;
  TabWriter tabs_;
  size_t rows_ = 0;
  int failures_ = 0;
  size_t watched_ = 0;
  std::vector<std::pair<ApiResource, Json>> objects_;
};

}  // namespace

void AddGetCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto f = std::make_shared<GetFlags>();
  auto* cmd = app.add_subcommand("get", "Display one or many resources");
  cmd->add_option("args", f->args, "TYPE[,TYPE...] [NAME...] | TYPE/NAME...");
  cmd->add_option("-o,--output", f->output, "Output format: wide, yaml, json or name");
  cmd->add_option("-l,--selector", f->selector, "Label selector (e.g. -l app=web,tier!=db)");
  cmd->add_option("--field-selector", f->field_selector,
                  "Field selector (e.g. --field-selector metadata.name=x)");
  cmd->add_flag("-A,--all-namespaces", f->all_namespaces, "List across all namespaces");
  cmd->add_flag("-w,--watch", f->watch, "After listing, watch for changes");
  cmd->add_flag("--watch-only", f->watch_only, "Watch for changes without listing first");
  cmd->add_flag("--show-labels", f->show_labels, "Add a LABELS column");
  cmd->add_option("-L,--label-columns", f->label_columns,
                  "Add a column with the value of each label key (repeatable, comma-separated)");
  cmd->add_flag("--no-headers", f->no_headers, "Do not print the header line");
  cmd->add_flag("--show-managed-fields", f->show_managed_fields,
                "Keep metadata.managedFields in yaml and json output");
  cmd->add_flag("--ignore-not-found", f->ignore_not_found, "Do not report missing objects");
  cmd->add_option("--chunk-size", f->chunk_size, "List in pages of this many objects")
      ->capture_default_str();
  cmd->callback([f, run, &g] {
    *run = [f, &g] {
      return WithContext(g, [&](ClientContext& ctx) {
        auto format = ParseOutputFormat(f->output);
        if (!format.ok()) return PrintError(ctx.err(), format.error());
        return Getter(ctx, *f, *format).Run();
      });
    };
  });
}

}  // namespace lintel::cli
