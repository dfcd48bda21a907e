#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace tollgate::loadtest {

// Usage in Tollgate's canonical form: input counts cache reads and writes, output counts
// reasoning. What a correct meter must book for the call.
struct CanonicalUsage {
  int64_t input_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t output_tokens = 0;
  int64_t reasoning_tokens = 0;
};

// One request as the mock saw it, and what it answered.
struct CallRecord {
  uint64_t seq = 0;
  std::string method;
  std::string target;
  std::vector<std::pair<std::string, std::string>> headers;  // lowercase names, request order
  std::string body;
  std::string dialect;    // openai | anthropic | gemini | ollama | bedrock | "" (unknown path)
  std::string operation;  // chat | text_completion | embeddings | responses | ...
  std::string model;
  std::string response_model;
  bool stream = false;
  bool include_usage = false;
  int status = 0;
  std::string encoding = "identity";  // the answer's Content-Encoding
  CanonicalUsage usage;
  bool usage_sent = false;
  bool completed = false;
  // A stream's content events written so far, and the output tokens their text holds (4 bytes
  // of text a token): what the client could have received of a stream cut or still running.
  int64_t content_events_sent = 0;
  int64_t output_tokens_sent = 0;
};

// Bounded record of the last calls. Sequence numbers grow for the life of the process, also
// across clear(), so a late update can never land on a newer call.
class CallLog {
 public:
  explicit CallLog(size_t capacity) : capacity_(capacity) {}

  // Stores `record` and returns its sequence number (from 1).
  uint64_t add(CallRecord record);

  // Updates how the call ended; a no-op once the record has left the ring.
  void finish(uint64_t seq, int status, bool usage_sent, bool completed);

  // A stream's progress: content events written so far and the output tokens they hold.
  void sent(uint64_t seq, int64_t content_events, int64_t output_tokens);

  // {"calls":[...]} oldest first.
  std::string toJson() const;

  void clear();

 private:
  const size_t capacity_;
  mutable std::mutex mutex_;
  std::deque<CallRecord> calls_;  // contiguous seqs, oldest first
  uint64_t next_seq_ = 1;
};

}  // namespace tollgate::loadtest
