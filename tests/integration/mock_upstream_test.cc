// The mock upstream alone, on raw sockets: each wire behaviour a real server has (compression,
// 1xx, trailers, close-delimited bodies, keep-alive limits, resets, drip, pool-poisoning bytes,
// huge lines) checked byte for byte, so the gateway's tests can rely on them.
#include <arpa/inet.h>
#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "tests/integration/support/process.h"
#include "tests/integration/support/stack.h"

namespace tollgate::testing {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

const std::string kChat = "/v1/chat/completions";
const std::string kStreamBody =
    R"({"model":"gpt-test-1","stream":true,"stream_options":{"include_usage":true}})";
const std::string kWholeBody = R"({"model":"gpt-test-1"})";
// What `extra-bytes` repeats (docs/mock-upstream.md).
const std::string kExtraAnswer =
    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 22\r\n\r\n"
    "{\"mock\":\"extra-bytes\"}";

// How a read of the whole connection ended.
enum class End { kEof, kReset, kTimeout };

// One TCP connection with deadlines: what the tests need to see FIN, RST and single bytes.
class RawConnection {
 public:
  explicit RawConnection(unsigned short port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;

  bool connected() const { return connected_; }

  bool send(const std::string& bytes) {
    size_t sent = 0;
    while (sent < bytes.size()) {
      const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }

  // One recv within `timeout`: bytes, or nullopt at EOF/RST/timeout (then end() says which).
  std::optional<std::string> readSome(milliseconds timeout, size_t max = 1 << 16) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) {
      end_ = End::kTimeout;
      return std::nullopt;
    }
    std::string buffer(max, '\0');
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), 0);
    if (n > 0) {
      buffer.resize(static_cast<size_t>(n));
      ++reads_;
      return buffer;
    }
    end_ = n == 0 ? End::kEof : (errno == ECONNRESET ? End::kReset : End::kTimeout);
    return std::nullopt;
  }

  // Everything until the peer closes (or resets, or `timeout` of silence).
  std::string readToEnd(milliseconds timeout = milliseconds(10'000)) {
    std::string out;
    while (auto piece = readSome(timeout)) out += *piece;
    return out;
  }

  // Reads until `out` holds `marker` (appending to `out`); false at the end or on silence.
  bool readUntil(std::string& out, const std::string& marker,
                 milliseconds timeout = milliseconds(10'000)) {
    while (out.find(marker) == std::string::npos) {
      auto piece = readSome(timeout);
      if (!piece) return false;
      out += *piece;
    }
    return true;
  }

  End end() const { return end_; }
  size_t reads() const { return reads_; }

 private:
  int fd_ = -1;
  bool connected_ = false;
  End end_ = End::kTimeout;
  size_t reads_ = 0;
};

std::string request(const std::string& target, const std::string& body,
                    const std::vector<std::string>& fields = {}, bool close = true) {
  std::string out =
      "POST " + target + " HTTP/1.1\r\nHost: mock\r\nContent-Type: application/json\r\n";
  for (const auto& field : fields) out += field + "\r\n";
  if (close) out += "Connection: close\r\n";
  out += "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
  return out;
}

// A response split at its head; `body` is the rest of the bytes as they came.
struct Wire {
  std::string head;
  std::string body;

  bool has(const std::string& field) const {
    return head.find("\r\n" + field + "\r\n") != std::string::npos;
  }
  bool named(const std::string& name) const {
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return lower.find("\r\n" + name + ":") != std::string::npos;
  }
};

Wire split(const std::string& bytes) {
  const size_t end = bytes.find("\r\n\r\n");
  if (end == std::string::npos) return {bytes, ""};
  return {bytes.substr(0, end + 2), bytes.substr(end + 4)};
}

// A chunked body: its chunks, the trailer section and what follows the message.
struct Chunked {
  std::vector<std::string> chunks;
  std::string trailers;  // the lines after "0\r\n", up to the blank line
  std::string after;
  bool complete = false;
};

Chunked dechunk(const std::string& body) {
  Chunked out;
  size_t at = 0;
  for (;;) {
    const size_t line_end = body.find("\r\n", at);
    if (line_end == std::string::npos) return out;
    const size_t size = std::stoul(body.substr(at, line_end - at), nullptr, 16);
    at = line_end + 2;
    if (size == 0) {
      const size_t blank = body.find("\r\n\r\n", at - 2);
      if (blank == std::string::npos) return out;
      out.trailers = body.substr(at, blank + 2 - at);
      out.after = body.substr(blank + 4);
      out.complete = true;
      return out;
    }
    if (at + size + 2 > body.size()) {
      out.chunks.push_back(body.substr(at));
      return out;
    }
    out.chunks.push_back(body.substr(at, size));
    at += size + 2;
  }
}

std::string joined(const std::vector<std::string>& parts) {
  std::string out;
  for (const auto& part : parts) out += part;
  return out;
}

// Incremental decoders, fed one HTTP chunk at a time, as a client decodes a compressed stream.
class Decoder {
 public:
  explicit Decoder(const std::string& coding) : coding_(coding) {
    if (coding_ == "gzip") {
      ok_ = inflateInit2(&zlib_, 15 + 16) == Z_OK;
    } else if (coding_ == "br") {
      brotli_ = BrotliDecoderCreateInstance(nullptr, nullptr, nullptr);
      ok_ = brotli_ != nullptr;
    } else if (coding_ == "zstd") {
      zstd_ = ZSTD_createDStream();
      ok_ = zstd_ != nullptr;
    }
  }
  ~Decoder() {
    if (coding_ == "gzip") inflateEnd(&zlib_);
    if (brotli_ != nullptr) BrotliDecoderDestroyInstance(brotli_);
    if (zstd_ != nullptr) ZSTD_freeDStream(zstd_);
  }
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Decodes `data` and returns all the output it makes available; sets ok() false on an error.
  std::string feed(const std::string& data) {
    std::string out;
    char buffer[1 << 16];
    if (coding_ == "gzip") {
      zlib_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
      zlib_.avail_in = static_cast<uInt>(data.size());
      do {
        zlib_.next_out = reinterpret_cast<Bytef*>(buffer);
        zlib_.avail_out = sizeof(buffer);
        const int result = inflate(&zlib_, Z_SYNC_FLUSH);
        if (result == Z_STREAM_END) finished_ = true;
        if (result != Z_OK && result != Z_STREAM_END && result != Z_BUF_ERROR) ok_ = false;
        out.append(buffer, sizeof(buffer) - zlib_.avail_out);
        if (result != Z_OK) break;
      } while (zlib_.avail_out == 0 || zlib_.avail_in > 0);
    } else if (coding_ == "br") {
      size_t available_in = data.size();
      const auto* next_in = reinterpret_cast<const uint8_t*>(data.data());
      for (;;) {
        size_t available_out = sizeof(buffer);
        auto* next_out = reinterpret_cast<uint8_t*>(buffer);
        const auto result = BrotliDecoderDecompressStream(brotli_, &available_in, &next_in,
                                                          &available_out, &next_out, nullptr);
        out.append(buffer, sizeof(buffer) - available_out);
        if (result == BROTLI_DECODER_RESULT_ERROR) ok_ = false;
        if (result == BROTLI_DECODER_RESULT_SUCCESS) finished_ = true;
        if (result != BROTLI_DECODER_RESULT_NEEDS_MORE_OUTPUT) break;
      }
    } else if (coding_ == "zstd") {
      ZSTD_inBuffer in{data.data(), data.size(), 0};
      for (;;) {
        ZSTD_outBuffer output{buffer, sizeof(buffer), 0};
        const size_t result = ZSTD_decompressStream(zstd_, &output, &in);
        if (ZSTD_isError(result)) {
          ok_ = false;
          break;
        }
        out.append(buffer, output.pos);
        if (result == 0) finished_ = true;
        if (in.pos == in.size && output.pos < output.size) break;
      }
    } else {
      out = data;
    }
    return out;
  }

  bool ok() const { return ok_; }
  // The compressed stream was properly ended (gzip trailer, last brotli block, zstd frame end).
  bool finished() const { return finished_; }

 private:
  std::string coding_;
  z_stream zlib_{};
  BrotliDecoderState* brotli_ = nullptr;
  ZSTD_DStream* zstd_ = nullptr;
  bool ok_ = false;
  bool finished_ = false;
};

std::string decodeAll(const std::string& coding, const std::string& data, bool* finished) {
  Decoder decoder(coding);
  std::string out = decoder.feed(data);
  if (!decoder.ok()) return "<decoding failed>";
  *finished = decoder.finished();
  return out;
}

// Peak resident memory of a process, from /proc (kB).
int64_t peakRssKb(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

class MockUpstreamTest : public ::testing::Test {
 protected:
  void start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {binDir() + "/mock_upstream", "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    mock_ = std::make_unique<Process>("mock_upstream", args);
    auto line = mock_->waitForLine("mock_upstream listening on ", std::chrono::seconds(10));
    ASSERT_TRUE(line) << mock_->stderrText();
    port_ = parseHostPort(*line).port;
  }
  void SetUp() override { start(); }

  // One request on its own connection (Connection: close), all bytes until the mock closes.
  std::string exchange(const std::string& bytes, End* end = nullptr) {
    RawConnection connection(port_);
    EXPECT_TRUE(connection.connected());
    EXPECT_TRUE(connection.send(bytes));
    std::string out = connection.readToEnd();
    if (end != nullptr) *end = connection.end();
    return out;
  }

  std::string lastCallField(const std::string& field) {
    HttpClient client("127.0.0.1", port_);
    auto calls = client.get("/mock/calls");
    Json json(calls.body);
    simdjson::dom::array calls_array;
    if (json.root()["calls"].get_array().get(calls_array) || calls_array.size() == 0) {
      return "<no calls>";
    }
    simdjson::dom::element value;
    if (calls_array.at(calls_array.size() - 1)[field].get(value)) return "<missing " + field + ">";
    if (value.is_string()) return std::string(value.get_string().value());
    if (value.is_bool()) return value.get_bool().value() ? "true" : "false";
    if (value.is_int64()) return std::to_string(value.get_int64().value());
    return "<missing " + field + ">";
  }

  // A non-stream answer under `knob`, checked to be chunked with the whole body in one chunk.
  std::pair<Wire, Chunked> wholeAnswerInOneChunk(const std::string& knob) {
    const Wire wire = split(exchange(request(kChat, kWholeBody, {knob})));
    EXPECT_TRUE(wire.has("Transfer-Encoding: chunked")) << wire.head;
    EXPECT_FALSE(wire.named("content-length")) << wire.head;
    const Chunked body = dechunk(wire.body);
    EXPECT_TRUE(body.complete) << wire.body;
    EXPECT_EQ(body.chunks.size(), 1u) << wire.body;
    EXPECT_TRUE(!body.chunks.empty() && body.chunks[0].ends_with("\"fp_mock\"}")) << wire.body;
    return {wire, body};
  }

  std::unique_ptr<Process> mock_;
  unsigned short port_ = 0;
};

// --- compression -------------------------------------------------------------------------------

TEST_F(MockUpstreamTest, AcceptEncodingGzipGetsAGzipBodyThatDecodesToThePlainAnswer) {
  const auto plain = split(exchange(request(kChat, kWholeBody, {"x-mock-encoding: auto"})));
  EXPECT_FALSE(plain.named("content-encoding")) << plain.head;
  EXPECT_EQ(lastCallField("encoding"), "identity");

  const auto gzip = split(exchange(
      request(kChat, kWholeBody, {"x-mock-encoding: auto", "Accept-Encoding: gzip, deflate"})));
  EXPECT_TRUE(gzip.has("Content-Encoding: gzip")) << gzip.head;
  EXPECT_TRUE(gzip.has("Content-Length: " + std::to_string(gzip.body.size()))) << gzip.head;
  bool finished = false;
  EXPECT_EQ(decodeAll("gzip", gzip.body, &finished), plain.body);
  EXPECT_TRUE(finished);
  EXPECT_EQ(lastCallField("encoding"), "gzip");
}

TEST_F(MockUpstreamTest, IdentityOrNoAcceptEncodingGetsAPlainBody) {
  for (const std::string accept : {"Accept-Encoding: identity", "Accept-Encoding: gzip;q=0", ""}) {
    std::vector<std::string> fields = {"x-mock-encoding: auto"};
    if (!accept.empty()) fields.push_back(accept);
    const auto wire = split(exchange(request(kChat, kWholeBody, fields)));
    EXPECT_FALSE(wire.named("content-encoding")) << accept << "\n" << wire.head;
    EXPECT_EQ(wire.body.front(), '{') << accept;
    EXPECT_EQ(lastCallField("encoding"), "identity") << accept;
  }
}

TEST_F(MockUpstreamTest, NegotiationFollowsQValuesThenPrefersBrZstdGzip) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"gzip, deflate, br, zstd", "br"},
      {"gzip;q=1.0, br;q=0.5", "gzip"},
      {"br;q=0, zstd, gzip", "zstd"},
      {"*", "br"},
      {"x-gzip", "gzip"},
      {"deflate", "identity"},
      {"*;q=0, gzip;q=0.001", "gzip"},
  };
  for (const auto& [accept, coding] : cases) {
    const auto wire = split(exchange(
        request(kChat, kWholeBody, {"x-mock-encoding: auto", "Accept-Encoding: " + accept})));
    EXPECT_EQ(lastCallField("encoding"), coding) << accept;
    if (coding != "identity") {
      EXPECT_TRUE(wire.has("Content-Encoding: " + coding)) << accept;
    }
  }
}

