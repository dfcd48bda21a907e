// mock_upstream: a deterministic fake LLM provider (OpenAI, Anthropic, Gemini, Ollama wire
// formats) for Tollgate's integration tests and throughput benchmarks. See docs/mock-upstream.md.

#include <charconv>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "loadtest/mock/behaviour.h"
#include "loadtest/mock/server.h"

namespace {

using tollgate::loadtest::ServerOptions;

constexpr int kUsageExit = 2;

void printUsage(std::FILE* out) {
  std::fprintf(out,
               "usage: mock_upstream --listen HOST:PORT [--threads N] [--tls-cert cert.pem "
               "--tls-key key.pem]\n"
               "                     [--no-record] [--record-limit N] "
               "[--max-requests-per-connection N]\n"
               "                     [--aws-secret-access-key SECRET]\n"
               "                     [--default-KNOB VALUE]...\n"
               "knobs (request header x-mock-KNOB overrides --default-KNOB): %.*s\n",
               static_cast<int>(tollgate::loadtest::knobNames().size()),
               tollgate::loadtest::knobNames().data());
}

int usageError(const std::string& message) {
  std::fprintf(stderr, "mock_upstream: %s\n", message.c_str());
  printUsage(stderr);
  return kUsageExit;
}

std::optional<int64_t> parseInt(std::string_view text, int64_t min, int64_t max) {
  int64_t value = 0;
  const auto result = std::from_chars(text.data(), text.data() + text.size(), value);
  if (result.ec != std::errc{} || result.ptr != text.data() + text.size()) return std::nullopt;
  if (value < min || value > max) return std::nullopt;
  return value;
}

// "127.0.0.1:0", "[::1]:8080", "localhost:0" (localhost taken as 127.0.0.1).
bool parseListen(std::string_view text, ServerOptions& options) {
  const size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return false;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  const auto port = parseInt(text.substr(colon + 1), 0, 65535);
  if (host.empty() || !port) return false;
  options.host = host == "localhost" ? "127.0.0.1" : std::string(host);
  options.port = static_cast<uint16_t>(*port);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  ServerOptions options;
  bool have_listen = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      printUsage(stdout);
      return 0;
    }
    if (arg == "--no-record") {
      options.record = false;
      continue;
    }
    std::string_view name = arg;
    std::optional<std::string_view> value;
    if (const size_t equals = arg.find('=');
        arg.starts_with("--") && equals != std::string_view::npos) {
      name = arg.substr(0, equals);
      value = arg.substr(equals + 1);
    } else if (i + 1 < argc) {
      value = argv[++i];
    }
    if (!name.starts_with("--"))
      return usageError("unexpected argument '" + std::string(arg) + "'");
    if (!value) return usageError(std::string(name) + " needs a value");
    if (name == "--listen") {
      if (!parseListen(*value, options))
        return usageError("bad --listen '" + std::string(*value) + "'");
      have_listen = true;
    } else if (name == "--threads") {
      const auto threads = parseInt(*value, 1, 256);
      if (!threads) return usageError("--threads must be in [1, 256]");
      options.threads = static_cast<int>(*threads);
    } else if (name == "--record-limit") {
      const auto limit = parseInt(*value, 1, 10'000'000);
      if (!limit) return usageError("--record-limit must be in [1, 10000000]");
      options.record_limit = static_cast<size_t>(*limit);
    } else if (name == "--max-requests-per-connection") {
      const auto limit = parseInt(*value, 0, 1'000'000'000);
      if (!limit) return usageError("--max-requests-per-connection must be in [0, 1000000000]");
      options.max_requests_per_connection = static_cast<size_t>(*limit);
    } else if (name == "--tls-cert") {
      options.tls_cert = std::string(*value);
    } else if (name == "--aws-secret-access-key") {
      options.aws_secret_access_key = std::string(*value);
    } else if (name == "--tls-key") {
      options.tls_key = std::string(*value);
    } else if (name.starts_with("--default-")) {
      const auto error = tollgate::loadtest::setKnob(options.defaults, name.substr(10), *value);
      if (error) return usageError(*error);
    } else {
      return usageError("unknown option '" + std::string(name) + "'");
    }
  }
  if (!have_listen) return usageError("--listen is required");
  if (options.tls_cert.empty() != options.tls_key.empty()) {
    return usageError("--tls-cert and --tls-key go together");
  }
  if (const auto error = tollgate::loadtest::validate(options.defaults)) return usageError(*error);
  return tollgate::loadtest::runMockServer(options);
}
