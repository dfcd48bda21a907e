#pragma once

#include <spdlog/logger.h>

#include <array>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "gateway/core/deadline.h"
#include "gateway/core/gateway_error.h"
#include "gateway/core/io.h"
#include "gateway/core/rate_limited_log.h"
#include "gateway/http/fields_arena.h"
#include "gateway/policy/call_policy.h"
#include "gateway/proxy/worker_context.h"
#include "gateway/upstream/endpoint_set.h"
#include "meter/cost_event.h"
#include "meter/dialect.h"

namespace tollgate::gateway {

struct ProxyCall;
class AttemptFailover;

// A request as it goes upstream: its serialized head and its body.
struct UpstreamRequest {
  std::string head;
  std::string body;
};

// One client connection, on one worker, for its whole life: reads requests (limits, timeouts),
// meters and forwards each call, relays the response as it arrives, emits one cost event per call.
class DownstreamSession {
 public:
  DownstreamSession(WorkerContext& ctx, Socket socket);
  ~DownstreamSession();
  DownstreamSession(const DownstreamSession&) = delete;
  DownstreamSession& operator=(const DownstreamSession&) = delete;

  Awaitable<void> run();

  // Shutdown: closes the connection if it is waiting for a request; a call in progress finishes.
  void closeIfIdle();

 private:
  using Request = boost::beast::http::request<boost::beast::http::string_body, Fields>;
  using RequestParser =
      boost::beast::http::request_parser<boost::beast::http::string_body, ArenaAllocator<char>>;

  // Handles one request whose head `parser` has read (its body not yet): the head's rules and
  // admission first, then the body, then the call. Returns whether the connection may carry
  // another request.
  Awaitable<bool> handleCall(RequestParser& parser, const std::shared_ptr<const Runtime>& runtime);

  // A request refused before any upstream saw it, and how it is answered.
  struct Refusal {
    enum class Answer {
      kClose,   // unreadable (its framing, its body): answered, then lingers and closes; not booked
      kOnHead,  // refused on its head: a body already received is consumed and the connection
                // kept, else it closes after the answer (the client may still be sending)
      kCall,    // refused after its body was read: booked, then answered (refuseCall)
    };
    Answer answer;
    GatewayError error;
    const meter::Dialect* dialect;  // kClose, kOnHead: the answer's dialect
    bool book;                      // kOnHead: the refusal's event is emitted
  };
  // The call's start and its head's checks: the framing rules, the endpoint, the method, the
  // trace context and the policies' head hooks. `expect_continue`: the client waits for
  // "100 Continue" before its body.
  std::optional<Refusal> admitHead(ProxyCall& call, Request& req,
                                   const std::shared_ptr<const Runtime>& runtime,
                                   bool& expect_continue);
  // After the body's read: an unreadable one is refused; a chunked body's trailer fields are
  // dropped; a call that `waited` for its body starts when it is read.
  std::optional<Refusal> bodyRead(ProxyCall& call, RequestParser& parser,
                                  const boost::beast::error_code& ec, bool timed_out,
                                  size_t head_fields, bool waited);
  // The checks on the whole request: the gateway key dropped, the dialect's reading of the body,
  // the model name, the policies' request hooks, the output cap, the route.
  std::optional<Refusal> admitRequest(ProxyCall& call, Request& req);
  // Answers `refusal` in its way; returns whether the connection may carry another request.
  Awaitable<bool> refuse(ProxyCall& call, RequestParser& parser, const Refusal& refusal);

  // Whether the request's whole body is already in the read buffer.
  bool bodyBuffered(const RequestParser& parser) const;

  // The error for a request that could not be read (timeout, limits, malformed).
  GatewayError unreadableRequest(const boost::beast::error_code& ec, bool timed_out,
                                 const config::Limits& limits) const;

  // Stops sending, discards what the client still sends (bounded), then closes: the answer
  // just written is not destroyed by a reset.
  Awaitable<void> lingerAndClose();

  // Forwards a routed call and relays the answer. Fills the call's outcome, status and meter
  // result; returns whether the client connection is still usable.
  Awaitable<bool> forward(Request& req, ProxyCall& call);
  // The body the upstream gets: the client's (moved out of the request), or the dialect's rewrite
  // of it (the gateway asks a stream for its usage; call.info says so). A function of its own,
  // not a local of forward: GCC gives every local of a coroutine room in its frame, and without
  // this one forward's frame (1,008 bytes, was 1,056) is small enough for Asio's per-thread
  // recycling (1,020 bytes at most).
  std::string upstreamBody(Request& req, ProxyCall& call) const;

  // Sends the request on `conn` and relays the response to the client. `stale` is set when a
  // pooled connection turned out closed before any response byte (the caller retries).
  // The request head for `upstream` (one endpoint): the client's end-to-end fields minus
  // credentials, attribution and trace fields, then the endpoint's own and the gateway's
  // (`bearer_token`: the upstream's credentials_file token, "" for none).
  void appendUpstreamHead(const Request& req, const ProxyCall& call,
                          const config::UpstreamConfig& upstream, std::string_view bearer_token,
                          std::string_view body, std::string& head) const;

