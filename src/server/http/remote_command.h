// Kubernetes' remotecommand channel protocol (k8s.io/apimachinery
// pkg/util/remotecommand), as kubectl exec speaks it over a WebSocket
// (subprotocols v4.channel.k8s.io and v5.channel.k8s.io). Every binary
// message starts with a channel byte:
//
//   0 stdin   1 stdout   2 stderr   3 error: a metav1.Status, the last message
//   4 resize: {"Width":W,"Height":H}   255 (v5 only) close: [255, channel]
//
// Lintel uses it on both hops (client → server → agent). Pure functions, any
// thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace lintel::http::remotecommand {

inline constexpr std::string_view kV5 = "v5.channel.k8s.io";
inline constexpr std::string_view kV4 = "v4.channel.k8s.io";

enum Channel : uint8_t {
  kStdin = 0,
  kStdout = 1,
  kStderr = 2,
  kError = 3,
  kResize = 4,
  kClose = 255,
};

// The channel byte followed by `data`.
std::string Frame(uint8_t channel, std::string_view data);

struct Message {
  uint8_t channel = 0;
  std::string_view data;  // points into the frame
};
// Nullopt for an empty frame.
std::optional<Message> Parse(std::string_view frame);

// The best of the subprotocols a client offers (v5, then v4); "" if neither.
std::string PickSubprotocol(const std::vector<std::string>& offered);

// The Status that ends an exec: Success for 0, else Failure with reason
// NonZeroExitCode and the code in details.causes[ExitCode].
std::string ExitStatus(int exit_code);
// A Status for an exec that could not run or broke.
std::string ErrorStatus(const Status& error);
// What an exec's closing Status says: the exit code, or the error it carries.
Result<int> ExitCodeOf(std::string_view status_json);

std::string ResizeMessage(uint16_t width, uint16_t height);
// {"Width":W,"Height":H}; BadRequest if malformed.
Result<std::pair<uint16_t, uint16_t>> ParseResize(std::string_view json);

}  // namespace lintel::http::remotecommand
