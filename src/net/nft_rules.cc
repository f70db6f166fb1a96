#include "net/nft_rules.h"

#include <algorithm>
#include <cctype>
#include <string_view>
#include <tuple>
#include <utility>

namespace lintel::net {
namespace {

// Text safe inside an nft double-quoted string (comments, interface names).
std::string Quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text.substr(0, 120)) {
    bool safe = std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' ||
                c == '.' || c == '/' || c == ':' || c == ' ';
    out += safe ? c : '_';
  }
  return out + "\"";
}

// Text for a `#` comment line: no line breaks or other control characters.
std::string CommentLine(std::string_view text) {
  std::string out(text.substr(0, 200));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '_';
  }
  return out;
}

std::string Lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A port made ready to render: protocol checked, backends sorted and unique.
struct PortPlan {
  const ServiceRule* service;
  std::string protocol;
  uint16_t port;
  std::vector<ServiceBackend> backends;
  std::string Label() const {
    return service->ns + "/" + service->name + " " + protocol + "/" + std::to_string(port);
  }
};

// `ip daddr V tcp dport P`
std::string Match(const PortPlan& p) {
  return "ip daddr " + p.service->cluster_ip.ToString() + " " + p.protocol + " dport " +
         std::to_string(p.port);
}

std::string Backend(const ServiceBackend& b) {
  return b.ip.ToString() + " . " + std::to_string(b.port);
}

std::string DnatRule(const PortPlan& p) {
  std::string rule = Match(p) + " dnat ip addr . port to ";
  if (p.backends.size() == 1) {
    rule += Backend(p.backends[0]);
  } else {
    rule += p.service->client_ip_affinity ? "jhash ip saddr" : "numgen inc";
    rule += " mod " + std::to_string(p.backends.size()) + " map { ";
    for (size_t i = 0; i < p.backends.size(); ++i) {
      if (i > 0) rule += ", ";
      rule += std::to_string(i) + " : " + Backend(p.backends[i]);
    }
    rule += " }";
  }
  return rule + " comment " + Quoted(p.Label());
}

std::string RejectVerdict(std::string_view protocol) {
  return protocol == "tcp" ? "reject with tcp reset" : "reject";
}

// The Service range plus any cluster IP outside it, as an nft expression.
std::string VipMatcher(const NetRulesConfig& config, const std::vector<PortPlan>& plans) {
  std::vector<Ipv4> outside;
  for (const PortPlan& p : plans) {
    if (!config.service_range.Contains(p.service->cluster_ip)) {
      outside.push_back(p.service->cluster_ip);
    }
  }
  std::sort(outside.begin(), outside.end());
  outside.erase(std::unique(outside.begin(), outside.end()), outside.end());
  std::string range =
      config.service_range.Network().ToString() + "/" + std::to_string(config.service_range.prefix);
  if (outside.empty()) return range;
  std::string set = "{ " + range;
  for (Ipv4 ip : outside) set += ", " + ip.ToString();
  return set + " }";
}

void BaseChain(std::string& out, std::string_view name, std::string_view type,
               std::string_view hook, std::string_view priority,
               const std::vector<std::string>& rules) {
  out += "  chain ";
  out += name;
  out += " {\n    type ";
  out += type;
  out += " hook ";
  out += hook;
  out += " priority ";
  out += priority;
  out += "; policy accept;\n";
  for (const std::string& rule : rules) out += "    " + rule + "\n";
  out += "  }\n";
}

}  // namespace

std::string RenderRules(const NetRulesConfig& config, const std::vector<ServiceRule>& services) {
  std::vector<const ServiceRule*> sorted;
  sorted.reserve(services.size());
  for (const ServiceRule& s : services) sorted.push_back(&s);
  std::stable_sort(sorted.begin(), sorted.end(), [](const ServiceRule* a, const ServiceRule* b) {
    return std::tie(a->ns, a->name, a->cluster_ip) < std::tie(b->ns, b->name, b->cluster_ip);
  });

  std::vector<std::string> skipped;
  std::vector<PortPlan> plans;
  for (const ServiceRule* s : sorted) {
    std::string service_label = s->ns + "/" + s->name;
    if (s->cluster_ip.value == 0) {
      skipped.push_back(service_label + ": no cluster IP");
      continue;
    }
    size_t first = plans.size();
    for (const ServicePortRule& port : s->ports) {
      PortPlan plan{s, Lower(port.protocol), port.port, {}};
      if (plan.protocol != "tcp" && plan.protocol != "udp" && plan.protocol != "sctp") {
        skipped.push_back(plan.Label() + ": unsupported protocol");
        continue;
      }
      if (port.port == 0) {
        skipped.push_back(plan.Label() + ": port 0");
        continue;
      }
      for (const ServiceBackend& b : port.backends) {
        if (b.port != 0 && b.ip.value != 0) plan.backends.push_back(b);
      }
      std::sort(plan.backends.begin(), plan.backends.end());
      plan.backends.erase(std::unique(plan.backends.begin(), plan.backends.end()),
                          plan.backends.end());
      plans.push_back(std::move(plan));
    }
    std::stable_sort(plans.begin() + static_cast<std::ptrdiff_t>(first), plans.end(),
                     [](const PortPlan& a, const PortPlan& b) {
                       return std::tie(a.port, a.protocol) < std::tie(b.port, b.protocol);
                     });
  }

  const std::string& t = config.table;
  std::string out;
  out += "# Lintel Service rules for this host, generated; replaced as a whole on each change.\n";
  for (const std::string& s : skipped) out += "# skipped " + CommentLine(s) + "\n";
  out += "table ip " + t + " {}\n";
  out += "delete table ip " + t + "\n";
  out += "table ip " + t + " {\n";

  out += "  chain services {\n";
  for (const PortPlan& p : plans) {
    if (!p.backends.empty()) out += "    " + DnatRule(p) + "\n";
  }
  out += "  }\n";

  std::string vips = VipMatcher(config, plans);
  out += "  chain reject_services {\n";
  for (const PortPlan& p : plans) {
    if (p.backends.empty()) {
      out += "    " + Match(p) + " " + RejectVerdict(p.protocol) + " comment " +
             Quoted(p.Label() + ": no ready backends") + "\n";
    }
  }
  out += "    ip daddr " + vips + " meta l4proto tcp reject with tcp reset comment " +
         Quoted("no such Service port") + "\n";
  out += "    ip daddr " + vips + " reject comment " + Quoted("no such Service port") + "\n";
  out += "  }\n";

  BaseChain(out, "nat_prerouting", "nat", "prerouting", "dstnat", {"jump services"});
  BaseChain(out, "nat_output", "nat", "output", "-100", {"jump services"});
  std::vector<std::string> post = {"ct original ip daddr " + vips +
                                   " ct status dnat masquerade comment " +
                                   Quoted("Service traffic: replies come back through us")};
  if (config.masquerade_outbound) {
    std::string cluster = config.cluster_range.Network().ToString() + "/" +
                          std::to_string(config.cluster_range.prefix);
    post.push_back("ip saddr " + cluster + " ip daddr != " + cluster + " oifname != " +
                   Quoted(config.bridge) + " masquerade comment " + Quoted("outbound"));
  }
  BaseChain(out, "nat_postrouting", "nat", "postrouting", "srcnat", post);
  for (std::string_view hook : {"input", "forward", "output"}) {
    BaseChain(out, "filter_" + std::string(hook), "filter", hook, "filter",
              {"jump reject_services"});
  }
  out += "}\n";
  return out;
}

}  // namespace lintel::net
