#pragma once

#include <chrono>
#include <string>

namespace tollgate::ledger {

// POSTs one body to an http:// URL and waits for the answer (bounded by `timeout`). true on a
// 2xx status; otherwise false with `error` (connection failure, timeout, the status). https
// URLs are refused: the ledger has no TLS client yet.
bool postWebhook(const std::string& url, const std::string& content_type, const std::string& body,
                 std::chrono::milliseconds timeout, std::string& error);

}  // namespace tollgate::ledger
