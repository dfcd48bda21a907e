#include "meter/body_window.h"

#include <algorithm>

#include "meter/json_scanner.h"

namespace tollgate::meter {
namespace {

bool isJsonSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The member `"name":value` whose key's opening quote is at `at` in `text`, value checked whole;
// empty when it is not one (an escaped quote, no colon, a value cut by the window's end).
std::string_view memberAt(std::string_view text, size_t at, size_t name_size) {
  size_t backslashes = 0;
  while (backslashes < at && text[at - 1 - backslashes] == '\\') ++backslashes;
  if (backslashes % 2 != 0) return {};
  size_t p = at + name_size + 2;
  while (p < text.size() && isJsonSpace(text[p])) ++p;
  if (p == text.size() || text[p] != ':') return {};
  ++p;
  JsonScanner in(text.substr(p));
  if (!in.skipValue()) return {};
  return text.substr(at, p + in.offset() - at);
}

std::string_view findMember(std::string_view text, std::string_view name, bool first) {
  std::string needle;
  needle.reserve(name.size() + 2);
  needle.push_back('"');
  needle.append(name);
  needle.push_back('"');
  if (first) {
    for (size_t at = text.find(needle); at != std::string_view::npos;
         at = text.find(needle, at + 1)) {
      if (auto member = memberAt(text, at, name.size()); !member.empty()) return member;
    }
    return {};
  }
  for (size_t at = text.rfind(needle); at != std::string_view::npos;
       at = at == 0 ? std::string_view::npos : text.rfind(needle, at - 1)) {
    if (auto member = memberAt(text, at, name.size()); !member.empty()) return member;
  }
  return {};
}

}  // namespace

void BodyWindow::append(std::string_view chunk) {
  if (!windowed_) {
    if (body_.size() + chunk.size() <= max_whole_) {
      body_.append(chunk);
      return;
    }
    windowed_ = true;
    head_.assign(body_, 0, std::min(kWindow, body_.size()));
    tail_.assign(std::string_view(body_).substr(body_.size() - std::min(body_.size(), kWindow)));
    std::string().swap(body_);
  }
  if (head_.size() < kWindow) head_.append(chunk.substr(0, kWindow - head_.size()));
  if (chunk.size() >= kWindow) {
    tail_.assign(chunk.substr(chunk.size() - kWindow));
    return;
  }
  tail_.append(chunk);
  // Trimmed only once it holds twice the window: each byte is moved at most once.
  if (tail_.size() > 2 * kWindow) tail_.erase(0, tail_.size() - kWindow);
}

std::string_view BodyWindow::tail() const {
  const std::string_view t = tail_;
  return t.substr(t.size() - std::min(t.size(), kWindow));
}

void BodyWindow::release() {
  std::string().swap(body_);
  std::string().swap(head_);
  std::string().swap(tail_);
}

std::string BodyWindow::usageDocument(std::string_view head, std::string_view tail,
                                      std::span<const UsageMember> members) {
  std::string doc;
  bool any = false;
  for (const UsageMember& m : members) {
    std::string_view member = findMember(m.from_head ? head : tail, m.name, m.from_head);
    if (member.empty()) member = findMember(m.from_head ? tail : head, m.name, !m.from_head);
    if (member.empty()) continue;
    doc.push_back(any ? ',' : '{');
    doc.append(member);
    any = true;
  }
  if (any) doc.push_back('}');
  return doc;
}

}  // namespace tollgate::meter
