#include "loadtest/mock/server.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>
#include <tuple>
#include <variant>
#include <vector>

#include "loadtest/mock/aws_signature_check.h"
#include "loadtest/mock/call_log.h"
#include "loadtest/mock/content_encoder.h"
#include "loadtest/mock/response_plan.h"

namespace tollgate::loadtest {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);
constexpr uint64_t kBodyLimit = 64 * 1024 * 1024;
constexpr uint32_t kHeaderLimit = 64 * 1024;
constexpr auto kTlsHandshakeTimeout = std::chrono::seconds(10);
constexpr auto kTlsShutdownTimeout = std::chrono::seconds(2);
constexpr std::string_view kMockPrefix = "x-mock-";

struct Shared {
  const ServerOptions& options;
  CallLog log;
};

// What a handled request leaves the connection fit for.
enum class After { kKeepAlive, kCloseGracefully, kClosed };

std::string lowercase(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string responseHead(int status, std::string_view content_type, bool close) {
  std::string head = "HTTP/1.1 ";
  head += std::to_string(status);
  head += ' ';
  head += http::obsolete_reason(static_cast<http::status>(status));
  head += "\r\nContent-Type: ";
  head += content_type;
  head += "\r\n";
  if (close) head += "Connection: close\r\n";
  return head;
}

std::string fixedHead(int status, std::string_view content_type, size_t length, bool close) {
  std::string head = responseHead(status, content_type, close);
  head += "Content-Length: ";
  head += std::to_string(length);
  head += "\r\n\r\n";
  return head;
}

void appendChunk(std::string& out, std::string_view data) {
  char size[20];
  const auto result = std::to_chars(size, size + sizeof(size), data.size(), 16);
  out.append(size, result.ptr);
  out += "\r\n";
  out += data;
  out += "\r\n";
}

template <class Stream>
tcp::socket& socketOf(Stream& stream) {
  return beast::get_lowest_layer(stream);
}

// Runs `operation` (made with kUseTuple); closes the socket if it outlasts `timeout`, which also
// ends an operation that ignores cancellation. Returns false when it failed or timed out.
template <class Stream>
net::awaitable<bool> withTimeout(Stream& stream,
                                 net::awaitable<std::tuple<beast::error_code>> operation,
                                 std::chrono::steady_clock::duration timeout) {
  using namespace net::experimental::awaitable_operators;
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(timeout);
  auto watchdog = [](net::steady_timer& t, tcp::socket& socket) -> net::awaitable<void> {
    auto [ec] = co_await t.async_wait(kUseTuple);
    if (ec) co_return;
    beast::error_code ignored;
    socket.close(ignored);
  };
  auto result = co_await (std::move(operation) || watchdog(timer, socketOf(stream)));
  co_return result.index() == 0 && !std::get<0>(std::get<0>(result));
}

// FIN without any further byte (for TLS also without close_notify): what a dying upstream does.
template <class Stream>
void closeAbruptly(Stream& stream) {
  beast::error_code ignored;
  socketOf(stream).shutdown(tcp::socket::shutdown_both, ignored);
  socketOf(stream).close(ignored);
}

template <class Stream>
net::awaitable<void> closeGracefully(Stream& stream) {
  if constexpr (!std::is_same_v<Stream, tcp::socket>) {
    co_await withTimeout(stream, stream.async_shutdown(kUseTuple), kTlsShutdownTimeout);
  }
  beast::error_code ignored;
  socketOf(stream).shutdown(tcp::socket::shutdown_send, ignored);
  socketOf(stream).close(ignored);
}

template <class Stream>
net::awaitable<bool> writeAll(Stream& stream, std::string_view data) {
  auto [ec, written] = co_await net::async_write(stream, net::buffer(data), kUseTuple);
  co_return !ec;
}

net::awaitable<void> sleepMs(int64_t ms) {
  if (ms <= 0) co_return;
  net::steady_timer timer(co_await net::this_coro::executor);
  timer.expires_after(std::chrono::milliseconds(ms));
  co_await timer.async_wait(kUseTuple);
}

// x-mock-stall: say nothing, keep reading (and dropping) until the peer gives up.
template <class Stream>
net::awaitable<void> stallUntilPeerCloses(Stream& stream) {
  char sink[4096];
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(net::buffer(sink), kUseTuple);
    if (ec) break;
  }
  closeAbruptly(stream);
}

