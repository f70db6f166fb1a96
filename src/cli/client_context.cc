#include "cli/client_context.h"

#include "cli/errors.h"
#include "client/kubeconfig.h"

namespace lintel::cli {

Result<std::unique_ptr<ClientContext>> ClientContext::Open(const GlobalOptions& g) {
  auto config = client::LoadKubeconfig(g.kubeconfig, g.context);
  if (!config.ok()) return CliError(config.error().message());
  auto rest = client::RestClient::FromKubeconfig(*config);
  if (!rest.ok()) return CliError(rest.error().message());
  bool ns_explicit = !g.ns.empty();
  std::string ns = ns_explicit ? g.ns : config->ns;
  if (ns.empty()) ns = "default";
  return std::make_unique<ClientContext>(std::move(*rest), std::move(ns), ns_explicit, g);
}

ClientContext::ClientContext(std::unique_ptr<client::RestClient> client, std::string ns,
                             bool ns_explicit, const GlobalOptions& g)
    : client_(std::move(client)), ns_(std::move(ns)), ns_explicit_(ns_explicit), g_(g) {}

Result<const Discovery*> ClientContext::discovery() {
  if (!discovery_) {
    auto d = Discovery::Fetch(*client_);
    if (!d.ok()) return ServerError(d.error());
    discovery_ = std::move(*d);
  }
  return &*discovery_;
}

Result<ApiResource> ClientContext::Resolve(std::string_view type) {
  LINTEL_ASSIGN_OR_RETURN(const Discovery* d, discovery());
  auto r = d->Resolve(type);
  if (!r.ok()) return CliError(r.error().message());
  return std::move(*r);
}

int WithContext(const GlobalOptions& g, const std::function<int(ClientContext&)>& body) {
  auto ctx = ClientContext::Open(g);
  if (!ctx.ok()) return PrintError(*g.err, ctx.error());
  return body(**ctx);
}

}  // namespace lintel::cli
