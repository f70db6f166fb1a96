// lintel logs: a Pod container's log, or a VirtualMachine's serial console
// log, read through the API server from the agent of its host (GET
// pods/NAME/log, as kubectl logs; GET virtualmachines/NAME/log).
#include <iostream>

#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "client/rest_client.h"

namespace lintel::cli {

namespace {

struct LogsFlags {
  std::string target;
  std::string container;
  bool follow = false;
  bool previous = false;
  bool timestamps = false;
  int64_t tail = -1;
};

std::string QueryEscape(std::string_view s) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

int RunLogs(ClientContext& ctx, const LogsFlags& f) {
  std::string name = f.target;
  std::string plural = "pods";
  if (size_t slash = name.find('/'); slash != std::string::npos) {
    std::string type = name.substr(0, slash);
    name = name.substr(slash + 1);
    if (type == "vm" || type == "vms" || type == "virtualmachine" || type == "virtualmachines") {
      plural = "virtualmachines";
      if (f.previous || !f.container.empty()) {
        return PrintError(ctx.err(), CliError("a VM has one console log: no --previous or "
                                              "--container"));
      }
    } else if (type != "pod" && type != "pods" && type != "po") {
      return PrintError(ctx.err(), CliError("logs are kept for pods and vms, not " + type));
    }
  }
  if (name.empty()) return PrintError(ctx.err(), CliError("a name is required"));
  std::string path = "/apis/lintel.dev/v1alpha1/namespaces/" + QueryEscape(ctx.ns()) + "/" +
                     plural + "/" + QueryEscape(name) + "/log";
  std::string query;
  auto add = [&query](const std::string& kv) { query += (query.empty() ? "?" : "&") + kv; };
  if (!f.container.empty()) add("container=" + QueryEscape(f.container));
  if (f.follow) add("follow=true");
  if (f.previous) add("previous=true");
  if (f.timestamps) add("timestamps=true");
  if (f.tail >= 0) add("tailLines=" + std::to_string(f.tail));
  client::HttpClient& http = ctx.client().http();
  std::ostream& out = ctx.out();
  auto r = http.DoStream("GET", path + query, {}, "", [&out](std::string_view line) {
    out << line << '\n';
    out.flush();
    return out.good();
  });
  if (!r.ok()) return PrintError(ctx.err(), ServerError(r.error()));
  if (r->status / 100 != 2) {
    return PrintError(ctx.err(), ServerError(client::DecodeErrorResponse(r->status, r->body)));
  }
  Status s = r->stream->Wait();
  if (!s.ok()) return PrintError(ctx.err(), ServerError(s));
  return 0;
}

}  // namespace

void AddLogsCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto f = std::make_shared<LogsFlags>();
  auto* cmd = app.add_subcommand(
      "logs", "Print a Pod container's log or a VM's console log (through its host's agent)");
  cmd->add_option("NAME", f->target, "POD, pod/POD or vm/VM")->required();
  cmd->add_option("-c,--container", f->container,
                  "The container (required if the Pod has several)");
  cmd->add_flag("-f,--follow", f->follow, "Keep printing until the container (or VM) ends");
  cmd->add_flag("-p,--previous", f->previous, "The container's previous run");
  cmd->add_flag("--timestamps", f->timestamps, "Prefix each line with its time (RFC 3339)");
  cmd->add_option("--tail", f->tail, "Only the last N lines (-1: all)")->capture_default_str();
  cmd->callback([f, run, &g] {
    *run = [f, &g] { return WithContext(g, [&](ClientContext& ctx) { return RunLogs(ctx, *f); }); };
  });
}

}  // namespace lintel::cli