TEST_F(MockUpstreamTest, ForcedEncodingIgnoresAcceptEncodingLikeAMisbehavingServer) {
  const auto wire = split(
      exchange(request(kChat, kWholeBody, {"x-mock-encoding: zstd", "Accept-Encoding: identity"})));
  EXPECT_TRUE(wire.has("Content-Encoding: zstd")) << wire.head;
  bool finished = false;
  const std::string decoded = decodeAll("zstd", wire.body, &finished);
  EXPECT_NE(decoded.find("\"prompt_tokens\":12,"), std::string::npos);
  EXPECT_TRUE(finished);
}

// Each HTTP chunk of a compressed stream decodes to whole events: the compressor is flushed per
// event, as real servers flush theirs, so a client sees every token as it is sent.
TEST_F(MockUpstreamTest, CompressedStreamsAreFlushedPerEventAndEndProperly) {
  const auto plain = split(exchange(request(kChat, kStreamBody, {"x-mock-chunks: 5"})));
  const std::string plain_events = joined(dechunk(plain.body).chunks);
  for (const std::string coding : {"gzip", "br", "zstd"}) {
    const auto wire = split(
        exchange(request(kChat, kStreamBody, {"x-mock-chunks: 5", "x-mock-encoding: " + coding})));
    EXPECT_TRUE(wire.has("Content-Encoding: " + coding)) << wire.head;
    EXPECT_TRUE(wire.has("Transfer-Encoding: chunked")) << wire.head;
    const Chunked body = dechunk(wire.body);
    ASSERT_TRUE(body.complete) << coding;
    Decoder decoder(coding);
    std::string decoded;
    size_t events = 0;
    for (size_t i = 0; i < body.chunks.size(); ++i) {
      const std::string piece = decoder.feed(body.chunks[i]);
      decoded += piece;
      if (piece.empty()) continue;  // the coding's epilogue
      ++events;
      EXPECT_TRUE(decoded.ends_with("\n\n")) << coding << " chunk " << i << ": " << piece;
    }
    EXPECT_TRUE(decoder.ok()) << coding;
    EXPECT_TRUE(decoder.finished()) << coding;
    EXPECT_EQ(decoded, plain_events) << coding;
    EXPECT_EQ(events, 9u) << coding;  // role, 5 content, finish, usage, [DONE]
  }
}

