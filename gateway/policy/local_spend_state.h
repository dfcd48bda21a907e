#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "gateway/policy/alert_dispatcher.h"
#include "gateway/policy/spend_book.h"
#include "gateway/policy/spend_state.h"

namespace tollgate::gateway {

// One replica's spend state (spend_state.backend: local). Decisions are exact: the book's caps
// are the limits themselves. Spend and fired thresholds survive a restart through a small file
// (spend_state.file), rewritten (write, fsync, rename) once a second when something changed and
// at shutdown: a crash loses at most the last second of settled spend. Holds are not persisted
// (the calls they covered died with the process).
class LocalSpendState final : public SpendState {
 public:
  // `alerts` may be null (no channel configured): crossings are then only counted.
  LocalSpendState(std::shared_ptr<const config::Config> config, SpendClock clock,
                  AlertDispatcher* alerts);
  ~LocalSpendState() override;

  SpendAdmission admit(const SpendCall& call) override;
  StreamVerdict extend(uint64_t hold, int64_t output_tokens) override;
  void settle(uint64_t hold, const meter::Usage& usage, meter::Money cost) override;
  void release(uint64_t hold) override;
  void reload(std::shared_ptr<const config::Config> config) override;
  std::vector<SpendBook::BudgetView> budgets() const override;

  // Writes the file now (also done by the background thread); false with `error` on failure.
  bool persist(std::string& error);

  // The file's text for these snapshots, and back (nullopt when malformed).
  static std::string formatFile(const std::vector<BudgetSnapshot>& snapshots);
  static std::optional<std::vector<BudgetSnapshot>> parseFile(std::string_view text);

 private:
  void run();
  void alert(const std::vector<ThresholdCrossing>& crossings, int64_t now_ms);

  SpendClock clock_;
  AlertDispatcher* alerts_;
  mutable std::mutex mutex_;
  std::shared_ptr<const config::Config> config_;
  std::unique_ptr<SpendBook> book_;
  bool dirty_ = false;
  std::string path_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace tollgate::gateway
