// lintel: server, agent and client in one binary.
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/commands.h"

int main(int argc, char** argv) {
  CLI::App app{"lintel: one control plane for virtual machines and containers", "lintel"};
  app.require_subcommand(1);
  lintel::cli::GlobalOptions g;
  app.add_option("--kubeconfig", g.kubeconfig, "Path to the kubeconfig file")
      ->envname("LINTEL_KUBECONFIG");
  app.add_option("--context", g.context, "The kubeconfig context to use");
  app.add_option("-n,--namespace", g.ns, "The namespace");
  app.add_flag("-v,--verbose", g.verbose, "Log more");
  app.fallthrough();
  lintel::cli::Runner run;
  lintel::cli::AddUpCommand(app, g, &run);
  lintel::cli::AddServerCommand(app, g, &run);
  lintel::cli::AddAgentCommand(app, g, &run);
  lintel::cli::AddVersionCommand(app, g, &run);
  lintel::cli::AddImageCommand(app, g, &run);
  lintel::cli::AddClientCommands(app, g, &run);
  lintel::cli::AddExecCommand(app, g, &run);
  lintel::cli::AddConsoleCommand(app, g, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (g.verbose) spdlog::set_level(spdlog::level::debug);
  if (!run) return lintel::cli::Fail("no command");
  try {
    return run();
  } catch (const std::exception& e) {
    return lintel::cli::Fail(e.what());
  }
}