  // Sends the request on `conn` and relays the response to the client. `retry` is set when
  // attempt `attempt` failed before any response byte and the retry policy tries again (the
  // caller does).
  template <class Stream>
  Awaitable<bool> relayCall(Stream& upstream, UpstreamConnection& conn, const UpstreamRequest& out,
                            ProxyCall& call, unsigned attempt, bool& retry, bool& reusable);
  // A failed attempt that another follows: its own cost event, then the call starts afresh.
  void bookAttempt(ProxyCall& call);
  // Counts the move failover decided and makes `out` ask the next upstream for its model.
  enum class NextRequest { kSame, kRewritten, kCannotRewrite };
  NextRequest moveToNextAttempt(AttemptFailover& failover, ProxyCall& call, UpstreamRequest& out,
                                std::string& client_body);

  // Marks `call` refused by the gateway itself (status, rejected, error type): its answer.
  GatewayError rejectCall(ProxyCall& call, int status, std::string code, std::string message);

  // Marks `call` as failed upstream (status, outcome, error type): its answer.
  // Tells the endpoint's pool how the call's attempt on it ended (ejection, latency).
  void finishAttempt(EndpointSet& endpoints, size_t endpoint, const ProxyCall& call);

  GatewayError upstreamFailure(ProxyCall& call, int status, meter::Outcome outcome,
                               std::string code, std::string message);

  // How an attempt ends whose answer head never came (`switched`: the status of an interim
  // answer the gateway cannot relay, else 0; `wec`/`rec`: the request's write and the head's
  // read): tried again (`retry`), moved on to the next attempt (no error), or answered with
  // `error`. Out of relayCall's coroutine, and cold: its strings and logs are on no
  // successful call's path, and every local of a coroutine widens its frame.
  struct HeadFailure {
    bool retry = false;
    std::optional<GatewayError> error;
  };
  [[gnu::cold]] HeadFailure headFailure(ProxyCall& call, bool reused, unsigned attempt,
                                        unsigned switched, boost::beast::error_code wec,
                                        boost::beast::error_code rec, size_t written,
                                        bool timed_out);
  // The ttft timeout passed and failover moves the call on (`what` ends the message).
  [[gnu::cold]] void movedOnAfterTtft(ProxyCall& call, std::string_view what);
  // The upstream encoded an answer the gateway asked for in identity: counted and logged.
  [[gnu::cold]] void noteEncodedAnswer(const ProxyCall& call, std::string_view coding);

  // Marks `call` refused by a policy and counts it; returns whether its event is booked (an
  // unauthenticated caller's refusals are sampled).
  bool bookRefusal(ProxyCall& call, const PolicyRefusal& refusal);

  // Sends a gateway-made error in the caller's dialect. Arguments are named objects, never
  // temporaries: GCC 12 mis-handles temporaries inside co_await expressions (double free).
  Awaitable<bool> replyError(const meter::Dialect& dialect, unsigned version, bool keep_alive,
                             const GatewayError& error, std::string_view request_id,
                             bool head_only);

  // The upstream's answer is complete and the client has all but its last write: records how
  // the call ended and books it (the client still might not take that last write).
  void bookAnswer(ProxyCall& call, meter::ResponseMeter& meter);

  // Books `call` (its status and error already set), then sends `error` in its dialect: the
  // event is handed to the sink before the client can have the answer.
  Awaitable<bool> refuseCall(ProxyCall& call, const GatewayError& error);

  // Builds the call's cost event and hands it to the sink; once per call (later calls do
  // nothing). Called before the last byte of the answer is written whenever the outcome is
  // known by then, so that a crash after the client has its answer cannot lose the event.
  void finishCall(ProxyCall& call);
  // Ends the call's GPU-pool occupancy and notes the pool's rate for the event's estimate.
  void settleGpuPool(ProxyCall& call);

  ArenaAllocator<char> fieldsAllocator() { return ArenaAllocator<char>(&arena_); }

  // A data-plane warning, at most a few a second per `key` (a fixed string) on this worker.
  template <typename... Args>
  void warn(std::string_view key, spdlog::format_string_t<Args...> format, Args&&... args) {
    if (ctx_.warnings != nullptr) {
      ctx_.warnings->warn(key, format, std::forward<Args>(args)...);
    } else {
      log_->warn(format, std::forward<Args>(args)...);
    }
  }

  WorkerContext& ctx_;
  // Looked up once per connection (spdlog::get locks the registry and hashes the name).
  std::shared_ptr<spdlog::logger> log_;
  Stream stream_;
  boost::beast::flat_buffer buffer_;
  uint64_t connection_id_;
  // Every client read and write is bounded by this (never by the stream's own expiry, which
  // starts a timer per operation and closes the socket before a 408 could be sent).
  Deadline client_deadline_;
  bool idle_ = true;
  std::array<char, 16 * 1024> relay_buffer_;
  // The fields of a call's two parsed heads (request and upstream response) live here.
  FieldArena arena_;
};

}  // namespace tollgate::gateway
