// Container probes (liveness, readiness, startup), as the kubelet runs them:
//   exec      `<runtime> exec <id> <command>`: exit 0 is success
//   tcpSocket a TCP connect to host:port (default: the Pod's loopback)
//   httpGet   GET host:port/path; 200-399 is success (HTTP/1.1, no TLS yet)
// TCP and HTTP run inside the Pod's network namespace: a throwaway thread
// setns()es into it and creates the socket there (a socket keeps its
// namespace), the caller connects it.
//
// ProbeTracker applies the thresholds; pure. RunProbe blocks its caller up to
// the probe's timeout; any thread.
#pragma once

#include <string>

#include "drivers/oci/pod_plan.h"
#include "drivers/oci/runtime.h"

namespace lintel::drivers::oci {

struct ProbeResult {
  bool success = false;
  std::string message;  // why it failed (or the exec output)
};

struct ProbeTarget {
  const OciRuntime* runtime = nullptr;
  std::string container_id;
  std::string netns;  // path
};

ProbeResult RunProbe(const ProbeSpec& spec, const ProbeTarget& target);

// successThreshold results in a row make it pass, failureThreshold in a row
// make it fail; until then it keeps its initial value (readiness and startup
// start failed, liveness passed).
class ProbeTracker {
 public:
  ProbeTracker(int success_threshold, int failure_threshold, bool initially_ok)
      : success_threshold_(success_threshold),
        failure_threshold_(failure_threshold),
        ok_(initially_ok) {}

  // True when the outcome flipped.
  bool Record(bool success);
  bool ok() const { return ok_; }
  // failureThreshold failures in a row (for probes that start failed).
  bool failed() const { return failures_ >= failure_threshold_; }

 private:
  int success_threshold_;
  int failure_threshold_;
  bool ok_;
  int successes_ = 0;
  int failures_ = 0;
};

// The status line's code of an HTTP response, or -1 (pure; for tests).
int ParseHttpStatus(const std::string& response);

}  // namespace lintel::drivers::oci
