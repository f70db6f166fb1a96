// lintel console vm/NAME: attaches the terminal to a VM's serial console
// through the API server and its host's agent (a WebSocket on
// virtualmachines/NAME/console carrying raw bytes). Ctrl-] detaches.
#include <unistd.h>

#include <iostream>

#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/terminal.h"
#include "client/rest_client.h"
#include "client/url.h"
#include "server/http/websocket.h"

namespace lintel::cli {

namespace {

constexpr char kDetach = 0x1d;  // Ctrl-]

int RunConsole(ClientContext& ctx, const std::string& target_arg) {
  std::string name = target_arg;
  if (size_t slash = name.find('/'); slash != std::string::npos) {
    std::string type = name.substr(0, slash);
    if (type != "vm" && type != "vms" && type != "virtualmachine" && type != "virtualmachines") {
      return PrintError(ctx.err(), CliError("consoles are for vms, not " + type));
    }
    name = name.substr(slash + 1);
  }
  if (name.empty()) return PrintError(ctx.err(), CliError("a VM name is required"));
  std::string target = "/apis/lintel.dev/v1alpha1/namespaces/" + client::UrlEncode(ctx.ns()) +
                       "/virtualmachines/" + client::UrlEncode(name) + "/console";
  auto dial = http::DialWebSocket(ctx.client().http().options(), target, {});
  if (!dial.ok()) return PrintError(ctx.err(), ServerError(dial.error()));
  if (!dial->socket) {
    return PrintError(ctx.err(),
                      ServerError(client::DecodeErrorResponse(dial->status, dial->body)));
  }
  std::shared_ptr<http::WebSocket> ws = dial->socket;
  ctx.err() << "Connected to the console of vm/" << name << " (Ctrl-] to detach)\n";
  ctx.err().flush();
  RawTerminal raw(STDIN_FILENO);
  ReadStdinDetached([ws](std::string_view data) {
    if (data.empty()) return false;  // stdin ended: keep showing output
    size_t stop = data.find(kDetach);
    if (stop != std::string_view::npos) {
      if (stop > 0) ws->Write(std::string(data.substr(0, stop)));
      ws->Close();
      return false;
    }
    return ws->Write(std::string(data));
  });
  while (auto m = ws->Read()) {
    std::string_view data = *m;
    while (!data.empty()) {
      ssize_t n = ::write(STDOUT_FILENO, data.data(), data.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      data.remove_prefix(static_cast<size_t>(n));
    }
  }
  if (raw.active()) ctx.err() << "\r\n";
  return 0;
}

}  // namespace

void AddConsoleCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto target = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand(
      "console", "Attach to a VM's serial console (through its host's agent); Ctrl-] detaches");
  cmd->add_option("VM", *target, "vm/NAME or NAME")->required();
  cmd->callback([target, run, &g] {
    *run = [target, &g] {
      return WithContext(g, [&](ClientContext& ctx) { return RunConsole(ctx, *target); });
    };
  });
}

}  // namespace lintel::cli