// FIN-less end: SO_LINGER 0 makes close() send an RST, what a crashing or load-shedding upstream
// (or a middlebox) does.
template <class Stream>
void resetConnection(Stream& stream) {
  beast::error_code ignored;
  socketOf(stream).set_option(net::socket_base::linger(true, 0), ignored);
  socketOf(stream).close(ignored);
}

// Writes `data`, one byte every `drip_ms` when set (a slowloris upstream).
template <class Stream>
net::awaitable<bool> send(Stream& stream, std::string_view data, int64_t drip_ms) {
  if (drip_ms <= 0) co_return co_await writeAll(stream, data);
  for (size_t i = 0; i < data.size(); ++i) {
    co_await sleepMs(drip_ms);
    if (!co_await writeAll(stream, data.substr(i, 1))) co_return false;
  }
  co_return true;
}

// Per-request state of one provider call.
struct Call {
  uint64_t seq = 0;
  bool recorded = false;
};

// How the body of this answer ends, resolved from Framing and the kind of answer.
enum class BodyEnd { kLength, kChunked, kClose };

// The trailer section of `trailers: 1` (declared in the head's Trailer field).
constexpr std::string_view kTrailerName = "x-mock-trailer";
constexpr std::string_view kTrailerField = "x-mock-trailer: end-of-answer\r\n";
// `extra-bytes` repeats a complete answer of its own, cut at N bytes: a pool that keeps the
// connection serves it to the next caller.
constexpr std::string_view kExtraAnswer =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 22\r\n\r\n"
    "{\"mock\":\"extra-bytes\"}";
// `line-bytes` / `endless-line` filler, written a piece at a time so that a line of gigabytes
// never sits in memory.
constexpr size_t kFillerPiece = 64 * 1024;
constexpr std::string_view kUpgradeHead =
    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";

const std::string& fillerPiece() {
  static const std::string piece = [] {
    std::string text;
    text.reserve(kFillerPiece);
    while (text.size() < kFillerPiece) text += "pad ";
    return text;
  }();
  return piece;
}

// The answer's framing, content coding and pacing; `out` holds the bytes not yet written.
template <class Stream>
struct Wire {
  Stream& stream;
  BodyEnd end;
  ContentEncoder encoder;
  int64_t drip_ms;
  bool trailers;
  std::string out;
};

template <class Stream>
void frameInto(Wire<Stream>& wire, std::string_view encoded) {
  if (encoded.empty()) return;  // an empty chunk would end a chunked body
  if (wire.end == BodyEnd::kChunked) {
    appendChunk(wire.out, encoded);
  } else {
    wire.out += encoded;
  }
}

template <class Stream>
void addBody(Wire<Stream>& wire, std::string_view data) {
  if (wire.encoder.encoding() == Encoding::kIdentity) {
    frameInto(wire, data);
    return;
  }
  std::string encoded;
  wire.encoder.write(data, encoded);
  frameInto(wire, encoded);
}

// The last chunk and the trailer section of a chunked body.
template <class Stream>
void addLastChunk(Wire<Stream>& wire) {
  if (wire.end != BodyEnd::kChunked) return;
  wire.out += "0\r\n";
  if (wire.trailers) wire.out += kTrailerField;
  wire.out += "\r\n";
}

// The end of the body: the coding's epilogue, then the last chunk and the trailers.
template <class Stream>
void addEnd(Wire<Stream>& wire) {
  std::string encoded;
  wire.encoder.finish(encoded);
  frameInto(wire, encoded);
  addLastChunk(wire);
}

template <class Stream>
net::awaitable<bool> flush(Wire<Stream>& wire) {
  const bool ok = co_await send(wire.stream, wire.out, wire.drip_ms);
  wire.out.clear();
  co_return ok;
}

