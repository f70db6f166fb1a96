// lintel exec: runs a command in a Pod's container through the API server and
// the agent of its host (a WebSocket on pods/NAME/exec speaking
// v5.channel.k8s.io, as kubectl exec does), and exits with its exit code.
#include <unistd.h>

#include <iostream>
#include <mutex>

#include "cli/client_context.h"
#include "cli/commands.h"
#include "cli/errors.h"
#include "cli/terminal.h"
#include "client/rest_client.h"
#include "client/url.h"
#include "server/http/remote_command.h"
#include "server/http/websocket.h"

namespace lintel::cli {

namespace {

namespace rc = http::remotecommand;

struct ExecFlags {
  std::string target;
  std::vector<std::string> command;
  std::string container;
  bool stdin = false;
  bool tty = false;
};

void WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    data.remove_prefix(static_cast<size_t>(n));
  }
}

int RunExec(ClientContext& ctx, const ExecFlags& f) {
  std::string name = f.target;
  if (size_t slash = name.find('/'); slash != std::string::npos) {
    std::string type = name.substr(0, slash);
    if (type != "pod" && type != "pods" && type != "po") {
      return PrintError(ctx.err(), CliError("exec runs in pods, not " + type));
    }
    name = name.substr(slash + 1);
  }
  if (name.empty()) return PrintError(ctx.err(), CliError("a pod name is required"));
  if (f.command.empty()) {
    return PrintError(ctx.err(), CliError("a command is required: lintel exec POD -- COMMAND"));
  }
  const bool tty = f.tty && f.stdin && ::isatty(STDIN_FILENO);
  if (f.tty && !tty) {
    ctx.err() << "Unable to use a TTY - " << (f.stdin ? "input is not a terminal" : "add -i")
              << "\n";
  }
  std::string target = "/apis/lintel.dev/v1alpha1/namespaces/" + client::UrlEncode(ctx.ns()) +
                       "/pods/" + client::UrlEncode(name) + "/exec?stdout=true";
  target += tty ? "&tty=true" : "&stderr=true";
  if (f.stdin) target += "&stdin=true";
  if (!f.container.empty()) target += "&container=" + client::UrlEncode(f.container);
  for (const auto& c : f.command) target += "&command=" + client::UrlEncode(c);

  auto dial = http::DialWebSocket(ctx.client().http().options(), target,
                                  {std::string(rc::kV5), std::string(rc::kV4)});
  if (!dial.ok()) return PrintError(ctx.err(), ServerError(dial.error()));
  if (!dial->socket) {
    return PrintError(ctx.err(),
                      ServerError(client::DecodeErrorResponse(dial->status, dial->body)));
  }
  std::shared_ptr<http::WebSocket> ws = dial->socket;
  const bool v5 = ws->subprotocol() == rc::kV5;

  std::optional<RawTerminal> raw;
  std::optional<ResizeWatcher> resizes;
  if (tty) {
    raw.emplace(STDIN_FILENO);
    auto send_size = [ws] {
      if (auto size = TerminalSize(STDIN_FILENO)) {
        ws->Write(rc::Frame(rc::kResize, rc::ResizeMessage(size->first, size->second)));
      }
    };
    send_size();
    resizes.emplace(send_size);
  }
  if (f.stdin) {
    ReadStdinDetached([ws, v5](std::string_view data) {
      if (data.empty()) {
        if (v5) ws->Write(rc::Frame(rc::kClose, std::string(1, static_cast<char>(rc::kStdin))));
        return false;
      }
      return ws->Write(rc::Frame(rc::kStdin, data));
    });
  }
  std::optional<std::string> status;
  while (auto m = ws->Read()) {
    auto msg = rc::Parse(*m);
    if (!msg) continue;
    if (msg->channel == rc::kStdout) WriteAll(STDOUT_FILENO, msg->data);
    if (msg->channel == rc::kStderr) WriteAll(STDERR_FILENO, msg->data);
    if (msg->channel == rc::kError) status = std::string(msg->data);
  }
  resizes.reset();
  raw.reset();
  if (!status) {
    return PrintError(ctx.err(), CliError("the connection ended before the command did"));
  }
  auto code = rc::ExitCodeOf(*status);
  if (!code.ok()) return PrintError(ctx.err(), ServerError(code.error()));
  return *code;
}

}  // namespace

void AddExecCommand(CLI::App& app, GlobalOptions& g, Runner* run) {
  auto f = std::make_shared<ExecFlags>();
  auto* cmd = app.add_subcommand(
      "exec", "Run a command in a Pod's container (through its host's agent), as kubectl exec");
  cmd->add_option("POD", f->target, "POD or pod/POD")->required();
  cmd->add_option("COMMAND", f->command, "The command and its arguments, after --")->required();
  cmd->add_option("-c,--container", f->container,
                  "The container (required if the Pod has several)");
  cmd->add_flag("-i,--stdin", f->stdin, "Pass stdin to the command");
  cmd->add_flag("-t,--tty", f->tty, "Run it on a terminal (with -i, when stdin is one)");
  cmd->callback([f, run, &g] {
    *run = [f, &g] { return WithContext(g, [&](ClientContext& ctx) { return RunExec(ctx, *f); }); };
  });
}

}  // namespace lintel::cli
