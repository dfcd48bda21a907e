#include "gateway/core/prometheus_writer.h"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace tollgate::gateway {
namespace {

TEST(BoundedLabelValue, CutsAtACharacterBoundaryAndMarksTheCut) {
  std::string scratch;
  EXPECT_EQ(boundedLabelValue("short", scratch), "short");
  const std::string exact(kMaxLabelValueBytes, 'a');
  EXPECT_EQ(boundedLabelValue(exact, scratch), exact);
  // A 3-byte character straddling the cut is dropped whole.
  const size_t keep = kMaxLabelValueBytes - kTruncatedMark.size();
  const std::string straddling = std::string(keep - 1, 'a') + "\xE2\x82\xAC" + std::string(64, 't');
  const std::string_view cut = boundedLabelValue(straddling, scratch);
  EXPECT_EQ(cut, std::string(keep - 1, 'a') + std::string(kTruncatedMark));
  EXPECT_LE(cut.size(), kMaxLabelValueBytes);
  // Idempotent: a cut value is not cut again.
  const std::string once(cut);
  std::string again;
  EXPECT_EQ(boundedLabelValue(once, again), once);
}

TEST(PrometheusWriter, LabelValuesAreEscapedAndBounded) {
  std::string out;
  PrometheusWriter writer(out);
  writer.sample("m", {{"v", "a\\b\"c\nd"}}, uint64_t{3});
  EXPECT_EQ(out, "m{v=\"a\\\\b\\\"c\\nd\"} 3\n");
  out.clear();
  const std::string huge(1000, 'x');
  writer.sample("m", {{"v", huge}}, uint64_t{1});
  EXPECT_EQ(out.find(std::string(kMaxLabelValueBytes, 'x')), std::string::npos);
  EXPECT_NE(out.find(std::string(kTruncatedMark)), std::string::npos);
}

TEST(PrometheusWriter, FamilyThenSamples) {
  std::string out;
  PrometheusWriter writer(out);
  writer.counter("a_total", "Things.", uint64_t{12});
  writer.gauge("b", "Level.", int64_t{-3});
  writer.family("c_total", "counter", "By kind.");
  writer.sample("c_total", {{"kind", "x"}, {"zone", "y"}}, uint64_t{1});
  writer.sampleDecimal("d_usd", {}, "0.000165");
  EXPECT_EQ(out,
            "# HELP a_total Things.\n# TYPE a_total counter\na_total 12\n"
            "# HELP b Level.\n# TYPE b gauge\nb -3\n"
            "# HELP c_total By kind.\n# TYPE c_total counter\nc_total{kind=\"x\",zone=\"y\"} 1\n"
            "d_usd 0.000165\n");
}

TEST(PrometheusWriter, HistogramBucketsAreCumulativeWithInf) {
  std::string out;
  PrometheusWriter writer(out);
  const std::array<double, 2> bounds = {0.5, 1};
  const std::array<uint64_t, 3> buckets = {2, 0, 5};
  writer.histogram("h", {{{"op", "chat"}}}, bounds, buckets, 9.25, 7);
  EXPECT_EQ(out,
            "h_bucket{op=\"chat\",le=\"0.5\"} 2\n"
            "h_bucket{op=\"chat\",le=\"1\"} 2\n"
            "h_bucket{op=\"chat\",le=\"+Inf\"} 7\n"
            "h_sum{op=\"chat\"} 9.25\n"
            "h_count{op=\"chat\"} 7\n");
}

}  // namespace
}  // namespace tollgate::gateway