// The head of a final answer, up to and including the blank line.
template <class Stream>
std::string answerHead(const Wire<Stream>& wire, int status, std::string_view content_type,
                       bool close, std::string_view extra_fields, size_t content_length) {
  std::string head = responseHead(status, content_type, close || wire.end == BodyEnd::kClose);
  head += extra_fields;
  if (wire.encoder.encoding() != Encoding::kIdentity) {
    head += "Content-Encoding: ";
    head += encodingName(wire.encoder.encoding());
    head += "\r\n";
  }
  if (wire.end == BodyEnd::kLength) {
    head += "Content-Length: ";
    head += std::to_string(content_length);
    head += "\r\n";
  } else if (wire.end == BodyEnd::kChunked) {
    head += "Transfer-Encoding: chunked\r\n";
    if (wire.trailers) {
      head += "Trailer: ";
      head += kTrailerName;
      head += "\r\n";
    }
  }
  head += "\r\n";
  return head;
}

void appendExtraBytes(std::string& out, int64_t count) {
  for (int64_t left = count; left > 0;) {
    const size_t n = std::min<size_t>(static_cast<size_t>(left), kExtraAnswer.size());
    out.append(kExtraAnswer.substr(0, n));
    left -= static_cast<int64_t>(n);
  }
}

// After a complete answer: the connection is kept unless someone asked for a close.
template <class Stream>
After afterAnswer(const Wire<Stream>& wire, const Behaviour& b, bool close) {
  return close || b.close_after_answer || wire.end == BodyEnd::kClose ? After::kCloseGracefully
                                                                      : After::kKeepAlive;
}

template <class Stream>
net::awaitable<After> sendFixed(Wire<Stream>& wire, Shared& shared, const Call& call,
                                const ResponsePlan& plan, const Behaviour& b, bool close) {
  std::string encoded_storage;
  std::string_view encoded = plan.body;
  if (wire.encoder.encoding() != Encoding::kIdentity) {
    wire.encoder.write(plan.body, encoded_storage);
    wire.encoder.finish(encoded_storage);
    encoded = encoded_storage;
  }
  wire.out =
      answerHead(wire, plan.status, plan.content_type, close, plan.extra_fields, encoded.size());
  const bool cut = plan.status == 200 && (b.cut_after >= 0 || b.reset_after > 0);
  if (cut) {
    frameInto(wire, encoded.substr(0, encoded.size() / 2));
    const bool written = co_await flush(wire);
    (void)written;
    if (call.recorded) shared.log.finish(call.seq, plan.status, false, false);
    if (b.reset_after > 0) {
      resetConnection(wire.stream);
    } else {
      closeAbruptly(wire.stream);
    }
    co_return After::kClosed;
  }
  frameInto(wire, encoded);  // already ended: the whole body was encoded at once
  addLastChunk(wire);
  appendExtraBytes(wire.out, b.extra_bytes);
  // Marked before the write: a client that has read the answer must find the record final.
  if (call.recorded) shared.log.finish(call.seq, plan.status, plan.body_carries_usage, true);
  if (!co_await flush(wire)) {
    if (call.recorded) shared.log.finish(call.seq, plan.status, false, false);
    co_return After::kClosed;
  }
  co_return afterAnswer(wire, b, close);
}

// Where `line-bytes` / `endless-line` pad the first content event: inside its text, so that the
// event stays valid JSON however long the line grows.
struct LongLine {
  size_t event = std::string::npos;  // index in plan.events; npos: no long line
  size_t at = 0;                     // offset of the filler in the event's bytes
  int64_t filler = 0;                // filler bytes (when not endless)
  bool endless = false;
};

