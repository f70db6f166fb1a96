// Internal to the transport: the Responder a handler receives.
//
// ResponseState is shared by the ResponderImpl and the worker that called the
// handler, so that exactly one answer is sent: the handler's, or a 500 with the
// exception's message if the handler threw, or a 500 if every reference to the
// responder was dropped without an answer. Any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "server/http/http.h"
#include "server/http/session_base.h"

namespace lintel::http {

class ResponseState {
 public:
  ResponseState(std::weak_ptr<SessionBase> session, std::shared_ptr<Gate> gate, uint64_t seq)
      : session_(std::move(session)), gate_(std::move(gate)), seq_(seq) {}
  ~ResponseState();
  ResponseState(const ResponseState&) = delete;
  ResponseState& operator=(const ResponseState&) = delete;

  // True for the first caller only.
  bool Claim() { return !claimed_.exchange(true); }
  void Send(Response&& response);
  std::shared_ptr<Stream> SendStream(int status, Headers&& headers);
  std::shared_ptr<WebSocket> SendUpgrade(std::string subprotocol);
  // Claims and answers 500 InternalError; no-op if already answered.
  void SendInternalError(std::string_view message);

 private:
  const std::weak_ptr<SessionBase> session_;
  const std::shared_ptr<Gate> gate_;
  const uint64_t seq_;
  std::atomic<bool> claimed_{false};
};

class ResponderImpl final : public Responder {
 public:
  explicit ResponderImpl(std::shared_ptr<ResponseState> state) : state_(std::move(state)) {}
  void Respond(Response&& response) override;
  std::shared_ptr<Stream> StartStream(int status, Headers&& headers) override;
  std::shared_ptr<WebSocket> AcceptWebSocket(std::string subprotocol) override;

 private:
  const std::shared_ptr<ResponseState> state_;
};

}  // namespace lintel::http
