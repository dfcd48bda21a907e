#include "gateway/policy/call_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/http/http_fields.h"
#include "gateway/policy/admission_policy.h"

namespace tollgate::gateway {
namespace {

// Records the hooks it sees; refuses where told to.
class ScriptedPolicy : public CallPolicy {
 public:
  ScriptedPolicy(std::string name, std::vector<std::string>& log)
      : name_(std::move(name)), log_(log) {}

  std::optional<PolicyRefusal> onHead(const Fields&, PolicyCall&) override {
    log_.push_back(name_ + ".head");
    return refuse_on_head ? std::optional<PolicyRefusal>(refusal()) : std::nullopt;
  }
  std::optional<PolicyRefusal> onRequest(PolicyCall& call) override {
    log_.push_back(name_ + ".request:" + (call.request ? call.request->model : ""));
    return refuse_on_request ? std::optional<PolicyRefusal>(refusal()) : std::nullopt;
  }
  void onFinished(PolicyCall&, const meter::CostEvent& event) override {
    log_.push_back(name_ + ".finished:" + event.id);
  }

  bool refuse_on_head = false;
  bool refuse_on_request = false;

 private:
  PolicyRefusal refusal() const {
    PolicyRefusal r;
    r.error = GatewayError{429, name_ + "_refused", "no"};
    r.limit_name = name_;
    return r;
  }
  std::string name_;
  std::vector<std::string>& log_;
};

TEST(CallPolicyChain, HooksRunInOrderAndTheFirstRefusalWins) {
  std::vector<std::string> log;
  auto first = std::make_shared<ScriptedPolicy>("first", log);
  auto second = std::make_shared<ScriptedPolicy>("second", log);
  CallPolicyChain chain;
  chain.add(first);
  chain.add(second);
  meter::Attribution attribution;
  PolicyCall call;
  call.attribution = &attribution;
  EXPECT_TRUE(call.state.empty());  // nothing allocated for policies that keep nothing
  CallPolicyChain::slot(call, 1) = std::make_unique<PolicyCallState>();
  EXPECT_EQ(call.state.size(), 2u);
  EXPECT_EQ(CallPolicyChain::slot(call, 0), nullptr);
  Fields head;
  EXPECT_FALSE(chain.onHead(head, call));
  meter::RequestInfo info;
  info.model = "gpt-4o";
  call.request = &info;
  first->refuse_on_request = true;
  second->refuse_on_request = true;
  const auto refusal = chain.onRequest(call);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->limit_name, "first");
  meter::CostEvent event;
  event.id = "req-9";
  chain.onFinished(call, event);
  EXPECT_EQ(log, (std::vector<std::string>{"first.head", "second.head", "first.request:gpt-4o",
                                           "first.finished:req-9", "second.finished:req-9"}));
}

// Cuts a stream once its output passes `after` tokens.
class CuttingPolicy : public ScriptedPolicy {
 public:
  CuttingPolicy(std::string name, std::vector<std::string>& log, int64_t after)
      : ScriptedPolicy(name, log), name_(std::move(name)), after_(after) {}
  std::optional<OutputCut> onOutput(PolicyCall&, int64_t tokens) override {
    if (tokens <= after_) return std::nullopt;
    return OutputCut{name_, "budget_exceeded", "cut"};
  }

 private:
  std::string name_;
  int64_t after_;
};

TEST(CallPolicyChain, OutputContinuesByDefaultAndTheFirstCutWins) {
  std::vector<std::string> log;
  CallPolicyChain chain;
  chain.add(std::make_shared<ScriptedPolicy>("admission", log));  // no output hook: continue
  chain.add(std::make_shared<CuttingPolicy>("late", log, 100));
  chain.add(std::make_shared<CuttingPolicy>("early", log, 10));
  PolicyCall call;
  EXPECT_FALSE(chain.onOutput(call, 10));
  const auto cut = chain.onOutput(call, 101);
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->limit_name, "late");
  EXPECT_EQ(chain.onOutput(call, 50)->limit_name, "early");
  // Nobody asked to watch the output: the relay does not call the hook at all.
  EXPECT_FALSE(call.watches_output);
}

TEST(CallPolicyChain, EveryPolicyIsToldTheCallFinishedEvenAfterARefusal) {
  std::vector<std::string> log;
  auto first = std::make_shared<ScriptedPolicy>("first", log);
  auto second = std::make_shared<ScriptedPolicy>("second", log);
  first->refuse_on_head = true;
  CallPolicyChain chain;
  chain.add(first);
  chain.add(second);
  meter::Attribution attribution;
  PolicyCall call;
  call.attribution = &attribution;
  Fields head;
  ASSERT_TRUE(chain.onHead(head, call));
  chain.onFinished(call, meter::CostEvent{});
  EXPECT_EQ(log, (std::vector<std::string>{"first.head", "first.finished:", "second.finished:"}));
}

class AdmissionPolicyTest : public ::testing::Test {
 protected:
  AdmissionPolicyTest() {
    config::KeyConfig key;
    key.id = "fraud-prod";
    key.sha256 = toHex(sha256("tg-secret"));
    key.team = "fraud-platform";
    key.models = {"gpt-4o*"};
    config_.keys = {key};
  }
  config::Config config_;
};

TEST_F(AdmissionPolicyTest, MissingKeyIsAnUnauthenticatedRefusalWithItsCode) {
  const AdmissionController admission(config_);
  AdmissionPolicy policy(admission);
  meter::Attribution attribution;
  PolicyCall call;
  call.attribution = &attribution;
  Fields head;
  const auto refusal = policy.onHead(head, call);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->error.status, 401);
  EXPECT_EQ(refusal->error.code, "missing_api_key");
  EXPECT_EQ(refusal->code, RefusalCode::kMissingApiKey);
  EXPECT_TRUE(refusal->unauthenticated);
}

TEST_F(AdmissionPolicyTest, KeyFixesWhoPaysAndItsHeaderIsMarkedForRemoval) {
  const AdmissionController admission(config_);
  AdmissionPolicy policy(admission);
  meter::Attribution attribution;
  PolicyCall call;
  call.attribution = &attribution;
  Fields head;
  head.insert("authorization", "Bearer tg-secret");
  EXPECT_FALSE(policy.onHead(head, call));
  EXPECT_EQ(attribution.team, "fraud-platform");
  EXPECT_EQ(attribution.key_id, "fraud-prod");
  ASSERT_NE(call.key, nullptr);
  EXPECT_EQ(call.key_headers, std::vector<std::string>{"authorization"});

  meter::RequestInfo info;
  info.model = "claude-sonnet-4";
  call.request = &info;
  const auto refusal = policy.onRequest(call);
  ASSERT_TRUE(refusal);
  EXPECT_EQ(refusal->error.status, 403);
  EXPECT_EQ(refusal->code, RefusalCode::kModelNotAllowed);
  EXPECT_FALSE(refusal->unauthenticated);
  info.model = "gpt-4o-mini";
  EXPECT_FALSE(policy.onRequest(call));
}

}  // namespace
}  // namespace tollgate::gateway
