// The lintel command: one file per verb, each registering its subcommand on
// the CLI11 app. A verb's run function returns the process exit code; errors
// are printed as one line on stderr ("error: ...").
#pragma once

#include <CLI/CLI.hpp>
#include <string>

namespace lintel::cli {

// Options every command takes.
struct GlobalOptions {
  std::string kubeconfig;
  std::string context;
  std::string ns;
  bool verbose = false;
};

using Runner = std::function<int()>;

// Each Add* registers a subcommand and sets *run when it is chosen.
void AddServerCommand(CLI::App& app, GlobalOptions& g, Runner* run);
void AddVersionCommand(CLI::App& app, GlobalOptions& g, Runner* run);
// Client verbs (get, describe, apply, create, delete, edit, label, ...).
void AddClientCommands(CLI::App& app, GlobalOptions& g, Runner* run);

// Prints "error: <message>" to stderr and returns 1.
int Fail(const std::string& message);

}  // namespace lintel::cli
