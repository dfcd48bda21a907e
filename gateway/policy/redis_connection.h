#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

struct redisContext;

namespace tollgate::gateway {

// A reply from Redis, flattened to what the spend scripts answer: an integer, a string, an
// error, nil, or an array of those (one level).
struct RedisReply {
  enum class Type { kInteger, kString, kError, kNil, kArray };
  Type type = Type::kNil;
  int64_t integer = 0;
  std::string text;                  // kString, kError
  std::vector<RedisReply> elements;  // kArray
};

// One blocking hiredis connection with a bounded timeout on connect and on every command.
// Not thread-safe: RedisSpendState's client thread owns it.
class RedisConnection {
 public:
  RedisConnection(std::string host, uint16_t port, unsigned db, std::chrono::milliseconds timeout);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  bool connected() const { return context_ != nullptr; }
  // Connects (and SELECTs the db) when not connected; false with error() on failure.
  bool ensureConnected();

  // Sends every command, then reads every reply: one round trip. nullopt on a connection
  // failure or timeout (the connection is then dropped; the next call reconnects).
  std::optional<std::vector<RedisReply>> pipeline(
      const std::vector<std::vector<std::string>>& commands);

  const std::string& error() const { return error_; }

 private:
  void drop(std::string why);

  std::string host_;
  uint16_t port_;
  unsigned db_;
  std::chrono::milliseconds timeout_;
  redisContext* context_ = nullptr;
  std::string error_;
};

}  // namespace tollgate::gateway
