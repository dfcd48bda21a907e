#include "meter/cost_event.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>

#include "meter/json_escape.h"
#include "meter/text_moves.h"

namespace tollgate::meter {
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

// Two decimal digits per entry: "00" .. "99".
constexpr char kDigitPairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

// `value` < 100 as two digits.
char* writeTwo(uint64_t value, char* out) {
  std::memcpy(out, kDigitPairs + 2 * value, 2);
  return out + 2;
}

// Zero-padded to `width` digits; `value` is non-negative.
char* writePadded(uint64_t value, int width, char* out) {
  char buf[24];
  int len = 0;
  do {
    buf[len++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (int k = len; k < width; ++k) *out++ = '0';
  while (len > 0) *out++ = buf[--len];
  return out;
}

constexpr size_t kRfc3339Chars = 27;  // 2026-11-22T14:42:30.123456Z

// "YYYY-MM-DDTHH:MM:SS" of the second last written on this thread: an event's two times, and
// the events a worker writes one after the other, mostly fall in the same second.
struct SecondText {
  int64_t seconds = std::numeric_limits<int64_t>::min();  // no time is in this second
  char text[19] = {};
};
thread_local SecondText t_second;

char* writeRfc3339(int64_t unix_ns, char* out) {
  const int64_t seconds = floorDiv(unix_ns, kNanosPerSecond);
  // From the remainder rather than unix_ns - seconds * 1e9, which overflows near INT64_MIN.
  int64_t nanos = unix_ns % kNanosPerSecond;
  if (nanos < 0) nanos += kNanosPerSecond;
  const auto micros = static_cast<uint64_t>(nanos / kNanosPerMicro);

  SecondText& cached = t_second;
  if (cached.seconds != seconds) {
    const int64_t days = floorDiv(seconds, kSecondsPerDay);
    const auto second_of_day = static_cast<uint64_t>(seconds - days * kSecondsPerDay);
    const CivilDate date = civilFromDays(days);
    // int64 nanoseconds span the years 1677..2262, so the year always has exactly four digits.
    const auto year = static_cast<uint64_t>(date.year);
    char* p = cached.text;
    p = writeTwo(year / 100, p);
    p = writeTwo(year % 100, p);
    *p++ = '-';
    p = writeTwo(date.month, p);
    *p++ = '-';
    p = writeTwo(date.day, p);
    *p++ = 'T';
    p = writeTwo(second_of_day / 3600, p);
    *p++ = ':';
    p = writeTwo(second_of_day / 60 % 60, p);
    *p++ = ':';
    writeTwo(second_of_day % 60, p);
    cached.seconds = seconds;
  }
  std::memcpy(out, cached.text, sizeof cached.text);
  out += sizeof cached.text;
  *out++ = '.';
  out = writeTwo(micros / 10'000, out);
  out = writeTwo(micros / 100 % 100, out);
  out = writeTwo(micros % 100, out);
  *out++ = 'Z';
  return out;
}

// Exact milliseconds with three decimals from an integer count of microseconds.
std::string_view millisFromMicros(int64_t micros, char (&buf)[32]) {
  char* out = buf;
  uint64_t magnitude = static_cast<uint64_t>(micros);
  if (micros < 0) {
    *out++ = '-';
    magnitude = ~magnitude + 1;
  }
  out = writePadded(magnitude / 1000, 1, out);
  *out++ = '.';
  out = writePadded(magnitude % 1000, 3, out);
  return {buf, static_cast<size_t>(out - buf)};
}

// A double in milliseconds with three decimals. JSON has no NaN or infinity: those become 0.
// `buf` holds any finite double in fixed notation (DBL_MAX has 309 integer digits).
std::string_view millis(double ms, char (&buf)[400]) {
  if (!std::isfinite(ms) || ms == 0.0) ms = 0.0;  // also folds -0.0 into 0.0
  const auto result = std::to_chars(buf, buf + sizeof buf, ms, std::chars_format::fixed, 3);
  if (result.ec != std::errc{}) return "0.000";
  return {buf, static_cast<size_t>(result.ptr - buf)};
}

// The event is sized (EventSize) and then written in place (EventWriter) by the same sequence
// of calls (writeEvent): one pass over constant fragments merged at compile time, no
// intermediate strings. EventSize's figure is an upper bound of what EventWriter writes.
class EventSize {
 public:
  template <size_t N>
  void literal(const char (&)[N]) {
    n_ += N - 1;
  }
  void raw(std::string_view s) { n_ += s.size(); }
  void string(std::string_view s) { n_ += 6 * s.size() + 2; }
  void integer(int64_t) { n_ += 20; }  // "-9223372036854775808"
  void boolean(bool) { n_ += 5; }
  void money(Money) { n_ += 2 + Money::kMaxDecimalChars; }
  void time(int64_t) { n_ += kRfc3339Chars; }
  size_t size() const { return n_; }

 private:
  size_t n_ = 0;
};

class EventWriter {
 public:
  explicit EventWriter(char* out) : p_(out) {}
  template <size_t N>
  void literal(const char (&s)[N]) {
    std::memcpy(p_, s, N - 1);
    p_ += N - 1;
  }
  void raw(std::string_view s) {
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void string(std::string_view s) { p_ = writeJsonString(s, p_); }
  void integer(int64_t value) { p_ = std::to_chars(p_, p_ + 20, value).ptr; }
  void boolean(bool value) {
    if (value) {
      literal("true");
    } else {
      literal("false");
    }
  }
  void money(Money value) {
    *p_++ = '"';
    p_ = value.writeDecimal(p_);
    *p_++ = '"';
  }
  void time(int64_t unix_ns) { p_ = writeRfc3339(unix_ns, p_); }
  char* end() const { return p_; }

 private:
  char* p_;
};

static_assert(kCostEventType == "dev.tollgate.llm.usage.v1", "the literal below spells it");
static_assert(kCostEventTypeV2 == "dev.tollgate.llm.usage.v2", "the literal below spells it");

// The five token counts of a usage, as the event's "usage" object begins.
template <class Out>
void writeTokenCounts(const Usage& usage, Out& out) {
  out.literal(R"({"input_tokens":)");
  out.integer(usage.input_tokens);
  out.literal(R"(,"cache_read_tokens":)");
  out.integer(usage.cache_read_tokens);
  out.literal(R"(,"cache_write_tokens":)");
  out.integer(usage.cache_write_tokens);
  out.literal(R"(,"output_tokens":)");
  out.integer(usage.output_tokens);
  out.literal(R"(,"reasoning_tokens":)");
  out.integer(usage.reasoning_tokens);
}

// v2's line items: one per unit counted, then one per usage on another model. Costs are those
// of a priced call (zero otherwise, like the cost object's).
template <class Out>
void writeLineItems(const CostEvent& event, Out& out) {
  out.literal(R"(,"line_items":[)");
  bool first = true;
  for (const Unit unit : kAllUnits) {
    const int64_t quantity = event.usage[unit];
    if (quantity == 0) continue;
    if (!first) out.literal(",");
    first = false;
    out.literal(R"({"unit":")");
    out.raw(toString(unit));
    out.literal(R"(","quantity":)");
    out.integer(quantity);
    out.literal(R"(,"cost":)");
    out.money(event.priced ? event.cost.units[index(unit)] : Money{});
    out.literal("}");
  }
  for (const OtherModelCharge& other : event.other_models) {
    if (!first) out.literal(",");
    first = false;
    out.literal(R"({"unit":"other_model","model":)");
    out.string(other.usage.model);
    out.literal(R"(,"price_ref":)");
    if (event.priced && other.priced) {
      out.string(other.price_ref);
    } else {
      out.literal("null");
    }
    out.literal(R"(,"usage":)");
    writeTokenCounts(other.usage.usage, out);
    out.literal(R"(},"cost":)");
    out.money(event.priced && other.priced ? other.cost.total : Money{});
    out.literal("}");
  }
  out.literal(R"(],"provider_cost":)");
  if (event.provider_cost) {
    out.money(*event.provider_cost);
  } else {
    out.literal("null");
  }
}

// Field for field as contract.md shows it. `duration_ms` and `ttft_ms` are already formatted.
template <class Out>
void writeEvent(const CostEvent& event, std::string_view duration_ms, std::string_view ttft_ms,
                Out& out) {
  const Attribution& who = event.attribution;
  out.literal(R"({"specversion":"1.0","id":)");
  out.string(event.id);
  out.literal(R"(,"source":)");
  out.string(event.source);
  const bool v2 = usesLineItems(event);
  if (v2) [[unlikely]] {
    out.literal(R"(,"type":"dev.tollgate.llm.usage.v2","subject":)");
  } else {
    out.literal(R"(,"type":"dev.tollgate.llm.usage.v1","subject":)");
  }
  out.string(who.team);
  out.literal(R"(,"time":")");
  out.time(event.end_unix_ns);
  out.literal(R"(","datacontenttype":"application/json","data":{"request_id":)");
  out.string(event.request_id);
  out.literal(R"(,"trace_id":)");
  out.string(event.trace_id);
  out.literal(R"(,"team":)");
  out.string(who.team);
  out.literal(R"(,"project":)");
  out.string(who.project);
  out.literal(R"(,"cost_center":)");
  out.string(who.cost_center);
  out.literal(R"(,"workload_type":)");
  out.string(who.workload_type);
  out.literal(R"(,"environment":)");
  out.string(who.environment);
  out.literal(R"(,"tags":{)");
  for (size_t k = 0; k < who.tags.size(); ++k) {
    if (k != 0) out.literal(",");
    out.string(who.tags[k].first);
    out.literal(":");
    out.string(who.tags[k].second);
  }
  out.literal(R"(},"key_id":)");
  out.string(who.key_id);
  out.literal(R"(,"allocated":)");
  out.boolean(who.allocated);

  out.literal(R"(,"upstream":)");
  out.string(event.upstream);
  out.literal(R"(,"provider":)");
  out.string(event.provider);
  out.literal(R"(,"operation":)");
  out.string(event.operation);
  out.literal(R"(,"endpoint":)");
  out.string(event.endpoint);
  out.literal(R"(,"model_requested":)");
  out.string(event.model_requested);
  out.literal(R"(,"model":)");
  out.string(event.model);
  out.literal(R"(,"stream":)");
  out.boolean(event.stream);
  out.literal(R"(,"status":)");
  out.integer(event.status);
  // Outcome and usage source names are constants that need no escaping.
  out.literal(R"(,"outcome":")");
  out.raw(toString(event.outcome));
  out.literal(R"(")");
  // Only when spend control acted on the call, so that other events stay what they were.
  if (!event.limit.empty()) [[unlikely]] {
    out.literal(R"(,"limit":)");
    out.string(event.limit);
  }
  if (event.max_tokens_clamped) [[unlikely]] {
    out.literal(R"(,"max_tokens_clamped":)");
    out.integer(*event.max_tokens_clamped);
  }
  // Only for a call of several attempts (retries, fallbacks), likewise.
  if (event.attempt != 0) [[unlikely]] {
    out.literal(R"(,"attempt":)");
    out.integer(event.attempt);
    out.literal(R"(,"final":)");
    out.boolean(event.final_attempt);
    out.literal(R"(,"upstream_endpoint":{"index":)");
    out.integer(event.upstream_endpoint_index);
    out.literal(R"(,"host":)");
    out.string(event.upstream_endpoint_host);
    out.literal("}");
  }

  const Usage& usage = event.usage;
  out.literal(R"(,"usage":)");
  writeTokenCounts(usage, out);
  if (v2) [[unlikely]] {
    out.literal(R"(,"units":{)");
    bool first = true;
    for (const Unit unit : kAllUnits) {
      if (usage[unit] == 0) continue;
      if (!first) out.literal(",");
      first = false;
      out.literal(R"(")");
      out.raw(toString(unit));
      out.literal(R"(":)");
      out.integer(usage[unit]);
    }
    out.literal(R"(},"unknown_units":)");
    out.integer(usage.unknown_units);
  }
  out.literal(R"(},"usage_source":")");
  out.raw(toString(event.usage_source));
  // Only when set, so that the events of ordinary calls stay byte for byte what they were.
  if (event.usage_flags != 0) [[unlikely]] {
    out.literal(R"(","usage_flags":[)");
    bool first = true;
    for (const UsageFlag flag : kAllUsageFlags) {
      if ((event.usage_flags & flag) == 0) continue;
      if (!first) out.literal(",");
      first = false;
      out.literal(R"(")");
      out.raw(toString(flag));
      out.literal(R"(")");
    }
    out.literal("]");
    out.literal(R"(,"priced":)");
  } else {
    out.literal(R"(","priced":)");
  }
  out.boolean(event.priced);
  out.literal(R"(,"price_ref":)");
  if (event.priced) {
    out.string(event.price_ref);
  } else {
    out.literal("null");
  }
  if (v2) [[unlikely]]
    writeLineItems(event, out);
  // An unpriced call states no cost at all, whatever the breakdown holds, so consumers can sum
  // the cost fields without checking `priced` first.
  const CostBreakdown cost = event.priced ? event.cost : CostBreakdown{};
  out.literal(R"(,"cost":{"currency":"USD","input":)");
  out.money(cost.input);
  out.literal(R"(,"cache_read":)");
  out.money(cost.cache_read);
  out.literal(R"(,"cache_write":)");
  out.money(cost.cache_write);
  out.literal(R"(,"output":)");
  out.money(cost.output);
  if (v2) [[unlikely]] {
    out.literal(R"(,"requests":)");
    out.money(cost.requests);
    out.literal(R"(,"other_models":)");
    out.money(cost.other_models);
  }
  out.literal(R"(,"total":)");
  out.money(cost.total);

  out.literal(R"(},"timing":{"start":")");
  out.time(event.start_unix_ns);
  out.literal(R"(","duration_ms":)");
  out.raw(duration_ms);
  out.literal(R"(,"ttft_ms":)");
  out.raw(ttft_ms);
  out.literal(R"(,"overhead_us":)");
  out.integer(event.overhead_us);
  // Only for pool calls, so that the events of ordinary calls stay byte for byte what they were.
  if (!event.gpu_pool.empty()) [[unlikely]] {
    out.literal(R"(},"gpu_pool":{"name":)");
    out.string(event.gpu_pool);
    out.literal(R"(,"estimated_cost":)");
    out.money(event.gpu_cost_estimate);
    out.literal(R"(,"estimate":true)");
  }
  out.literal("}}}");
}

}  // namespace

void moveAttribution(Attribution& from, Attribution& into) {
  static_assert(sizeof(Attribution) ==
                    6 * sizeof(std::string) + sizeof(Attribution::tags) + alignof(std::string),
                "moveAttribution moves every member of Attribution: add the new one");
  moveText(into.team, from.team);
  moveText(into.project, from.project);
  moveText(into.cost_center, from.cost_center);
  moveText(into.workload_type, from.workload_type);
  moveText(into.environment, from.environment);
  into.tags = std::move(from.tags);
  moveText(into.key_id, from.key_id);
  into.allocated = from.allocated;
}

bool usesLineItems(const CostEvent& event) {
  return event.usage.hasLineItems() || event.usage.unknown_units != 0 ||
         !event.other_models.empty() || event.provider_cost.has_value();
}

std::string_view toString(Outcome outcome) {
  switch (outcome) {
    case Outcome::kOk:
      return "ok";
    case Outcome::kUpstreamError:
      return "upstream_error";
    case Outcome::kClientDisconnect:
      return "client_disconnect";
    case Outcome::kTimeout:
      return "timeout";
    case Outcome::kRejected:
      return "rejected";
    case Outcome::kInterrupted:
      return "interrupted";
    case Outcome::kBudgetCut:
      return "budget_cut";
  }
  return "ok";
}

void appendRfc3339(int64_t unix_ns, std::string& out) {
  char buf[kRfc3339Chars];
  out.append(buf, writeRfc3339(unix_ns, buf));
}

std::string_view cloudEventJson(const CostEvent& event) {
  // Computed in 128 bits: the difference of two arbitrary int64 times can overflow int64, its
  // microseconds cannot.
  const auto duration_ns = static_cast<__int128>(event.end_unix_ns) - event.start_unix_ns;
  char duration_buf[32];
  const std::string_view duration =
      millisFromMicros(static_cast<int64_t>(duration_ns / kNanosPerMicro), duration_buf);
  char ttft_buf[400];
  const std::string_view ttft = millis(event.ttft_ms, ttft_buf);

  EventSize size;
  writeEvent(event, duration, ttft, size);
  // Written into this thread's scratch buffer, sized by the bound: growing a string by the bound
  // with resize() would zero-fill all of it first (a string's bound is six times its length, for
  // escapes), and finding the exact size would scan every string twice. The buffer is never
  // initialised and stays in cache from one event to the next.
  thread_local std::unique_ptr<char[]> scratch;
  thread_local size_t scratch_size = 0;
  if (scratch_size < size.size()) {
    scratch = std::make_unique_for_overwrite<char[]>(size.size());
    scratch_size = size.size();
  }
  EventWriter writer(scratch.get());
  writeEvent(event, duration, ttft, writer);
  return {scratch.get(), static_cast<size_t>(writer.end() - scratch.get())};
}

void appendCloudEventJson(const CostEvent& event, std::string& out) {
  out.append(cloudEventJson(event));
}

}  // namespace tollgate::meter
