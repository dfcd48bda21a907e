#include "gateway/events/open_call_recovery.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "gateway/events/interrupted_calls.h"
#include "gateway/events/open_call_entry.h"
#include "gateway/events/open_call_journal.h"

namespace tollgate::gateway {
namespace {

bool readFile(const std::string& path, std::string& out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

bool drained(const EventSink& sink, std::chrono::milliseconds wait) {
  const auto give_up = std::chrono::steady_clock::now() + wait;
  for (;;) {
    if (sink.stats().queue_depth == 0) return true;
    if (std::chrono::steady_clock::now() >= give_up) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace

OpenCallRecoveryResult recoverOpenCalls(const std::string& dir, EventSink& sink,
                                        const meter::Coster& coster, bool durable_on_accept,
                                        std::chrono::milliseconds wait) {
  OpenCallRecoveryResult result;
  std::error_code ec;
  std::vector<std::string> files;
  for (const auto& item : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = item.path().filename().string();
    if (OpenCallJournal::isJournalFile(name)) files.push_back(item.path().string());
  }
  // Oldest generation first: the order calls were opened in, as far as it matters.
  std::sort(files.begin(), files.end());
  result.files = files.size();
  if (files.empty()) return result;

  std::vector<OpenCallEntry> entries;
  std::string bytes;
  for (const auto& path : files) {
    if (!readFile(path, bytes)) continue;
    auto scan = readOpenCallRecords(bytes);
    result.torn += scan.torn;
    result.corrupt += scan.corrupt;
    std::move(scan.entries.begin(), scan.entries.end(), std::back_inserter(entries));
  }
  for (const auto& call : unclosedCalls(entries)) {
    if (sink.tryEmit(interruptedEvent(call, coster))) {
      ++result.recovered;
    } else {
      ++result.refused;
    }
  }
  if (result.refused > 0) return result;
  if (!durable_on_accept && !drained(sink, wait)) return result;
  for (const auto& path : files) std::filesystem::remove(path, ec);
  // A compaction interrupted by the crash leaves its temporary file: nothing in it is needed.
  for (const auto& item : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = item.path().filename().string();
    if (name.ends_with(".jnl.tmp")) std::filesystem::remove(item.path(), ec);
  }
  result.files_removed = true;
  return result;
}

std::string openCallsDir(const config::EventsConfig& events) {
  if (!events.open_calls.dir.empty()) return events.open_calls.dir;
  if (events.sink == "kafka") return events.spool.dir + "/open-calls";
  const auto parent = std::filesystem::path(events.file.path).parent_path();
  return (parent.empty() ? std::filesystem::path("open-calls") : parent / "open-calls").string();
}

void recoverOpenCallsAtStart(const config::EventsConfig& events, EventSink& sink,
                             const meter::Coster& coster) {
  if (!events.open_calls.enabled || events.sink == "none") return;
  const bool durable_on_accept = events.sink == "kafka" && events.durability == "spool";
  const std::string dir = openCallsDir(events);
  // The file sink writes within milliseconds; Kafka without a spool needs its acknowledgements.
  const auto wait =
      std::max<std::chrono::milliseconds>(events.kafka.flush_timeout, std::chrono::seconds(5));
  const auto r = recoverOpenCalls(dir, sink, coster, durable_on_accept, wait);
  if (r.files == 0) return;
  auto log = spdlog::get("events");
  const auto level = r.recovered > 0 || r.refused > 0 ? spdlog::level::warn : spdlog::level::info;
  log->log(level,
           "open calls {}: {} call(s) a stopped gateway left open booked as interrupted "
           "(estimated) from {} journal file(s); refused={} torn={} corrupt={} files_removed={}",
           dir, r.recovered, r.files, r.refused, r.torn, r.corrupt, r.files_removed);
}

}  // namespace tollgate::gateway
