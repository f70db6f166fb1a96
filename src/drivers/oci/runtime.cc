#include "drivers/oci/runtime.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <sstream>

#include "common/fs.h"
#include "common/json.h"

namespace lintel::drivers::oci {

namespace {

constexpr std::chrono::milliseconds kVerbTimeout{30'000};

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  size_t start = s.find_first_not_of(" \n");
  return start == std::string::npos ? "" : s.substr(start);
}

}  // namespace

Result<std::string> FindExecutable(const std::string& name) {
  auto executable = [](const std::string& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(p.c_str(), X_OK) == 0;
  };
  if (name.find('/') != std::string::npos) {
    if (executable(name)) return name;
    return NotFound(name + " is not an executable file");
  }
  const char* env = std::getenv("PATH");  // NOLINT(concurrency-mt-unsafe): read only
  std::string path = env ? env : "";
  path += ":/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  std::istringstream in(path);
  std::string dir;
  while (std::getline(in, dir, ':')) {
    if (dir.empty()) continue;
    std::string candidate = dir;
    candidate += '/';
    candidate += name;
    if (executable(candidate)) return candidate;
  }
  return NotFound(name + " not found on PATH (scripts/setup installs it)");
}

bool CrunUsable() {
  // Pure cgroup v2 (no v1 hierarchies) or v1 without a populated cgroup2.
  auto controllers = ReadFile("/sys/fs/cgroup/unified/cgroup.controllers");
  if (!controllers.ok()) return true;  // not hybrid
  return Trim(*controllers).empty();
}

Result<RuntimeInfo> SelectRuntime(const std::string& want) {
  std::string name = want;
  if (want == "auto") {
    auto crun = FindExecutable("crun");
    name = (crun.ok() && CrunUsable()) ? "crun" : "runc";
  }
  LINTEL_ASSIGN_OR_RETURN(std::string path, FindExecutable(name));
  RuntimeInfo info;
  info.path = path;
  info.name = path.substr(path.rfind('/') + 1);
  auto r = Run({path, "--version"}, std::chrono::seconds(10));
  if (!r.ok()) return r.error().Wrap(info.name + " --version");
  // "runc version 1.1.5+ds1\ncommit: ..." / "crun version 1.8.1\n..."
  std::istringstream in(r->output);
  std::string first;
  std::getline(in, first);
  size_t at = first.find("version ");
  info.version = at == std::string::npos ? Trim(first) : Trim(first.substr(at + 8));
  return info;
}

OciRuntime::OciRuntime(RuntimeInfo info, std::string root)
    : info_(std::move(info)), root_(std::move(root)) {}

std::string OciRuntime::ErrorText(const std::string& output) {
  // time="..." level=error msg="runc create failed: ..."
  size_t at = output.rfind("msg=\"");
  if (at != std::string::npos) {
    std::string out;
    for (size_t i = at + 5; i < output.size(); ++i) {
      if (output[i] == '\\' && i + 1 < output.size()) {
        out.push_back(output[++i]);
      } else if (output[i] == '"') {
        break;
      } else {
        out.push_back(output[i]);
      }
    }
    return out;
  }
  return Trim(output);
}

Result<RunResult> OciRuntime::Call(std::vector<std::string> args,
                                   std::chrono::milliseconds timeout) const {
  std::vector<std::string> argv = {info_.path, "--root", root_};
  argv.insert(argv.end(), std::make_move_iterator(args.begin()),
              std::make_move_iterator(args.end()));
  return Run(argv, timeout);
}

Status OciRuntime::Start(const std::string& id) const {
  LINTEL_ASSIGN_OR_RETURN(RunResult r, Call({"start", id}, kVerbTimeout));
  if (r.exit.code != 0) return Internal(info_.name + " start " + id + ": " + ErrorText(r.output));
  return Status();
}

Status OciRuntime::Kill(const std::string& id, const std::string& signal) const {
  LINTEL_ASSIGN_OR_RETURN(RunResult r, Call({"kill", id, signal}, kVerbTimeout));
  if (r.exit.code != 0) {
    std::string text = ErrorText(r.output);
    if (text.find("not running") != std::string::npos ||
        text.find("does not exist") != std::string::npos ||
        text.find("process already finished") != std::string::npos) {
      return NotFound(info_.name + " kill " + id + ": " + text);
    }
    return Internal(info_.name + " kill " + id + ": " + text);
  }
  return Status();
}

Status OciRuntime::Delete(const std::string& id, bool force) const {
  std::vector<std::string> args = {"delete"};
  if (force) args.push_back("--force");
  args.push_back(id);
  LINTEL_ASSIGN_OR_RETURN(RunResult r, Call(args, kVerbTimeout));
  if (r.exit.code != 0) {
    std::string text = ErrorText(r.output);
    if (text.find("does not exist") != std::string::npos) return Status();
    return Internal(info_.name + " delete " + id + ": " + text);
  }
  return Status();
}

Result<RuntimeState> OciRuntime::State(const std::string& id) const {
  LINTEL_ASSIGN_OR_RETURN(RunResult r, Call({"state", id}, kVerbTimeout));
  if (r.exit.code != 0) {
    std::string text = ErrorText(r.output);
    if (text.find("does not exist") != std::string::npos) return NotFound(text);
    return Internal(info_.name + " state " + id + ": " + text);
  }
  auto j = ParseJson(r.output);
  if (!j.ok() || !j->is_object()) {
    return Internal(info_.name + " state " + id + ": unreadable output");
  }
  RuntimeState s;
  s.status = j->value("status", "");
  s.pid = j->value("pid", 0);
  return s;
}

Result<RunResult> OciRuntime::Exec(const std::string& id, const std::vector<std::string>& argv,
                                   std::chrono::milliseconds timeout) const {
  std::vector<std::string> args = {"exec", id};
  args.insert(args.end(), argv.begin(), argv.end());
  return Call(std::move(args), timeout);
}

}  // namespace lintel::drivers::oci