// Finds the first content event's text (its first word opens a JSON string) and sizes the
// filler so that the line holding it is `line_bytes` long. nullopt: that event has no text.
std::optional<LongLine> planLongLine(const ResponsePlan& plan, const Behaviour& b) {
  LongLine line;
  for (size_t i = 0; i < plan.events.size(); ++i) {
    if (plan.events[i].kind != EventKind::kContent) continue;
    const std::string& bytes = plan.events[i].bytes;
    const std::string first_word = "\":\"" + completionWords(0, 1);
    const size_t found = bytes.find(first_word);
    if (found == std::string::npos) return std::nullopt;
    line.event = i;
    line.at = found + 3;
    const size_t newline = bytes.rfind('\n', line.at);
    const size_t start = newline == std::string::npos ? 0 : newline + 1;
    size_t end = std::min(bytes.find('\n', line.at), bytes.size());
    if (end > start && bytes[end - 1] == '\r') --end;
    line.filler = std::max<int64_t>(0, b.line_bytes - static_cast<int64_t>(end - start));
    line.endless = b.endless_line;
    return line;
  }
  return std::nullopt;
}

// Writes an event whose text carries `line.filler` bytes of padding (or endless padding).
template <class Stream>
net::awaitable<bool> writeLongEvent(Wire<Stream>& wire, std::string_view bytes,
                                    const LongLine& line) {
  addBody(wire, bytes.substr(0, line.at));
  if (!co_await flush(wire)) co_return false;
  const std::string& piece = fillerPiece();
  for (int64_t left = line.filler; line.endless || left > 0;) {
    const size_t n = line.endless ? piece.size() : std::min<size_t>(piece.size(), left);
    addBody(wire, std::string_view(piece).substr(0, n));
    if (!co_await flush(wire)) co_return false;
    left -= static_cast<int64_t>(n);
  }
  addBody(wire, bytes.substr(line.at));
  co_return true;
}

enum class Stop { kNone, kCut, kReset, kError };

template <class Stream>
net::awaitable<After> sendStream(Wire<Stream>& wire, Shared& shared, const Call& call,
                                 const ResponsePlan& plan, const Behaviour& b, bool close,
                                 const LongLine& long_line) {
  const auto& events = plan.events;
  // Where a cut, a reset or an in-stream error happens: before the first tail event, or before
  // the content event after the N-th. The smallest N wins; on a tie the connection's end does.
  Stop stop = Stop::kNone;
  int64_t trigger = -1;
  const auto consider = [&](int64_t n, Stop kind) {
    if (n >= 0 && (trigger < 0 || n < trigger)) {
      trigger = n;
      stop = kind;
    }
  };
  consider(b.cut_after, Stop::kCut);
  consider(b.reset_after, Stop::kReset);
  consider(b.error_mid_stream, Stop::kError);
  size_t limit = events.size();
  if (trigger >= 0) {
    int64_t content_seen = 0;
    for (size_t i = 0; i < events.size(); ++i) {
      const EventKind kind = events[i].kind;
      if (kind == EventKind::kTail || (kind == EventKind::kContent && content_seen == trigger)) {
        limit = i;
        break;
      }
      if (kind == EventKind::kContent) ++content_seen;
    }
  }

  wire.out = answerHead(wire, 200, plan.content_type, close, "Cache-Control: no-cache\r\n", 0);
  bool usage_sent = false;
  auto fail = [&]() {
    if (call.recorded) shared.log.finish(call.seq, 200, usage_sent, false);
    return After::kClosed;
  };
  // Content event i of K holds tokens [i*T/K, (i+1)*T/K) (completionWords).
  int64_t content_total = 0;
  for (const auto& event : events) content_total += event.kind == EventKind::kContent ? 1 : 0;
  int64_t content_sent = 0;
  for (size_t i = 0; i < limit; ++i) {
    if (i > 0) co_await sleepMs(b.chunk_delay_ms);
    if (i == long_line.event) {
      if (!co_await writeLongEvent(wire, events[i].bytes, long_line)) co_return fail();
    } else {
      addBody(wire, events[i].bytes);
    }
    usage_sent = usage_sent || events[i].carries_usage;
    if (stop == Stop::kNone && i + 1 == events.size()) {
      addEnd(wire);
      appendExtraBytes(wire.out, b.extra_bytes);
      if (call.recorded) shared.log.finish(call.seq, 200, usage_sent, true);
    }
    if (!co_await flush(wire)) co_return fail();
    if (events[i].kind == EventKind::kContent && call.recorded) {
      ++content_sent;
      shared.log.sent(call.seq, content_sent,
                      plan.usage.output_tokens * content_sent / content_total);
    }
  }
  if (stop == Stop::kNone) co_return afterAnswer(wire, b, close);

  if (stop != Stop::kError) {
    if (!wire.out.empty() && !co_await flush(wire)) co_return fail();
    if (call.recorded) shared.log.finish(call.seq, 200, usage_sent, false);
    if (stop == Stop::kReset) {
      resetConnection(wire.stream);
    } else {
      closeAbruptly(wire.stream);
    }
    co_return After::kClosed;
  }
  if (limit > 0) co_await sleepMs(b.chunk_delay_ms);
  addBody(wire, plan.error_event);
  addEnd(wire);
  appendExtraBytes(wire.out, b.extra_bytes);
  if (call.recorded) shared.log.finish(call.seq, 200, usage_sent, true);
  if (!co_await flush(wire)) co_return fail();
  co_return afterAnswer(wire, b, close);
}