// --- interim answers ---------------------------------------------------------------------------

TEST_F(MockUpstreamTest, InterimAnswersPrecedeTheFinalOneWithoutExpect) {
  const std::string bytes = exchange(request(kChat, kWholeBody, {"x-mock-interim: 100,103"}));
  const std::string interim =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </mock/early-hints.css>; rel=preload; as=style\r\n\r\n";
  ASSERT_TRUE(bytes.starts_with(interim)) << bytes;
  const auto final_answer = split(bytes.substr(interim.size()));
  EXPECT_TRUE(final_answer.head.starts_with("HTTP/1.1 200 OK\r\n")) << final_answer.head;
  EXPECT_NE(final_answer.body.find("\"prompt_tokens\":12,"), std::string::npos);
}

TEST_F(MockUpstreamTest, ExpectContinueIsAnsweredBeforeTheBodyIsSent) {
  RawConnection connection(port_);
  std::string head = request(kChat, "", {"Expect: 100-continue"});
  head.resize(head.size() - 4 - 1);  // drop "0\r\n\r\n": the real length follows
  head += std::to_string(kWholeBody.size()) + "\r\n\r\n";
  ASSERT_TRUE(connection.send(head));
  std::string got;
  ASSERT_TRUE(connection.readUntil(got, "\r\n\r\n")) << got;
  EXPECT_EQ(got, "HTTP/1.1 100 Continue\r\n\r\n");
  ASSERT_TRUE(connection.send(kWholeBody));
  got += connection.readToEnd();
  EXPECT_NE(got.find("HTTP/1.1 200 OK\r\n"), std::string::npos) << got;
}

