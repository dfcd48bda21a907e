#include "gateway/telemetry/access_log.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "tests/gateway/telemetry/call_fixture.h"

namespace tollgate::gateway {
namespace {

TEST(AccessLog, JsonLineHasEveryField) {
  testing::CallFixture f;
  std::string line;
  AccessLog::formatJson(f.call, f.event, line);
  EXPECT_EQ(line, R"({"time":"2027-01-15T08:00:00.314000Z","request_id":"req-1",)"
                  R"("trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","method":"POST",)"
                  R"("path":"/v1/chat/completions","status":200,"outcome":"ok",)"
                  R"("team":"fraud-platform","project":"fraud-detector-v2",)"
                  R"("model":"gpt-4o-mini-2024-07-18","upstream":"openai-main","stream":true,)"
                  R"("input_tokens":1000,"output_tokens":50,"cost_usd":"0.000165",)"
                  R"("duration_ms":314.000,"ttft_ms":52.000,"overhead_us":12000,"error_type":""})");
}

TEST(AccessLog, KeyValueLineQuotesOnlyWhatNeedsIt) {
  testing::CallFixture f;
  f.call.error_type = "bad \"thing\"";
  std::string line;
  AccessLog::formatKeyValue(f.call, f.event, line);
  EXPECT_EQ(line,
            "time=2027-01-15T08:00:00.314000Z request_id=req-1 "
            "trace_id=4bf92f3577b34da6a3ce929d0e0e4736 method=POST path=/v1/chat/completions "
            "status=200 outcome=ok team=fraud-platform project=fraud-detector-v2 "
            "model=gpt-4o-mini-2024-07-18 upstream=openai-main stream=true input_tokens=1000 "
            "output_tokens=50 cost_usd=0.000165 duration_ms=314.000 ttft_ms=52.000 "
            "overhead_us=12000 error_type=\"bad \\\"thing\\\"\"");
}

TEST(AccessLog, LinesReachTheFileFromTheLoggerThread) {
  const auto dir =
      std::filesystem::temp_directory_path() / ("tollgate-access-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto path = (dir / "access.log").string();
  {
    config::AccessLogConfig cfg;
    cfg.enabled = true;
    cfg.format = "kv";
    cfg.path = path;
    AccessLog log(cfg);
    testing::CallFixture f;
    log.onCallFinished(f.call, f.event);
    f.call.request_id = "req-2";
    f.event.request_id = "req-2";
    log.onCallFinished(f.call, f.event);
    EXPECT_EQ(log.dropped(), 0u);
  }  // destruction drains the queue
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::filesystem::remove_all(dir);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(" request_id=req-1 "), std::string::npos);
  EXPECT_NE(lines[1].find(" request_id=req-2 "), std::string::npos);
}

TEST(AccessLog, UnwritablePathIsNamed) {
  config::AccessLogConfig cfg;
  cfg.path = "/proc/no/such/dir/access.log";
  try {
    AccessLog log(cfg);
    FAIL() << "expected an error";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(
        std::string(e.what()).rfind("access_log.path: cannot open /proc/no/such/dir/access.log", 0),
        0u)
        << e.what();
  }
}

}  // namespace
}  // namespace tollgate::gateway
