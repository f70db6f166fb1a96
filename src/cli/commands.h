// The lintel command: one file per verb, each registering its subcommand on
// the CLI11 app. A verb's run function returns the process exit code; errors
// are printed as one line on stderr ("error: ...", or kubectl's
// "Error from server (Reason): ..." for errors the API server returned).
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>
#include <string>

namespace lintel::cli {

// Options every command takes, and where commands read and write (the
// process's streams; tests point them elsewhere).
struct GlobalOptions {
  std::string kubeconfig;
  std::string context;
  std::string ns;
  bool verbose = false;

  std::istream* in = &std::cin;
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;
};

using Runner = std::function<int()>;

// Each Add* registers a subcommand and sets *run when it is chosen.
void AddServerCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddAgentCommand(CLI::App& app, GlobalOptions& g, Runner* run);
// lintel up: the server and this machine's agent in one process.
void AddUpCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddVersionCommand(CLI::App& app, GlobalOptions& g, Runner* run);
// lintel image import|pull|ls|rm|prune, on the local image store.
void AddImageCommand(CLI::App& app, GlobalOptions& g, Runner* run);
// Client verbs (get, describe, apply, create, delete, edit, label, ...).
void AddClientCommands(CLI::App& app, GlobalOptions& g, Runner* run);

void AddGetCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddDescribeCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddApplyCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddCreateCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddDeleteCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddEditCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddLabelCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddAnnotateCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddScaleCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddApiResourcesCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddWaitCommand(CLI::App& app, GlobalOptions& g, Runner* run);
// lintel rollout status|restart|pause|resume deployment/NAME.
void AddRolloutCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddLogsCommand(CLI::App& app, GlobalOptions& g, Runner* run);
// lintel exec [-i] [-t] [-c C] POD -- COMMAND...; lintel console vm/NAME.
void AddExecCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddConsoleCommand(CLI::App& app, GlobalOptions& g, Runner* run);
// lintel start|stop|restart|pause|unpause vm/NAME.
void AddPowerCommands(CLI::App& app, GlobalOptions& g, Runner* run);

// Prints "error: <message>" to stderr and returns 1.
int Fail(const std::string& message);

}  // namespace lintel::cli
