// appendCloudEventJson and appendRfc3339 write each event in place in one pass; these tests hold
// them to the serialization as first written (string appends, field by field), kept here as the
// reference, on events of every shape: the bytes must never change.
#include <gtest/gtest.h>

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <system_error>
#include <vector>

#include "meter/cost_event.h"
#include "meter/json_escape.h"

namespace tollgate::meter {
namespace reference {

namespace {

constexpr int64_t kNanosPerMicro = 1'000;
constexpr int64_t kNanosPerSecond = 1'000'000'000;
constexpr int64_t kSecondsPerDay = 86'400;

// Floor division: times before the epoch must land on the earlier second/day, not round
// toward zero.
constexpr int64_t floorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

struct CivilDate {
  int64_t year;
  unsigned month;  // 1..12
  unsigned day;    // 1..31
};

// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's civil_from_days):
// counting in 400-year eras that start on March 1st puts the leap day last in each year.
constexpr CivilDate civilFromDays(int64_t days) {
  days += 719'468;  // shift the epoch to 0000-03-01
  const int64_t era = floorDiv(days, 146'097);
  // Day within the 400-year era [0, 146096], year within it [0, 399], day within the March-based
  // year [0, 365], and month counted from March [0, 11].
  const auto doe = static_cast<uint64_t>(days - era * 146'097);
  const uint64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  const uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const uint64_t mp = (5 * doy + 2) / 153;
  const auto day = static_cast<unsigned>(doy - (153 * mp + 2) / 5 + 1);
  const auto month = static_cast<unsigned>(mp < 10 ? mp + 3 : mp - 9);
  const int64_t year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2 ? 1 : 0);
  return {year, month, day};
}

void appendInt(int64_t value, std::string& out) {
  char buf[24];
  const auto result = std::to_chars(buf, buf + sizeof buf, value);
  out.append(buf, result.ptr);
}

// Zero-padded to `width` digits; `value` is non-negative.
void appendPadded(uint64_t value, int width, std::string& out) {
  char buf[24];
  int len = 0;
  do {
    buf[len++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (int k = len; k < width; ++k) out.push_back('0');
  while (len > 0) out.push_back(buf[--len]);
}

// Exact milliseconds with three decimals from an integer count of microseconds.
void appendMillisFromMicros(int64_t micros, std::string& out) {
  uint64_t magnitude = static_cast<uint64_t>(micros);
  if (micros < 0) {
    out.push_back('-');
    magnitude = ~magnitude + 1;
  }
  appendPadded(magnitude / 1000, 1, out);
  out.push_back('.');
  appendPadded(magnitude % 1000, 3, out);
}

// A double in milliseconds with three decimals. JSON has no NaN or infinity: those become 0.
void appendMillis(double ms, std::string& out) {
  if (!std::isfinite(ms) || ms == 0.0) ms = 0.0;  // also folds -0.0 into 0.0
  // Enough for any finite double in fixed notation (DBL_MAX has 309 integer digits).
  char buf[400];
  const auto result = std::to_chars(buf, buf + sizeof buf, ms, std::chars_format::fixed, 3);
  if (result.ec != std::errc{}) {
    out.append("0.000");
    return;
  }
  out.append(buf, result.ptr);
}

void appendBool(bool value, std::string& out) { out.append(value ? "true" : "false"); }

// `"key":` — keys are constants, never untrusted.
void appendKey(std::string_view key, std::string& out) {
  out.push_back('"');
  out.append(key);
  out.append("\":");
}

void appendStringField(std::string_view key, std::string_view value, std::string& out) {
  appendKey(key, out);
  appendJsonString(value, out);
}

void appendIntField(std::string_view key, int64_t value, std::string& out) {
  appendKey(key, out);
  appendInt(value, out);
}

void appendMoneyField(std::string_view key, Money value, std::string& out) {
  appendKey(key, out);
  out.push_back('"');
  out.append(value.toDecimalString());
  out.push_back('"');
}

}  // namespace

void appendRfc3339(int64_t unix_ns, std::string& out) {
  const int64_t seconds = floorDiv(unix_ns, kNanosPerSecond);
  // From the remainder rather than unix_ns - seconds * 1e9, which overflows near INT64_MIN.
  int64_t nanos = unix_ns % kNanosPerSecond;
  if (nanos < 0) nanos += kNanosPerSecond;
  const int64_t micros = nanos / kNanosPerMicro;
  const int64_t days = floorDiv(seconds, kSecondsPerDay);
  const auto second_of_day = static_cast<uint64_t>(seconds - days * kSecondsPerDay);
  const CivilDate date = civilFromDays(days);

  // int64 nanoseconds span the years 1677..2262, so the year always has exactly four digits.
  appendPadded(static_cast<uint64_t>(date.year), 4, out);
  out.push_back('-');
  appendPadded(date.month, 2, out);
  out.push_back('-');
  appendPadded(date.day, 2, out);
  out.push_back('T');
  appendPadded(second_of_day / 3600, 2, out);
  out.push_back(':');
  appendPadded(second_of_day / 60 % 60, 2, out);
  out.push_back(':');
  appendPadded(second_of_day % 60, 2, out);
  out.push_back('.');
  appendPadded(static_cast<uint64_t>(micros), 6, out);
  out.push_back('Z');
}

void appendCloudEventJson(const CostEvent& event, std::string& out) {
  const Attribution& who = event.attribution;

  out.append(R"({"specversion":"1.0",)");
  appendStringField("id", event.id, out);
  out.push_back(',');
  appendStringField("source", event.source, out);
  out.push_back(',');
  appendStringField("type", kCostEventType, out);
  out.push_back(',');
  appendStringField("subject", who.team, out);
  out.append(R"(,"time":")");
  appendRfc3339(event.end_unix_ns, out);
  out.append(R"(","datacontenttype":"application/json","data":{)");

  appendStringField("request_id", event.request_id, out);
  out.push_back(',');
  appendStringField("trace_id", event.trace_id, out);
  out.push_back(',');
  appendStringField("team", who.team, out);
  out.push_back(',');
  appendStringField("project", who.project, out);
  out.push_back(',');
  appendStringField("cost_center", who.cost_center, out);
  out.push_back(',');
  appendStringField("workload_type", who.workload_type, out);
  out.push_back(',');
  appendStringField("environment", who.environment, out);
  out.append(R"(,"tags":{)");
  for (size_t k = 0; k < who.tags.size(); ++k) {
    if (k != 0) out.push_back(',');
    appendJsonString(who.tags[k].first, out);
    out.push_back(':');
    appendJsonString(who.tags[k].second, out);
  }
  out.append("},");
  appendStringField("key_id", who.key_id, out);
  out.push_back(',');
  appendKey("allocated", out);
  appendBool(who.allocated, out);
  out.push_back(',');

  appendStringField("upstream", event.upstream, out);
  out.push_back(',');
  appendStringField("provider", event.provider, out);
  out.push_back(',');
  appendStringField("operation", event.operation, out);
  out.push_back(',');
  appendStringField("endpoint", event.endpoint, out);
  out.push_back(',');
  appendStringField("model_requested", event.model_requested, out);
  out.push_back(',');
  appendStringField("model", event.model, out);
  out.push_back(',');
  appendKey("stream", out);
  appendBool(event.stream, out);
  out.push_back(',');
  appendIntField("status", event.status, out);
  out.push_back(',');
  appendStringField("outcome", toString(event.outcome), out);

  const Usage& usage = event.usage;
  out.append(R"(,"usage":{)");
  appendIntField("input_tokens", usage.input_tokens, out);
  out.push_back(',');
  appendIntField("cache_read_tokens", usage.cache_read_tokens, out);
  out.push_back(',');
  appendIntField("cache_write_tokens", usage.cache_write_tokens, out);
  out.push_back(',');
  appendIntField("output_tokens", usage.output_tokens, out);
  out.push_back(',');
  appendIntField("reasoning_tokens", usage.reasoning_tokens, out);
  out.append("},");
  appendStringField("usage_source", toString(event.usage_source), out);
  out.push_back(',');

  appendKey("priced", out);
  appendBool(event.priced, out);
  out.push_back(',');
  appendKey("price_ref", out);
  if (event.priced) {
    appendJsonString(event.price_ref, out);
  } else {
    out.append("null");
  }
  // An unpriced call states no cost at all, whatever the breakdown holds, so consumers can sum
  // the cost fields without checking `priced` first.
  const CostBreakdown cost = event.priced ? event.cost : CostBreakdown{};
  out.append(R"(,"cost":{"currency":"USD",)");
  appendMoneyField("input", cost.input, out);
  out.push_back(',');
  appendMoneyField("cache_read", cost.cache_read, out);
  out.push_back(',');
  appendMoneyField("cache_write", cost.cache_write, out);
  out.push_back(',');
  appendMoneyField("output", cost.output, out);
  out.push_back(',');
  appendMoneyField("total", cost.total, out);
  out.append("},");

  out.append(R"("timing":{"start":")");
  appendRfc3339(event.start_unix_ns, out);
  out.append(R"(","duration_ms":)");
  // Computed in 128 bits: the difference of two arbitrary int64 times can overflow int64, its
  // microseconds cannot.
  const auto duration_ns = static_cast<__int128>(event.end_unix_ns) - event.start_unix_ns;
  appendMillisFromMicros(static_cast<int64_t>(duration_ns / kNanosPerMicro), out);
  out.append(R"(,"ttft_ms":)");
  appendMillis(event.ttft_ms, out);
  out.push_back(',');
  appendIntField("overhead_us", event.overhead_us, out);
  out.append("}}}");
}

}  // namespace reference

namespace {

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

class RandomEvents {
 public:
  explicit RandomEvents(uint64_t seed) : rng_(seed) {}

  CostEvent next() {
    CostEvent e;
    e.id = text();
    e.source = "tollgate://" + text();
    e.request_id = text();
    e.trace_id = text();
    e.attribution.team = text();
    e.attribution.project = text();
    e.attribution.cost_center = text();
    e.attribution.workload_type = text();
    e.attribution.environment = text();
    for (uint64_t k = rng_() % 4; k > 0; --k) e.attribution.tags.emplace_back(text(), text());
    e.attribution.key_id = text();
    e.attribution.allocated = rng_() % 2 == 0;
    e.upstream = text();
    e.provider = text();
    e.operation = text();
    e.endpoint = text();
    e.model_requested = text();
    e.model = text();
    e.stream = rng_() % 2 == 0;
    e.status = static_cast<int>(count());
    e.outcome = static_cast<Outcome>(rng_() % 5);
    e.usage = Usage{count(), count(), count(), count(), count(), count()};
    e.usage_source = static_cast<UsageSource>(rng_() % 3);
    e.priced = rng_() % 4 != 0;
    e.price_ref = text();
    e.cost = CostBreakdown{money(), money(), money(), money(), money(), {}, {}, {}};
    e.end_unix_ns = time();
    // Mostly a call's length after its start; sometimes anything at all.
    // (Wrapping near the ends of the range: an arbitrary time then.)
    e.start_unix_ns =
        rng_() % 4 == 0
            ? time()
            : static_cast<int64_t>(static_cast<uint64_t>(e.end_unix_ns) - rng_() % 100'000'000'000);
    e.ttft_ms = millis();
    e.overhead_us = count();
    return e;
  }

  int64_t time() {
    switch (rng_() % 6) {
      case 0:
        return static_cast<int64_t>(rng_());  // anywhere in 1677..2262
      case 1:
        return rng_() % 2 == 0 ? kMin + static_cast<int64_t>(rng_() % 1'000'000'000'000)
                               : kMax - static_cast<int64_t>(rng_() % 1'000'000'000'000);
      case 2:
        return -static_cast<int64_t>(rng_() % 4'000'000'000'000'000'000);  // before 1970
      default:
        // Around now, often in the same second as the time before (the writer's cache).
        if (rng_() % 2 == 0)
          last_ = 1'795'358'550'000'000'000 + static_cast<int64_t>(rng_() % 200'000'000'000);
        return last_ + static_cast<int64_t>(rng_() % 1'000'000'000);
    }
  }

 private:
  // Attribution-like text: often empty or plain, sometimes hostile (escapes, bad UTF-8).
  std::string text() {
    static const std::vector<std::string> pieces = {"a",
                                                    "Z",
                                                    "-",
                                                    "_",
                                                    ".",
                                                    "/",
                                                    ":",
                                                    "\"",
                                                    "\\",
                                                    "\n",
                                                    "\x01",
                                                    "\x1F",
                                                    std::string(1, '\0'),
                                                    "\xC3\xA9",
                                                    "\xF0\x9F\x92\xB8",
                                                    "\xFF",
                                                    "\xC3",
                                                    "</script>"};
    std::string s;
    const uint64_t len = rng_() % 5 == 0 ? 0 : rng_() % 48;
    const bool hostile = rng_() % 3 == 0;
    while (s.size() < len) {
      s += hostile && rng_() % 3 == 0 ? pieces[rng_() % pieces.size()]
                                      : std::string(1, static_cast<char>('a' + rng_() % 26));
    }
    return s;
  }
  int64_t count() {
    switch (rng_() % 5) {
      case 0:
        return 0;
      case 1:
        return rng_() % 2 == 0 ? kMin : kMax;
      case 2:
        return -static_cast<int64_t>(rng_() % 1'000'000);
      default:
        return static_cast<int64_t>(rng_() >> (rng_() % 64));
    }
  }
  Money money() {
    const int64_t pico = count();
    return Money::fromPico(rng_() % 3 == 0 ? pico - pico % 1'000'000 : pico);
  }
  double millis() {
    switch (rng_() % 8) {
      case 0:
        return std::numeric_limits<double>::quiet_NaN();
      case 1:
        return rng_() % 2 == 0 ? std::numeric_limits<double>::infinity()
                               : -std::numeric_limits<double>::infinity();
      case 2:
        return rng_() % 2 == 0 ? -0.0 : std::numeric_limits<double>::max();
      case 3:
        return std::numeric_limits<double>::denorm_min();
      case 4:
        return -static_cast<double>(rng_() % 1'000'000) / 7.0;
      default:
        return static_cast<double>(rng_() % 100'000'000) / 1'000.0 + 0.0005;
    }
  }

  std::mt19937_64 rng_;
  int64_t last_ = 1'795'358'550'000'000'000;
};

TEST(CloudEventJsonReference, EveryEventIsWrittenByteForByteAsTheReferenceWritesIt) {
  RandomEvents events(7);
  std::string out;
  for (int n = 0; n < 5000; ++n) {
    const CostEvent event = events.next();
    std::string expected;
    reference::appendCloudEventJson(event, expected);
    out.clear();
    appendCloudEventJson(event, out);
    ASSERT_EQ(out, expected) << "event " << n;
  }
}

TEST(CloudEventJsonReference, AppendsAfterWhatTheBufferHolds) {
  RandomEvents events(8);
  std::string expected = "prefix\n";
  std::string out = expected;
  for (int n = 0; n < 50; ++n) {
    const CostEvent event = events.next();
    reference::appendCloudEventJson(event, expected);
    expected.push_back('\n');
    appendCloudEventJson(event, out);
    out.push_back('\n');
  }
  EXPECT_EQ(out, expected);
}

TEST(CloudEventJsonReference, TimesAreWrittenAsTheReferenceWritesThem) {
  RandomEvents events(9);
  for (int n = 0; n < 100000; ++n) {
    const int64_t t = events.time();
    std::string expected;
    reference::appendRfc3339(t, expected);
    std::string out;
    appendRfc3339(t, out);
    ASSERT_EQ(out, expected) << t;
  }
  // Consecutive times in one second, then in the next: the per-second cache must follow.
  for (const int64_t t : {int64_t{0}, int64_t{999'999'999}, int64_t{1'000'000'000}, int64_t{-1},
                          kMin, kMax, int64_t{86'399'999'999'999}, int64_t{86'400'000'000'000}}) {
    std::string expected;
    reference::appendRfc3339(t, expected);
    std::string out;
    appendRfc3339(t, out);
    EXPECT_EQ(out, expected) << t;
  }
}

}  // namespace
}  // namespace tollgate::meter
