// VirtualMachine power actions (PUT virtualmachines/NAME/{start,stop,restart,
// pause,unpause}), as KubeVirt's subresources: each one records the intent on
// the object, and the VM's agent carries it out.
//
//   start    Halted -> runStrategy Always; Manual -> annotation power=on;
//            always stamps start-requested (a VM that ended on its own, e.g.
//            a RerunOnFailure guest that powered off, starts again)
//   stop     Always/RerunOnFailure -> Halted; Manual -> power=off
//   restart  stamps restart-requested (the agent stops it gracefully and
//            boots it again on the same disks); refused unless it should run
//   pause    annotation paused=true (vCPUs frozen); refused unless Running
//   unpause  removes it
#include "common/time_format.h"
#include "server/resources.h"

namespace lintel::server {

namespace {

std::string Str(const Json& j) { return j.is_string() ? j.get<std::string>() : ""; }

bool ShouldRun(const Json& vm) {
  std::string strategy = Str(api::At(vm, "/spec/runStrategy"));
  if (strategy.empty() || strategy == "Always" || strategy == "RerunOnFailure") return true;
  if (strategy == "Manual")
    return Str(api::At(vm, "/metadata/annotations/lintel.dev~1power")) == "on";
  return false;
}

}  // namespace

bool IsVmAction(std::string_view subresource) {
  return subresource == "start" || subresource == "stop" || subresource == "restart" ||
         subresource == "pause" || subresource == "unpause";
}

Result<WriteResult> Resources::VmAction(const api::KindInfo& kind, const std::string& ns,
                                        const std::string& name, const std::string& action,
                                        const WriteOptions& opts) {
  if (kind.kind != "VirtualMachine" || !IsVmAction(action)) {
    return NotFound("the server could not find the requested resource");
  }
  const std::string key = StorageKey(kind, ns, name);
  for (int attempt = 0;; ++attempt) {
    LINTEL_ASSIGN_OR_RETURN(Current cur, ReadCurrent(kind, key, name));
    Json desired = cur.obj;
    Json& meta = desired["metadata"];
    if (!meta.contains("annotations") || !meta["annotations"].is_object()) {
      meta["annotations"] = Json::object();
    }
    Json& ann = meta["annotations"];
    Json& spec = desired["spec"];
    const std::string strategy = spec.value("runStrategy", "Always");
    const std::string phase = Str(api::At(cur.obj, "/status/phase"));
    const std::string what = "virtualmachine \"" + name + "\"";
    if (action == "start") {
      if (strategy == "Halted") spec["runStrategy"] = "Always";
      if (strategy == "Manual") ann["lintel.dev/power"] = "on";
      ann["lintel.dev/start-requested"] = FormatRfc3339Micro(clock_->Now());
    } else if (action == "stop") {
      if (strategy == "Manual") {
        ann["lintel.dev/power"] = "off";
      } else {
        spec["runStrategy"] = "Halted";
      }
      ann.erase("lintel.dev/paused");
    } else if (action == "restart") {
      if (!ShouldRun(cur.obj)) {
        return Conflict(what + " is stopped (runStrategy " + strategy + "); start it instead");
      }
      ann["lintel.dev/restart-requested"] = FormatRfc3339Micro(clock_->Now());
    } else if (action == "pause") {
      if (phase != "Running" && phase != "Paused") {
        return Conflict(what + " is not running (phase " + (phase.empty() ? "Pending" : phase) +
                        ")");
      }
      ann["lintel.dev/paused"] = "true";
    } else {  // unpause
      if (Str(ann.value("lintel.dev/paused", Json())) != "true") {
        return Conflict(what + " is not paused");
      }
      ann.erase("lintel.dev/paused");
    }
    if (ann.empty()) meta.erase("annotations");
    auto res = CommitUpdate(kind, key, cur, std::move(desired), opts, Subresource::kNone,
                            opts.field_manager, false);
    if (!res.ok() && res.error().code() == Code::kConflict && attempt < 8) continue;
    return res;
  }
}

}  // namespace lintel::server
