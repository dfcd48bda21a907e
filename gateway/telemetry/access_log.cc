#include "gateway/telemetry/access_log.h"

#include <fmt/format.h>
#include <spdlog/async.h>
#include <spdlog/async_logger.h>
#include <spdlog/sinks/basic_file_sink.h>
#include <spdlog/sinks/stdout_sinks.h>

#include <stdexcept>

#include "meter/json_escape.h"

namespace tollgate::gateway {

namespace {

// The fields of a line, in order; string values are escaped by the format.
struct Field {
  const char* key;
  std::string text;
  bool quoted;
};

std::vector<Field> fieldsOf(const CallRecord& call, const meter::CostEvent& event) {
  std::string time;
  meter::appendRfc3339(event.end_unix_ns, time);
  const double duration_ms = static_cast<double>(event.end_unix_ns - event.start_unix_ns) / 1e6;
  const auto& a = event.attribution;
  return {
      {"time", std::move(time), true},
      {"request_id", event.request_id, true},
      {"trace_id", event.trace_id, true},
      {"method", "POST", true},
      {"path", event.endpoint, true},
      {"status", std::to_string(call.status), false},
      {"outcome", std::string(meter::toString(event.outcome)), true},
      {"team", a.team, true},
      {"project", a.project, true},
      {"model", event.model, true},
      {"upstream", event.upstream, true},
      {"stream", event.stream ? "true" : "false", false},
      {"input_tokens", std::to_string(event.usage.input_tokens), false},
      {"output_tokens", std::to_string(event.usage.output_tokens), false},
      {"cost_usd", event.cost.total.toDecimalString(), true},
      {"duration_ms", fmt::format("{:.3f}", duration_ms), false},
      {"ttft_ms", fmt::format("{:.3f}", event.ttft_ms), false},
      {"overhead_us", std::to_string(event.overhead_us), false},
      {"error_type", call.error_type, true},
  };
}

}  // namespace

void AccessLog::formatJson(const CallRecord& call, const meter::CostEvent& event,
                           std::string& out) {
  out += '{';
  bool first = true;
  for (const auto& f : fieldsOf(call, event)) {
    if (!first) out += ',';
    first = false;
    out += '"';
    out += f.key;
    out += "\":";
    if (f.quoted) {
      meter::appendJsonString(f.text, out);
    } else {
      out += f.text;
    }
  }
  out += '}';
}

void AccessLog::formatKeyValue(const CallRecord& call, const meter::CostEvent& event,
                               std::string& out) {
  bool first = true;
  for (const auto& f : fieldsOf(call, event)) {
    if (!first) out += ' ';
    first = false;
    out += f.key;
    out += '=';
    const bool needs_quotes =
        f.text.empty() || f.text.find_first_of(" \"=\\\t\r\n") != std::string::npos;
    if (needs_quotes) {
      // The JSON string escaping doubles as logfmt's quoting (\" \\ \n).
      meter::appendJsonString(f.text, out);
    } else {
      out += f.text;
    }
  }
}

AccessLog::AccessLog(const config::AccessLogConfig& config) : json_(config.format == "json") {
  spdlog::sink_ptr sink;
  if (config.path == "-") {
    sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
  } else {
    try {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(config.path);
    } catch (const spdlog::spdlog_ex& e) {
      throw std::runtime_error("access_log.path: cannot open " + config.path + ": " + e.what());
    }
  }
  pool_ = std::make_shared<spdlog::details::thread_pool>(kQueueLines, 1);
  logger_ = std::make_shared<spdlog::async_logger>("access", std::move(sink), pool_,
                                                   spdlog::async_overflow_policy::overrun_oldest);
  logger_->set_pattern("%v");
  logger_->set_level(spdlog::level::info);
  logger_->flush_on(spdlog::level::info);
}

AccessLog::~AccessLog() {
  flush();
  logger_.reset();
  pool_.reset();  // joins spdlog's thread after it wrote what is queued
}

void AccessLog::onCallFinished(const CallRecord& call, const meter::CostEvent& event) {
  std::string line;
  line.reserve(512);
  if (json_) {
    formatJson(call, event, line);
  } else {
    formatKeyValue(call, event, line);
  }
  logger_->info(line);
}

void AccessLog::flush() { logger_->flush(); }

uint64_t AccessLog::dropped() const { return pool_->overrun_counter(); }

}  // namespace tollgate::gateway
