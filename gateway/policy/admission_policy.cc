#include "gateway/policy/admission_policy.h"

#include <utility>
#include <variant>

namespace tollgate::gateway {

PolicyRefusal toPolicyRefusal(Refusal&& refusal) {
  PolicyRefusal out;
  out.error =
      GatewayError{refusal.status, std::string(toString(refusal.code)), std::move(refusal.message)};
  out.code = refusal.code;
  out.unauthenticated =
      refusal.code == RefusalCode::kMissingApiKey || refusal.code == RefusalCode::kInvalidApiKey;
  return out;
}

std::optional<PolicyRefusal> AdmissionPolicy::onHead(const Fields& head, PolicyCall& call) {
  auto admitted = admission_.admit(head);
  if (auto* refusal = std::get_if<Refusal>(&admitted)) {
    meter::moveAttribution(refusal->attribution, *call.attribution);
    return toPolicyRefusal(std::move(*refusal));
  }
  auto& grant = std::get<Admitted>(admitted);
  meter::moveAttribution(grant.attribution, *call.attribution);
  call.key = grant.key;
  call.key_headers = std::move(grant.key_headers);
  call.warnings = std::move(grant.warnings);
  return std::nullopt;
}

std::optional<PolicyRefusal> AdmissionPolicy::onRequest(PolicyCall& call) {
  if (call.request == nullptr) return std::nullopt;
  auto refusal = admission_.checkModel(call.key, *call.attribution, call.request->model);
  if (!refusal) return std::nullopt;
  return toPolicyRefusal(std::move(*refusal));
}

}  // namespace tollgate::gateway
