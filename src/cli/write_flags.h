// The flags every writing verb shares: --dry-run and --validate, and how
// they reach the server (dryRun=All, fieldValidation=Strict|Warn|Ignore).
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "client/client.h"
#include "common/status.h"

namespace lintel::cli {

struct WriteFlags {
  std::string dry_run = "none";    // none, server, client
  std::string validate = "strict";  // strict, warn, ignore, true, false

  // CliError for values kubectl would refuse.
  Status Validate() const;
  client::WriteOptions ToWriteOptions() const;
  // " (server dry run)", " (dry run)" or "".
  std::string DryRunSuffix() const;
};

// --dry-run=none|server|client and --validate.
void AddWriteFlags(CLI::App* cmd, WriteFlags* flags, bool with_validate = true);

}  // namespace lintel::cli
