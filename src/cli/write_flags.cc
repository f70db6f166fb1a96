#include "cli/write_flags.h"

#include "cli/errors.h"

namespace lintel::cli {

Status WriteFlags::Validate() const {
  if (dry_run != "none" && dry_run != "server" && dry_run != "client") {
    return CliError("Invalid dry-run value (" + dry_run +
                    "). Must be \"none\", \"server\", or \"client\".");
  }
  if (validate != "strict" && validate != "warn" && validate != "ignore" && validate != "true" &&
      validate != "false") {
    return CliError("invalid - validate option \"" + validate +
                    "\"; must be one of: strict (or true), warn, ignore (or false)");
  }
  return Status::Ok();
}

client::WriteOptions WriteFlags::ToWriteOptions() const {
  client::WriteOptions o;
  o.dry_run = dry_run == "server";
  if (validate == "strict" || validate == "true") {
    o.field_validation = "Strict";
  } else if (validate == "warn") {
    o.field_validation = "Warn";
  } else {
    o.field_validation = "Ignore";
  }
  return o;
}

std::string WriteFlags::DryRunSuffix() const {
  if (dry_run == "server") return " (server dry run)";
  if (dry_run == "client") return " (dry run)";
  return "";
}

void AddWriteFlags(CLI::App* cmd, WriteFlags* flags, bool with_validate) {
  cmd->add_option("--dry-run", flags->dry_run,
                  "none, server (the server checks, nothing is stored) or client")
      ->capture_default_str();
  if (with_validate) {
    cmd->add_option("--validate", flags->validate,
                    "strict (unknown fields fail), warn or ignore")
        ->capture_default_str();
  }
}

}  // namespace lintel::cli
