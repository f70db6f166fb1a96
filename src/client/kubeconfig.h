// Kubeconfig files: reading the one kubectl would read, and writing one that
// kubectl accepts.
//
// Reading picks one context (current-context unless named) and resolves its
// cluster and user into what an HttpClient needs. Supported: server,
// certificate-authority(-data), insecure-skip-tls-verify, tls-server-name;
// token, tokenFile, client-certificate(-data), client-key(-data). Relative
// file paths are taken relative to the kubeconfig's directory. Like kubectl,
// only the first existing file of $KUBECONFIG is read (no merging).
//
// Errors are one line naming the file: NotFound for a missing file, context,
// cluster or user ("kubeconfig /x: context \"foo\" not found"), BadRequest for
// malformed YAML or base64 and unsupported credentials (exec plugins).
// Pure functions apart from reading files and the environment; any thread.
#pragma once

#include <string>
#include <string_view>

#include "client/http_client.h"
#include "common/base64.h"
#include "common/status.h"

namespace lintel::client {

struct Kubeconfig {
  std::string path;     // the file it came from
  std::string context;  // names as found in the file
  std::string cluster;
  std::string user;

  std::string server;
  std::string ca_pem;
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;

  std::string token;
  std::string client_cert_pem;
  std::string client_key_pem;

  std::string ns = "default";  // the context's namespace

  // Server, TLS and credentials; timeouts and the rest keep their defaults.
  HttpClientOptions ToHttpClientOptions() const;
};

// The file LoadKubeconfig reads: `explicit_path` if set, else the first
// existing file of $KUBECONFIG (a colon list), else ~/.kube/config.
Result<std::string> FindKubeconfig(const std::string& explicit_path);

// Finds, reads and parses the kubeconfig; `context` "" means current-context.
Result<Kubeconfig> LoadKubeconfig(const std::string& explicit_path = "",
                                  const std::string& context = "");

// Parses kubeconfig text. `path` names it in errors and anchors relative paths.
Result<Kubeconfig> ParseKubeconfig(std::string_view text, const std::string& path,
                                   const std::string& context = "");

struct KubeconfigContent {
  std::string name = "lintel";  // used for the cluster, the user and the context
  std::string server;           // "https://127.0.0.1:6443"
  std::string ca_pem;           // written as certificate-authority-data
  bool insecure_skip_tls_verify = false;
  std::string token;
  std::string client_cert_pem;  // written as client-certificate-data / client-key-data
  std::string client_key_pem;
  std::string ns;  // the context's namespace; "" leaves it out
};

// A kubeconfig YAML document with one cluster, user and context, current.
std::string RenderKubeconfig(const KubeconfigContent& content);

using lintel::Base64Decode;  // common/base64.h, where they moved
using lintel::Base64Encode;

}  // namespace lintel::client