template <class Stream>
net::awaitable<After> sendControl(Stream& stream, int status, std::string body, bool close) {
  std::string out = fixedHead(status, "application/json", body.size(), close);
  out += body;
  if (!co_await writeAll(stream, out)) co_return After::kClosed;
  co_return close ? After::kCloseGracefully : After::kKeepAlive;
}

std::string_view informationalReason(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 102:
      return "Processing";
    case 103:
      return "Early Hints";
    default:
      return "Informational";
  }
}

// `interim`: 1xx answers before the final one, each its own write, as servers flush them.
template <class Stream>
net::awaitable<bool> sendInterim(Stream& stream, const Behaviour& b) {
  for (const int status : b.interim) {
    std::string head = "HTTP/1.1 " + std::to_string(status) + " ";
    head += informationalReason(status);
    head += "\r\n";
    if (status == 103) head += "Link: </mock/early-hints.css>; rel=preload; as=style\r\n";
    head += "\r\n";
    if (!co_await send(stream, head, b.drip_ms)) co_return false;
  }
  co_return true;
}

// `status: 101`: the connection now speaks another protocol; the mock says nothing more and
// waits for the peer to leave.
template <class Stream>
net::awaitable<After> sendUpgrade(Stream& stream, Shared& shared, const Call& call,
                                  const Behaviour& b) {
  if (call.recorded) shared.log.finish(call.seq, 101, false, true);
  const bool sent = co_await send(stream, kUpgradeHead, b.drip_ms);
  if (sent) co_await stallUntilPeerCloses(stream);
  co_return After::kClosed;
}

// `204-with-body`: a 204 head, then the body the 200 would have had. A client must read no body
// after a 204 (RFC 9112 6.3), so these bytes are left on the connection.
template <class Stream>
net::awaitable<After> sendNoContentWithBody(Stream& stream, Shared& shared, const Call& call,
                                            const ResponsePlan& plan, const Behaviour& b,
                                            bool close) {
  std::string body = plan.body;
  for (const StreamEvent& event : plan.events) body += event.bytes;
  std::string out = fixedHead(204, plan.content_type, body.size(), close);
  out += body;
  if (call.recorded) shared.log.finish(call.seq, 204, false, true);
  if (!co_await send(stream, out, b.drip_ms)) co_return After::kClosed;
  co_return close || b.close_after_answer ? After::kCloseGracefully : After::kKeepAlive;
}

// Why a Bedrock request is refused as unsigned (nullopt: signed, or not a Bedrock request).
std::optional<std::string> bedrockSignatureProblem(const MockRequest& request,
                                                   std::string_view method, std::string_view target,
                                                   const http::request<http::string_body>& req,
                                                   const ServerOptions& options) {
  if (request.api != Api::kBedrockConverse) return std::nullopt;
  std::vector<std::pair<std::string, std::string>> headers;
  for (const auto& field : req) {
    headers.emplace_back(
        lowercase(std::string_view(field.name_string().data(), field.name_string().size())),
        std::string(field.value().data(), field.value().size()));
  }
  return checkAwsSignature(method, target, headers, req.body(), options.aws_secret_access_key);
}

