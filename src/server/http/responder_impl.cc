#include "server/http/responder_impl.h"

#include <spdlog/spdlog.h>

#include "server/http/stream_impl.h"
#include "server/http/websocket_conn.h"
#include "server/http/wire.h"

namespace lintel::http {

ResponseState::~ResponseState() {
  if (Claim()) {
    spdlog::error("http: handler dropped its responder without answering");
    Send(StatusResponse(500, "InternalError", "the handler did not answer the request"));
  }
}

void ResponseState::Send(Response&& response) {
  uint64_t seq = seq_;
  gate_->Post(session_, [seq, r = std::move(response)](SessionBase& s) mutable {
    s.DoRespond(seq, std::move(r));
  });
}

std::shared_ptr<Stream> ResponseState::SendStream(int status, Headers&& headers) {
  auto stream = std::make_shared<StreamImpl>(session_, gate_);
  uint64_t seq = seq_;
  bool posted =
      gate_->Post(session_, [seq, status, h = std::move(headers), stream](SessionBase& s) mutable {
        s.DoStartStream(seq, status, std::move(h), stream);
      });
  if (!posted) {
    stream->Finish();  // no callbacks can be registered yet
  }
  return stream;
}

std::shared_ptr<WebSocket> ResponseState::SendUpgrade(std::string subprotocol) {
  auto core = std::make_shared<WsCore>(subprotocol);
  uint64_t seq = seq_;
  bool posted =
      gate_->Post(session_, [seq, p = std::move(subprotocol), core](SessionBase& s) mutable {
        s.DoUpgrade(seq, std::move(p), core);
      });
  if (!posted) core->Ended();
  return core;
}

void ResponseState::SendInternalError(std::string_view message) {
  if (Claim()) {
    Send(StatusResponse(500, "InternalError", message));
  }
}

void ResponderImpl::Respond(Response&& response) {
  if (!state_->Claim()) {
    spdlog::error("http: Respond called on a request that was already answered");
    return;
  }
  state_->Send(std::move(response));
}

std::shared_ptr<Stream> ResponderImpl::StartStream(int status, Headers&& headers) {
  if (!state_->Claim()) {
    spdlog::error("http: StartStream called on a request that was already answered");
    auto stream = std::make_shared<StreamImpl>(std::weak_ptr<SessionBase>(), nullptr);
    stream->Finish();
    return stream;
  }
  return state_->SendStream(status, std::move(headers));
}

std::shared_ptr<WebSocket> ResponderImpl::AcceptWebSocket(std::string subprotocol) {
  if (!state_->Claim()) {
    spdlog::error("http: AcceptWebSocket called on a request that was already answered");
    auto core = std::make_shared<WsCore>();
    core->Ended();
    return core;
  }
  return state_->SendUpgrade(std::move(subprotocol));
}

}  // namespace lintel::http
