// How the verbs report errors: as the one line kubectl would print.
//
// Every Status a verb hands back to its caller carries its final line in its
// message (without the newline): ServerError formats what the server or the
// connection returned, CliError what the client itself refuses. Pure
// functions; any thread.
#pragma once

#include <ostream>
#include <string>
#include <string_view>

#include "common/status.h"

namespace lintel::cli {

// kubectl's rendering of an API error:
//   Error from server (NotFound): virtualmachines.lintel.dev "x" not found
//   Error from server (AlreadyExists): error when creating "vm.yaml": ...  (with context)
//   The VirtualMachine "x" is invalid: spec.cpu: Invalid value: ...       (Invalid)
//   Unable to connect to the server: connect 127.0.0.1:6443: ...          (transport)
// `context` ("error when creating \"vm.yaml\"") goes before the message.
std::string ServerErrorLine(const Status& s, std::string_view context = "");
// The same code, with ServerErrorLine as the message.
Status ServerError(const Status& s, std::string_view context = "");
// BadRequest with "error: <message>".
Status CliError(std::string_view message);
// Writes the status's message and a newline; returns the exit code 1.
int PrintError(std::ostream& err, const Status& s);

}  // namespace lintel::cli