// --- framing -----------------------------------------------------------------------------------

TEST_F(MockUpstreamTest, TrailersAreDeclaredAndFollowTheLastChunk) {
  const auto stream = split(exchange(request(kChat, kStreamBody, {"x-mock-trailers: 1"})));
  EXPECT_TRUE(stream.has("Trailer: x-mock-trailer")) << stream.head;
  EXPECT_TRUE(stream.body.ends_with("\r\n0\r\nx-mock-trailer: end-of-answer\r\n\r\n"))
      << stream.body;

  const auto [whole, body] = wholeAnswerInOneChunk("x-mock-trailers: 1");
  EXPECT_TRUE(whole.has("Trailer: x-mock-trailer")) << whole.head;
  EXPECT_EQ(body.trailers, "x-mock-trailer: end-of-answer\r\n");
}

TEST_F(MockUpstreamTest, CloseFramingHasNoLengthAndEndsWithTheConnection) {
  RawConnection connection(port_);
  ASSERT_TRUE(connection.send(request(kChat, kStreamBody, {"x-mock-framing: close"}, false)));
  const auto wire = split(connection.readToEnd());
  EXPECT_EQ(connection.end(), End::kEof);
  EXPECT_TRUE(wire.has("Connection: close")) << wire.head;
  EXPECT_FALSE(wire.named("content-length")) << wire.head;
  EXPECT_FALSE(wire.named("transfer-encoding")) << wire.head;
  EXPECT_TRUE(wire.body.starts_with("data: {")) << wire.body;
  EXPECT_TRUE(wire.body.ends_with("data: [DONE]\n\n")) << wire.body;
}

