#include "gateway/events/open_call_recovery.h"

#include <fcntl.h>
#include <unistd.h>

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
                                        const meter::PriceBook& prices, bool durable_on_accept,
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
    if (sink.tryEmit(interruptedEvent(call, prices))) {
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

}  // namespace tollgate::gateway
