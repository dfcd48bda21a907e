#include "loadtest/mock/call_log.h"

#include "loadtest/mock/json_writer.h"

namespace tollgate::loadtest {
namespace {

void appendBool(std::string& out, bool value) { out += value ? "true" : "false"; }

void appendRecord(std::string& out, const CallRecord& r) {
  out += "{\"seq\":";
  appendInt(out, static_cast<int64_t>(r.seq));
  out += ",\"method\":";
  appendJsonString(out, r.method);
  out += ",\"target\":";
  appendJsonString(out, r.target);
  out += ",\"headers\":{";
  for (size_t i = 0; i < r.headers.size(); ++i) {
    if (i > 0) out += ',';
    appendJsonString(out, r.headers[i].first);
    out += ':';
    appendJsonString(out, r.headers[i].second);
  }
  out += "},\"body\":";
  appendJsonString(out, r.body);
  out += ",\"dialect\":";
  appendJsonString(out, r.dialect);
  out += ",\"operation\":";
  appendJsonString(out, r.operation);
  out += ",\"model\":";
  appendJsonString(out, r.model);
  out += ",\"response_model\":";
  appendJsonString(out, r.response_model);
  out += ",\"stream\":";
  appendBool(out, r.stream);
  out += ",\"include_usage\":";
  appendBool(out, r.include_usage);
  out += ",\"status\":";
  appendInt(out, r.status);
  out += ",\"encoding\":";
  appendJsonString(out, r.encoding);
  out += ",\"usage\":{\"input_tokens\":";
  appendInt(out, r.usage.input_tokens);
  out += ",\"cache_read_tokens\":";
  appendInt(out, r.usage.cache_read_tokens);
  out += ",\"cache_write_tokens\":";
  appendInt(out, r.usage.cache_write_tokens);
  out += ",\"output_tokens\":";
  appendInt(out, r.usage.output_tokens);
  out += ",\"reasoning_tokens\":";
  appendInt(out, r.usage.reasoning_tokens);
  out += "},\"usage_sent\":";
  appendBool(out, r.usage_sent);
  out += ",\"completed\":";
  appendBool(out, r.completed);
  out += ",\"content_events_sent\":";
  appendInt(out, r.content_events_sent);
  out += ",\"output_tokens_sent\":";
  appendInt(out, r.output_tokens_sent);
  out += '}';
}

}  // namespace

uint64_t CallLog::add(CallRecord record) {
  CallRecord evicted;  // freed after the lock is released: the hot path holds it briefly
  std::unique_lock lock(mutex_);
  record.seq = next_seq_++;
  const uint64_t seq = record.seq;
  calls_.push_back(std::move(record));
  if (calls_.size() > capacity_) {
    evicted = std::move(calls_.front());
    calls_.pop_front();
  }
  lock.unlock();
  return seq;
}

void CallLog::finish(uint64_t seq, int status, bool usage_sent, bool completed) {
  std::lock_guard lock(mutex_);
  if (calls_.empty() || seq < calls_.front().seq) return;
  const uint64_t index = seq - calls_.front().seq;
  if (index >= calls_.size()) return;
  CallRecord& record = calls_[index];
  record.status = status;
  record.usage_sent = usage_sent;
  record.completed = completed;
}

void CallLog::sent(uint64_t seq, int64_t content_events, int64_t output_tokens) {
  std::lock_guard lock(mutex_);
  if (calls_.empty() || seq < calls_.front().seq) return;
  const uint64_t index = seq - calls_.front().seq;
  if (index >= calls_.size()) return;
  calls_[index].content_events_sent = content_events;
  calls_[index].output_tokens_sent = output_tokens;
}

std::string CallLog::toJson() const {
  std::lock_guard lock(mutex_);
  std::string out = "{\"calls\":[";
  bool first = true;
  for (const CallRecord& record : calls_) {
    if (!first) out += ',';
    first = false;
    appendRecord(out, record);
  }
  out += "]}";
  return out;
}

void CallLog::clear() {
  std::lock_guard lock(mutex_);
  calls_.clear();
}

}  // namespace tollgate::loadtest
