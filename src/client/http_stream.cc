#include <boost/asio/post.hpp>
#include <exception>
#include <thread>
#include <vector>

#include "client/connection.h"
#include "client/http_client.h"

namespace lintel::client {

namespace {

namespace bhttp = boost::beast::http;

constexpr size_t kStreamReadSize = 16384;

std::string_view ToStd(boost::beast::string_view s) { return {s.data(), s.size()}; }

}  // namespace

void CopyHeaders(const bhttp::fields& fields, HttpHeaders* out) {
  for (const auto& f : fields) {
    out->Add(ToStd(f.name_string()), ToStd(f.value()));
  }
}

boost::system::error_code ReadBodySome(Connection& conn, BodyParser& parser, char* buf,
                                       size_t size, size_t* n) {
  auto& body = parser.get().body();
  body.data = buf;
  body.size = size;
  boost::system::error_code ec = conn.With([&](auto& stream) {
    return conn.Run([&](auto handler) {
      bhttp::async_read_some(stream, conn.buffer, parser, std::move(handler));
    });
  });
  if (ec == bhttp::error::need_buffer) {
    ec = {};
  }
  *n = size - parser.get().body().size;
  return ec;
}

bool HttpStream::State::Deliver(std::string_view line) {
  if (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  std::lock_guard lock(callback_mu);
  if (cancelled.load()) {
    return false;
  }
  return on_line(line);
}

bool HttpStream::State::Feed(std::string_view data, Status* error) {
  size_t start = 0;
  for (;;) {
    size_t nl = data.find('\n', start);
    if (nl == std::string_view::npos) {
      partial.append(data.substr(start));
      if (partial.size() > max_line) {
        *error = BadRequest("stream: a line exceeds " + std::to_string(max_line) + " bytes");
        return false;
      }
      return true;
    }
    bool more;
    if (partial.empty()) {
      more = Deliver(data.substr(start, nl - start));
    } else {
      partial.append(data.substr(start, nl - start));
      more = Deliver(partial);
      partial.clear();
    }
    if (!more) {
      return false;
    }
    start = nl + 1;
  }
}

void HttpStream::State::Run() {
  Status status;
  std::vector<char> buf(kStreamReadSize);
  try {
    while (!parser->is_done() && !cancelled.load()) {
      size_t n = 0;
      boost::system::error_code ec = ReadBodySome(*conn, *parser, buf.data(), buf.size(), &n);
      if (n > 0 && !Feed(std::string_view(buf.data(), n), &status)) {
        break;
      }
      if (ec) {
        if (!cancelled.load()) {
          status = Unavailable("stream: read: " + ec.message());
        }
        break;
      }
    }
    if (parser->is_done() && !partial.empty() && status.ok()) {
      Deliver(partial);
    }
  } catch (const std::exception& e) {
    status = Internal(std::string("stream: ") + e.what());
  }
  conn->Abort();
  {
    std::lock_guard lock(mu);
    done = true;
    result = status;
  }
  cv.notify_all();
}

HttpStream::HttpStream(std::shared_ptr<State> state) : state_(std::move(state)) {
  thread_ = std::thread([s = state_] { s->Run(); });
}

HttpStream::~HttpStream() {
  Cancel();
  if (thread_.joinable()) {
    if (std::this_thread::get_id() == thread_.get_id()) {
      thread_.detach();  // destroyed from the callback; the thread owns the state
    } else {
      thread_.join();
    }
  }
}

void HttpStream::Cancel() {
  if (std::this_thread::get_id() == thread_.get_id()) {
    state_->cancelled = true;
  } else {
    std::lock_guard lock(state_->callback_mu);
    state_->cancelled = true;
  }
  // Runs on the stream's thread, inside its io_context: ends the pending read.
  Connection* conn = state_->conn.get();
  boost::asio::post(conn->ioc, [conn] { conn->Abort(); });
}

Status HttpStream::Wait() {
  std::unique_lock lock(state_->mu);
  state_->cv.wait(lock, [&] { return state_->done; });
  return state_->result;
}

bool HttpStream::Done() const {
  std::lock_guard lock(state_->mu);
  return state_->done;
}

}  // namespace lintel::client
