// ClientContext: what a client verb works with: the API client built from the
// kubeconfig, the namespace in effect, the server's discovery (fetched on
// first use), and the streams to print on.
//
// One per command run, on one thread (watch callbacks excepted: they only
// use the client, which is thread-safe).
#pragma once

#include <istream>
#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "cli/commands.h"
#include "cli/discovery.h"
#include "client/rest_client.h"
#include "common/status.h"

namespace lintel::cli {

class ClientContext {
 public:
  // Reads the kubeconfig (--kubeconfig, else the first file of $KUBECONFIG,
  // else ~/.kube/config) for --context (else current-context). The namespace
  // is -n, else the context's, else "default". Errors are formatted (see
  // errors.h).
  static Result<std::unique_ptr<ClientContext>> Open(const GlobalOptions& g);

  ClientContext(std::unique_ptr<client::RestClient> client, std::string ns, bool ns_explicit,
                const GlobalOptions& g);

  client::RestClient& client() { return *client_; }
  // The server's resource types; fetched once. Errors are formatted.
  Result<const Discovery*> discovery();
  // Resolves a TYPE argument (errors formatted: "error: the server doesn't
  // have a resource type ...").
  Result<ApiResource> Resolve(std::string_view type);

  const std::string& ns() const { return ns_; }
  // Whether -n was given (objects from files must then agree with it).
  bool ns_explicit() const { return ns_explicit_; }
  // The namespace to address `r` in: ns() for namespaced resources, "" else.
  std::string NamespaceFor(const ApiResource& r) const { return r.namespaced ? ns_ : ""; }

  std::istream& in() { return *g_.in; }
  std::ostream& out() { return *g_.out; }
  std::ostream& err() { return *g_.err; }

 private:
  std::unique_ptr<client::RestClient> client_;
  std::string ns_;
  bool ns_explicit_;
  const GlobalOptions& g_;
  std::optional<Discovery> discovery_;
};

// Runs `body` with a context opened from `g`; prints the error and returns 1
// when the kubeconfig cannot be used.
int WithContext(const GlobalOptions& g, const std::function<int(ClientContext&)>& body);

}  // namespace lintel::cli
