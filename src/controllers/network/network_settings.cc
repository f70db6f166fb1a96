#include "controllers/network/network_settings.h"

namespace lintel::controllers::network {

namespace {

// A range of the settings: parsed, its own network address, at most /30.
Result<Cidr> ParseRange(const std::string& what, const std::string& text) {
  auto c = Cidr::Parse(text);
  if (!c.ok()) return BadRequest(what + ": " + c.error().message());
  if (c->address != c->Network()) {
    return BadRequest(what + " " + text + " is not a network address (did you mean " +
                      Cidr{c->Network(), c->prefix}.ToString() + "?)");
  }
  if (c->prefix < 1 || c->prefix > 30) {
    return BadRequest(what + " " + text + ": the prefix length must be between 1 and 30");
  }
  return *c;
}

}  // namespace

Result<NetworkRanges> ParseNetworkSettings(const NetworkSettings& settings) {
  NetworkRanges out;
  LINTEL_ASSIGN_OR_RETURN(out.cluster, ParseRange("cluster range", settings.cluster_cidr));
  LINTEL_ASSIGN_OR_RETURN(out.service, ParseRange("Service range", settings.service_cidr));
  out.host_prefix = settings.host_cidr_prefix;
  if (out.host_prefix < out.cluster.prefix || out.host_prefix > 30) {
    return BadRequest("host range size /" + std::to_string(out.host_prefix) +
                      ": must be between /" + std::to_string(out.cluster.prefix) +
                      " (the cluster range " + out.cluster.ToString() + ") and /30");
  }
  if (out.cluster.Overlaps(out.service)) {
    return BadRequest("the cluster range " + out.cluster.ToString() + " and the Service range " +
                      out.service.ToString() + " overlap; they must be disjoint");
  }
  return out;
}

}  // namespace lintel::controllers::network
