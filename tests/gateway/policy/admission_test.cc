#include "gateway/policy/admission.h"

#include <gtest/gtest.h>

#include <initializer_list>

#include "gateway/http/http_fields.h"

namespace tollgate::gateway {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kFraudKey = "tg-fraud-secret";
constexpr std::string_view kOpenKey = "tg-open-secret";

config::KeyConfig fraudKey() {
  config::KeyConfig key;
  key.id = "fraud-prod";
  key.sha256 = toHex(sha256(kFraudKey));
  key.team = "fraud-platform";
  key.cost_center = "cc-4815";
  key.projects = {"fraud-detector-v2", "fraud-batch"};
  key.environment = "prod";
  key.models = {"gpt-4o*", "claude-*"};
  return key;
}

// A key that fixes nothing: the headers fill every label.
config::KeyConfig openKey() {
  config::KeyConfig key;
  key.id = "shared-dev";
  key.sha256 = toHex(sha256(kOpenKey));
  return key;
}

Fields head(std::initializer_list<std::pair<std::string, std::string>> fields) {
  Fields out;
  for (const auto& [name, value] : fields) out.insert(name, value);
  return out;
}

std::string bearer(std::string_view key) { return "Bearer " + std::string(key); }

class AdmissionTest : public ::testing::Test {
 protected:
  AdmissionTest() {
    config_.keys = {fraudKey(), openKey()};
    config_.attribution_policy.enforce = true;
    config_.attribution_policy.required = {"team", "project", "workload_type"};
  }

  std::variant<Admitted, Refusal> admit(
      std::initializer_list<std::pair<std::string, std::string>> fields) {
    controller_ = std::make_unique<AdmissionController>(config_);
    return controller_->admit(head(fields));
  }

  Admitted admitted(std::initializer_list<std::pair<std::string, std::string>> fields) {
    auto result = admit(fields);
    if (auto* r = std::get_if<Refusal>(&result)) {
      ADD_FAILURE() << "refused: " << r->status << " " << toString(r->code) << " " << r->message;
      return {};
    }
    return std::get<Admitted>(std::move(result));
  }

  Refusal refused(std::initializer_list<std::pair<std::string, std::string>> fields) {
    auto result = admit(fields);
    if (!std::holds_alternative<Refusal>(result)) {
      ADD_FAILURE() << "admitted, expected a refusal";
      return {};
    }
    return std::get<Refusal>(std::move(result));
  }