template <class Stream>
net::awaitable<After> handle(Stream& stream, Shared& shared, http::request<http::string_body>& req,
                             bool last_on_connection) {
  const bool close = !req.keep_alive() || last_on_connection;
  const std::string_view target(req.target().data(), req.target().size());
  const size_t question = target.find('?');
  const std::string_view path = target.substr(0, question);
  const std::string_view query =
      question == std::string_view::npos ? std::string_view() : target.substr(question + 1);
  const std::string_view method(req.method_string().data(), req.method_string().size());

  if (path == "/mock/calls") {
    if (req.method() == http::verb::get) {
      co_return co_await sendControl(stream, 200, shared.log.toJson(), close);
    }
    if (req.method() == http::verb::delete_) {
      shared.log.clear();
      co_return co_await sendControl(stream, 200, "{\"cleared\":true}", close);
    }
    co_return co_await sendControl(
        stream, 405, "{\"error\":{\"message\":\"mock: use GET or DELETE on /mock/calls\"}}", close);
  }

  Behaviour b = shared.options.defaults;
  std::optional<std::string> knob_error;
  for (const auto& field : req) {
    const std::string_view name(field.name_string().data(), field.name_string().size());
    if (name.size() <= kMockPrefix.size() ||
        !beast::iequals(name.substr(0, kMockPrefix.size()), kMockPrefix)) {
      continue;
    }
    const std::string knob = lowercase(name.substr(kMockPrefix.size()));
    auto error = setKnob(b, knob, std::string_view(field.value().data(), field.value().size()));
    if (error && !knob_error) knob_error = std::move(error);
  }
  if (!knob_error) knob_error = validate(b);
  // A request with a bad knob gets its 400 the default way, not reset or dripped by the others.
  if (knob_error) b = shared.options.defaults;

  std::optional<MockRequest> request = route(method, path, query);
  ResponsePlan plan;
  std::optional<std::string> body_error;
  if (request) body_error = inspectBody(req.body(), *request);
  if (!request) {
    plan = planNotFound(method, target);
  } else if (knob_error) {
    plan = planError(request->api, 400, *knob_error);
  } else if (body_error) {
    plan = planError(request->api, 400, *body_error);
  } else if (auto unsigned_request =
                 bedrockSignatureProblem(*request, method, target, req, shared.options)) {
    plan = planError(request->api, 403, *unsigned_request);
  } else if (b.status != 200 && b.status != 101) {
    plan = planError(request->api, static_cast<int>(b.status),
                     "mock: x-mock-status " + std::to_string(b.status));
  } else {
    plan = planResponse(*request, b);
  }
  LongLine long_line;
  if (plan.status == 200 && (b.line_bytes > 0 || b.endless_line)) {
    std::optional<LongLine> found;
    if (plan.streaming) found = planLongLine(plan, b);
    if (found) {
      long_line = *found;
    } else {
      plan = planError(request->api, 400,
                       "mock: line-bytes and endless-line need a stream whose first content event "
                       "has text (completion-tokens >= chunks >= 1)");
    }
  }

  const Encoding encoding =
      b.encoding_auto ? negotiateEncoding(std::string_view(req[http::field::accept_encoding]))
                      : b.encoding;
  int answer_status = plan.status;
  if (plan.status == 200 && b.status == 101) answer_status = 101;
  if (plan.status == 200 && b.no_content_with_body) answer_status = 204;

  Call call;
  if (shared.options.record) {
    CallRecord record;
    record.method = std::string(method);
    record.target = std::string(target);
    for (const auto& field : req) {
      std::string name =
          lowercase(std::string_view(field.name_string().data(), field.name_string().size()));
      const std::string_view value(field.value().data(), field.value().size());
      bool merged = false;
      for (auto& [seen_name, seen_value] : record.headers) {
        if (seen_name == name) {  // repeated header: one JSON member, values comma-joined
          seen_value += ", ";
          seen_value += value;
          merged = true;
          break;
        }
      }
      if (!merged) record.headers.emplace_back(std::move(name), std::string(value));
    }
    record.body = std::move(req.body());
    record.status = answer_status;
    if (answer_status == 200 || answer_status >= 300) {
      record.encoding = std::string(encodingName(encoding));
    }
    if (request) {
      record.dialect = std::string(dialectName(request->api));
      record.operation = std::string(operationName(request->api));
      record.model = request->model;
      record.stream = request->stream;
      record.include_usage = request->include_usage;
      record.response_model = plan.response_model;
    }
    if (answer_status == 200) record.usage = plan.usage;
    call.seq = shared.log.add(std::move(record));
    call.recorded = true;
  }

  if (b.stall && !knob_error) {
    co_await stallUntilPeerCloses(stream);
    co_return After::kClosed;
  }
  if (b.reset_after == 0) {
    if (call.recorded) shared.log.finish(call.seq, answer_status, false, false);
    resetConnection(stream);
    co_return After::kClosed;
  }
  if (!co_await sendInterim(stream, b)) co_return After::kClosed;
  co_await sleepMs(b.ttft_ms);
  if (answer_status == 101) co_return co_await sendUpgrade(stream, shared, call, b);
  if (answer_status == 204) {
    co_return co_await sendNoContentWithBody(stream, shared, call, plan, b, close);
  }

  const bool streaming = plan.streaming && plan.status == 200;
  BodyEnd end = streaming ? BodyEnd::kChunked : BodyEnd::kLength;
  if (b.framing == Framing::kChunked || b.trailers) end = BodyEnd::kChunked;
  if (b.framing == Framing::kClose) end = BodyEnd::kClose;
  Wire<Stream> wire{stream, end, ContentEncoder(encoding), b.drip_ms, b.trailers, {}};
  if (streaming) co_return co_await sendStream(wire, shared, call, plan, b, close, long_line);
  co_return co_await sendFixed(wire, shared, call, plan, b, close);
}