TEST_F(MockUpstreamTest, ExtraBytesFollowACompleteContentLengthBody) {
  const size_t extra = kExtraAnswer.size() + 10;
  const auto wire =
      split(exchange(request(kChat, kWholeBody, {"x-mock-extra-bytes: " + std::to_string(extra)})));
  const size_t length = std::stoul(wire.head.substr(wire.head.find("Content-Length: ") + 16));
  ASSERT_EQ(wire.body.size(), length + extra);
  EXPECT_TRUE(wire.body.substr(0, length).ends_with("\"fp_mock\"}"));
  EXPECT_EQ(wire.body.substr(length), kExtraAnswer + kExtraAnswer.substr(0, 10));
}

TEST_F(MockUpstreamTest, NoContentWithBodyLeavesTheBodyAfterThe204Head) {
  const auto wire = split(exchange(request(kChat, kWholeBody, {"x-mock-204-with-body: 1"})));
  EXPECT_TRUE(wire.head.starts_with("HTTP/1.1 204 No Content\r\n")) << wire.head;
  EXPECT_TRUE(wire.has("Content-Length: " + std::to_string(wire.body.size()))) << wire.head;
  EXPECT_NE(wire.body.find("\"prompt_tokens\":12,"), std::string::npos);
  EXPECT_EQ(lastCallField("status"), "204");
}