  config::Config config_;
  std::unique_ptr<AdmissionController> controller_;
};

TEST_F(AdmissionTest, MissingKeyIsRefused401MissingApiKey) {
  const auto r = refused({{"x-team", "fraud-platform"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.code, RefusalCode::kMissingApiKey);
  EXPECT_EQ(r.attribution.team, "unallocated");
  EXPECT_EQ(r.attribution.key_id, "");
}

TEST_F(AdmissionTest, UnknownKeyIsRefused401InvalidApiKeyWithoutEchoingIt) {
  const auto r = refused({{"authorization", "Bearer tg-guessed-secret"}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.code, RefusalCode::kInvalidApiKey);
  EXPECT_EQ(r.message, "the API key is not valid for this gateway");
}

TEST_F(AdmissionTest, NonBearerAuthorizationIsNotAKey) {
  const auto r = refused({{"authorization", "Basic " + std::string(kFraudKey)}});
  EXPECT_EQ(r.code, RefusalCode::kMissingApiKey);
}

TEST_F(AdmissionTest, KeyIsAcceptedInEachCredentialHeader) {
  for (const auto& [header, value] : std::vector<std::pair<std::string, std::string>>{
           {"authorization", bearer(kFraudKey)},
           {"Authorization", "bearer   " + std::string(kFraudKey) + " "},
           {"x-api-key", std::string(kFraudKey)},
           {"x-goog-api-key", std::string(kFraudKey)},
           {"api-key", std::string(kFraudKey)}}) {  // Azure OpenAI's SDKs
    const auto a = admitted({{header, value}, {"x-workload-type", "inference"}});
    EXPECT_EQ(a.attribution.key_id, "fraud-prod") << header;
    ASSERT_EQ(a.key_headers.size(), 1u) << header;
    EXPECT_TRUE(iequals(a.key_headers[0], header)) << header;
  }
}

TEST_F(AdmissionTest, KeyFixesTeamCostCenterEnvironmentAndDefaultProject) {
  const auto a = admitted({{"x-api-key", std::string(kFraudKey)}, {"x-workload-type", "batch"}});
  EXPECT_EQ(a.attribution.team, "fraud-platform");
  EXPECT_EQ(a.attribution.cost_center, "cc-4815");
  EXPECT_EQ(a.attribution.environment, "prod");
  EXPECT_EQ(a.attribution.project, "fraud-detector-v2");
  EXPECT_EQ(a.attribution.workload_type, "batch");
  EXPECT_EQ(a.attribution.key_id, "fraud-prod");
  EXPECT_TRUE(a.attribution.allocated);
  EXPECT_TRUE(a.warnings.empty());
}

TEST_F(AdmissionTest, ContradictingTeamHeaderIsRefused403NamingTheLabel) {
  const auto r = refused({{"x-api-key", std::string(kFraudKey)},
                          {"x-team", "search-platform"},
                          {"x-workload-type", "batch"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.code, RefusalCode::kLabelConflict);
  EXPECT_EQ(r.message,
            "x-team: contradicts the team 'fraud-platform' fixed by the key 'fraud-prod'");
  // The rejected event still says whose key it was.
  EXPECT_EQ(r.attribution.key_id, "fraud-prod");
  EXPECT_EQ(r.attribution.team, "fraud-platform");
}

TEST_F(AdmissionTest, ContradictingCostCenterAndEnvironmentAreRefusedToo) {
  EXPECT_EQ(refused({{"x-api-key", std::string(kFraudKey)}, {"x-cost-center", "cc-1"}}).code,
            RefusalCode::kLabelConflict);
  const auto r = refused({{"x-api-key", std::string(kFraudKey)}, {"x-environment", "dev"}});
  EXPECT_EQ(r.code, RefusalCode::kLabelConflict);
  EXPECT_NE(r.message.find("x-environment"), std::string::npos);
}

TEST_F(AdmissionTest, RepeatingWhatTheKeyFixesIsAccepted) {
  const auto a = admitted({{"x-api-key", std::string(kFraudKey)},
                           {"x-team", "fraud-platform"},
                           {"x-environment", "prod"},
                           {"x-workload-type", "training"}});
  EXPECT_EQ(a.attribution.team, "fraud-platform");
}

TEST_F(AdmissionTest, ProjectMustBeOneOfTheKeysProjects) {
  const auto a = admitted({{"x-api-key", std::string(kFraudKey)},
                           {"x-project", "fraud-batch"},
                           {"x-workload-type", "batch"}});
  EXPECT_EQ(a.attribution.project, "fraud-batch");
  const auto r = refused({{"x-api-key", std::string(kFraudKey)},
                          {"x-project", "search-ranker"},
                          {"x-workload-type", "batch"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.code, RefusalCode::kLabelNotAllowed);
  EXPECT_EQ(r.message,
            "x-project: the key 'fraud-prod' allows only the projects fraud-detector-v2, "
            "fraud-batch");
}

TEST_F(AdmissionTest, HeadersFillWhatTheKeyLeavesOpen) {
  const auto a = admitted({{"authorization", bearer(kOpenKey)},
                           {"x-team", "search"},
                           {"x-project", "ranker"},
                           {"x-cost-center", "cc-1"},
                           {"x-environment", "staging"},
                           {"x-workload-type", "evaluation"},
                           {"x-tags", "run=42, owner=ana"}});
  EXPECT_EQ(a.attribution.team, "search");
  EXPECT_EQ(a.attribution.project, "ranker");
  EXPECT_EQ(a.attribution.cost_center, "cc-1");
  EXPECT_EQ(a.attribution.environment, "staging");
  EXPECT_EQ(a.attribution.workload_type, "evaluation");
  ASSERT_EQ(a.attribution.tags.size(), 2u);
  EXPECT_EQ(a.attribution.tags[0], std::make_pair(std::string("run"), std::string("42")));
  EXPECT_EQ(a.attribution.tags[1], std::make_pair(std::string("owner"), std::string("ana")));
  EXPECT_EQ(a.attribution.key_id, "shared-dev");
}

TEST_F(AdmissionTest, EnforceRefusesAMissingRequiredLabelNamingIt) {
  const auto r = refused(
      {{"authorization", bearer(kOpenKey)}, {"x-team", "search"}, {"x-workload-type", "batch"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code, RefusalCode::kMissingLabel);
  EXPECT_EQ(r.message, "the required label project is missing (send the x-project header)");
}

TEST_F(AdmissionTest, WarnBooksAMissingRequiredLabelAsUnallocated) {
  config_.attribution_policy.enforce = false;
  const auto a = admitted({{"authorization", bearer(kOpenKey)}, {"x-project", "ranker"}});
  EXPECT_FALSE(a.attribution.allocated);
  EXPECT_EQ(a.attribution.team, "unallocated");
  EXPECT_EQ(a.attribution.project, "ranker");
  EXPECT_EQ(a.attribution.key_id, "shared-dev");
  EXPECT_EQ(a.missing_label, "team");
  EXPECT_EQ(a.warnings.size(), 2u);  // team and workload_type
}

TEST_F(AdmissionTest, WorkloadTypeOutsideTheFixedSetIsInvalid) {
  const auto r = refused({{"x-api-key", std::string(kFraudKey)}, {"x-workload-type", "fun"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code, RefusalCode::kInvalidLabel);
  EXPECT_EQ(r.message,
            "x-workload-type: must be one of training, inference, notebook, evaluation, batch");
}

TEST_F(AdmissionTest, LabelValuesAreCheckedForCharactersAndLength) {
  const std::string ok64(64, 'a');
  EXPECT_EQ(admitted({{"authorization", bearer(kOpenKey)},
                      {"x-team", ok64},
                      {"x-project", "a.b_c:d/e-F9"},
                      {"x-workload-type", "batch"}})
                .attribution.team,
            ok64);
  for (const std::string& bad : {std::string(65, 'a'), std::string("two words"),
                                 std::string("caf\xc3\xa9"), std::string("a\"b")}) {
    const auto r = refused({{"authorization", bearer(kOpenKey)},
                            {"x-team", bad},
                            {"x-project", "p"},
                            {"x-workload-type", "batch"}});
    EXPECT_EQ(r.code, RefusalCode::kInvalidLabel) << bad;
    EXPECT_EQ(r.message, "x-team: must be 1 to 64 characters of [A-Za-z0-9._:/-]");
  }
}

TEST_F(AdmissionTest, WarnIgnoresAnInvalidLabelAndSaysSo) {
  config_.attribution_policy.enforce = false;
  const auto a = admitted({{"authorization", bearer(kOpenKey)},
                           {"x-team", "two words"},
                           {"x-project", "p"},
                           {"x-workload-type", "batch"}});
  EXPECT_FALSE(a.attribution.allocated);
  EXPECT_EQ(a.attribution.team, "unallocated");
  ASSERT_EQ(a.warnings.size(), 2u);
  EXPECT_EQ(a.warnings[0], "x-team: must be 1 to 64 characters of [A-Za-z0-9._:/-]");
  EXPECT_EQ(a.warnings[1], "x-team: required label team is missing");
}

TEST_F(AdmissionTest, TagsAreBoundedInCount) {
  config_.attribution_policy.tags.max_count = 2;
  const auto r = refused({{"x-api-key", std::string(kFraudKey)},
                          {"x-workload-type", "batch"},
                          {"x-tags", "a=1,b=2,c=3"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code, RefusalCode::kTooManyTags);
  EXPECT_EQ(r.message, "x-tags: at most 2 tags");

  config_.attribution_policy.enforce = false;
  const auto a = admitted({{"x-api-key", std::string(kFraudKey)},
                           {"x-workload-type", "batch"},
                           {"x-tags", "a=1,b=2,c=3"}});
  ASSERT_EQ(a.attribution.tags.size(), 2u);
  EXPECT_EQ(a.attribution.tags[1].first, "b");
  EXPECT_EQ(a.warnings.size(), 1u);
  EXPECT_TRUE(a.attribution.allocated);
}

TEST_F(AdmissionTest, TagsAreBoundedInSize) {
  const std::string key64(64, 'k');
  const std::string value128(128, 'v');
  const auto a = admitted({{"x-api-key", std::string(kFraudKey)},
                           {"x-workload-type", "batch"},
                           {"x-tags", key64 + "=" + value128}});
  ASSERT_EQ(a.attribution.tags.size(), 1u);
  EXPECT_EQ(refused({{"x-api-key", std::string(kFraudKey)},
                     {"x-workload-type", "batch"},
                     {"x-tags", key64 + "k=v"}})
                .code,
            RefusalCode::kTagTooLong);
  const auto r = refused({{"x-api-key", std::string(kFraudKey)},
                          {"x-workload-type", "batch"},
                          {"x-tags", "k=" + value128 + "v"}});
  EXPECT_EQ(r.code, RefusalCode::kTagTooLong);
  EXPECT_EQ(r.message, "x-tags: tag keys are limited to 64 bytes and values to 128");
}

TEST_F(AdmissionTest, MalformedOrRepeatedTagsAreInvalid) {
  for (const std::string bad : {"novalue", "=v", "a b=c", "k=v;w", "a=1,a=2"}) {
    const auto r = refused(
        {{"x-api-key", std::string(kFraudKey)}, {"x-workload-type", "batch"}, {"x-tags", bad}});
    EXPECT_EQ(r.code, RefusalCode::kInvalidTag) << bad;
  }
  // Empty pairs (a trailing comma) and empty values are fine.
  const auto a = admitted(
      {{"x-api-key", std::string(kFraudKey)}, {"x-workload-type", "batch"}, {"x-tags", "a=,b=2,"}});
  ASSERT_EQ(a.attribution.tags.size(), 2u);
  EXPECT_EQ(a.attribution.tags[0].second, "");
}

TEST_F(AdmissionTest, ModelAllowListOfTheKey) {
  const auto a = admitted({{"x-api-key", std::string(kFraudKey)}, {"x-workload-type", "batch"}});
  EXPECT_FALSE(controller_->checkModel(a, "gpt-4o-mini").has_value());
  EXPECT_FALSE(controller_->checkModel(a, "claude-sonnet-4").has_value());
  const auto r = controller_->checkModel(a, "o3-mini");
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->code, RefusalCode::kModelNotAllowed);
  EXPECT_EQ(r->message, "the key 'fraud-prod' may not call the model 'o3-mini'");
  EXPECT_EQ(r->attribution.team, "fraud-platform");
  // A key without models may call any.
  const auto b = admitted({{"x-api-key", std::string(kOpenKey)},
                           {"x-team", "t"},
                           {"x-project", "p"},
                           {"x-workload-type", "batch"}});
  EXPECT_FALSE(controller_->checkModel(b, "o3-mini").has_value());
}

TEST_F(AdmissionTest, ProviderKeyBesideTheGatewayKeyIsNotTakenForIt) {
  const auto a = admitted({{"authorization", "Bearer sk-provider-key"},
                           {"x-api-key", std::string(kFraudKey)},
                           {"x-workload-type", "batch"}});
  EXPECT_EQ(a.attribution.key_id, "fraud-prod");
  ASSERT_EQ(a.key_headers.size(), 1u);
  EXPECT_EQ(a.key_headers[0], "x-api-key");
}

TEST_F(AdmissionTest, TwoDifferentGatewayKeysAreRefused) {
  const auto r =
      refused({{"authorization", bearer(kOpenKey)}, {"x-api-key", std::string(kFraudKey)}});
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.code, RefusalCode::kInvalidApiKey);
}

TEST_F(AdmissionTest, OpenModeTakesLabelsFromHeadersWithoutAKey) {
  config_.keys.clear();
  config_.attribution_policy = {};
  const auto a = admitted({{"x-team", "search"}, {"authorization", "Bearer anything"}});
  EXPECT_TRUE(controller_->openMode());
  EXPECT_EQ(a.attribution.team, "search");
  EXPECT_EQ(a.attribution.key_id, "");
  EXPECT_TRUE(a.key_headers.empty());
  EXPECT_TRUE(a.attribution.allocated);
  // Default policy: warn, team required.
  const auto b = admitted({{"x-project", "p"}});
  EXPECT_FALSE(b.attribution.allocated);
  EXPECT_EQ(b.attribution.team, "unallocated");
}

TEST_F(AdmissionTest, ConfiguredHeaderNamesAreUsed) {
  config_.attribution_headers.team = "x-billing-team";
  const auto r = refused({{"x-api-key", std::string(kFraudKey)},
                          {"x-billing-team", "other"},
                          {"x-workload-type", "batch"}});
  EXPECT_EQ(r.code, RefusalCode::kLabelConflict);
  EXPECT_EQ(r.message.rfind("x-billing-team: ", 0), 0u);
}

TEST(RefusalCode, EveryCodeHasAStableName) {
  const std::vector<std::string> expected = {
      "missing_api_key",   "invalid_api_key", "label_conflict", "label_not_allowed",
      "model_not_allowed", "missing_label",   "invalid_label",  "too_many_tags",
      "tag_too_long",      "invalid_tag"};
  ASSERT_EQ(expected.size(), kRefusalCodes);
  for (size_t i = 0; i < kRefusalCodes; ++i) {
    EXPECT_EQ(toString(static_cast<RefusalCode>(i)), expected[i]);
  }
}

}  // namespace
}  // namespace tollgate::gateway