bool isProtocolError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category() &&
         ec != http::error::end_of_stream && ec != http::error::partial_message;
}

template <class Stream>
net::awaitable<void> serve(Stream& stream, Shared& shared) {
  beast::flat_buffer buffer;
  size_t answers = 0;
  for (;;) {
    http::request_parser<http::string_body> parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(kBodyLimit);
    auto [header_ec, header_bytes] =
        co_await http::async_read_header(stream, buffer, parser, kUseTuple);
    beast::error_code ec = header_ec;
    if (!ec) {
      const auto expect = parser.get()[http::field::expect];
      if (beast::iequals(expect, "100-continue") &&
          !co_await writeAll(stream, "HTTP/1.1 100 Continue\r\n\r\n")) {
        break;
      }
      auto [body_ec, body_bytes] = co_await http::async_read(stream, buffer, parser, kUseTuple);
      ec = body_ec;
    }
    if (ec) {
      if (isProtocolError(ec)) {
        const int status = ec == http::error::body_limit ? 413 : 400;
        std::string body = "{\"error\":{\"message\":\"mock: bad request: " + ec.message() +
                           "\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}";
        co_await sendControl(stream, status, std::move(body), true);
        co_await closeGracefully(stream);
      } else {
        closeAbruptly(stream);
      }
      break;
    }
    auto req = parser.release();
    ++answers;
    const size_t limit = shared.options.max_requests_per_connection;
    const After after = co_await handle(stream, shared, req, limit > 0 && answers >= limit);
    if (after == After::kKeepAlive) continue;
    if (after == After::kCloseGracefully) co_await closeGracefully(stream);
    break;
  }
}

