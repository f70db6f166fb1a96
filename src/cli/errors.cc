#include "cli/errors.h"

#include "cli/text.h"

namespace lintel::cli {

namespace {

// The server words Invalid as `Kind.group "name" is invalid: ...`; kubectl
// prints `The Kind "name" is invalid: ` and the causes.
bool InvalidSubject(const std::string& message, std::string* kind, std::string* name) {
  size_t quote = message.find(" \"");
  if (quote == std::string::npos) return false;
  size_t end = message.find("\" is invalid", quote + 2);
  if (end == std::string::npos) return false;
  std::string qualified = message.substr(0, quote);
  if (qualified.find(' ') != std::string::npos) return false;
  *kind = qualified.substr(0, qualified.find('.'));
  *name = message.substr(quote + 2, end - quote - 2);
  return true;
}

std::string CauseText(const Cause& c) {
  return c.field.empty() ? c.message : c.field + ": " + c.message;
}

}  // namespace

std::string ServerErrorLine(const Status& s, std::string_view context) {
  std::string prefix = context.empty() ? "" : std::string(context) + ": ";
  if ((s.code() == Code::kUnavailable || s.code() == Code::kTimeout) &&
      !StartsWith(s.message(), "the server responded")) {
    return "Unable to connect to the server: " + s.message();
  }
  std::string kind, name;
  if (s.code() == Code::kInvalid && !s.causes().empty() &&
      InvalidSubject(s.message(), &kind, &name)) {
    std::string head = "The " + kind + " \"" + name + "\" is invalid: ";
    if (s.causes().size() == 1) return head + CauseText(s.causes()[0]);
    std::string out = head;
    for (const auto& c : s.causes()) out += "\n* " + CauseText(c);
    return out;
  }
  return "Error from server (" + std::string(CodeReason(s.code())) + "): " + prefix + s.message();
}

Status ServerError(const Status& s, std::string_view context) {
  return Status(s.code() == Code::kOk ? Code::kInternal : s.code(), ServerErrorLine(s, context));
}

Status CliError(std::string_view message) {
  return Status(Code::kBadRequest, "error: " + std::string(message));
}

int PrintError(std::ostream& err, const Status& s) {
  err << s.message() << "\n";
  return 1;
}

}  // namespace lintel::cli
