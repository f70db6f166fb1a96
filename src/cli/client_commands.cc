// The client verbs, registered in the order `lintel --help` lists them.
#include "cli/commands.h"

namespace lintel::cli {

void AddClientCommands(CLI::App& app, GlobalOptions& g, Runner* run) {
  AddGetCommand(app, g, run);
  AddDescribeCommand(app, g, run);
  AddApplyCommand(app, g, run);
  AddCreateCommand(app, g, run);
  AddDeleteCommand(app, g, run);
  AddEditCommand(app, g, run);
  AddLabelCommand(app, g, run);
  AddAnnotateCommand(app, g, run);
  AddScaleCommand(app, g, run);
  AddWaitCommand(app, g, run);
  AddRolloutCommand(app, g, run);
  AddLogsCommand(app, g, run);
  AddPowerCommands(app, g, run);
  AddApiResourcesCommand(app, g, run);
}

}  // namespace lintel::cli
