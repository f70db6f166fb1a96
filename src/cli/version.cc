#include <iostream>

#include "cli/commands.h"

#ifndef LINTEL_VERSION
#define LINTEL_VERSION "0.1.0"
#endif
#ifndef LINTEL_GIT_COMMIT
#define LINTEL_GIT_COMMIT ""
#endif

namespace lintel::cli {

void AddVersionCommand(CLI::App& app, GlobalOptions&, Runner* run) {
  auto* cmd = app.add_subcommand("version", "Print the version");
  cmd->callback([run] {
    *run = [] {
      std::string commit = LINTEL_GIT_COMMIT;
      std::cout << "lintel " << LINTEL_VERSION << (commit.empty() ? "" : " (" + commit + ")")
                << "\n";
      return 0;
    };
  });
}

}  // namespace lintel::cli