// Plain sockets rather than beast::tcp_stream: the mock sets no per-operation deadlines (a
// stalled call must wait for its peer), and the bare socket is measurably cheaper per request.
net::awaitable<void> servePlain(tcp::socket socket, Shared& shared) {
  co_await serve(socket, shared);
}

net::awaitable<void> serveTls(tcp::socket socket, ssl::context& tls, Shared& shared) {
  ssl::stream<tcp::socket> stream(std::move(socket), tls);
  const bool ok = co_await withTimeout(
      stream, stream.async_handshake(ssl::stream_base::server, kUseTuple), kTlsHandshakeTimeout);
  if (!ok) {
    closeAbruptly(stream);
    co_return;
  }
  co_await serve(stream, shared);
}

void reportCrash(std::exception_ptr error) {
  if (!error) return;
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mock_upstream: connection failed: %s\n", e.what());
  } catch (...) {
    std::fprintf(stderr, "mock_upstream: connection failed\n");
  }
}

net::awaitable<void> acceptLoop(tcp::acceptor& acceptor,
                                std::vector<std::unique_ptr<net::io_context>>& workers,
                                ssl::context* tls, Shared& shared) {
  size_t next = 0;
  for (;;) {
    net::io_context& worker = *workers[next];
    next = (next + 1) % workers.size();
    auto [ec, socket] = co_await acceptor.async_accept(worker, kUseTuple);
    if (ec) {
      if (ec == net::error::operation_aborted || !acceptor.is_open()) co_return;
      continue;  // e.g. EMFILE: the listener stays up
    }
    beast::error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);
    if (tls != nullptr) {
      net::co_spawn(worker, serveTls(std::move(socket), *tls, shared), reportCrash);
    } else {
      net::co_spawn(worker, servePlain(std::move(socket), shared), reportCrash);
    }
  }
}

std::string endpointText(const tcp::endpoint& endpoint) {
  const auto address = endpoint.address();
  std::string host = address.to_string();
  if (address.is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(endpoint.port());
}

}  // namespace

int runMockServer(const ServerOptions& options) {
  std::unique_ptr<ssl::context> tls;
  if (!options.tls_cert.empty()) {
    tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    beast::error_code ec;
    tls->use_certificate_chain_file(options.tls_cert, ec);
    if (!ec) tls->use_private_key_file(options.tls_key, ssl::context::pem, ec);
    if (ec) {
      std::fprintf(stderr, "mock_upstream: cannot load TLS certificate/key: %s\n",
                   ec.message().c_str());
      return 1;
    }
  }

  Shared shared{options, CallLog(options.record_limit)};
  std::vector<std::unique_ptr<net::io_context>> workers;
  for (int i = 0; i < options.threads; ++i) workers.push_back(std::make_unique<net::io_context>(1));

  beast::error_code ec;
  const auto address = net::ip::make_address(options.host, ec);
  if (ec) {
    std::fprintf(stderr, "mock_upstream: bad listen address '%s'\n", options.host.c_str());
    return 1;
  }
  const tcp::endpoint endpoint(address, options.port);
  tcp::acceptor acceptor(*workers[0]);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    std::fprintf(stderr, "mock_upstream: cannot listen on %s: %s\n", endpointText(endpoint).c_str(),
                 ec.message().c_str());
    return 1;
  }
  std::printf("mock_upstream listening on %s\n", endpointText(acceptor.local_endpoint()).c_str());
  std::fflush(stdout);

  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  for (auto& worker : workers) guards.push_back(net::make_work_guard(*worker));

  net::signal_set signals(*workers[0], SIGINT, SIGTERM);
  signals.async_wait([&](const beast::error_code&, int) {
    beast::error_code ignored;
    acceptor.close(ignored);
    for (auto& worker : workers) worker->stop();
  });
  net::co_spawn(*workers[0], acceptLoop(acceptor, workers, tls.get(), shared), reportCrash);

  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers.size(); ++i) threads.emplace_back([&, i] { workers[i]->run(); });
  workers[0]->run();
  for (auto& thread : threads) thread.join();
  return 0;
}

}  // namespace tollgate::loadtest