TEST_F(MockUpstreamTest, Status101SendsAnUpgradeHeadAndNothingMore) {
  RawConnection connection(port_);
  ASSERT_TRUE(connection.send(request(kChat, kWholeBody, {"x-mock-status: 101"}, false)));
  std::string got;
  ASSERT_TRUE(connection.readUntil(got, "\r\n\r\n"));
  EXPECT_EQ(got,
            "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
            "Upgrade: websocket\r\n\r\n");
  EXPECT_EQ(lastCallField("status"), "101");
}

// --- connection lifetime -----------------------------------------------------------------------

TEST_F(MockUpstreamTest, MaxRequestsPerConnectionAnnouncesAndClosesAfterTheNth) {
  start({"--max-requests-per-connection", "2"});
  RawConnection connection(port_);
  ASSERT_TRUE(connection.send(request(kChat, kWholeBody, {}, false)));
  std::string first;
  ASSERT_TRUE(connection.readUntil(first, "\"fp_mock\"}"));
  EXPECT_FALSE(split(first).named("connection")) << first;
  ASSERT_TRUE(connection.send(request(kChat, kWholeBody, {}, false)));
  const auto second = split(connection.readToEnd());
  EXPECT_EQ(connection.end(), End::kEof);
  EXPECT_TRUE(second.has("Connection: close")) << second.head;
  EXPECT_TRUE(second.body.ends_with("\"fp_mock\"}"));
}

TEST_F(MockUpstreamTest, CloseAfterAnswerClosesWithoutAnnouncingIt) {
  RawConnection connection(port_);
  ASSERT_TRUE(connection.send(request(kChat, kWholeBody, {"x-mock-close-after-answer: 1"}, false)));
  const auto wire = split(connection.readToEnd());
  EXPECT_EQ(connection.end(), End::kEof);
  EXPECT_FALSE(wire.named("connection")) << wire.head;
  EXPECT_TRUE(wire.body.ends_with("\"fp_mock\"}"));
}

TEST_F(MockUpstreamTest, ResetAfterZeroResetsBeforeTheHead) {
  End end = End::kTimeout;
  const std::string bytes = exchange(request(kChat, kStreamBody, {"x-mock-reset-after: 0"}), &end);
  EXPECT_EQ(bytes, "");
  EXPECT_EQ(end, End::kReset);
  EXPECT_EQ(lastCallField("completed"), "false");
}

