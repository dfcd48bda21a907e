#include "gateway/proxy/downstream_session.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <boost/asio/deferred.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>
#include <optional>
#include <span>
#include <tuple>

#include "gateway/http/http_fields.h"
#include "gateway/http/http_head.h"
#include "gateway/http/request_rules.h"
#include "gateway/http/response_write_plan.h"
#include "gateway/proxy/attempt_accounting.h"
#include "gateway/proxy/attempt_failover.h"
#include "gateway/proxy/call_accounting.h"
#include "gateway/proxy/call_attempts.h"
#include "gateway/proxy/framing_plan.h"
#include "gateway/proxy/output_cap_clamp.h"
#include "gateway/proxy/proxy_call.h"
#include "gateway/proxy/stream_guard.h"
#include "gateway/upstream/aws_request_signing.h"
#include "gateway/upstream/failover_planner.h"
#include "meter/openai_dialect.h"
#include "meter/request_model_rewrite.h"

namespace tollgate::gateway {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

namespace {

int64_t steadyNanos(CallRecord::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

// The meter of events.sink: none: sees nothing, changes nothing, knows nothing.
class UnreadBody final : public meter::ResponseMeter {
 public:
  std::string_view onBody(std::string_view chunk) override { return chunk; }
  std::string_view onEnd(bool) override { return {}; }
  meter::MeterResult result() const override { return {}; }
};
const meter::OpenAiDialect kDefaultDialect;  // error shape for requests outside any API

constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
// Read room past the head limit: one read's worth of body, a chunk-size line, a trailer section.
constexpr size_t kBodyReadSlack = 64 * 1024;
// A lingering close reads what the client still sends for at most this long and this much.
constexpr std::chrono::milliseconds kLingerTime{2'000};
constexpr size_t kLingerBytes = 1024 * 1024;
// An upstream that sends more interim (1xx) answers than this before its answer is broken.
constexpr int kMaxInterimResponses = 8;
// The upstream request head's first allocation: a typical head in one block, small enough for
// glibc's per-thread cache (blocks of up to 1,032 bytes with their header); 1,024 missed it by
// one and took the arena's slower path on every call.
constexpr size_t kUpstreamHeadReserve = 1000;

bool isClientGone(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == asio::error::operation_aborted || ec == asio::error::bad_descriptor ||
         ec == asio::error::not_connected;
}

}  // namespace

DownstreamSession::DownstreamSession(WorkerContext& ctx, Socket socket)
    : ctx_(ctx),
      log_(spdlog::get("gateway")),
      stream_(std::move(socket)),
      connection_id_(ctx.next_connection_id++),
      client_deadline_(*ctx.deadlines, stream_.socket()),
      arena_(ctx.field_blocks) {
  buffer_.reserve(8 * 1024);  // a typical request in one read
  ctx_.sessions.push_back(this);
  ctx_.metrics->open_client_connections.fetch_add(1, std::memory_order_relaxed);
}

DownstreamSession::~DownstreamSession() {
  std::erase(ctx_.sessions, this);
  ctx_.metrics->open_client_connections.fetch_sub(1, std::memory_order_relaxed);
}

void DownstreamSession::closeIfIdle() {
  if (idle_) {
    beast::error_code ec;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
    stream_.cancel();
  }
}

Awaitable<void> DownstreamSession::run() {
  bool first = true;
  // The head of each request is awaited under the limits and timeouts of the snapshot the
  // previous call ran with (or the current one); the call itself, under the snapshot in force
  // when its head arrived. One snapshot load per call.
  auto runtime = ctx_.runtime->load();
  for (;;) {
    if (ctx_.isDraining()) break;
    const auto& limits = runtime->config->server.limits;
    const auto& timeouts = runtime->config->server.timeouts;
    RequestParser parser(std::piecewise_construct, std::make_tuple(),
                         std::make_tuple(fieldsAllocator()));
    parser.header_limit(static_cast<std::uint32_t>(limits.max_header_bytes));
    parser.body_limit(limits.max_body_bytes);
    // Beast bounds neither a chunk-size line's extensions nor a trailer section: both wait in
    // this buffer for their end, so its ceiling bounds them.
    buffer_.max_size(limits.max_header_bytes + kBodyReadSlack);

    idle_ = true;
    client_deadline_.expiresAfter(first ? timeouts.client_header : timeouts.client_idle);
    auto [ec, n] = co_await http::async_read_header(stream_, buffer_, parser, kNoThrow);
    idle_ = false;
    first = false;
    client_deadline_.clear();
    if (ec) {
      // No request could be read: answer if the client is still there and said something.
      const bool got_bytes = parser.got_some() || buffer_.size() > 0;
      const bool timed_out = client_deadline_.expired();
      if (got_bytes && (!isClientGone(ec) || timed_out)) {
        const GatewayError error = unreadableRequest(ec, timed_out, limits);
        const RequestId request_id = ctx_.ids.requestId();
        const bool head_only = false;
        co_await replyError(kDefaultDialect, 11, false, error, request_id, head_only);
        log_->debug("[C{}] request rejected before routing status={} error=\"{}\"", connection_id_,
                    error.status, ec.message());
        co_await lingerAndClose();
      }
      break;
    }
    // The call runs under the configuration in force when its head arrived (a kept-alive
    // connection may have waited across a reload).
    runtime = ctx_.runtime->load();
    const auto& call_limits = runtime->config->server.limits;
    parser.body_limit(call_limits.max_body_bytes);
    // Beast compares a Content-Length with the body limit only as the head completes.
    if (parser.content_length() && *parser.content_length() > call_limits.max_body_bytes) {
      const GatewayError error = unreadableRequest(http::error::body_limit, false, call_limits);
      const RequestId request_id = ctx_.ids.requestId();
      const bool head_only = false;
      co_await replyError(kDefaultDialect, parser.get().version(), false, error, request_id,
                          head_only);
      co_await lingerAndClose();
      break;
    }
    if (!co_await handleCall(parser, runtime)) break;
  }
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.close();
}

GatewayError DownstreamSession::unreadableRequest(const beast::error_code& ec, bool timed_out,
                                                  const config::Limits& limits) const {
  if (timed_out) return {408, "request_timeout", "the request was not received in time"};
  if (ec == http::error::body_limit) {
    return {413, "request_too_large",
            "the request body exceeds the gateway's limit of " +
                std::to_string(limits.max_body_bytes) + " bytes"};
  }
  if (ec == http::error::header_limit) {
    return {431, "headers_too_large", "the request headers exceed the gateway's limit"};
  }
  if (ec == http::error::buffer_overflow) {
    return {400, "bad_http_request", "a chunk header or trailer section exceeds the limit"};
  }
  return {400, "bad_http_request", "malformed HTTP request: " + ec.message()};
}

Awaitable<void> DownstreamSession::lingerAndClose() {
  // Closing with unread request bytes in the socket makes the kernel send a reset, which can
  // destroy the answer before the client reads it: stop sending, then read and discard what
  // the client still sends for a bounded time and amount (as nginx's lingering close).
  beast::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  client_deadline_.expiresAfter(kLingerTime);
  size_t discarded = 0;
  while (discarded < kLingerBytes) {
    auto [ec, n] = co_await stream_.async_read_some(
        asio::buffer(relay_buffer_.data(), relay_buffer_.size()), kNoThrow);
    if (ec) break;
    discarded += n;
  }
  client_deadline_.clear();
  stream_.close();
}

bool DownstreamSession::bodyBuffered(const RequestParser& parser) const {
  if (parser.is_done()) return true;
  const auto length = parser.content_length();
  return length && !parser.chunked() && buffer_.size() >= *length;
}

GatewayError DownstreamSession::rejectCall(ProxyCall& call, int status, std::string code,
                                           std::string message) {
  call.status = status;
  call.outcome = meter::Outcome::kRejected;
  call.error_type = code;
  return GatewayError{status, std::move(code), std::move(message)};
}

bool DownstreamSession::bookRefusal(ProxyCall& call, const PolicyRefusal& refusal) {
  call.status = refusal.error.status;
  call.outcome = meter::Outcome::kRejected;
  call.error_type = refusal.error.code;
  call.limit = refusal.limit_name;
  if (refusal.code) {
    ctx_.metrics->add(ctx_.metrics->admission_refusals[static_cast<size_t>(*refusal.code)]);
  }
  // Traffic without a valid key is not a customer's: its events are sampled at a bounded
  // rate (the metric above counts every one), so it cannot fill the disk or the topic.
  if (refusal.unauthenticated && !ctx_.unauthenticated_events.take(Clock::now())) {
    call.booked = true;
    ctx_.metrics->add(ctx_.metrics->refusal_events_suppressed);
    return false;
  }
  return true;
}

Awaitable<bool> DownstreamSession::handleCall(RequestParser& parser,
                                              const std::shared_ptr<const Runtime>& runtime) {
  Request& req = parser.get();
  ProxyCall call;
  // The checks before any upstream are plain functions and every refusal is answered by one
  // coroutine: this one's frame and code hold only the path of a call that goes on.
  bool expect_continue = false;
  std::optional<Refusal> refused = admitHead(call, req, runtime, expect_continue);
  // The body (a body that came with the head is read from the buffer).
  if (!refused && !parser.is_done()) {
    const auto& timeouts = call.runtime->config->server.timeouts;
    if (expect_continue) {
      // The client that asked waits for "100 Continue" before sending it.
      client_deadline_.expiresAfter(timeouts.client_body);
      auto [wec, wn] = co_await asio::async_write(stream_, asio::buffer(kContinue), kNoThrow);
      client_deadline_.clear();
      if (wec) co_return false;
    }
    const size_t head_fields =
        static_cast<size_t>(std::distance(req.base().begin(), req.base().end()));
    // A body that came with the head costs no wait: the call started with the head.
    const bool waits_for_body = !bodyBuffered(parser);
    client_deadline_.expiresAfter(timeouts.client_body);
    auto [ec, n] = co_await http::async_read(stream_, buffer_, parser, kNoThrow);
    const bool timed_out = client_deadline_.expired();
    client_deadline_.clear();
    if (ec && isClientGone(ec) && !timed_out) co_return false;
    refused = bodyRead(call, parser, ec, timed_out, head_fields, waits_for_body);
  }
  if (!refused) refused = admitRequest(call, req);
  if (refused) {
    const bool keep = co_await refuse(call, parser, *refused);
    co_return keep;
  }
  if (ctx_.open_calls != nullptr) {
    call.open_view.emplace(call, ctx_.event_source);
    call.open_call.begin(ctx_.open_calls, *call.open_view);
  }
  const bool keep = co_await forward(req, call);
  finishCall(call);
  co_return keep;
}

std::optional<DownstreamSession::Refusal> DownstreamSession::admitHead(
    ProxyCall& call, Request& req, const std::shared_ptr<const Runtime>& runtime,
    bool& expect_continue) {
  call.start = Clock::now();
  call.start_wall = std::chrono::system_clock::now();
  call.runtime = runtime;
  call.request_id = ctx_.ids.requestId();
  call.http_version = req.version();
  call.client_keep_alive = req.keep_alive() && !ctx_.isDraining();

  const std::string_view target = req.target();
  const std::string_view path = target.substr(0, target.find('?'));
  call.target = target;
  call.endpoint = path;

  // Framing first: a head whose body length cannot be trusted is answered and the connection
  // closed, before anything else reads it.
  HeadDecision rules = checkRequestHead(req.base(), req.version());
  if (rules.error) {
    call.client_keep_alive = false;
    return Refusal{Refusal::Answer::kClose, std::move(*rules.error),
                   &call.runtime->router.errorDialectFor(path), false};
  }
  expect_continue = rules.expect_continue;

  const Endpoint endpoint = call.runtime->router.endpointFor(path);
  if (endpoint.dialect == nullptr) {
    GatewayError error{404, "unknown_endpoint", "no API is served at " + std::string(path)};
    call.error_type = error.code;
    return Refusal{Refusal::Answer::kOnHead, std::move(error),
                   &call.runtime->router.errorDialectFor(path), false};
  }
  call.dialect = endpoint.dialect;
  if (req.method() != http::verb::post) {
    // Not a call to an API (nothing was asked of a model): answered, not booked.
    GatewayError error{405, "method_not_allowed", std::string(path) + " accepts POST only"};
    call.error_type = error.code;
    return Refusal{Refusal::Answer::kOnHead, std::move(error), call.dialect, false};
  }

  TraceParent parent;
  if (parseTraceParent(req["traceparent"], parent)) {
    call.trace_id = parent.trace_id;
    call.parent_span_id = parent.parent_id;
    call.sampled = (parent.flags & 0x01) != 0;
    call.tracestate = std::string(req["tracestate"]);
  } else {
    call.trace_id = ctx_.ids.traceId();
    // A trace the gateway starts is sampled at telemetry.sample_ratio; the upstream is told so.
    const auto& telemetry = call.runtime->config->telemetry;
    if (!telemetry.otlp_endpoint.empty()) {
      call.sampled = sampleTraceId(call.trace_id, telemetry.sample_ratio);
    }
  }
  call.span_id = ctx_.ids.spanId();
  call.upstream_span_id = ctx_.ids.spanId();

  // The policies' head hooks (admission: the gateway key and the attribution labels) run
  // before the body is read: a caller without a key never makes the gateway buffer its body.
  call.policy.attribution = &call.attribution;
  call.policy.endpoint = path;
  call.policy.dialect = call.dialect;
  if (auto refusal = call.runtime->policies.onHead(req.base(), call.policy)) {
    const bool book = bookRefusal(call, *refusal);
    return Refusal{Refusal::Answer::kOnHead, std::move(refusal->error), call.dialect, book};
  }
  return std::nullopt;
}

std::optional<DownstreamSession::Refusal> DownstreamSession::bodyRead(
    ProxyCall& call, RequestParser& parser, const beast::error_code& ec, bool timed_out,
    size_t head_fields, bool waited) {
  if (ec) {
    GatewayError error = unreadableRequest(ec, timed_out, call.runtime->config->server.limits);
    log_->debug("[C{}] request body rejected status={} error=\"{}\"", connection_id_, error.status,
                ec.message());
    return Refusal{Refusal::Answer::kClose, std::move(error), call.dialect, false};
  }
  // A chunked body's trailer section is not part of the request's head.
  if (parser.chunked()) {
    const size_t dropped = dropTrailerFields(parser.get().base(), head_fields);
    if (dropped > 0) ctx_.metrics->add(ctx_.metrics->request_trailers_dropped, dropped);
  }
  if (waited) {
    call.start = Clock::now();
    call.start_wall = std::chrono::system_clock::now();
  }
  return std::nullopt;
}

std::optional<DownstreamSession::Refusal> DownstreamSession::admitRequest(ProxyCall& call,
                                                                          Request& req) {
  const std::string_view path = call.endpoint;
  // The gateway key goes no further, whatever the upstream's passthrough_auth says.
  for (const auto& name : call.policy.key_headers) req.erase(name);
  if (!call.policy.warnings.empty()) {
    ctx_.metrics->add(ctx_.metrics->attribution_warnings, call.policy.warnings.size());
    if (log_->should_log(spdlog::level::debug)) {
      for (const auto& warning : call.policy.warnings) {
        log_->debug("[C{}] attribution warning request_id={} key_id={} {}", connection_id_,
                    call.request_id.view(), call.attribution.key_id, warning);
      }
    }
  }

  auto rejected = call.dialect->inspectRequest(path, req.body(), call.info);
  if (!rejected) {
    if (auto too_long = checkModelName(call.info.model)) {
      // The name is not a label anyone may see in full: the event keeps a bounded prefix.
      call.info.model.resize(kMaxModelNameBytes);
      rejected = meter::RequestError{too_long->status, too_long->code, too_long->message};
    }
  }
  if (rejected) {
    return Refusal{
        Refusal::Answer::kCall,
        rejectCall(call, rejected->status, std::move(rejected->code), std::move(rejected->message)),
        nullptr, false};
  }
  // An Azure deployment is routed by its name, and priced and budgeted as the model it deploys.
  std::string routed_as;
  if (const auto priced = call.runtime->router.pricedModel(call.dialect->name(), call.info.model);
      priced != call.info.model) {
    routed_as = std::move(call.info.model);
    call.info.model = priced;
  }
  call.policy.request = &call.info;
  if (auto refusal = call.runtime->policies.onRequest(call.policy)) {
    bookRefusal(call, *refusal);
    return Refusal{Refusal::Answer::kCall, std::move(refusal->error), nullptr, false};
  }
  if (call.policy.max_output_tokens && !clampOutputCap(call.policy, call, req.body())) {
    return Refusal{Refusal::Answer::kCall,
                   rejectCall(call, 400, "invalid_request",
                              "the request's output cap is not a number of tokens"),
                   nullptr, false};
  }
  call.upstreams = call.runtime->router.route(call.dialect->name(),
                                              routed_as.empty() ? call.info.model : routed_as);
  if (call.upstreams == nullptr) {
    return Refusal{Refusal::Answer::kCall,
                   rejectCall(call, 404, "model_not_found",
                              "no upstream serves model '" + call.info.model + "'"),
                   nullptr, false};
  }
  return std::nullopt;
}

Awaitable<bool> DownstreamSession::refuse(ProxyCall& call, RequestParser& parser,
                                          const Refusal& refusal) {
  if (refusal.answer == Refusal::Answer::kCall) {
    const bool kept = co_await refuseCall(call, refusal.error);
    co_return kept;
  }
  bool keep = false;
  bool head_only = false;
  if (refusal.answer == Refusal::Answer::kOnHead) {
    // The body has not been read. A body already in the buffer is consumed and the connection
    // kept; otherwise the connection closes after the answer (the client may still be sending).
    keep = call.client_keep_alive && bodyBuffered(parser);
    if (keep && !parser.is_done()) {
      auto [ec, n] = co_await http::async_read(stream_, buffer_, parser, kNoThrow);
      keep = !ec;
    }
    call.client_keep_alive = keep;
    if (refusal.book) finishCall(call);
    head_only = parser.get().method() == http::verb::head;
  }
  const bool kept = co_await replyError(*refusal.dialect, call.http_version, keep, refusal.error,
                                        call.request_id, head_only);
  // The request's bytes may still be coming: closing at once would reset the answer away.
  if (!kept) co_await lingerAndClose();
  co_return kept;
}

void DownstreamSession::appendUpstreamHead(const Request& req, const ProxyCall& call,
                                           const config::UpstreamConfig& upstream,
                                           std::string_view bearer_token, std::string_view body,
                                           std::string& head) const {
  const auto& names = call.runtime->config->attribution_headers;
  head.reserve(kUpstreamHeadReserve);
  // A credential in the query string (Gemini's `?key=`) is the client's: it goes upstream only
  // with passthrough_auth, like the credential headers, and never when it is a gateway key.
  const std::string_view query_key = queryParameter(call.target, "key");
  const bool drop_query_key =
      !upstream.passthrough_auth ||
      (!query_key.empty() && call.runtime->admission.keys().find(query_key) != nullptr);
  appendRequestLine(req.method_string(), upstream.base_path, call.target,
                    drop_query_key ? "key" : std::string_view{}, head);
  // The client's credentials are for the gateway, never for the provider, unless the upstream
  // takes the client's own provider key (passthrough_auth; the gateway key itself was removed at
  // admission). Attribution and trace headers are the gateway's own and are re-issued below, as
  // are the fields the upstream's configuration sets.
  const bool pass_credentials = upstream.passthrough_auth;
  // An AWS upstream is signed by the gateway: the client's own signing fields are dropped.
  const bool aws_signed = !upstream.aws.region.empty();
  // The gateway answers Expect itself and sends the whole body; the response must be read as
  // plain bytes to be metered, so the upstream is asked for no content coding.
  const bool identity = ctx_.metering;
  appendEndToEnd(req.base(), head, [&](http::field code, std::string_view name) {
    switch (code) {
      case http::field::host:
      case http::field::expect:
        return false;
      case http::field::accept_encoding:
        if (identity) return false;
        break;
      case http::field::authorization:
        if (!pass_credentials || !bearer_token.empty()) return false;
        break;
      case http::field::unknown:
        if ((!pass_credentials && (iequals(name, "x-api-key") || iequals(name, "x-goog-api-key") ||
                                   iequals(name, "api-key"))) ||
            iequals(name, "traceparent") || iequals(name, "x-request-id") ||
            (aws_signed && isClientAwsSigningField(name))) {
          return false;
        }
        break;
      default:
        break;
    }
    if (iequals(name, names.team) || iequals(name, names.project) ||
        iequals(name, names.cost_center) || iequals(name, names.workload_type) ||
        iequals(name, names.environment) || iequals(name, names.tags)) {
      return false;
    }
    for (const auto& configured : upstream.headers) {
      if (iequals(name, configured.first)) return false;
    }
    return true;
  });
  appendField("Host", upstream.host_header, head);
  for (const auto& [name, value] : upstream.headers) appendField(name, value, head);
  if (!bearer_token.empty()) appendBearer(bearer_token, head);
  // The upstream's parent is the CLIENT span of this attempt.
  appendTraceParent(call.trace_id, call.upstream_span_id, call.sampled, head);
  appendField("x-request-id", call.request_id, head);
  if (identity) appendField("Accept-Encoding", "identity", head);
  appendContentLength(body.size(), head);
  if (aws_signed) appendAwsSignature(upstream, body, std::chrono::system_clock::now(), head);
  head.append(kCrlf);
}

std::string DownstreamSession::upstreamBody(Request& req, ProxyCall& call) const {
  if (ctx_.metering) {
    if (auto rewritten = call.dialect->rewriteRequest(req.body(), call.info)) {
      return std::move(*rewritten);
    }
  }
  return std::move(req.body());
}

Awaitable<bool> DownstreamSession::forward(Request& req, ProxyCall& call) {
  const auto& timeouts = call.runtime->config->server.timeouts;
  UpstreamRequest out;
  out.body = upstreamBody(req, call);

  call.upstream_start = Clock::now();
  // Once per call, whatever the attempts: finishCall ends what begins here.
  if (const std::string& pool = call.upstreams->config().gpu_pool;
      !pool.empty() && call.gpu_pool.empty()) {
    call.gpu_pool = pool;
    call.gpu_pool_mark =
        call.runtime->services.gpu_pools->begin(pool, steadyNanos(call.upstream_start));
  }
  auto& metrics = *ctx_.metrics;
  const config::UpstreamConfig* head_for = nullptr;
  // The worker's pools choose each attempt's endpoint (balancer, health, ejection) and whether a
  // failed attempt goes to another endpoint or a fallback (retry_on, budget, max_attempts).
  call.pools = ctx_.upstream_pools->forConfig(call.runtime->config, call.upstream_start);
  UpstreamPools& pools = *call.pools;
  const size_t first = pools.indexOf(call.upstreams->config());
  pools.pool(first).budget.onCall(call.upstream_start);
  FailoverPlanner planner(pools.config().upstreams, first, pools.pool(first).fallbacks,
                          pools.pool(first).budget);
  AttemptFailover failover(planner, pools);
  call.failover = &failover;
  // A fallback asking for another model gets the body with that model (the client's is kept
  // to go back to it for a fallback that asks for the client's).
  std::string client_body;
  bool after_stale = false;
  for (unsigned attempt = 0;; ++attempt) {
    UpstreamPools::Pool& pool = pools.pool(planner.currentUpstream());
    // The first attempt starts when the upstream part of the call does: one clock read fewer.
    const auto now = attempt == 0 ? call.upstream_start : Clock::now();
    const EndpointPick pick =
        pool.endpoints.pick(*pool.balancer, pools.random(), now, failover.tried());
    if (pick.kind != EndpointPick::Kind::kPicked) {
      call.upstream_end = now;
      const std::string& name = pools.config().upstreams[planner.currentUpstream()].name;
      GatewayError error;
      if (pick.kind == EndpointPick::Kind::kOverloaded) {
        metrics.add(metrics.upstream_overloaded);
        error = upstreamFailure(
            call, 503, meter::Outcome::kRejected, "upstream_overloaded",
            "every endpoint of the upstream '" + name + "' is at its max_outstanding; retry later");
      } else {
        error = upstreamFailure(call, 502, meter::Outcome::kUpstreamError, "upstream_unavailable",
                                "no endpoint of the upstream '" + name + "' is left to try");
      }
      if (pick.kind != EndpointPick::Kind::kExhausted) {
        error.headers.emplace_back("Retry-After", std::to_string(pick.retry_after.count()));
      }
      const bool keep = co_await refuseCall(call, error);
      co_return keep;
    }
    const size_t endpoint = pick.index;
    call.upstream = &pool.views[endpoint];
    call.endpoint_index = static_cast<uint32_t>(endpoint);
    failover.begin(endpoint);
    const auto& upstream = *call.upstream;
    // The upstream request's head is written straight into one buffer (no fields container),
    // again only when an attempt goes to another endpoint.
    if (head_for != call.upstream) {
      out.head.clear();
      appendUpstreamHead(req, call, upstream, pool.access_token.current(), out.body, out.head);
      head_for = call.upstream;
    }
    pool.endpoints.onStart(endpoint);
    beginAttempt(call, upstream, endpoint, ctx_.ids.spanId(), now);
    auto acquired = co_await ctx_.pool->acquire(upstream, timeouts.upstream_connect, !after_stale);
    after_stale = false;
    if (!acquired.connection) {
      const bool timed_out = acquired.failure == ConnectFailure::kTimeout;
      metrics.add(timed_out ? metrics.upstream_timeouts : metrics.upstream_connect_errors);
      warn("upstream_connect_failed",
           "[C{}] upstream connect failed upstream={} endpoint={} request_id={} error=\"{}\"",
           connection_id_, upstream.name, upstream.host_header, call.request_id.view(),
           acquired.detail);
      const auto failed_at = Clock::now();
      if (pool.endpoints.onFinish(endpoint, AttemptResult::kConnectError, std::nullopt,
                                  failed_at)) {
        metrics.add(metrics.upstream_ejections);
      }
      // The upstream never saw the call: another endpoint or a fallback may take it.
      if (failover.moveOn(AttemptResult::kConnectError, failed_at)) {
        endAttempt(call, pool.endpoints, AttemptResult::kConnectError, 0,
                   attemptNextOf(failover.decision().kind), failed_at);
        const auto request = moveToNextAttempt(failover, call, out, client_body);
        if (request == NextRequest::kRewritten) head_for = nullptr;
        if (request != NextRequest::kCannotRewrite) continue;
      }
      endAttempt(call, pool.endpoints, AttemptResult::kConnectError, 0, AttemptNext::kNone,
                 failed_at);
      if (failover.denied()) metrics.add(metrics.upstream_retries_denied);
      call.upstream_end = failed_at;
      const GatewayError error =
          timed_out
              ? upstreamFailure(
                    call, 504, meter::Outcome::kTimeout, "upstream_timeout",
                    "the upstream '" + upstream.name + "' did not accept a connection in time")
              : upstreamFailure(call, 502, meter::Outcome::kUpstreamError, "upstream_unavailable",
                                "the upstream '" + upstream.name + "' could not be reached");
      const bool keep = co_await refuseCall(call, error);
      co_return keep;
    }
    auto conn = std::move(acquired.connection);
    bool retry = false;
    bool reusable = false;
    bool client_ok = false;
    if (auto* plain = std::get_if<UpstreamConnection::Plain>(&conn->stream)) {
      client_ok = co_await relayCall(*plain, *conn, out, call, attempt, retry, reusable);
    } else {
      auto& tls = std::get<UpstreamConnection::Tls>(conn->stream);
      client_ok = co_await relayCall(tls, *conn, out, call, attempt, retry, reusable);
    }
    if (retry) {
      // A stale pooled connection: the same endpoint again, on a fresh connection.
      pool.endpoints.onCancel(endpoint);
      endAttempt(call, pool.endpoints, AttemptResult::kConnectError, 0, AttemptNext::kSameEndpoint,
                 Clock::now());
      after_stale = true;
      metrics.add(metrics.pool_stale_retries);
      continue;
    }
    finishAttempt(pool.endpoints, endpoint, call);
    if (reusable) ctx_.pool->release(std::move(conn), upstream);
    if (failover.denied()) metrics.add(metrics.upstream_retries_denied);
    if (failover.movingOn()) {
      // Nothing was relayed: this attempt is booked on its own, the call goes on.
      endAttemptByOutcome(call, pool.endpoints, attemptNextOf(failover.decision().kind),
                          Clock::now());
      bookAttempt(call);
      const auto request = moveToNextAttempt(failover, call, out, client_body);
      if (request == NextRequest::kRewritten) head_for = nullptr;
      if (request != NextRequest::kCannotRewrite) continue;
      call.upstream_end = Clock::now();
      const GatewayError error = upstreamFailure(
          call, 502, meter::Outcome::kUpstreamError, "upstream_unavailable",
          "the upstream '" + upstream.name +
              "' failed and the request could not be rewritten for its fallback's model");
      const bool keep = co_await refuseCall(call, error);
      co_return keep;
    }
    co_return client_ok;
  }
}

DownstreamSession::NextRequest DownstreamSession::moveToNextAttempt(AttemptFailover& failover,
                                                                    ProxyCall& call,
                                                                    UpstreamRequest& out,
                                                                    std::string& client_body) {
  auto& metrics = *ctx_.metrics;
  const auto& next = failover.decision();
  failover.enterNext();
  if (next.kind == FailoverPlanner::Kind::kNextEndpoint) {
    metrics.add(metrics.upstream_endpoint_retries);
    return NextRequest::kSame;
  }
  metrics.add(metrics.upstream_fallbacks);
  if (next.fallback->model == call.attempt_model) return NextRequest::kSame;
  if (next.fallback->model.empty()) {
    out.body = std::move(client_body);
    call.attempt_model.clear();
    return NextRequest::kRewritten;
  }
  // The configuration allows a model of its own only for fallbacks whose dialect names the
  // model in the body; the client's body passed the dialect's reading, so it is an object.
  const std::string_view from = call.attempt_model.empty() ? out.body : client_body;
  auto rewritten = meter::rewriteRequestModel(from, next.fallback->model);
  if (!rewritten) return NextRequest::kCannotRewrite;
  if (call.attempt_model.empty()) client_body = std::move(out.body);
  out.body = std::move(*rewritten);
  call.attempt_model = next.fallback->model;
  return NextRequest::kRewritten;
}

void DownstreamSession::bookAttempt(ProxyCall& call) {
  if (log_->should_log(spdlog::level::debug)) {
    log_->debug(
        "[C{}] attempt failed, the call moves on request_id={} upstream={} endpoint={} "
        "status={} error={}",
        connection_id_, call.request_id.view(), call.upstream->name, call.upstream->host_header,
        call.status, call.error_type);
  }
  if (!ctx_.metering) {
    resetAttempt(call);
    return;
  }
  meter::CostEvent event =
      accountAttempt(call, ctx_.event_source, Clock::now(), call.runtime->coster);
  call.runtime->policies.onAttempt(call.policy, event);
  if (!ctx_.sink->tryEmit(std::move(event))) {
    ctx_.metrics->add(ctx_.metrics->events_dropped);
    warn("cost_event_dropped", "[C{}] cost event dropped: sink queue full request_id={}",
         connection_id_, call.request_id.view());
  }
  resetAttempt(call);
}

void DownstreamSession::finishAttempt(EndpointSet& endpoints, size_t endpoint,
                                      const ProxyCall& call) {
  // What the attempt says about the endpoint; the time to the first byte feeds the latency.
  const AttemptResult result = attemptResultOf(call);
  std::optional<PeakEwma::Nanos> latency;
  if (call.has_first_byte) latency = call.first_byte - call.upstream_start;
  if (result == AttemptResult::kTtftTimeout) latency = call.upstream->ttft_timeout;
  // The attempt ended with its answer: relayCall stamps upstream_end on its ways out; one that
  // did not (the stamp is an earlier attempt's) ends now.
  const auto end =
      call.upstream_end >= call.attempts.back().start ? call.upstream_end : Clock::now();
  if (endpoints.onFinish(endpoint, result, latency, end)) {
    ctx_.metrics->add(ctx_.metrics->upstream_ejections);
  }
}

GatewayError DownstreamSession::upstreamFailure(ProxyCall& call, int status, meter::Outcome outcome,
                                                std::string code, std::string message) {
  call.status = status;
  call.outcome = outcome;
  call.error_type = code;
  return GatewayError{status, std::move(code), std::move(message)};
}

DownstreamSession::HeadFailure DownstreamSession::headFailure(ProxyCall& call, bool reused,
                                                              unsigned attempt, unsigned switched,
                                                              beast::error_code wec,
                                                              beast::error_code rec, size_t written,
                                                              bool timed_out) {
  auto& metrics = *ctx_.metrics;
  HeadFailure out;
  if (switched != 0) {
    metrics.add(metrics.upstream_protocol_errors);
    warn("upstream_protocol_error",
         "[C{}] upstream answered with an unexpected {} upstream={} request_id={}", connection_id_,
         switched, call.upstream->name, call.request_id.view());
    call.upstream_end = Clock::now();
    out.error =
        upstreamFailure(call, 502, meter::Outcome::kUpstreamError, "upstream_protocol_error",
                        "the upstream '" + call.upstream->name +
                            "' answered with a status the gateway cannot relay");
    return out;
  }
  if (call.failover->movingOn()) {  // the ttft timeout: the next attempt, or a fallback, takes it
    movedOnAfterTtft(call, "' sent nothing within ttft_timeout_ms");
    return out;
  }
  // Nothing of the answer was relayed yet: whether to try again is the retry policy's.
  AttemptFailure failure;
  failure.stale_pooled_connection = reused && wec && !timed_out;
  failure.request_bytes_written = written > 0;
  if (ctx_.retry_policy.shouldRetry(failure, attempt)) {
    out.retry = true;
    return out;
  }
  // Sent, then reset or closed before any answer: another endpoint or a fallback may take it
  // (the upstream may have started on it: the attempt is booked, with whatever it cost).
  if (!wec && !timed_out && call.failover->moveOn(AttemptResult::kConnectError, Clock::now())) {
    call.upstream_end = Clock::now();
    upstreamFailure(call, 502, meter::Outcome::kUpstreamError, "upstream_connection_error",
                    "the connection to the upstream '" + call.upstream->name + "' failed");
    return out;
  }
  metrics.add(timed_out ? metrics.upstream_timeouts : metrics.upstream_connect_errors);
  warn("upstream_call_failed", "[C{}] upstream call failed upstream={} request_id={} error=\"{}\"",
       connection_id_, call.upstream->name, call.request_id.view(), (wec ? wec : rec).message());
  call.upstream_end = Clock::now();
  out.error =
      timed_out
          ? upstreamFailure(call, 504, meter::Outcome::kTimeout, "upstream_timeout",
                            "the upstream '" + call.upstream->name + "' did not answer in time")
          : upstreamFailure(call, 502, meter::Outcome::kUpstreamError, "upstream_connection_error",
                            "the connection to the upstream '" + call.upstream->name + "' failed");
  return out;
}

void DownstreamSession::movedOnAfterTtft(ProxyCall& call, std::string_view what) {
  call.upstream_end = Clock::now();
  upstreamFailure(call, 504, meter::Outcome::kTimeout, "upstream_ttft_timeout",
                  "the upstream '" + call.upstream->name + std::string(what));
}

void DownstreamSession::noteEncodedAnswer(const ProxyCall& call, std::string_view coding) {
  ctx_.metrics->add(ctx_.metrics->upstream_encoded_responses);
  log_->debug(
      "[C{}] upstream sent Content-Encoding '{}' despite identity: booked from the estimate "
      "upstream={}",
      connection_id_, coding, call.upstream->name);
}

template <class Stream>
Awaitable<bool> DownstreamSession::relayCall(Stream& upstream_stream, UpstreamConnection& conn,
                                             const UpstreamRequest& out, ProxyCall& call,
                                             unsigned attempt, bool& retry, bool& reusable) {
  const auto& timeouts = call.runtime->config->server.timeouts;
  auto& metrics = *ctx_.metrics;
  auto& tcp = conn.tcp();

  Deadline deadline(*ctx_.deadlines, tcp.socket());
  // ttft_timeout_ms: the head's first byte must come within it, or the call may move on. When it
  // may not (nothing left to try), the attempt waits on to upstream_response as before.
  bool ttft_armed = call.upstream->ttft_timeout.count() > 0 &&
                    call.upstream->ttft_timeout < timeouts.upstream_response;
  deadline.expiresAfter(ttft_armed ? call.upstream->ttft_timeout : timeouts.upstream_response);
  const auto ttft_due =
      ttft_armed ? Clock::now() + call.upstream->ttft_timeout : Clock::time_point::max();
  const std::array<asio::const_buffer, 2> request_buffers = {asio::buffer(out.head),
                                                             asio::buffer(out.body)};
  auto [wec, written] = co_await asio::async_write(upstream_stream, request_buffers, kNoThrow);
  using ResponseParser = http::response_parser<http::buffer_body, ArenaAllocator<char>>;
  std::optional<ResponseParser> parser;
  beast::error_code rec;
  // Interim (1xx) answers are not the answer: 100 Continue and 103 Early Hints are read and
  // dropped (the gateway sent the whole body and answers Expect itself; Early Hints' preload
  // links mean nothing to an API client), then the final head is read from the same bytes.
  // 101 is a protocol the gateway never asked for.
  bool switched = false;
  for (int interim = 0; !wec; ++interim) {
    parser.emplace(std::piecewise_construct, std::make_tuple(), std::make_tuple(fieldsAllocator()));
    parser->body_limit(boost::none);
    size_t n = 0;
    // One read, resumed once when only the TTFT timeout passed and the call may not move on.
    for (;;) {
      std::tie(rec, n) =
          co_await http::async_read_header(upstream_stream, conn.buffer, *parser, kNoThrow);
      if (!rec || !ttft_armed || !deadline.expired()) break;
      ttft_armed = false;
      const bool silent = !parser->got_some() && conn.buffer.size() == 0;
      if (silent && call.failover->moveOn(AttemptResult::kTtftTimeout, Clock::now())) break;
      deadline.expiresAfter(timeouts.upstream_response - call.upstream->ttft_timeout);
    }
    if (rec) break;
    const unsigned code = parser->get().result_int();
    if (code >= 200) break;
    if (code == 101 || interim >= kMaxInterimResponses) {
      switched = true;
      break;
    }
    metrics.add(metrics.upstream_interim_dropped);
  }
  if (switched || wec || rec || call.failover->movingOn()) [[unlikely]] {
    const HeadFailure failure =
        headFailure(call, conn.reused, attempt, switched ? parser->get().result_int() : 0, wec, rec,
                    written, deadline.expired());
    retry = failure.retry;
    if (!failure.error) co_return true;
    const bool keep = co_await refuseCall(call, *failure.error);
    co_return keep;
  }

  auto& head = parser->get();
  call.status = static_cast<int>(head.result_int());
  // A failing answer (429, 5xx) that another attempt may replace is read for its cost, never
  // relayed: the client gets one answer, the last attempt's.
  if (const AttemptResult answer = classifyAnswer(call.status); answer != AttemptResult::kSuccess)
      [[unlikely]] {
    const auto now = Clock::now();
    call.failover->onAnswerHead(call.status, head[http::field::retry_after], now,
                                std::chrono::system_clock::now());
    call.discarding = call.failover->moveOn(answer, now);
  }
  // The answer's coding and type, in one pass over its fields (a lookup by name is a search of
  // Beast's field tree, and the meter and the stream guard both need the type).
  std::string_view coding;
  std::string_view content_type;
  bool coding_seen = false;
  bool type_seen = false;
  for (const auto& f : head) {
    if (f.name() == http::field::content_encoding && !coding_seen) {
      coding = f.value();
      coding_seen = true;
    } else if (f.name() == http::field::content_type && !type_seen) {
      content_type = f.value();
      type_seen = true;
    }
  }
  // A content coding the gateway asked not to get (Accept-Encoding: identity was ignored): the
  // bytes are relayed untouched and unread, and the call is booked from the estimate.
  const bool encoded = !coding.empty() && !iequals(coding, "identity");
  // With metering off the body is relayed unread by a stateless meter.
  static UnreadBody unread;
  std::unique_ptr<meter::ResponseMeter> owned_meter;
  meter::ResponseMeter* meter = &unread;
  if (ctx_.metering) {
    owned_meter = call.dialect->newResponseMeter(call.info, call.status, content_type);
    if (!encoded) meter = owned_meter.get();
  }
  // The journal reads what the meter relayed while this relay runs, never after the meter dies.
  struct ForgetMeter {
    ProxyCall& call;
    ~ForgetMeter() {
      if (call.open_view) call.open_view->forgetMeter(call.open_call.journaled());
    }
  } forget_meter{call};
  if (call.open_view) call.open_view->setMeter(meter);
  if (encoded && ctx_.metering) [[unlikely]]
    noteEncodedAnswer(call, coding);
  const bool may_alter = call.info.gateway_asked_usage && !encoded;
  // Who books the call: the meter that read the body, or, for an encoded body it could not
  // read, the dialect's meter told that it saw nothing (its estimate).
  bool estimate_taken = false;
  auto accountant = [&]() -> meter::ResponseMeter& {
    if (!encoded || !owned_meter) return *meter;
    if (!estimate_taken) {
      estimate_taken = true;
      owned_meter->onEnd(false);
    }
    return *owned_meter;
  };
  // bookAnswer moves the meter's result into the call: from then on the relay reads the call's.
  bool answer_taken = false;
  auto takeAnswer = [&] {
    bookAnswer(call, accountant());
    answer_taken = true;
  };

  // The client's response head, written straight into one buffer: the upstream's end-to-end
  // fields, the gateway's x-request-id, then framing and connection fields for this hop.
  std::string response_head;
  response_head.reserve(512);
  appendStatusLine(call.http_version, head.result_int(), head.reason(), response_head);
  appendEndToEnd(head.base(), response_head, [](http::field code, std::string_view name) {
    return code != http::field::unknown || !iequals(name, "x-request-id");
  });
  appendField("x-request-id", call.request_id, response_head);
  const bool has_body = !parser->is_done();
  ResponseShape shape;
  shape.status = call.status;
  shape.has_body = has_body;
  if (has_body && parser->content_length()) shape.content_length = *parser->content_length();
  shape.body_may_change = may_alter;
  shape.client_version = call.http_version;
  shape.client_keep_alive = call.client_keep_alive;
  shape.draining = ctx_.isDraining();
  const FramingPlan framing = planResponseFraming(shape);
  appendFramingFields(framing, shape, response_head);
  const bool chunked = framing.body == BodyFraming::kChunked;
  const bool keep_alive = framing.keep_alive;
  if (framing.body == BodyFraming::kUntilClose) call.client_keep_alive = false;
  response_head.append(kCrlf);

  // The head goes out with the first body bytes (one write for a whole small response) unless
  // the upstream sent its head alone: then the client gets it at once.
  bool client_ok = true;
  bool upstream_failed = false;
  bool upstream_timed_out = false;

  // Sends `bytes` (with the head if not sent yet); `last` also ends the body. Not a coroutine:
  // the caller awaits the write itself (deferred), so a write costs no frame of its own. A
  // write with nothing to send (a chunk the meter held back) completes at once.
  ResponseWritePlan plan(response_head, chunked);
  auto writeToClient = [&](std::string_view bytes, bool last) {
    std::span<const asio::const_buffer> buffers;
    if (!call.discarding && client_ok) buffers = plan.next(bytes, last);
    if (!buffers.empty()) client_deadline_.expiresAfter(timeouts.client_idle);
    return asio::async_write(stream_, buffers,
                             asio::deferred([&](const beast::error_code& ec, size_t) {
                               client_deadline_.clear();
                               if (ec) client_ok = false;
                               return asio::deferred.values();
                             }));
  };

  // An answer whose head came in time but whose body has not begun (a stream's first token) is
  // still within ttft_timeout_ms: its head is held back until the first body byte, so the call
  // can move on without the client having seen anything.
  bool hold_head = ttft_armed && has_body && !call.discarding;
  if (has_body && conn.buffer.size() == 0 && !hold_head) co_await writeToClient({}, false);

  // Spend control may cut the stream; a stream the gateway must end (a cut, an upstream failure)
  // ends in its dialect, which needs a body the gateway frames and reads.
  StreamGuard guard(
      call.runtime->policies, call.policy,
      framing.body == BodyFraming::kContentLength || encoded
          ? StreamEnding::Form::kNone
          : StreamEnding::formOf(call.dialect->name(), call.info, call.status, content_type));

  bool ended = false;  // the client's response has been ended
  // No answer may drip forever: each read waits at most upstream_idle, and all of them
  // together at most upstream_total from when the request was sent.
  const auto give_up_at = call.upstream_start + timeouts.upstream_total;
  bool over_total = false;
  while (client_ok && !parser->is_done()) {
    auto& body = parser->get().body();
    body.data = relay_buffer_.data();
    body.size = relay_buffer_.size();
    const auto now = Clock::now();
    if (now >= give_up_at) {
      over_total = true;
      break;
    }
    auto wait = std::min<std::chrono::milliseconds>(
        timeouts.upstream_idle, std::chrono::ceil<std::chrono::milliseconds>(give_up_at - now));
    const bool ttft_wait =
        hold_head && ttft_due - now < std::chrono::duration_cast<Clock::duration>(wait);
    if (ttft_wait) wait = std::chrono::ceil<std::chrono::milliseconds>(ttft_due - now);
    deadline.expiresAfter(wait);
    auto [ec, n] = co_await http::async_read_some(upstream_stream, conn.buffer, *parser, kNoThrow);
    if (ec == http::error::need_buffer) ec = {};
    // async_read_some stops after one chunk of a chunked body even when more chunks are already
    // buffered: parse those too, so that everything received goes to the client in one write.
    while (!ec && !parser->is_done() && body.size > 0 && conn.buffer.size() > 0) {
      const size_t used = parser->put(conn.buffer.data(), ec);
      conn.buffer.consume(used);
      if (ec == http::error::need_buffer || ec == http::error::need_more) {
        ec = {};
        break;
      }
      if (used == 0) break;
    }
    const size_t got = relay_buffer_.size() - body.size;
    if (ttft_wait && got == 0 && ec && deadline.expired()) {
      hold_head = false;
      if (call.failover->moveOn(AttemptResult::kTtftTimeout, Clock::now())) {
        movedOnAfterTtft(call, "' sent no answer byte within ttft_timeout_ms");
        deadline.clear();
        co_return true;  // not reusable: the rest of the answer may still come
      }
      continue;  // nothing left to try: the answer is the client's, however late
    }
    if (got > 0) hold_head = false;
    if (got > 0) {
      if (!call.has_first_byte) {
        call.has_first_byte = true;
        call.first_byte = Clock::now();
      }
      std::string_view out = meter->onBody({relay_buffer_.data(), got});
      // The last bytes of a complete body end it in the same write when nothing is held back.
      const bool last = !ec && parser->is_done();
      if (last) {
        // onEnd may reuse the buffer a hiding meter's view points into: keep a copy first.
        std::string kept;
        if (out.data() != relay_buffer_.data()) {
          kept.assign(out);
          out = kept;
        }
        const auto tail = meter->onEnd(true);
        takeAnswer();
        if (tail.empty()) {
          co_await writeToClient(out, true);
        } else {
          co_await writeToClient(out, false);
          co_await writeToClient(tail, true);
        }
        ended = true;
      } else {
        co_await writeToClient(guard.onChunk(out, *meter), false);
      }
    }
    if (guard.cutDue()) break;
    if (ec) {
      upstream_failed = true;
      upstream_timed_out = deadline.expired();
      break;
    }
  }
  const bool complete = parser->is_done();
  call.upstream_end = Clock::now();
  if (over_total) {
    upstream_failed = true;
    upstream_timed_out = true;
  }
  const bool cut = guard.cutDue();
  if (cut) {
    // The usage up to the cut: the provider's count when it arrived, else the estimate.
    meter->onEnd(false);
    co_await writeToClient(guard.cutEnd(*call.dialect, accountant().result(),
                                        std::chrono::duration_cast<std::chrono::seconds>(
                                            call.start_wall.time_since_epoch())
                                            .count()),
                           guard.endsInDialect());
  } else if (!ended) {
    const auto tail = meter->onEnd(complete);
    if (complete && client_ok) takeAnswer();
    if (!complete && guard.endsInDialect()) {
      // Bytes were relayed: the client is told the answer failed, in its dialect, and its
      // body is left short, never ended as if complete.
      guard.relayed(tail);
      co_await writeToClient(tail, false);
      co_await writeToClient(
          guard.failureEnd(*call.dialect, accountant().result(), call.upstream->name,
                           upstream_timed_out || over_total),
          false);
    } else {
      co_await writeToClient(tail, complete);
    }
  }
  if (!answer_taken) {
    call.result = accountant().result();
    call.metered = true;
  }
  deadline.clear();

  if (!client_ok) {
    call.outcome = meter::Outcome::kClientDisconnect;
  } else if (cut) {
    call.outcome = meter::Outcome::kBudgetCut;
    call.error_type = guard.cut()->code;
    call.limit = guard.cut()->limit_name;
  } else if (upstream_timed_out) {
    call.outcome = meter::Outcome::kTimeout;
    metrics.add(metrics.upstream_timeouts);
  } else if (upstream_failed || call.result.upstream_error || call.status >= 400) {
    call.outcome = meter::Outcome::kUpstreamError;
  }
  // The upstream connection is reusable only when its response was read to the end and
  // nothing follows it: bytes after a response (past its Content-Length, a 204's "body") would
  // be read as the next caller's answer.
  reusable = complete && parser->keep_alive() && conn.buffer.size() == 0;
  // A body cut short by the upstream is left short (after its error event): the connection
  // closes. A cut stream that ended in its dialect is complete.
  co_return client_ok && (complete || (cut && guard.endsInDialect())) && keep_alive;
}

void DownstreamSession::bookAnswer(ProxyCall& call, meter::ResponseMeter& meter) {
  call.upstream_end = Clock::now();
  meter.takeResult(call.result);  // the relay asks this meter for no result after this
  call.metered = true;
  if (call.result.upstream_error || call.status >= 400) {
    call.outcome = meter::Outcome::kUpstreamError;
  }
  if (!call.discarding) finishCall(call);  // a discarded answer is its attempt's: forward books it
}

Awaitable<bool> DownstreamSession::refuseCall(ProxyCall& call, const GatewayError& error) {
  finishCall(call);
  const bool head_only = false;
  const bool keep = co_await replyError(*call.dialect, call.http_version, call.client_keep_alive,
                                        error, call.request_id, head_only);
  co_return keep;
}

Awaitable<bool> DownstreamSession::replyError(const meter::Dialect& dialect, unsigned version,
                                              bool keep_alive, const GatewayError& error,
                                              std::string_view request_id, bool head_only) {
  const int status = error.status;
  http::response<http::string_body> res{static_cast<http::status>(status), version};
  res.set(http::field::content_type, "application/json");
  res.set("x-request-id", request_id);
  if (status == 405) res.set(http::field::allow, "POST");
  for (const auto& [name, value] : error.headers) res.set(name, value);
  if (const auto type = dialect.errorTypeHeader(status, error.code); !type.name.empty()) {
    res.set(type.name, type.value);
  }
  res.body() = dialect.errorBody(status, error.code, error.message);
  const bool keep = keep_alive && !ctx_.isDraining();
  res.keep_alive(keep);
  res.prepare_payload();
  ctx_.metrics->add(ctx_.metrics->responses_by_class[status / 100 < 6 ? status / 100 : 0]);
  client_deadline_.expiresAfter(ctx_.runtime->load()->config->server.timeouts.client_idle);
  beast::error_code ec;
  if (head_only) {
    // The answer to HEAD is the head a POST would get, Content-Length included, and no body.
    http::response_serializer<http::string_body> serializer(res);
    std::tie(ec, std::ignore) = co_await http::async_write_header(stream_, serializer, kNoThrow);
  } else {
    std::tie(ec, std::ignore) = co_await http::async_write(stream_, res, kNoThrow);
  }
  client_deadline_.clear();
  co_return !ec && keep;
}

void DownstreamSession::finishCall(ProxyCall& call) {
  if (call.booked) return;
  call.booked = true;
  if (!call.gpu_pool.empty()) settleGpuPool(call);
  if (!ctx_.metering) {
    auto& metrics = *ctx_.metrics;
    if (call.metered) metrics.add(metrics.responses_by_class[std::min(call.status / 100, 5)]);
    return;
  }
  meter::CostEvent event = accountCall(call, ctx_.event_source, Clock::now(), call.runtime->coster);
  stampLastAttempt(call, event);
  call.runtime->policies.onFinished(call.policy, event);

  auto& metrics = *ctx_.metrics;
  if (call.metered) metrics.add(metrics.responses_by_class[std::min(call.status / 100, 5)]);
  metrics.recordEvent(event);
  endFinalAttempt(call, call.upstream_end);
  for (auto* observer : ctx_.observers) observer->onCallFinished(call, event);
  if (log_->should_log(spdlog::level::debug)) {
    log_->debug(
        "[C{}] call request_id={} model={} upstream={} status={} outcome={} input={} "
        "output={} cost={}",
        connection_id_, event.request_id, event.model, event.upstream, event.status,
        meter::toString(event.outcome), event.usage.input_tokens, event.usage.output_tokens,
        event.cost.total.toDecimalString());
  }
  if (!ctx_.sink->tryEmit(std::move(event))) {
    metrics.add(metrics.events_dropped);
    warn("cost_event_dropped", "[C{}] cost event dropped: sink queue full request_id={}",
         connection_id_, call.request_id.view());
  }
  // After the sink has the event: a journaled call's record is closed.
  call.open_call.end();
}

void DownstreamSession::settleGpuPool(ProxyCall& call) {
  const auto end = call.upstream_end >= call.upstream_start ? call.upstream_end : Clock::now();
  call.gpu_pool_occupancy_ns =
      call.runtime->services.gpu_pools->end(call.gpu_pool, steadyNanos(end), call.gpu_pool_mark);
  for (const auto& pool : call.runtime->config->gpu_pools) {
    if (pool.name == call.gpu_pool) call.gpu_pool_hour_pico = pool.hourPico();
  }
}

}  // namespace tollgate::gateway
