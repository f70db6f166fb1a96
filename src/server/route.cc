#include "server/route.h"

#include "server/resources.h"

namespace lintel::server {

namespace {
Status NoSuchResource() { return NotFound("the server could not find the requested resource"); }
}  // namespace

Result<Route> ParseRoute(const api::Registry& registry, const std::vector<std::string>& seg) {
  bool core = !seg.empty() && seg[0] == "api";
  size_t base = core ? 2 : 3;  // segments before the resource part
  if (seg.size() <= base) return NoSuchResource();
  const std::string group = core ? "" : seg[1];
  const std::string version = core ? seg[1] : seg[2];
  std::vector<std::string> rest(seg.begin() + static_cast<long>(base), seg.end());
  Route r;
  if (rest[0] == "namespaces" && rest.size() >= 3) {
    // namespaces/NS/PLURAL[...] unless PLURAL is not a namespaced kind, in which
    // case it is a subresource of the Namespace NS.
    const api::KindInfo* k = registry.ByResource(group, version, rest[2]);
    if (k && k->namespaced) {
      r.kind = k;
      r.ns = rest[1];
      if (rest.size() >= 4) r.name = rest[3];
      if (rest.size() >= 5) r.subresource = rest[4];
      if (rest.size() > 5) return NoSuchResource();
    }
  }
  if (!r.kind) {
    const api::KindInfo* k = registry.ByResource(group, version, rest[0]);
    if (!k) return NoSuchResource();
    r.kind = k;
    if (rest.size() >= 2) r.name = rest[1];
    if (rest.size() >= 3) r.subresource = rest[2];
    if (rest.size() > 3) return NoSuchResource();
    if (k->namespaced && !r.name.empty()) return NoSuchResource();  // needs namespaces/NS/
  }
  if (!r.subresource.empty()) {
    bool ok =
        (r.subresource == "status" && r.kind->has_status) ||
        (r.subresource == "scale" && r.kind->scale.has_value()) ||
        (r.subresource == "log" && r.kind->group == "lintel.dev" &&
         (r.kind->plural == "pods" || r.kind->plural == "virtualmachines")) ||
        (r.subresource == "exec" && r.kind->group == "lintel.dev" && r.kind->plural == "pods") ||
        (r.subresource == "console" && r.kind->kind == "VirtualMachine") ||
        (IsVmAction(r.subresource) && r.kind->kind == "VirtualMachine");
    if (!ok) return NoSuchResource();
  }
  if (r.name.empty() && !r.subresource.empty()) return NoSuchResource();
  return r;
}

}  // namespace lintel::server