TEST_F(MockUpstreamTest, ResetAfterNResetsAfterTheNthContentEvent) {
  End end = End::kTimeout;
  const auto wire = split(
      exchange(request(kChat, kStreamBody, {"x-mock-reset-after: 2", "x-mock-chunks: 4"}), &end));
  EXPECT_EQ(end, End::kReset);
  const Chunked body = dechunk(wire.body);
  EXPECT_FALSE(body.complete);
  ASSERT_EQ(body.chunks.size(), 3u);  // the role chunk and two content chunks
  EXPECT_NE(body.chunks[2].find("\"content\":\"and sky was red \""), std::string::npos)
      << body.chunks[2];
  EXPECT_EQ(lastCallField("completed"), "false");
}

TEST_F(MockUpstreamTest, TheRecordSaysHowMuchOfAStreamWasSent) {
  // 4 content events of 17 tokens: event i holds tokens [i*17/4, (i+1)*17/4).
  exchange(request(kChat, kStreamBody,
                   {"x-mock-cut-after: 3", "x-mock-chunks: 4", "x-mock-completion-tokens: 17"}));
  EXPECT_EQ(lastCallField("content_events_sent"), "3");
  EXPECT_EQ(lastCallField("output_tokens_sent"), "12");
  exchange(request(kChat, kStreamBody, {"x-mock-chunks: 4", "x-mock-completion-tokens: 17"}));
  EXPECT_EQ(lastCallField("content_events_sent"), "4");
  EXPECT_EQ(lastCallField("output_tokens_sent"), "17");
  exchange(request(kChat, kWholeBody, {}));
  EXPECT_EQ(lastCallField("content_events_sent"), "0");
}

TEST_F(MockUpstreamTest, ResetAfterOnAWholeAnswerResetsInsideTheBody) {
  End end = End::kTimeout;
  const auto wire = split(exchange(request(kChat, kWholeBody, {"x-mock-reset-after: 1"}), &end));
  EXPECT_EQ(end, End::kReset);
  const size_t length = std::stoul(wire.head.substr(wire.head.find("Content-Length: ") + 16));
  EXPECT_EQ(wire.body.size(), length / 2);
}

TEST_F(MockUpstreamTest, ChunkedFramingPutsAWholeAnswerInOneChunk) {
  const auto [wire, body] = wholeAnswerInOneChunk("x-mock-framing: chunked");
  EXPECT_FALSE(wire.named("trailer")) << wire.head;
  EXPECT_EQ(body.trailers, "");
}

TEST_F(MockUpstreamTest, CutAndResetTogetherAreRefused) {
  const auto wire = split(
      exchange(request(kChat, kStreamBody, {"x-mock-reset-after: 2", "x-mock-cut-after: 1"})));
  EXPECT_TRUE(wire.head.starts_with("HTTP/1.1 400 ")) << wire.head;
  EXPECT_NE(wire.body.find("mock: cut-after (FIN) and reset-after (RST)"), std::string::npos);
}

TEST_F(MockUpstreamTest, DripWritesOneByteAtATime) {
  const std::string plain = exchange(request("/nowhere", "{}"));
  RawConnection connection(port_);
  const auto started = Clock::now();
  ASSERT_TRUE(connection.send(request("/nowhere", "{}", {"x-mock-drip-ms: 3"})));
  const std::string dripped = connection.readToEnd();
  const auto elapsed = Clock::now() - started;
  EXPECT_EQ(dripped, plain);
  // A lower bound holds however busy the machine is: one sleep of 3 ms per byte.
  EXPECT_GE(elapsed, milliseconds(3) * plain.size());
  EXPECT_GT(connection.reads(), plain.size() / 8) << "bytes arrived in few large reads";
}

// --- huge lines --------------------------------------------------------------------------------

