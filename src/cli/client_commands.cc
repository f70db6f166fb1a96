// Placeholder registration until the client verbs land (get, apply, ...).
#include "cli/commands.h"

namespace lintel::cli {

void AddClientCommands(CLI::App&, GlobalOptions&, Runner*) {}

}  // namespace lintel::cli
