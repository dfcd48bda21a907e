// Spend anomalies sent to the gateway's alerts.webhook once each: the bodies, and
// `tollgate-ledger alerts` against a webhook receiver on loopback.

#include "ledger/anomaly_alert.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <thread>

#include "ledger/sqlite_store.h"
#include "tests/integration/support/process.h"
#include "tests/ledger/ledger_process.h"
#include "tests/ledger/store_conformance.h"

namespace tollgate::ledger {
namespace {

using namespace std::chrono_literals;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

Anomaly sample() {
  Anomaly a;
  a.rule = "team-hourly";
  a.by = {Label::kTeam};
  a.scope = {"fraud"};
  a.window_start_hour = parsePeriod("2026-11")->start_hour + 10;
  a.spend = *Amount::parseUsd("5.00");
  a.baseline_mean_usd = "1.00";
  a.baseline_samples = 10;
  a.ratio = "5";
  return a;
}

TEST(AnomalyAlert, CloudEventsBodyHasTheEnvelopeAndAStableId) {
  const std::string body =
      anomalyAlertBody(sample(), {"http://x", "cloudevents"}, "2026-11-01T11:00:05.000000Z");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS) << body;
  EXPECT_EQ(std::string_view(doc["specversion"]), "1.0");
  EXPECT_EQ(std::string_view(doc["type"]), "dev.tollgate.spend.anomaly.v1");
  EXPECT_EQ(std::string_view(doc["id"]), "anomaly/team-hourly/team=fraud/2026-11-01T10:00:00Z/1h");
  EXPECT_EQ(std::string_view(doc["data"]["scope"]["team"]), "fraud");
  EXPECT_EQ(std::string_view(doc["data"]["spend_usd"]), "5");
  EXPECT_EQ(anomalyAlertContentType({"", "cloudevents"}),
            "application/cloudevents+json; charset=UTF-8");
}

TEST(AnomalyAlert, SlackBodyIsOneTextMessage) {
  const std::string body = anomalyAlertBody(sample(), {"http://x", "slack"}, "t");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(body).get(doc), simdjson::SUCCESS) << body;
  const std::string_view text = doc["text"];
  EXPECT_NE(text.find("team=fraud spent $5"), std::string_view::npos) << text;
  EXPECT_NE(text.find("5 x its mean of $1.00"), std::string_view::npos) << text;
}

// Answers `statuses.size()` POSTs on loopback, one status each, and keeps their bodies.
class HookReceiver {
 public:
  explicit HookReceiver(std::vector<unsigned> statuses)
      : acceptor_(ioc_, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0)),
        thread_([this, statuses] {
          for (const unsigned status : statuses) {
            tcp::socket socket(ioc_);
            beast::error_code ec;
            acceptor_.accept(socket, ec);
            if (ec) return;
            beast::flat_buffer buffer;
            http::request<http::string_body> req;
            http::read(socket, buffer, req, ec);
            bodies_.push_back(req.body());
            http::response<http::string_body> res{static_cast<http::status>(status), 11};
            res.prepare_payload();
            http::write(socket, res, ec);
          }
        }) {}
  ~HookReceiver() {
    if (thread_.joinable()) thread_.join();
  }
  std::string url() const {
    return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + "/hook";
  }
  const std::vector<std::string>& join() {
    thread_.join();
    return bodies_;
  }

 private:
  boost::asio::io_context ioc_;
  tcp::acceptor acceptor_;
  std::vector<std::string> bodies_;
  std::thread thread_;
};

// A store where team fraud spends one call an hour for ten hours, then ten calls in an hour.
void bookSpike(const std::string& db) {
  std::string error;
  auto store = SqliteStore::open(db, error);
  ASSERT_TRUE(store) << error;
  std::vector<CostRecord> records;
  for (int h = 0; h < 10; ++h) {
    testing::EventSpec spec;
    spec.id = "base-" + std::to_string(h);
    spec.end_ns = testing::kNov2At10Ns + h * testing::kHourNs;
    records.push_back(testing::parsedRecord(spec));
  }
  for (int i = 0; i < 10; ++i) {
    testing::EventSpec spec;
    spec.id = "spike-" + std::to_string(i);
    spec.end_ns = testing::kNov2At10Ns + 10 * testing::kHourNs;
    records.push_back(testing::parsedRecord(spec));
  }
  ASSERT_TRUE(store->commitBatch({}, records, {}, error)) << error;
}

std::string run(const std::string& config) {
  tollgate::testing::Process p("tollgate-ledger", {testing::ledgerBin(), "alerts", "--config",
                                                   config, "--period", "2026-11"});
  std::string out;
  while (auto line = p.readLine(30s)) out += *line;
  out += " status=" + std::to_string(p.wait(10s).value_or(-1));
  return out;
}

TEST(AnomalyAlert, EachAnomalyIsSentOnceAndAFailedSendIsRetried) {
  tollgate::testing::TempDir dir;
  bookSpike(dir.file("ledger.db"));
  const std::string ledger_yaml =
      "source: { file: x }\nstore: { sqlite: \"" + dir.file("ledger.db") +
      "\" }\ngateway_config: \"" + dir.file("gateway.yaml") +
      "\"\nanomalies:\n  - { name: team-hourly, by: [team], window: hour, baseline: 24, "
      "min_samples: 2, min_usd: \"0.01\", factor: \"3\" }\n";
  dir.write("ledger.yaml", ledger_yaml);
  {
    HookReceiver hook({500});  // the webhook fails once: nothing is recorded
    dir.write("gateway.yaml",
              "alerts:\n  webhook: { url: \"" + hook.url() + "\", format: cloudevents }\n");
    EXPECT_EQ(run(dir.file("ledger.yaml")), "alerts sent=0 already_sent=0 failed=1 status=4");
  }
  HookReceiver hook({200});
  dir.write("gateway.yaml",
            "alerts:\n  webhook: { url: \"" + hook.url() + "\", format: cloudevents }\n");
  EXPECT_EQ(run(dir.file("ledger.yaml")), "alerts sent=1 already_sent=0 failed=0 status=0");
  const auto& bodies = hook.join();
  ASSERT_EQ(bodies.size(), 1u);
  EXPECT_NE(bodies[0].find("\"ratio\":\"10\""), std::string::npos) << bodies[0];
  // Sent: a further run finds it already sent and posts nothing (no receiver is listening).
  EXPECT_EQ(run(dir.file("ledger.yaml")), "alerts sent=0 already_sent=1 failed=0 status=0");
}

}  // namespace
}  // namespace tollgate::ledger
