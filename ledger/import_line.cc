#include "ledger/import_line.h"

#include <array>
#include <map>

#include "config/config.h"
#include "ledger/calendar.h"

namespace tollgate::ledger {
namespace {

constexpr std::string_view kCategories[] = {"training", "egress", "invoice", "commitment", "other"};

// Splits CSV text into records of fields. Returns false with `error` on an unterminated quote.
bool splitCsv(std::string_view text, std::vector<std::pair<size_t, std::vector<std::string>>>& rows,
              std::string& error, size_t& error_line) {
  size_t line = 1;
  size_t i = 0;
  while (i < text.size()) {
    const size_t row_line = line;
    std::vector<std::string> fields(1);
    bool any = false;
    while (i < text.size()) {
      const char c = text[i];
      if (c == '"' && fields.back().empty()) {
        ++i;
        while (true) {
          if (i >= text.size()) {
            error = "unterminated quoted field";
            error_line = row_line;
            return false;
          }
          if (text[i] == '"') {
            if (i + 1 < text.size() && text[i + 1] == '"') {
              fields.back().push_back('"');
              i += 2;
              continue;
            }
            ++i;
            break;
          }
          if (text[i] == '\n') ++line;
          fields.back().push_back(text[i++]);
        }
        any = true;
      } else if (c == ',') {
        fields.emplace_back();
        any = true;
        ++i;
      } else if (c == '\r') {
        ++i;
      } else if (c == '\n') {
        ++i;
        ++line;
        break;
      } else {
        fields.back().push_back(c);
        any = true;
        ++i;
      }
    }
    if (any) rows.emplace_back(row_line, std::move(fields));
  }
  return true;
}

}  // namespace

ImportResult parseImportCsv(std::string_view text) {
  ImportResult result;
  std::vector<std::pair<size_t, std::vector<std::string>>> rows;
  std::string split_error;
  size_t split_line = 0;
  if (!splitCsv(text, rows, split_error, split_line)) {
    result.errors.push_back({split_line, split_error});
    return result;
  }
  if (rows.empty()) {
    result.errors.push_back({1, "no header row"});
    return result;
  }
  std::map<std::string, size_t, std::less<>> column;
  for (size_t i = 0; i < rows[0].second.size(); ++i) {
    const std::string& name = rows[0].second[i];
    bool known = false;
    for (const auto k : kImportColumns) known = known || k == name;
    if (!known) result.errors.push_back({rows[0].first, "unknown column \"" + name + "\""});
    if (!column.emplace(name, i).second) {
      result.errors.push_back({rows[0].first, "column \"" + name + "\" twice"});
    }
  }
  for (const auto k : kImportColumns) {
    if (!column.contains(k)) {
      result.errors.push_back({rows[0].first, "missing column \"" + std::string(k) + "\""});
    }
  }
  if (!result.errors.empty()) return result;

  for (size_t r = 1; r < rows.size(); ++r) {
    const auto& [line_no, fields] = rows[r];
    if (fields.size() != rows[0].second.size()) {
      result.errors.push_back({line_no, "expected " + std::to_string(rows[0].second.size()) +
                                            " fields, found " + std::to_string(fields.size())});
      continue;
    }
    auto get = [&](std::string_view name) -> const std::string& {
      return fields[column.find(name)->second];
    };
    const size_t errors_before = result.errors.size();
    auto fail = [&](std::string message) {
      result.errors.push_back({line_no, std::move(message)});
    };
    ImportLine out;
    const auto start = hourOfDate(get("period_start"));
    const auto end = hourOfDate(get("period_end"));
    if (!start) fail("period_start: expected YYYY-MM-DD");
    if (!end) fail("period_end: expected YYYY-MM-DD");
    if (start && end && *end <= *start) fail("period_end: must be after period_start (exclusive)");
    if (start) out.period_start_hour = *start;
    if (end) out.period_end_hour = *end;
    out.description = get("description");
    out.category = get("category");
    bool category_ok = false;
    for (const auto c : kCategories) category_ok = category_ok || c == out.category;
    if (!category_ok) {
      fail("category: must be one of training, egress, invoice, commitment, other");
    }
    out.unit = get("unit");
    std::optional<Amount> amount;
    if (!get("amount_usd").empty()) {
      amount = Amount::parseUsd(get("amount_usd"));
      if (!amount) fail("amount_usd: not an exact decimal with at most 12 fraction digits");
    }
    if (!get("quantity").empty()) {
      out.quantity = Decimal::parse(get("quantity"));
      if (!out.quantity) fail("quantity: not a decimal");
    }
    if (!get("rate_usd").empty()) {
      out.rate = Decimal::parse(get("rate_usd"));
      if (!out.rate) fail("rate_usd: not a decimal");
    }
    std::optional<Amount> product;
    if (out.quantity && out.rate) {
      product = (*out.quantity * *out.rate).toAmount();
      if (!product) fail("quantity x rate_usd has a fraction of a picodollar");
    }
    if (amount && product && *amount != *product) {
      fail("amount_usd " + amount->toDecimalString() + " differs from quantity x rate_usd " +
           product->toDecimalString());
    }
    if (!amount && !product && result.errors.size() == errors_before) {
      fail("amount_usd, or quantity and rate_usd, required");
    }
    out.amount = amount ? *amount : product.value_or(Amount());
    for (size_t l = 0; l < kAttributionLabelCount; ++l) {
      const auto name = labelName(static_cast<Label>(l));
      const std::string& value = get(name);
      if (!value.empty() && !config::isValidLabelValue(value)) {
        fail(std::string(name) + ": not a valid label value");
      }
      out.labels[l] = value;
    }
    if (!get("runs_completed").empty()) {
      auto runs = Decimal::parse(get("runs_completed"));
      if (!runs || runs->isNegative()) {
        fail("runs_completed: not a non-negative decimal");
      } else {
        out.runs_completed = *runs;
      }
    }
    for (const auto k : kImportColumns) {
      out.fingerprint += get(k);
      out.fingerprint.push_back('\x1f');
    }
    if (result.errors.size() == errors_before) result.lines.push_back(std::move(out));
  }
  return result;
}

}  // namespace tollgate::ledger
