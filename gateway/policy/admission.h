#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/config.h"
#include "gateway/core/refusal_code.h"
#include "gateway/http/fields_arena.h"
#include "gateway/policy/key_table.h"
#include "meter/cost_event.h"

namespace tollgate::gateway {

struct Refusal {
  int status = 400;
  RefusalCode code = RefusalCode::kInvalidLabel;
  std::string message;  // safe to show: never echoes a credential or a client-sent label value
  // What was established before the refusal (the key's fixed labels when the key was valid),
  // for the call's rejected cost event.
  meter::Attribution attribution;
};

// A call let through: who pays, and which key said so.
struct Admitted {
  meter::Attribution attribution;  // key_id set when a key was used; team "unallocated" if unknown
  const config::KeyConfig* key = nullptr;  // nullptr in open mode
  // Request headers that held the gateway key: removed before anything else sees the request.
  std::vector<std::string> key_headers;
  // warn mode: what was ignored or is missing, one "<header>: <why>" each (debug log, metric).
  std::vector<std::string> warnings;
  std::string missing_label;  // warn mode: the first required label missing ("" when none)
};

// The workload types x-workload-type accepts.
inline constexpr std::string_view kWorkloadTypes[] = {"training", "inference", "notebook",
                                                      "evaluation", "batch"};

// Decides, from the request head, who pays for a call and whether it may proceed: identifies
// the gateway key (Authorization: Bearer, x-api-key or x-goog-api-key, whatever the dialect),
// merges what the key fixes with the attribution headers (headers only fill what the key leaves
// open), validates label values and tags, and applies the policy (enforce or warn) to missing
// required labels. Immutable; built once per configuration and shared by every worker.
class AdmissionController {
 public:
  explicit AdmissionController(const config::Config& config);

  // No keys configured: every call is let through without a key (development).
  bool openMode() const { return keys_.empty(); }
  const KeyTable& keys() const { return keys_; }

  std::variant<Admitted, Refusal> admit(const Fields& head) const;

  // The key's model allow-list, once the model is known (after the body was read).
  std::optional<Refusal> checkModel(const Admitted& admitted, std::string_view model) const {
    return checkModel(admitted.key, admitted.attribution, model);
  }
  std::optional<Refusal> checkModel(const config::KeyConfig* key,
                                    const meter::Attribution& attribution,
                                    std::string_view model) const;

 private:
  const config::Config& config_;
  KeyTable keys_;
};

}  // namespace tollgate::gateway
