#include "server/http/remote_command.h"

#include <charconv>

#include "common/http_status.h"
#include "common/json.h"

namespace lintel::http::remotecommand {

std::string Frame(uint8_t channel, std::string_view data) {
  std::string out;
  out.reserve(data.size() + 1);
  out.push_back(static_cast<char>(channel));
  out.append(data);
  return out;
}

std::optional<Message> Parse(std::string_view frame) {
  if (frame.empty()) return std::nullopt;
  return Message{static_cast<uint8_t>(frame[0]), frame.substr(1)};
}

std::string PickSubprotocol(const std::vector<std::string>& offered) {
  for (std::string_view want : {kV5, kV4}) {
    for (const auto& o : offered) {
      if (o == want) return o;
    }
  }
  return "";
}

std::string ExitStatus(int exit_code) {
  if (exit_code == 0) return Json({{"metadata", Json::object()}, {"status", "Success"}}).dump();
  return Json({{"metadata", Json::object()},
               {"status", "Failure"},
               {"message", "command terminated with non-zero exit code: exit status " +
                               std::to_string(exit_code)},
               {"reason", "NonZeroExitCode"},
               {"details",
                {{"causes", Json::array({{{"reason", "ExitCode"},
                                          {"message", std::to_string(exit_code)}}})}}}})
      .dump();
}

std::string ErrorStatus(const Status& error) {
  return Json({{"metadata", Json::object()},
               {"status", "Failure"},
               {"message", error.message()},
               {"reason", std::string(CodeReason(error.code()))},
               {"code", CodeHttpStatus(error.code())}})
      .dump();
}

Result<int> ExitCodeOf(std::string_view status_json) {
  Json j = Json::parse(status_json, nullptr, false);
  if (!j.is_object()) return Internal("malformed exec status: " + std::string(status_json));
  if (j.value("status", "") == "Success") return 0;
  if (j.value("reason", "") == "NonZeroExitCode" && j.contains("details") &&
      j["details"].is_object() && j["details"].contains("causes") &&
      j["details"]["causes"].is_array()) {
    for (const auto& c : j["details"]["causes"]) {
      if (!c.is_object() || c.value("reason", "") != "ExitCode") continue;
      std::string m = c.value("message", "");
      int code = 0;
      auto [p, ec] = std::from_chars(m.data(), m.data() + m.size(), code);
      if (ec == std::errc() && p == m.data() + m.size()) return code;
    }
  }
  return Internal(j.value("message", std::string("exec failed")));
}

std::string ResizeMessage(uint16_t width, uint16_t height) {
  return Json({{"Width", width}, {"Height", height}}).dump();
}

Result<std::pair<uint16_t, uint16_t>> ParseResize(std::string_view json) {
  Json j = Json::parse(json, nullptr, false);
  if (!j.is_object() || !j.contains("Width") || !j.contains("Height") ||
      !j["Width"].is_number_unsigned() || !j["Height"].is_number_unsigned()) {
    return BadRequest("malformed resize message");
  }
  return std::make_pair(static_cast<uint16_t>(j["Width"].get<unsigned>()),
                        static_cast<uint16_t>(j["Height"].get<unsigned>()));
}

}  // namespace lintel::http::remotecommand
