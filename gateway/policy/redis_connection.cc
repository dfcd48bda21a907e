#include "gateway/policy/redis_connection.h"

#include <hiredis/hiredis.h>
#include <sys/time.h>

namespace tollgate::gateway {

namespace {

timeval toTimeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

RedisReply convert(const redisReply* reply) {
  RedisReply out;
  switch (reply->type) {
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::kInteger;
      out.integer = reply->integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::kString;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::kError;
      out.text.assign(reply->str, reply->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::kArray;
      for (size_t i = 0; i < reply->elements; ++i)
        out.elements.push_back(convert(reply->element[i]));
      break;
    default:
      break;
  }
  return out;
}

}  // namespace

RedisConnection::RedisConnection(std::string host, uint16_t port, unsigned db,
                                 std::chrono::milliseconds timeout)
    : host_(std::move(host)), port_(port), db_(db), timeout_(timeout) {}

RedisConnection::~RedisConnection() {
  if (context_ != nullptr) redisFree(context_);
}

void RedisConnection::drop(std::string why) {
  error_ = std::move(why);
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
}

bool RedisConnection::ensureConnected() {
  if (context_ != nullptr) return true;
  redisContext* context = redisConnectWithTimeout(host_.c_str(), port_, toTimeval(timeout_));
  if (context == nullptr) {
    error_ = "redis: cannot allocate a connection";
    return false;
  }
  context_ = context;
  if (context->err != 0) {
    drop("redis " + host_ + ":" + std::to_string(port_) + ": " + context->errstr);
    return false;
  }
  if (redisSetTimeout(context_, toTimeval(timeout_)) != REDIS_OK) {
    drop("redis: cannot set the command timeout");
    return false;
  }
  if (db_ != 0) {
    const auto reply = pipeline({{"SELECT", std::to_string(db_)}});
    if (!reply) return false;
    if ((*reply)[0].type == RedisReply::Type::kError) {
      drop("redis SELECT " + std::to_string(db_) + ": " + (*reply)[0].text);
      return false;
    }
  }
  return true;
}

std::optional<std::vector<RedisReply>> RedisConnection::pipeline(
    const std::vector<std::vector<std::string>>& commands) {
  if (!ensureConnected()) return std::nullopt;
  std::vector<const char*> argv;
  std::vector<size_t> lengths;
  for (const auto& command : commands) {
    argv.clear();
    lengths.clear();
    for (const auto& arg : command) {
      argv.push_back(arg.data());
      lengths.push_back(arg.size());
    }
    if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(),
                               lengths.data()) != REDIS_OK) {
      drop(std::string("redis: ") + context_->errstr);
      return std::nullopt;
    }
  }
  std::vector<RedisReply> replies;
  replies.reserve(commands.size());
  for (size_t i = 0; i < commands.size(); ++i) {
    void* raw = nullptr;
    if (redisGetReply(context_, &raw) != REDIS_OK || raw == nullptr) {
      drop(std::string("redis: ") + (context_->errstr[0] != 0 ? context_->errstr : "no reply"));
      return std::nullopt;
    }
    replies.push_back(convert(static_cast<redisReply*>(raw)));
    freeReplyObject(raw);
  }
  return replies;
}

}  // namespace tollgate::gateway
