// What a workload's spec takes from other objects, read when it starts: a
// VM's cloud-init user data and network-config from Secrets in its namespace
// (spec.cloudInit.userDataSecretRef / networkDataSecretRef, as KubeVirt's
// cloudInitNoCloud), so that drivers get a self-contained spec.
//
// Threading: any thread; blocks for the API reads.
#pragma once

#include "client/client.h"
#include "common/status.h"
#include "drivers/driver.h"

namespace lintel::agent {

// `spec` with its references filled in (unchanged when it has none).
// Unavailable (retryable: the Secret may yet be created or fixed) when a
// Secret or its key is missing or not base64; other API errors as they come.
Result<drivers::WorkloadSpec> ResolveSpecReferences(client::Client& client,
                                                    const drivers::WorkloadSpec& spec);

}  // namespace lintel::agent
