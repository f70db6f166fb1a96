// AgentEndpoint: the agent's own HTTPS endpoint, through which the API server
// reaches a host's workloads (logs, exec and consoles; port-forwards later),
// as the kubelet's port serves the kube-apiserver.
//
//   lintel server ──TLS, client cert CN lintel:apiserver (cluster CA)──▶ AgentEndpoint
//     GET /v1/workloads/UID/logs?container=&previous=&follow=&tailLines=&timestamps=
//         ──▶ Agent::Logs ──▶ the host's driver
//     GET /v1/workloads/UID/exec?command=..&container=&stdin=&tty=   (WebSocket,
//         v5/v4.channel.k8s.io) ──▶ Agent::Exec ──▶ the driver; relayed by exec_relay.h
//     GET /v1/workloads/UID/console   (WebSocket, raw bytes) ──▶ Agent::OpenConsole
//
// Trust, both ways, without a new secret: the endpoint accepts only client
// certificates that chain to the cluster CA (from the agent's kubeconfig) and
// name the API server; its own serving certificate is self-signed, made once
// under DATA/pki, and published with the Host (status.agentEndpoint.caBundle)
// for the server to pin.
//
// Threading: requests run on the endpoint's worker threads; a follow holds
// one until the container ends or the server hangs up. An exec or console
// session runs on a thread of its own once upgraded.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/json.h"
#include "common/status.h"

namespace lintel::agent {

class Agent;

struct AgentEndpointOptions {
  std::string listen = "127.0.0.1:10250";  // HOST:PORT; port 0 picks one
  std::string pki_dir;                     // agent.crt, agent.key: made once
  std::string cluster_ca_pem;              // client certificates must chain to it
  std::vector<std::string> names;          // DNS names and IPs for the certificate
  std::string allowed_user = "lintel:apiserver";
  int worker_threads = 16;
};

class AgentEndpoint {
 public:
  // Serves `agent` (which must outlive the endpoint). BadRequest without a
  // cluster CA (a server without TLS cannot be authenticated).
  static Result<std::unique_ptr<AgentEndpoint>> Start(AgentEndpointOptions options, Agent* agent);
  ~AgentEndpoint();
  AgentEndpoint(const AgentEndpoint&) = delete;
  AgentEndpoint& operator=(const AgentEndpoint&) = delete;

  // {"url": "https://HOST:PORT", "caBundle": PEM}: the Host's status.agentEndpoint.
  Json Advertised() const;
  uint16_t port() const;

 private:
  class Impl;
  explicit AgentEndpoint(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace lintel::agent
