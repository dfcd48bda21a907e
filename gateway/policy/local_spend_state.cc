#include "gateway/policy/local_spend_state.h"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>

namespace tollgate::gateway {

namespace {

constexpr std::string_view kFileHeader = "tollgate-spend-state 1\n";

}  // namespace

SpendClock systemSpendClock() {
  return [] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
}

std::string LocalSpendState::formatFile(const std::vector<BudgetSnapshot>& snapshots) {
  std::string out(kFileHeader);
  for (const BudgetSnapshot& s : snapshots) {
    out += s.name + '\t' + std::to_string(s.period_start) + '\t' + std::to_string(s.settled_pico) +
           '\t' + std::to_string(s.fired_mask) + '\n';
  }
  return out;
}

std::optional<std::vector<BudgetSnapshot>> LocalSpendState::parseFile(std::string_view text) {
  if (text.substr(0, kFileHeader.size()) != kFileHeader) return std::nullopt;
  text.remove_prefix(kFileHeader.size());
  std::vector<BudgetSnapshot> out;
  while (!text.empty()) {
    const size_t end = text.find('\n');
    if (end == std::string_view::npos) return std::nullopt;  // a torn last line
    std::istringstream line{std::string(text.substr(0, end))};
    BudgetSnapshot s;
    if (!std::getline(line, s.name, '\t') ||
        !(line >> s.period_start >> s.settled_pico >> s.fired_mask)) {
      return std::nullopt;
    }
    out.push_back(std::move(s));
    text.remove_prefix(end + 1);
  }
  return out;
}

LocalSpendState::LocalSpendState(std::shared_ptr<const config::Config> config, SpendClock clock,
                                 AlertDispatcher* alerts)
    : clock_(std::move(clock)),
      alerts_(alerts),
      config_(std::move(config)),
      book_(std::make_unique<SpendBook>(*config_, false)),
      path_(config_->spend_state.file) {
  std::ifstream in(path_, std::ios::binary);
  if (in) {
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    // A malformed file (never written by this code but by hand) starts the period from zero
    // rather than stopping the gateway; the write below replaces it.
    if (auto snapshots = parseFile(text)) book_->restore(*snapshots, clock_());
  }
  thread_ = std::thread([this] { run(); });
}

LocalSpendState::~LocalSpendState() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  std::string error;
  persist(error);
}

SpendAdmission LocalSpendState::admit(const SpendCall& call) {
  std::lock_guard lock(mutex_);
  return book_->admit(call, clock_());
}

StreamVerdict LocalSpendState::extend(uint64_t hold, int64_t output_tokens) {
  std::lock_guard lock(mutex_);
  return book_->extend(hold, output_tokens, clock_());
}

void LocalSpendState::settle(uint64_t hold, const meter::Usage& usage, meter::Money cost) {
  std::vector<ThresholdCrossing> crossings;
  const int64_t now = clock_();
  {
    std::lock_guard lock(mutex_);
    crossings = book_->settle(hold, usage, cost, now);
    dirty_ = true;
  }
  alert(crossings, now);
}

void LocalSpendState::release(uint64_t hold) {
  std::lock_guard lock(mutex_);
  book_->release(hold);
}

void LocalSpendState::reload(std::shared_ptr<const config::Config> config) {
  auto book = std::make_unique<SpendBook>(*config, false);
  std::lock_guard lock(mutex_);
  book->adopt(std::move(*book_), clock_());
  book_ = std::move(book);
  config_ = std::move(config);  // after: the old book pointed into the old config
  dirty_ = true;
}

std::vector<SpendBook::BudgetView> LocalSpendState::budgets() const {
  std::lock_guard lock(mutex_);
  return book_->budgets();
}

void LocalSpendState::alert(const std::vector<ThresholdCrossing>& crossings, int64_t now_ms) {
  if (crossings.empty() || alerts_ == nullptr) return;
  std::shared_ptr<const config::Config> config;
  {
    std::lock_guard lock(mutex_);
    config = config_;
  }
  for (const ThresholdCrossing& c : crossings) {
    if (c.budget >= config->budgets.size()) continue;
    const config::BudgetConfig& budget = config->budgets[c.budget];
    alerts_->send({budget.name, budget.scope, budget.period, c.period, c.percent, c.spend, c.limit,
                   c.forecast, now_ms});
  }
}

bool LocalSpendState::persist(std::string& error) {
  std::string text;
  {
    std::lock_guard lock(mutex_);
    text = formatFile(book_->snapshot());
    dirty_ = false;
  }
  const std::filesystem::path path(path_);
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  const std::string tmp = path_ + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "open " + tmp + ": " + std::strerror(errno);
    return false;
  }
  const bool written = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  const bool synced = written && ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(tmp.c_str(), path_.c_str()) != 0) {
    error = "write " + path_ + ": " + std::strerror(errno);
    std::lock_guard lock(mutex_);
    dirty_ = true;
    return false;
  }
  return true;
}

void LocalSpendState::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::seconds(1));
    if (stopping_) return;
    book_->expireHolds(clock_());
    if (!dirty_) continue;
    lock.unlock();
    std::string error;
    if (!persist(error)) spdlog::warn("spend state: {} (retried in a second)", error);
    lock.lock();
  }
}

}  // namespace tollgate::gateway