TEST_F(MockUpstreamTest, LineBytesMakesOneDataLineExactlyThatLongWithoutHoldingIt) {
  constexpr size_t kLine = 48u << 20;
  const int64_t rss_before = peakRssKb(mock_->pid());
  const auto wire =
      split(exchange(request(kChat, kStreamBody, {"x-mock-line-bytes: " + std::to_string(kLine)})));
  const Chunked body = dechunk(wire.body);
  ASSERT_TRUE(body.complete);
  const std::string events = joined(body.chunks);
  size_t longest = 0;
  std::string_view long_line;
  for (size_t at = 0; at < events.size();) {
    const size_t end = std::min(events.find('\n', at), events.size());
    if (end - at > longest) {
      longest = end - at;
      long_line = std::string_view(events).substr(at, end - at);
    }
    at = end + 1;
  }
  EXPECT_EQ(longest, kLine);
  ASSERT_TRUE(long_line.starts_with("data: {")) << long_line.substr(0, 80);
  Json event{std::string(long_line.substr(6))};
  EXPECT_TRUE(event.ok()) << "the padded event stays valid JSON";
  EXPECT_NE(events.find("\"prompt_tokens\":12,"), std::string::npos) << "usage still follows";
  const int64_t rss_after = peakRssKb(mock_->pid());
  EXPECT_LT(rss_after - rss_before, 16 * 1024)
      << "peak RSS grew by " << rss_after - rss_before << " kB for a " << kLine << "-byte line";
}

TEST_F(MockUpstreamTest, EndlessLineNeverEndsUntilTheClientLeaves) {
  constexpr size_t kRead = 64u << 20;
  const int64_t rss_before = peakRssKb(mock_->pid());
  {
    RawConnection connection(port_);
    ASSERT_TRUE(connection.send(request(kChat, kStreamBody, {"x-mock-endless-line: 1"}, false)));
    std::string head;
    ASSERT_TRUE(connection.readUntil(head, "pad pad pad "));
    const std::string line_start = head.substr(head.find("pad pad pad "));
    EXPECT_EQ(line_start.find('\n'), std::string::npos);
    size_t total = head.size();
    size_t newlines_after = 0;
    char previous = line_start.back();
    while (total < kRead) {
      auto piece = connection.readSome(milliseconds(10'000));
      ASSERT_TRUE(piece) << "the line ended after " << total << " bytes";
      total += piece->size();
      // Chunk-size lines are CRLF-terminated; a bare LF would end the SSE line.
      for (const char c : *piece) {
        if (c == '\n' && previous != '\r') ++newlines_after;
        previous = c;
      }
    }
    EXPECT_EQ(newlines_after, 0u);
  }
  // The mock notices the client left, records the call unfinished and keeps serving.
  HttpClient client("127.0.0.1", port_);
  EXPECT_EQ(client.post(kChat, kWholeBody).status, 200);
  const int64_t rss_after = peakRssKb(mock_->pid());
  EXPECT_LT(rss_after - rss_before, 16 * 1024) << "peak RSS grew by " << rss_after - rss_before
                                               << " kB for " << kRead << " bytes of one line";
}

TEST_F(MockUpstreamTest, LongLinesNeedAStream) {
  const auto wire = split(exchange(request(kChat, kWholeBody, {"x-mock-line-bytes: 1000"})));
  EXPECT_TRUE(wire.head.starts_with("HTTP/1.1 400 ")) << wire.head;
  EXPECT_NE(wire.body.find("mock: line-bytes and endless-line need a stream"), std::string::npos);
}

TEST_F(MockUpstreamTest, UnknownEncodingOrInterimIsRefused) {
  for (const std::string field : {"x-mock-encoding: deflate", "x-mock-interim: 101",
                                  "x-mock-interim: 200", "x-mock-framing: length"}) {
    const auto wire = split(exchange(request(kChat, kWholeBody, {field})));
    EXPECT_TRUE(wire.head.starts_with("HTTP/1.1 400 ")) << field << "\n" << wire.head;
    EXPECT_NE(wire.body.find("\"message\":\"mock: "), std::string::npos) << field;
  }
}

}  // namespace
}  // namespace tollgate::testing
