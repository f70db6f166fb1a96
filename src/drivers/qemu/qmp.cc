#include "drivers/qemu/qmp.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "drivers/oci/sys_util.h"

namespace lintel::drivers::qemu {

namespace {

using Ms = std::chrono::milliseconds;
using SteadyClock = std::chrono::steady_clock;

Ms Remaining(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<Ms>(deadline - SteadyClock::now());
  return left < Ms(0) ? Ms(0) : left;
}

}  // namespace

QmpClient::~QmpClient() { Close(); }

void QmpClient::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  buffer_.clear();
  replies_.clear();
}

Status QmpClient::Connect(const std::string& path, Ms timeout) {
  Close();
  struct sockaddr_un addr {};
  addr.sun_family = AF_UNIX;
  if (path.size() >= sizeof(addr.sun_path)) {
    return BadRequest("QMP socket path too long: " + path);
  }
  std::memcpy(addr.sun_path, path.c_str(), path.size());
  const auto deadline = SteadyClock::now() + timeout;
  int last_errno = 0;
  while (true) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return Internal("socket: " + oci::ErrnoText(errno));
    if (::connect(fd, reinterpret_cast<struct sockaddr*>(&addr), sizeof(addr)) == 0) {
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      fd_ = fd;
      break;
    }
    last_errno = errno;
    ::close(fd);
    if (SteadyClock::now() >= deadline) {
      return Unavailable("QMP " + path + ": " + oci::ErrnoText(last_errno));
    }
    std::this_thread::sleep_for(Ms(5));
  }
  // The greeting comes first; it is the one message that is neither a reply
  // nor an event, so HandleLine queues it as a reply.
  while (replies_.empty()) {
    Status s = ReadSome(Remaining(deadline) + Ms(1000));
    if (!s.ok()) {
      Close();
      return s.Wrap("QMP greeting");
    }
  }
  Json greeting = std::move(replies_.front());
  replies_.pop_front();
  if (!greeting.contains("QMP")) {
    Close();
    return Internal("QMP " + path + ": unexpected greeting " + greeting.dump());
  }
  auto caps = Execute("qmp_capabilities", Json(), Remaining(deadline) + Ms(1000));
  if (!caps.ok()) {
    Close();
    return caps.error().Wrap("qmp_capabilities");
  }
  return Status();
}

Status QmpClient::HandleLine(const std::string& line) {
  if (line.find_first_not_of(" \t\r") == std::string::npos) return Status();
  Json msg = Json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (msg.is_discarded() || !msg.is_object()) {
    return Internal("QMP: not a JSON object: " + line.substr(0, 200));
  }
  if (auto it = msg.find("event"); it != msg.end() && it->is_string()) {
    QmpEvent e;
    e.name = it->get<std::string>();
    if (auto d = msg.find("data"); d != msg.end()) e.data = *d;
    events_.push_back(std::move(e));
    return Status();
  }
  replies_.push_back(std::move(msg));
  return Status();
}

Status QmpClient::ReadSome(Ms timeout) {
  if (fd_ < 0) return Unavailable("QMP: not connected");
  struct pollfd p {
    fd_, POLLIN, 0
  };
  int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
  if (n < 0) {
    if (errno == EINTR) return Status();
    return Internal("QMP poll: " + oci::ErrnoText(errno));
  }
  if (n == 0) return Timeout("QMP: no answer within " + std::to_string(timeout.count()) + " ms");
  char chunk[16384];
  ssize_t got = ::read(fd_, chunk, sizeof(chunk));
  if (got < 0) {
    if (errno == EAGAIN || errno == EINTR) return Status();
    int err = errno;
    Close();
    return Unavailable("QMP read: " + oci::ErrnoText(err));
  }
  if (got == 0) {
    Close();
    return Unavailable("QMP: QEMU closed the connection");
  }
  buffer_.append(chunk, static_cast<size_t>(got));
  size_t start = 0;
  for (size_t nl; (nl = buffer_.find('\n', start)) != std::string::npos; start = nl + 1) {
    LINTEL_RETURN_IF_ERROR(HandleLine(buffer_.substr(start, nl - start)));
  }
  buffer_.erase(0, start);
  return Status();
}

Result<Json> QmpClient::Execute(const std::string& command, const Json& arguments, Ms timeout) {
  if (fd_ < 0) return Unavailable("QMP: not connected");
  const uint64_t id = next_id_++;
  Json msg = {{"execute", command}, {"id", id}};
  if (!arguments.is_null()) msg["arguments"] = arguments;
  std::string wire = msg.dump() + "\n";
  // A blocking write of a small command: QEMU reads its monitor promptly.
  size_t off = 0;
  const auto deadline = SteadyClock::now() + timeout;
  while (off < wire.size()) {
    ssize_t n = ::send(fd_, wire.data() + off, wire.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      struct pollfd p {
        fd_, POLLOUT, 0
      };
      if (::poll(&p, 1, static_cast<int>(Remaining(deadline).count())) <= 0) {
        Close();
        return Timeout("QMP " + command + ": QEMU does not read its monitor");
      }
      continue;
    }
    int err = errno;
    Close();
    return Unavailable("QMP write: " + oci::ErrnoText(err));
  }
  while (true) {
    while (!replies_.empty()) {
      Json reply = std::move(replies_.front());
      replies_.pop_front();
      auto rid = reply.find("id");
      if (rid == reply.end() || !rid->is_number_unsigned() || rid->get<uint64_t>() != id) {
        continue;  // a late reply to a command that timed out before a reconnect
      }
      if (auto err = reply.find("error"); err != reply.end()) {
        return Internal(err->value("class", "GenericError") + ": " + err->value("desc", ""));
      }
      auto ret = reply.find("return");
      return ret == reply.end() ? Json::object() : *ret;
    }
    Ms left = Remaining(deadline);
    if (left == Ms(0)) {
      Close();
      return Timeout("QMP " + command + ": no reply within " + std::to_string(timeout.count()) +
                     " ms");
    }
    Status s = ReadSome(left);
    if (!s.ok() && s.code() != Code::kTimeout) return s;
  }
}

Status QmpClient::Poll(std::deque<QmpEvent>* events) {
  Status result;
  while (fd_ >= 0) {
    Status s = ReadSome(Ms(0));
    if (s.code() == Code::kTimeout) break;
    if (!s.ok()) {
      result = s;
      break;
    }
  }
  if (fd_ < 0 && result.ok()) result = Unavailable("QMP: not connected");
  while (!events_.empty()) {
    events->push_back(std::move(events_.front()));
    events_.pop_front();
  }
  return result;
}

}  // namespace lintel::drivers::qemu
