#pragma once

// Helpers shared by the dialect tests: fixtures, feeding a body split at every byte position,
// and exact money.

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "meter/dialect.h"
#include "meter/meter_support.h"
#include "meter/price_book.h"

namespace tollgate::meter::testing {

inline std::string readFixture(const std::string& path) {
  std::ifstream in(std::string(TOLLGATE_TESTDATA_DIR) + "/" + path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

struct Fed {
  std::string out;  // what the client received
  MeterResult result;
};

// Feeds `body` cut at `cuts` (ascending offsets), then ends it.
inline Fed feed(const Dialect& dialect, const RequestInfo& info, int status,
                std::string_view content_type, std::string_view body,
                const std::vector<size_t>& cuts, bool complete) {
  auto meter = dialect.newResponseMeter(info, status, content_type);
  Fed fed;
  size_t from = 0;
  for (size_t cut : cuts) {
    fed.out.append(meter->onBody(body.substr(from, cut - from)));
    from = cut;
  }
  fed.out.append(meter->onBody(body.substr(from)));
  fed.out.append(meter->onEnd(complete));
  fed.result = meter->result();
  return fed;
}

inline void expectSameResult(const MeterResult& a, const MeterResult& b, const std::string& how) {
  EXPECT_EQ(a.usage, b.usage) << how;
  EXPECT_EQ(a.usage_source, b.usage_source) << how;
  EXPECT_EQ(a.usage_flags, b.usage_flags) << how;
  EXPECT_EQ(a.response_model, b.response_model) << how;
  EXPECT_EQ(a.response_id, b.response_id) << how;
  EXPECT_EQ(a.finish_reasons, b.finish_reasons) << how;
  EXPECT_EQ(a.upstream_error, b.upstream_error) << how;
  EXPECT_EQ(a.error_type, b.error_type) << how;
  EXPECT_EQ(a.service_tier, b.service_tier) << how;
  EXPECT_EQ(a.other_models, b.other_models) << how;
  EXPECT_EQ(a.provider_cost, b.provider_cost) << how;
}

// Meters `body` whole, then split in two at every byte position, then one byte at a time;
// every split must relay the bytes unchanged and give the same result. Returns the result.
inline MeterResult meterAtEverySplit(const Dialect& dialect, const RequestInfo& info, int status,
                                     std::string_view content_type, std::string_view body,
                                     bool complete = true) {
  const Fed whole = feed(dialect, info, status, content_type, body, {}, complete);
  EXPECT_EQ(whole.out, body);
  for (size_t cut = 0; cut <= body.size(); ++cut) {
    const Fed split = feed(dialect, info, status, content_type, body, {cut}, complete);
    if (split.out != body) ADD_FAILURE() << "bytes changed when split at " << cut;
    expectSameResult(split.result, whole.result, "split at " + std::to_string(cut));
    if (::testing::Test::HasFailure()) break;
  }
  std::vector<size_t> every;
  for (size_t i = 1; i < body.size(); ++i) every.push_back(i);
  const Fed bytewise = feed(dialect, info, status, content_type, body, every, complete);
  EXPECT_EQ(bytewise.out, body);
  expectSameResult(bytewise.result, whole.result, "one byte at a time");
  return whole.result;
}

// meterAtEverySplit with the pre-filter (the raw-byte readers) on and off: both must agree.
inline MeterResult meterBothWays(const Dialect& dialect, const RequestInfo& info,
                                 std::string_view content_type, std::string_view body) {
  const MeterResult fast = meterAtEverySplit(dialect, info, 200, content_type, body);
  support::setPreFilterEnabled(false);
  const MeterResult slow = meterAtEverySplit(dialect, info, 200, content_type, body);
  support::setPreFilterEnabled(true);
  expectSameResult(fast, slow, "pre-filter on vs off");
  return fast;
}

inline Price perMillion(std::string_view input, std::string_view cache_read,
                        std::string_view cache_write, std::string_view output) {
  Price price;
  price.input = *parsePerMillionPrice(input);
  price.cache_read = *parsePerMillionPrice(cache_read);
  price.cache_write = price.cache_write_1h = *parsePerMillionPrice(cache_write);
  price.output = price.reasoning = *parsePerMillionPrice(output);
  return price;
}

inline std::string totalCost(const PriceEntry& entry, const Usage& usage) {
  return computeCost(entry, usage).total.toDecimalString();
}

}  // namespace tollgate::meter::testing
