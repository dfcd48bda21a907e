#pragma once

#include <pthread.h>

#include <string>

namespace tollgate::gateway {

// Names the calling thread (at most 15 characters are kept), so that top -H, perf and gdb show
// which of the gateway's threads is which: tg-worker-N, tg-kafka-sink, tg-kafka-poll,
// tg-file-sink, tg-otlp, tg-admin (librdkafka names its own rdk:*).
inline void nameThisThread(const std::string& name) {
  pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace tollgate::gateway
