// Adds Lintel's cluster, user and context to a user's kubeconfig (made the
// current context), as kind and minikube do, keeping everything else in it.
#pragma once

#include <string>

#include "client/kubeconfig.h"
#include "common/status.h"

namespace lintel::server {

// Creates `path` (and its directory) if absent; otherwise replaces the
// entries named content.name and sets current-context. The file stays 0600.
Status MergeIntoUserKubeconfig(const std::string& path, const client::KubeconfigContent& content);

}  // namespace lintel::server
