// ledger_make_events: writes N synthetic cost events as the gateway's file sink would (the
// meter's own CloudEvents writer), spread over a month, for the ledger's benchmark.
//
// usage: ledger_make_events N FILE [--month 2026-11] [--teams 20] [--models 5]
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "ledger/calendar.h"
#include "meter/cost_event.h"

int main(int argc, char** argv) {
  using namespace tollgate;
  if (argc < 3) {
    std::fprintf(stderr,
                 "usage: ledger_make_events N FILE [--month YYYY-MM] [--teams T] [--models M]\n");
    return 2;
  }
  const long long n = std::atoll(argv[1]);
  const char* path = argv[2];
  std::string month = "2026-11";
  int teams = 20, models = 5;
  for (int i = 3; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--month") == 0) month = argv[i + 1];
    if (std::strcmp(argv[i], "--teams") == 0) teams = std::atoi(argv[i + 1]);
    if (std::strcmp(argv[i], "--models") == 0) models = std::atoi(argv[i + 1]);
  }
  const auto period = ledger::parsePeriod(month);
  if (n <= 0 || !period || teams < 1 || models < 1) {
    std::fprintf(stderr, "ledger_make_events: bad arguments\n");
    return 2;
  }
  std::FILE* out = std::fopen(path, "wb");
  if (out == nullptr) {
    std::perror(path);
    return 1;
  }
  const int64_t start_ns = period->start_hour * 3'600'000'000'000;
  const int64_t span_ns = (period->end_hour - period->start_hour) * 3'600'000'000'000;
  meter::Price price;
  price.input = price.cache_write = 3'000'000;
  price.cache_read = 300'000;
  price.output = price.reasoning = 15'000'000;
  std::string line;
  uint64_t x = 88172645463325252ull;  // xorshift: the same file every run
  for (long long i = 0; i < n; ++i) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    meter::CostEvent e;
    e.id = "bench-" + std::to_string(i);
    e.source = "tollgate://bench";
    e.request_id = e.id;
    e.trace_id = "0123456789abcdef0123456789abcdef";
    const int team = static_cast<int>(x % static_cast<uint64_t>(teams));
    e.attribution.team = "team-" + std::to_string(team);
    e.attribution.project = "project-" + std::to_string(team % 3);
    e.attribution.cost_center = "cc-" + std::to_string(team % 7);
    e.attribution.workload_type = (x >> 8) % 10 == 0 ? "batch" : "inference";
    e.attribution.environment = (x >> 12) % 4 == 0 ? "staging" : "prod";
    e.attribution.key_id = "key-" + std::to_string(team);
    e.upstream = e.provider = "anthropic";
    e.operation = "chat";
    e.endpoint = "/v1/messages";
    e.model = e.model_requested =
        "model-" + std::to_string((x >> 16) % static_cast<uint64_t>(models));
    e.status = 200;
    e.usage.input_tokens = 200 + static_cast<int64_t>((x >> 20) % 4000);
    e.usage.cache_read_tokens = static_cast<int64_t>((x >> 32) % 200);
    e.usage.output_tokens = 20 + static_cast<int64_t>((x >> 40) % 800);
    e.usage_source = meter::UsageSource::kProvider;
    e.priced = true;
    e.price_ref = "bench/model";
    e.cost = meter::computeCost(price, e.usage);
    e.end_unix_ns =
        start_ns + static_cast<int64_t>((static_cast<unsigned __int128>(i) * span_ns) / n);
    e.start_unix_ns = e.end_unix_ns - 900'000'000;
    line.clear();
    meter::appendCloudEventJson(e, line);
    line.push_back('\n');
    if (std::fwrite(line.data(), 1, line.size(), out) != line.size()) {
      std::perror(path);
      return 1;
    }
  }
  return std::fclose(out) == 0 ? 0 : 1;
}
