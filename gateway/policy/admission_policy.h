#pragma once

#include "gateway/policy/admission.h"
#include "gateway/policy/call_policy.h"

namespace tollgate::gateway {

// The first link of every chain: the gateway key and the attribution labels on the head, the
// key's model allow-list on the request.
class AdmissionPolicy final : public CallPolicy {
 public:
  explicit AdmissionPolicy(const AdmissionController& admission) : admission_(admission) {}

  std::optional<PolicyRefusal> onHead(const Fields& head, PolicyCall& call) override;
  std::optional<PolicyRefusal> onRequest(PolicyCall& call) override;
  void onFinished(PolicyCall&, const meter::CostEvent&) override {}

 private:
  const AdmissionController& admission_;
};

// The answer and booking of an admission refusal.
PolicyRefusal toPolicyRefusal(Refusal&& refusal);

}  // namespace tollgate::gateway
