#include "config/config_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

namespace tollgate::config {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

const std::string kTestdata = TOLLGATE_TESTDATA_DIR;
const std::string kCaFile = kTestdata + "/ca.pem";

EnvLookup envFrom(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string describe(const std::vector<ConfigError>& errors) {
  std::string out;
  for (const auto& e : errors) out += e.toString() + "\n";
  return out;
}

// Parses text expected to be valid; fails the test with every error otherwise.
Config parseValid(const std::string& yaml, const EnvLookup& env = envFrom({})) {
  auto result = parseConfig(yaml, env);
  if (auto* errors = std::get_if<std::vector<ConfigError>>(&result)) {
    ADD_FAILURE() << "unexpected errors:\n" << describe(*errors);
    return Config{};
  }
  return std::get<Config>(std::move(result));
}

// The toString() of every error of text expected to be invalid.
std::vector<std::string> errorsOf(const std::string& yaml, const EnvLookup& env = envFrom({})) {
  auto result = parseConfig(yaml, env);
  if (std::holds_alternative<Config>(result)) {
    ADD_FAILURE() << "expected errors, the config was accepted";
    return {};
  }
  std::vector<std::string> out;
  for (const auto& e : std::get<std::vector<ConfigError>>(result)) out.push_back(e.toString());
  return out;
}

const std::string kUpstreams = R"(
upstreams:
  - name: mock
    dialect: openai
    base_url: "http://127.0.0.1:9100"
    models: ["*"]
)";

// A valid config with `extra` top-level sections appended.
std::string withUpstream(const std::string& extra) { return kUpstreams + extra; }

// One upstream whose fields are `fields` (indented by 4 spaces, after "- ").
std::string upstreamWith(const std::string& fields) { return "upstreams:\n  - " + fields; }

// --- defaults and complete examples -------------------------------------------------------

TEST(ConfigLoaderTest, MinimalConfigKeepsEveryDefault) {
  const Config config = parseValid(kUpstreams);
  EXPECT_EQ(config.server.listen.host, "127.0.0.1");
  EXPECT_EQ(config.server.listen.port, 8080);
  EXPECT_EQ(config.server.admin_listen.host, "127.0.0.1");
  EXPECT_EQ(config.server.admin_listen.port, 9901);
  EXPECT_EQ(config.server.workers, 0u);
  EXPECT_EQ(config.server.instance_id, "");
  EXPECT_EQ(config.server.timeouts.client_header, std::chrono::milliseconds(10'000));
  EXPECT_EQ(config.server.limits.max_body_bytes, 8u * 1024 * 1024);
  ASSERT_EQ(config.upstreams.size(), 1u);
  const UpstreamConfig& upstream = config.upstreams[0];
  EXPECT_EQ(upstream.name, "mock");
  EXPECT_EQ(upstream.dialect, "openai");
  EXPECT_EQ(upstream.base_url, "http://127.0.0.1:9100");
  EXPECT_EQ(upstream.scheme, "http");
  EXPECT_EQ(upstream.host, "127.0.0.1");
  EXPECT_EQ(upstream.port, 9100);
  EXPECT_EQ(upstream.base_path, "");
  EXPECT_THAT(upstream.models, ElementsAre("*"));
  EXPECT_THAT(upstream.headers, IsEmpty());
  EXPECT_TRUE(upstream.tls.verify);
  EXPECT_EQ(upstream.max_idle_connections, 64u);
  EXPECT_THAT(config.prices, IsEmpty());
  EXPECT_EQ(config.price_catalog_version, "config");
  EXPECT_EQ(config.events.sink, "file");
  EXPECT_EQ(config.events.file.path, "var/cost-events.jsonl");
  EXPECT_EQ(config.events.file.queue_capacity, 65536u);
  EXPECT_EQ(config.events.kafka.brokers, "127.0.0.1:9092");
  EXPECT_EQ(config.events.kafka.topic, "llm.cost.v1");
  EXPECT_EQ(config.attribution_headers.team, "x-team");
  EXPECT_EQ(config.attribution_headers.tags, "x-tags");
  EXPECT_EQ(config.logging.level, "info");
}

TEST(ConfigLoaderTest, ContractExampleParsesToExpectedValues) {
  // Verbatim from docs/contract.md, "Configuration (YAML)".
  const std::string contract = R"(server:
  listen: "127.0.0.1:8080"          # client-facing
  admin_listen: "127.0.0.1:9901"    # /healthz, /readyz, /metrics
  workers: 0                        # 0 = one per core
upstreams:
  - name: openai
    dialect: openai                 # openai | anthropic | gemini | ollama
    base_url: "https://api.openai.com"
    models: ["gpt-4o*", "o3*"]      # glob patterns; first matching upstream wins
    headers:                        # injected into every upstream request (provider credentials)
      authorization: "Bearer ${OPENAI_API_KEY}"
prices:                             # USD per 1M tokens, decimal strings; keys are model globs
  "gpt-4o-mini*": { input: "0.15", cache_read: "0.075", output: "0.60" }
  "claude-sonnet-4*": { input: "3.00", cache_read: "0.30", cache_write: "3.75", output: "15.00" }
events:
  sink: file                        # file | kafka
  file: { path: "var/cost-events.jsonl" }
  kafka: { brokers: "127.0.0.1:9092", topic: "llm.cost.v1" }
)";
  const Config config = parseValid(contract, envFrom({{"OPENAI_API_KEY", "sk-test-123"}}));
  EXPECT_EQ(config.server.listen.host, "127.0.0.1");
  EXPECT_EQ(config.server.listen.port, 8080);
  EXPECT_EQ(config.server.admin_listen.port, 9901);
  EXPECT_EQ(config.server.workers, 0u);
  ASSERT_EQ(config.upstreams.size(), 1u);
  const UpstreamConfig& openai = config.upstreams[0];
  EXPECT_EQ(openai.name, "openai");
  EXPECT_EQ(openai.dialect, "openai");
  EXPECT_EQ(openai.scheme, "https");
  EXPECT_EQ(openai.host, "api.openai.com");
  EXPECT_EQ(openai.port, 443);
  EXPECT_EQ(openai.base_path, "");
  EXPECT_THAT(openai.models, ElementsAre("gpt-4o*", "o3*"));
  EXPECT_THAT(openai.headers, ElementsAre(Pair("authorization", "Bearer sk-test-123")));

  ASSERT_EQ(config.prices.size(), 2u);
  EXPECT_EQ(config.prices[0].pattern, "gpt-4o-mini*");
  EXPECT_EQ(config.prices[0].price.input, 150'000);
  EXPECT_EQ(config.prices[0].price.cache_read, 75'000);
  EXPECT_EQ(config.prices[0].price.cache_write, 150'000);
  EXPECT_EQ(config.prices[0].price.output, 600'000);
  EXPECT_EQ(config.prices[0].price.reasoning, 600'000);
  EXPECT_EQ(config.prices[1].pattern, "claude-sonnet-4*");
  EXPECT_EQ(config.prices[1].price.input, 3'000'000);
  EXPECT_EQ(config.prices[1].price.cache_read, 300'000);
  EXPECT_EQ(config.prices[1].price.cache_write, 3'750'000);
  EXPECT_EQ(config.prices[1].price.output, 15'000'000);
  EXPECT_EQ(config.prices[1].price.reasoning, 15'000'000);

  EXPECT_EQ(config.events.sink, "file");
  EXPECT_EQ(config.events.file.path, "var/cost-events.jsonl");
  EXPECT_EQ(config.events.kafka.brokers, "127.0.0.1:9092");
  EXPECT_EQ(config.events.kafka.topic, "llm.cost.v1");
}

TEST(ConfigLoaderTest, DemoConfigParsesWithoutAnyEnvironment) {
  auto result = loadConfigFile(kTestdata + "/../../../config/demo.yaml", envFrom({}));
  ASSERT_TRUE(std::holds_alternative<Config>(result))
      << describe(std::get<std::vector<ConfigError>>(result));
  const Config& config = std::get<Config>(result);
  EXPECT_EQ(config.server.listen.port, 8080);
  EXPECT_EQ(config.server.admin_listen.port, 9901);
  EXPECT_EQ(config.server.workers, 0u);
  ASSERT_EQ(config.upstreams.size(), 1u);
  EXPECT_EQ(config.upstreams[0].name, "mock");
  EXPECT_EQ(config.upstreams[0].port, 9100);
  EXPECT_THAT(config.upstreams[0].models, ElementsAre("*"));
  EXPECT_THAT(config.upstreams[0].headers,
              ElementsAre(Pair("authorization", "Bearer demo-upstream-key")));
  std::vector<std::string> patterns;
  for (const auto& entry : config.prices) patterns.push_back(entry.pattern);
  EXPECT_THAT(patterns, ElementsAre("gpt-4o-mini*", "gpt-4o*", "gpt-4.1-mini*", "gpt-4.1*", "o3*",
                                    "claude-sonnet-4*", "claude-haiku-4-5*"));
  EXPECT_EQ(config.prices[0].price.cache_read, 75'000);
  EXPECT_EQ(config.prices[6].price.cache_write, 1'250'000);
  EXPECT_EQ(config.events.sink, "file");
  EXPECT_EQ(config.events.file.path, "var/cost-events.jsonl");
  // The mock answers any model; the ones without a price are flagged, not refused.
  EXPECT_THAT(config.warnings, ElementsAre("upstreams[0].models[0]: models matching \"*\" may "
                                           "have no price (their events will say \"priced\": "
                                           "false)"));
}

TEST(ConfigLoaderTest, ExampleConfigParsesWithProviderKeysInTheEnvironment) {
  auto result =
      loadConfigFile(kTestdata + "/../../../config/tollgate.example.yaml",
                     envFrom({{"OPENAI_API_KEY", "sk-o"}, {"ANTHROPIC_API_KEY", "sk-a"}}));
  ASSERT_TRUE(std::holds_alternative<Config>(result))
      << describe(std::get<std::vector<ConfigError>>(result));
  const Config& config = std::get<Config>(result);
  ASSERT_EQ(config.upstreams.size(), 3u);
  EXPECT_THAT(config.upstreams[0].headers, ElementsAre(Pair("authorization", "Bearer sk-o")));
  EXPECT_EQ(config.upstreams[1].dialect, "anthropic");
  EXPECT_THAT(config.upstreams[1].headers,
              ElementsAre(Pair("x-api-key", "sk-a"), Pair("anthropic-version", "2023-06-01")));
  EXPECT_EQ(config.upstreams[2].scheme, "http");
  EXPECT_EQ(config.upstreams[2].host, "vllm.internal");
  EXPECT_EQ(config.upstreams[2].port, 8000);
  EXPECT_THAT(config.upstreams[2].models, ElementsAre("meta-llama/*"));
  EXPECT_EQ(config.events.sink, "kafka");
  EXPECT_EQ(config.events.kafka.topic, "llm.cost.v1");
  EXPECT_THAT(config.events.kafka.properties,
              ElementsAre(Pair("compression.type", "lz4"), Pair("linger.ms", "20"),
                          Pair("enable.idempotence", "true")));
  EXPECT_EQ(config.price_catalog_version, "2026-11-22");
}

TEST(ConfigLoaderTest, ExampleConfigWithoutTheKeysNamesEachMissingVariable) {
  auto result = loadConfigFile(kTestdata + "/../../../config/tollgate.example.yaml", envFrom({}));
  ASSERT_TRUE(std::holds_alternative<std::vector<ConfigError>>(result));
  std::vector<std::string> messages;
  for (const auto& e : std::get<std::vector<ConfigError>>(result)) {
    messages.push_back(e.toString());
  }
  EXPECT_THAT(messages, ElementsAre("upstreams[0].headers.authorization: environment variable "
                                    "OPENAI_API_KEY is not set",
                                    "upstreams[1].headers.x-api-key: environment variable "
                                    "ANTHROPIC_API_KEY is not set"));
}

TEST(ConfigLoaderTest, EveryKeyIsReadFromAFullFile) {
  auto result = loadConfigFile(kTestdata + "/full.yaml",
                               envFrom({{"GEMINI_KEY", "g-key"}, {"TEST_CA_FILE", kCaFile}}));
  ASSERT_TRUE(std::holds_alternative<Config>(result))
      << describe(std::get<std::vector<ConfigError>>(result));
  const Config& c = std::get<Config>(result);
  EXPECT_EQ(c.server.listen.host, "::1");
  EXPECT_EQ(c.server.listen.port, 0);
  EXPECT_EQ(c.server.admin_listen.host, "0.0.0.0");
  EXPECT_EQ(c.server.admin_listen.port, 9902);
  EXPECT_EQ(c.server.workers, 4u);
  EXPECT_EQ(c.server.instance_id, "gw-1");
  EXPECT_EQ(c.server.timeouts.client_header, std::chrono::milliseconds(1));
  EXPECT_EQ(c.server.timeouts.client_body, std::chrono::milliseconds(2));
  EXPECT_EQ(c.server.timeouts.client_idle, std::chrono::milliseconds(3));
  EXPECT_EQ(c.server.timeouts.upstream_connect, std::chrono::milliseconds(4));
  EXPECT_EQ(c.server.timeouts.upstream_response, std::chrono::milliseconds(5));
  EXPECT_EQ(c.server.timeouts.upstream_idle, std::chrono::milliseconds(6));
  EXPECT_EQ(c.server.timeouts.shutdown_drain, std::chrono::milliseconds(86'400'000));
  EXPECT_EQ(c.server.limits.max_header_bytes, 1'048'576u);
  EXPECT_EQ(c.server.limits.max_body_bytes, 123'456'789u);
  ASSERT_EQ(c.upstreams.size(), 2u);
  const UpstreamConfig& gemini = c.upstreams[0];
  EXPECT_EQ(gemini.name, "gemini.eu-1_a");
  EXPECT_EQ(gemini.dialect, "gemini");
  EXPECT_EQ(gemini.scheme, "https");
  EXPECT_EQ(gemini.host, "generativelanguage.googleapis.com");
  EXPECT_EQ(gemini.port, 8443);
  EXPECT_EQ(gemini.base_path, "/proxy/v1");
  EXPECT_THAT(gemini.models, ElementsAre("gemini-2.5-*", "gemini-[12].?-flash"));
  EXPECT_THAT(gemini.headers, ElementsAre(Pair("x-goog-api-key", "g-key")));
  EXPECT_FALSE(gemini.tls.verify);
  EXPECT_EQ(gemini.tls.ca_file, kCaFile);
  EXPECT_EQ(gemini.tls.server_name, "gemini.internal");
  EXPECT_EQ(gemini.max_idle_connections, 0u);
  const UpstreamConfig& ollama = c.upstreams[1];
  EXPECT_EQ(ollama.dialect, "ollama");
  EXPECT_EQ(ollama.host, "::1");
  EXPECT_EQ(ollama.port, 11434);
  ASSERT_EQ(c.prices.size(), 1u);
  EXPECT_EQ(c.prices[0].price.input, 1'250'000);
  EXPECT_EQ(c.prices[0].price.cache_read, 125'000);
  EXPECT_EQ(c.prices[0].price.cache_write, 2'000'000);
  EXPECT_EQ(c.prices[0].price.output, 10'000'000);
  EXPECT_EQ(c.prices[0].price.reasoning, 12'000'000);
  EXPECT_EQ(c.price_catalog_version, "v7");
  EXPECT_EQ(c.events.sink, "kafka");
  EXPECT_EQ(c.events.file.path, "/tmp/events.jsonl");
  EXPECT_EQ(c.events.file.queue_capacity, 1024u);
  EXPECT_EQ(c.events.kafka.brokers, "k1:9092,k2:9092");
  EXPECT_EQ(c.events.kafka.topic, "costs");
  EXPECT_THAT(c.events.kafka.properties, ElementsAre(Pair("acks", "all")));
  EXPECT_EQ(c.attribution_headers.team, "x-org-team");
  EXPECT_EQ(c.attribution_headers.project, "x-org-project");
  EXPECT_EQ(c.attribution_headers.cost_center, "x-org-cc");
  EXPECT_EQ(c.attribution_headers.workload_type, "x-org-workload");
  EXPECT_EQ(c.attribution_headers.environment, "x-org-env");
  EXPECT_EQ(c.attribution_headers.tags, "x-org-tags");
  EXPECT_EQ(c.logging.level, "debug");
}

// --- document-level rules ------------------------------------------------------------------

TEST(ConfigLoaderTest, EmptyDocumentNeedsUpstreams) {
  EXPECT_THAT(errorsOf(""), ElementsAre("upstreams: is required"));
  EXPECT_THAT(errorsOf("# only a comment\n"), ElementsAre("upstreams: is required"));
}

TEST(ConfigLoaderTest, TopLevelMustBeAMapping) {
  EXPECT_THAT(errorsOf("- a\n- b\n"), ElementsAre("expected a mapping at the top level"));
}

TEST(ConfigLoaderTest, YamlSyntaxErrorIsOneErrorWithLineAndColumn) {
  EXPECT_THAT(errorsOf("server:\n  listen: [\"127.0.0.1:8080\"\nupstreams: []\n"),
              ElementsAre("invalid YAML at line 3, column 1: end of sequence flow not found"));
}

TEST(ConfigLoaderTest, SeveralDocumentsAreRejected) {
  EXPECT_THAT(errorsOf(kUpstreams + "---\n" + kUpstreams),
              ElementsAre("expected a single YAML document"));
}

// yaml-cpp 0.7 loops forever producing empty documents on a stray ',' at a document start.
TEST(ConfigLoaderTest, StrayCommaAtDocumentStartIsASyntaxErrorNotAnEndlessLoop) {
  EXPECT_THAT(errorsOf(", x\n" + kUpstreams),
              ElementsAre("invalid YAML at line 1, column 1: unexpected ','"));
  EXPECT_THAT(errorsOf(kUpstreams + "---\n, x\n"),
              ElementsAre("invalid YAML at line 8, column 1: unexpected ','"));
}

TEST(ConfigLoaderTest, DeeplyNestedInputIsAnErrorNotACrash) {
  const std::string nested = "upstreams: " + std::string(5000, '[') + std::string(5000, ']');
  const auto errors = errorsOf(nested);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].rfind("invalid YAML at line 1, column ", 0), 0u) << errors[0];
}

TEST(ConfigLoaderTest, UnknownKeysAreErrorsAtEveryLevel) {
  EXPECT_THAT(errorsOf(withUpstream("server:\n  listn: \"127.0.0.1:1\"\n")),
              ElementsAre("server.listn: unknown key"));
  EXPECT_THAT(errorsOf(withUpstream("sever: {}\n")), ElementsAre("sever: unknown key"));
  EXPECT_THAT(errorsOf(withUpstream("server:\n  timeouts: { client_header: 5 }\n")),
              ElementsAre("server.timeouts.client_header: unknown key"));
  EXPECT_THAT(errorsOf(kUpstreams + "    nmae: x\n"),
              ElementsAre("upstreams[0].nmae: unknown key"));
  EXPECT_THAT(errorsOf(withUpstream("prices:\n  \"gpt-4o*\": { input: \"1\", output: \"2\", "
                                    "inptu: \"1\" }\n")),
              ElementsAre("prices.\"gpt-4o*\".inptu: unknown key"));
  EXPECT_THAT(errorsOf(withUpstream("events:\n  kafka: { broker: \"a:1\" }\n")),
              ElementsAre("events.kafka.broker: unknown key"));
  EXPECT_THAT(errorsOf(withUpstream("attribution:\n  headers: { teams: x-t }\n")),
              ElementsAre("attribution.headers.teams: unknown key"));
  EXPECT_THAT(errorsOf(withUpstream("logging: { lvl: info }\n")),
              ElementsAre("logging.lvl: unknown key"));
}

TEST(ConfigLoaderTest, RepeatedKeyIsAnError) {
  EXPECT_THAT(errorsOf(withUpstream("server:\n  workers: 1\n  workers: 2\n")),
              ElementsAre("server.workers: duplicate key"));
}

TEST(ConfigLoaderTest, NonStringKeyIsAnError) {
  EXPECT_THAT(errorsOf(withUpstream("server:\n  ? [a, b]\n  : 1\n")),
              ElementsAre("server: keys must be strings"));
}

TEST(ConfigLoaderTest, AllErrorsAreReportedNotOnlyTheFirst) {
  const std::string yaml = R"(
server:
  listen: "nowhere"
  workers: many
upstreams:
  - name: "bad name"
    dialect: klingon
    base_url: "ftp://x"
    models: []
prices:
  "gpt-4o*": { input: "1.1234567" }
logging: { level: loud }
)";
  EXPECT_THAT(
      errorsOf(yaml),
      ElementsAre(
          "server.listen: expected host:port (e.g. \"127.0.0.1:8080\" or \"[::1]:8080\")",
          "server.workers: expected an integer from 0 to 1024",
          "upstreams[0].name: must be 1 to 64 characters of [A-Za-z0-9_.-]",
          "upstreams[0].dialect: must be one of openai, anthropic, gemini, ollama, bedrock, "
          "azure_openai",
          "upstreams[0].base_url: must start with http:// or https://",
          "upstreams[0].models: must list at least one model glob",
          "prices.\"gpt-4o*\".input: must be a decimal string of USD per 1M tokens with at most 6 "
          "decimal places",
          "prices.\"gpt-4o*\".output: is required",
          "logging.level: must be one of trace, debug, info, warn, error, off"));
}

TEST(ConfigLoaderTest, WrongTypesSayWhatWasExpected) {
  EXPECT_THAT(errorsOf(withUpstream("server: [1]\n")), ElementsAre("server: expected a mapping"));
  EXPECT_THAT(errorsOf(withUpstream("server:\n  listen: { host: a }\n")),
              ElementsAre("server.listen: expected a string"));
  EXPECT_THAT(errorsOf(withUpstream("server:\n  instance_id:\n")),
              ElementsAre("server.instance_id: expected a string"));
  EXPECT_THAT(errorsOf(withUpstream("events: file\n")), ElementsAre("events: expected a mapping"));
  EXPECT_THAT(errorsOf(withUpstream("price_version: [a]\n")),
              ElementsAre("price_version: expected a string"));
}

TEST(ConfigLoaderTest, EmptySectionsKeepDefaults) {
  const Config config = parseValid(withUpstream("server:\nevents:\nprices:\nlogging:\n"));
  EXPECT_EQ(config.server.listen.port, 8080);
  EXPECT_EQ(config.events.sink, "file");
  EXPECT_THAT(config.prices, IsEmpty());
  EXPECT_EQ(config.logging.level, "info");
}

// --- server --------------------------------------------------------------------------------

TEST(ConfigLoaderTest, ListenAcceptsIpv4HostnameIpv6AndPortZero) {
  Config config =
      parseValid(withUpstream("server:\n  listen: \"[::]:0\"\n"
                              "  admin_listen: \"localhost:65535\"\n"));
  EXPECT_EQ(config.server.listen.host, "::");
  EXPECT_EQ(config.server.listen.port, 0);
  EXPECT_EQ(config.server.admin_listen.host, "localhost");
  EXPECT_EQ(config.server.admin_listen.port, 65535);
}

TEST(ConfigLoaderTest, ListenWithoutPortOrWithBadHostIsRejected) {
  const std::string expected =
      "server.listen: expected host:port (e.g. \"127.0.0.1:8080\" or \"[::1]:8080\")";
  EXPECT_THAT(errorsOf(withUpstream("server: { listen: \"127.0.0.1\" }\n")), ElementsAre(expected));
  EXPECT_THAT(errorsOf(withUpstream("server: { listen: \":8080\" }\n")), ElementsAre(expected));
  EXPECT_THAT(errorsOf(withUpstream("server: { listen: \"::1:8080\" }\n")), ElementsAre(expected));
  EXPECT_THAT(errorsOf(withUpstream("server: { listen: \"[::1:8080\" }\n")), ElementsAre(expected));
  EXPECT_THAT(errorsOf(withUpstream("server: { listen: \"[zz]:8080\" }\n")), ElementsAre(expected));
}

TEST(ConfigLoaderTest, ListenPortOutOfRangeIsRejected) {
  EXPECT_THAT(errorsOf(withUpstream("server: { admin_listen: \"127.0.0.1:65536\" }\n")),
              ElementsAre("server.admin_listen: port must be an integer from 0 to 65535"));
  EXPECT_THAT(errorsOf(withUpstream("server: { admin_listen: \"127.0.0.1:http\" }\n")),
              ElementsAre("server.admin_listen: port must be an integer from 0 to 65535"));
}

TEST(ConfigLoaderTest, AdminListenMustDifferFromListen) {
  EXPECT_THAT(errorsOf(withUpstream("server: { listen: \"127.0.0.1:7000\", "
                                    "admin_listen: \"127.0.0.1:7000\" }\n")),
              ElementsAre("server.admin_listen: must differ from server.listen"));
  // Two OS-picked ports never collide.
  const Config config = parseValid(
      withUpstream("server: { listen: \"127.0.0.1:0\", admin_listen: \"127.0.0.1:0\" }\n"));
  EXPECT_EQ(config.server.admin_listen.port, 0);
}

TEST(ConfigLoaderTest, WorkersMustBeAnIntegerFrom0To1024) {
  EXPECT_EQ(parseValid(withUpstream("server: { workers: 1024 }\n")).server.workers, 1024u);
  for (const char* bad : {"1025", "-1", "2.5", "many", "99999999999999999999999"}) {
    EXPECT_THAT(errorsOf(withUpstream(std::string("server: { workers: ") + bad + " }\n")),
                ElementsAre("server.workers: expected an integer from 0 to 1024"))
        << bad;
  }
}

TEST(ConfigLoaderTest, TimeoutsMustBePositiveMillisecondsUpToADay) {
  const std::string expected =
      "server.timeouts.upstream_idle_ms: expected a positive integer of milliseconds (at most "
      "86400000)";
  EXPECT_THAT(errorsOf(withUpstream("server: { timeouts: { upstream_idle_ms: 0 } }\n")),
              ElementsAre(expected));
  EXPECT_THAT(errorsOf(withUpstream("server: { timeouts: { upstream_idle_ms: 86400001 } }\n")),
              ElementsAre(expected));
  EXPECT_THAT(errorsOf(withUpstream("server: { timeouts: { upstream_idle_ms: 5s } }\n")),
              ElementsAre(expected));
}

TEST(ConfigLoaderTest, LimitsMustBePositive) {
  EXPECT_THAT(errorsOf(withUpstream("server: { limits: { max_body_bytes: 0 } }\n")),
              ElementsAre("server.limits.max_body_bytes: expected a positive integer of bytes"));
  EXPECT_THAT(errorsOf(withUpstream("server: { limits: { max_header_bytes: 1048577 } }\n")),
              ElementsAre("server.limits.max_header_bytes: expected a positive integer of bytes "
                          "(at most 1048576)"));
}

TEST(ConfigLoaderTest, InstanceIdIsRestrictedToSafeCharacters) {
  EXPECT_THAT(errorsOf(withUpstream("server: { instance_id: \"gw 1\" }\n")),
              ElementsAre("server.instance_id: must be at most 128 characters of [A-Za-z0-9._:-]"));
}

// --- upstreams -----------------------------------------------------------------------------

TEST(ConfigLoaderTest, UpstreamsMustBeANonEmptySequenceOfMappings) {
  EXPECT_THAT(errorsOf("upstreams:\n"), ElementsAre("upstreams: is required"));
  EXPECT_THAT(errorsOf("upstreams: []\n"),
              ElementsAre("upstreams: must list at least one upstream"));
  EXPECT_THAT(errorsOf("upstreams: { name: a }\n"),
              ElementsAre("upstreams: expected a sequence of upstreams"));
  EXPECT_THAT(errorsOf("upstreams: [openai]\n"), ElementsAre("upstreams[0]: expected a mapping"));
}

TEST(ConfigLoaderTest, UpstreamRequiredFieldsAreEachReported) {
  EXPECT_THAT(
      errorsOf("upstreams:\n  - max_idle_connections: 1\n"),
      ElementsAre("upstreams[0].name: is required", "upstreams[0].dialect: is required",
                  "upstreams[0].base_url: is required", "upstreams[0].models: is required"));
}

TEST(ConfigLoaderTest, UpstreamNameMustBeShortAndSafe) {
  const std::string expected = "upstreams[0].name: must be 1 to 64 characters of [A-Za-z0-9_.-]";
  EXPECT_THAT(errorsOf(upstreamWith("name: \"\"\n    dialect: openai\n    base_url: "
                                    "\"http://a\"\n    models: [\"*\"]\n")),
              ElementsAre(expected));
  EXPECT_THAT(errorsOf(upstreamWith("name: " + std::string(65, 'a') +
                                    "\n    dialect: openai\n    base_url: \"http://a\"\n"
                                    "    models: [\"*\"]\n")),
              ElementsAre(expected));
}

TEST(ConfigLoaderTest, DuplicateUpstreamNameNamesTheFirstIndex) {
  const std::string yaml = R"(
upstreams:
  - { name: a, dialect: openai, base_url: "http://h1", models: ["x*"] }
  - { name: b, dialect: openai, base_url: "http://h2", models: ["y*"] }
  - { name: a, dialect: openai, base_url: "http://h3", models: ["z*"] }
)";
  EXPECT_THAT(errorsOf(yaml),
              ElementsAre("upstreams[2].name: duplicate upstream name \"a\" (already used by "
                          "upstreams[0])"));
}

TEST(ConfigLoaderTest, DialectMustBeKnown) {
  EXPECT_THAT(errorsOf(upstreamWith("name: a\n    dialect: OpenAI\n    base_url: \"http://h\"\n"
                                    "    models: [\"*\"]\n")),
              ElementsAre("upstreams[0].dialect: must be one of openai, anthropic, gemini, ollama, "
                          "bedrock, azure_openai"));
}

Config parseBaseUrl(const std::string& url) {
  return parseValid(upstreamWith("name: a\n    dialect: openai\n    base_url: \"" + url +
                                 "\"\n    models: [\"*\"]\n"));
}

std::vector<std::string> baseUrlErrors(const std::string& url) {
  return errorsOf(upstreamWith("name: a\n    dialect: openai\n    base_url: \"" + url +
                               "\"\n    models: [\"*\"]\n"));
}

TEST(ConfigLoaderTest, BaseUrlIsSplitWithDefaultPorts) {
  Config c = parseBaseUrl("https://api.openai.com");
  EXPECT_EQ(c.upstreams[0].port, 443);
  EXPECT_EQ(c.upstreams[0].host_header, "api.openai.com");
  c = parseBaseUrl("http://vllm.internal");
  EXPECT_EQ(c.upstreams[0].port, 80);
  EXPECT_EQ(c.upstreams[0].host_header, "vllm.internal");
  c = parseBaseUrl("https://vllm.internal:80");
  EXPECT_EQ(c.upstreams[0].host_header, "vllm.internal:80");
  c = parseBaseUrl("HTTPS://Example.com:8443/openai/v1/");
  EXPECT_EQ(c.upstreams[0].scheme, "https");
  EXPECT_EQ(c.upstreams[0].host, "Example.com");
  EXPECT_EQ(c.upstreams[0].port, 8443);
  EXPECT_EQ(c.upstreams[0].host_header, "Example.com:8443");
  EXPECT_EQ(c.upstreams[0].base_path, "/openai/v1");
  c = parseBaseUrl("http://[fd00::1]:8000/");
  EXPECT_EQ(c.upstreams[0].host, "fd00::1");
  EXPECT_EQ(c.upstreams[0].port, 8000);
  EXPECT_EQ(c.upstreams[0].host_header, "[fd00::1]:8000");
  EXPECT_EQ(c.upstreams[0].base_path, "");
}

TEST(ConfigLoaderTest, BaseUrlRejectsWhatCannotBeAPrefix) {
  EXPECT_THAT(baseUrlErrors("api.openai.com"),
              ElementsAre("upstreams[0].base_url: must start with http:// or https://"));
  EXPECT_THAT(baseUrlErrors("https://h/v1?x=1"),
              ElementsAre("upstreams[0].base_url: must not contain a query or fragment"));
  EXPECT_THAT(baseUrlErrors("https://h/v1#top"),
              ElementsAre("upstreams[0].base_url: must not contain a query or fragment"));
  EXPECT_THAT(baseUrlErrors("https://user:pw@h"),
              ElementsAre("upstreams[0].base_url: must not contain userinfo (put credentials in "
                          "headers)"));
  EXPECT_THAT(baseUrlErrors("https://"), ElementsAre("upstreams[0].base_url: has no valid host"));
  EXPECT_THAT(baseUrlErrors("https:///v1"),
              ElementsAre("upstreams[0].base_url: has no valid host"));
  EXPECT_THAT(baseUrlErrors("https://h:0"),
              ElementsAre("upstreams[0].base_url: port must be an integer from 1 to 65535"));
  EXPECT_THAT(baseUrlErrors("https://h:70000"),
              ElementsAre("upstreams[0].base_url: port must be an integer from 1 to 65535"));
  EXPECT_THAT(baseUrlErrors("https://h/a b"),
              ElementsAre("upstreams[0].base_url: must not contain spaces or control characters"));
}

TEST(ConfigLoaderTest, ModelsMustBeANonEmptySequenceOfValidGlobs) {
  const std::string head = "name: a\n    dialect: openai\n    base_url: \"http://h\"\n";
  EXPECT_THAT(errorsOf(upstreamWith(head + "    models: \"gpt-*\"\n")),
              ElementsAre("upstreams[0].models: expected a sequence of model globs"));
  EXPECT_THAT(errorsOf(upstreamWith(head + "    models: []\n")),
              ElementsAre("upstreams[0].models: must list at least one model glob"));
  EXPECT_THAT(errorsOf(upstreamWith(head + "    models: [\"ok*\", \"gpt-[4\", \"\"]\n")),
              ElementsAre("upstreams[0].models[1]: invalid glob: unterminated '[' at offset 4",
                          "upstreams[0].models[2]: invalid glob: empty pattern"));
}

std::string upstreamHeaders(const std::string& headers) {
  return upstreamWith(
      "name: a\n    dialect: openai\n    base_url: \"http://h\"\n"
      "    models: [\"*\"]\n    headers:\n" +
      headers);
}

TEST(ConfigLoaderTest, HeaderNamesAreStoredLowerCaseInOrder) {
  const Config c =
      parseValid(upstreamHeaders("      X-Api-Key: k\n      Anthropic-Version: "
                                 "2023-06-01\n"));
  EXPECT_THAT(c.upstreams[0].headers,
              ElementsAre(Pair("x-api-key", "k"), Pair("anthropic-version", "2023-06-01")));
}

TEST(ConfigLoaderTest, HeaderNameMustBeAnHttpToken) {
  EXPECT_THAT(errorsOf(upstreamHeaders("      \"x api\": k\n")),
              ElementsAre("upstreams[0].headers.\"x api\": not a valid HTTP header name"));
}

TEST(ConfigLoaderTest, HeadersTheGatewayManagesCannotBeInjected) {
  EXPECT_THAT(errorsOf(upstreamHeaders("      Content-Length: \"5\"\n      host: evil\n")),
              ElementsAre("upstreams[0].headers.Content-Length: is managed by the gateway and "
                          "cannot be injected",
                          "upstreams[0].headers.host: is managed by the gateway and cannot be "
                          "injected"));
}

TEST(ConfigLoaderTest, HeaderNamesDifferingOnlyInCaseAreDuplicates) {
  EXPECT_THAT(errorsOf(upstreamHeaders("      authorization: a\n      Authorization: b\n")),
              ElementsAre("upstreams[0].headers.Authorization: duplicate header (header names "
                          "are case-insensitive)"));
}

TEST(ConfigLoaderTest, HeaderValueMustNotContainLineBreaks) {
  EXPECT_THAT(errorsOf(upstreamHeaders("      x-a: \"one\\r\\nx-b: two\"\n")),
              ElementsAre("upstreams[0].headers.x-a: header value must not contain CR, LF or NUL"));
  // A secret from the environment is checked after substitution.
  EXPECT_THAT(errorsOf(upstreamHeaders("      x-a: \"${KEY}\"\n"), envFrom({{"KEY", "k\n"}})),
              ElementsAre("upstreams[0].headers.x-a: header value must not contain CR, LF or NUL"));
}

TEST(ConfigLoaderTest, HeadersMustBeAMappingOfStrings) {
  EXPECT_THAT(errorsOf(upstreamHeaders("      - authorization\n")),
              ElementsAre("upstreams[0].headers: expected a mapping of header name to value"));
  EXPECT_THAT(errorsOf(upstreamHeaders("      x-a: [1]\n")),
              ElementsAre("upstreams[0].headers.x-a: expected a string"));
}

TEST(ConfigLoaderTest, TlsSettingsAreRead) {
  const std::string head =
      "name: a\n    dialect: openai\n    base_url: \"https://h\"\n"
      "    models: [\"*\"]\n";
  const Config c = parseValid(upstreamWith(head + "    tls: { verify: false, ca_file: \"" +
                                           kCaFile + "\", server_name: h.internal }\n"));
  EXPECT_FALSE(c.upstreams[0].tls.verify);
  EXPECT_EQ(c.upstreams[0].tls.ca_file, kCaFile);
  EXPECT_EQ(c.upstreams[0].tls.server_name, "h.internal");
  EXPECT_THAT(errorsOf(upstreamWith(head + "    tls: { verify: yes }\n")),
              ElementsAre("upstreams[0].tls.verify: expected a boolean (true or false)"));
  EXPECT_THAT(errorsOf(upstreamWith(head + "    tls: { verfy: false }\n")),
              ElementsAre("upstreams[0].tls.verfy: unknown key"));
}

TEST(ConfigLoaderTest, MissingCaFileIsRejectedNamingTheKey) {
  const std::string head =
      "name: a\n    dialect: openai\n    base_url: \"https://h\"\n"
      "    models: [\"*\"]\n";
  EXPECT_THAT(errorsOf(upstreamWith(head + "    tls: { ca_file: /nonexistent/ca.pem }\n")),
              ElementsAre("upstreams[0].tls.ca_file: cannot read \"/nonexistent/ca.pem\" (a "
                          "PEM CA bundle)"));
  EXPECT_THAT(
      errorsOf(upstreamWith(head + "    tls: { ca_file: \"" + kTestdata + "\" }\n")),
      ElementsAre("upstreams[0].tls.ca_file: cannot read \"" + kTestdata + "\" (a PEM CA bundle)"));
}

TEST(ConfigLoaderTest, IdleKeepaliveDefaultsBelowCommonServerTimeouts) {
  const std::string head =
      "name: a\n    dialect: openai\n    base_url: \"http://h\"\n"
      "    models: [\"*\"]\n";
  EXPECT_EQ(parseValid(upstreamWith(head)).upstreams[0].idle_keepalive,
            std::chrono::milliseconds(4'000));
  EXPECT_EQ(
      parseValid(upstreamWith(head + "    idle_keepalive_ms: 250\n")).upstreams[0].idle_keepalive,
      std::chrono::milliseconds(250));
  EXPECT_THAT(errorsOf(upstreamWith(head + "    idle_keepalive_ms: 0\n")),
              ElementsAre("upstreams[0].idle_keepalive_ms: expected a positive integer of "
                          "milliseconds (at most 86400000)"));
}

TEST(ConfigLoaderTest, EndpointIdentityChangesWithHostTlsAndCredentials) {
  const std::string base = "name: a\n    dialect: openai\n    models: [\"*\"]\n";
  auto id = [&](const std::string& fields) {
    return parseValid(upstreamWith(base + fields)).upstreams[0].endpoint_id;
  };
  const std::string plain = id("    base_url: \"https://h:1\"\n");
  EXPECT_EQ(plain, id("    base_url: \"https://h:1\"\n"));
  EXPECT_NE(plain, id("    base_url: \"https://h:2\"\n"));
  EXPECT_NE(plain, id("    base_url: \"https://g:1\"\n"));
  EXPECT_NE(plain, id("    base_url: \"http://h:1\"\n"));
  EXPECT_NE(plain, id("    base_url: \"https://h:1\"\n    tls: { verify: false }\n"));
  EXPECT_NE(plain, id("    base_url: \"https://h:1\"\n    tls: { server_name: x }\n"));
  EXPECT_NE(plain,
            id("    base_url: \"https://h:1\"\n    tls: { ca_file: \"" + kCaFile + "\" }\n"));
  EXPECT_NE(plain, id("    base_url: \"https://h:1\"\n    headers: { authorization: x }\n"));
  EXPECT_EQ(plain.find("authorization"), std::string::npos);
}

TEST(ConfigLoaderTest, MaxConnectionsPerWorkerIsReadAndBounded) {
  EXPECT_EQ(parseValid(withUpstream("")).server.limits.max_connections_per_worker, 10'000u);
  EXPECT_EQ(parseValid(withUpstream("server: { limits: { max_connections_per_worker: 7 } }\n"))
                .server.limits.max_connections_per_worker,
            7u);
  EXPECT_THAT(errorsOf(withUpstream("server: { limits: { max_connections_per_worker: 0 } }\n")),
              ElementsAre("server.limits.max_connections_per_worker: expected an integer from 1 to "
                          "1048576"));
}

TEST(ConfigLoaderTest, MaxIdleConnectionsIsBounded) {
  const std::string head =
      "name: a\n    dialect: openai\n    base_url: \"http://h\"\n"
      "    models: [\"*\"]\n";
  EXPECT_THAT(errorsOf(upstreamWith(head + "    max_idle_connections: 65537\n")),
              ElementsAre("upstreams[0].max_idle_connections: expected an integer from 0 to "
                          "65536"));
}

// --- prices --------------------------------------------------------------------------------

TEST(ConfigLoaderTest, PricesKeepConfigOrderAndFillDefaults) {
  const Config c = parseValid(withUpstream(R"(prices:
  "o3*": { input: 2, output: 8.00, reasoning: "9.5" }
  "gpt-4o-mini*": { input: "0.15", cache_write: 0.3, output: "0.60" }
  "*": { input: "0", output: "0" }
)"));
  ASSERT_EQ(c.prices.size(), 3u);
  EXPECT_EQ(c.prices[0].pattern, "o3*");
  EXPECT_EQ(c.prices[0].price.input, 2'000'000);
  EXPECT_EQ(c.prices[0].price.cache_read, 2'000'000);
  EXPECT_EQ(c.prices[0].price.cache_write, 2'000'000);
  EXPECT_EQ(c.prices[0].price.output, 8'000'000);
  EXPECT_EQ(c.prices[0].price.reasoning, 9'500'000);
  EXPECT_EQ(c.prices[1].pattern, "gpt-4o-mini*");
  EXPECT_EQ(c.prices[1].price.cache_read, 150'000);
  EXPECT_EQ(c.prices[1].price.cache_write, 300'000);
  EXPECT_EQ(c.prices[2].pattern, "*");
  EXPECT_EQ(c.prices[2].price.output, 0);
}

TEST(ConfigLoaderTest, PlainYamlNumbersKeepTheirExactText) {
  // A float conversion would turn 0.000001 into 9.99999e-07 and lose the exact price.
  const Config c =
      parseValid(withUpstream("prices:\n  \"m\": { input: 0.000001, output: 123456.123456 }\n"));
  EXPECT_EQ(c.prices[0].price.input, 1);
  EXPECT_EQ(c.prices[0].price.output, 123'456'123'456);
}

TEST(ConfigLoaderTest, PriceThatIsNotAnExactDecimalIsRejected) {
  const std::string message =
      ": must be a decimal string of USD per 1M tokens with at most 6 decimal places";
  for (const char* bad : {"\"1.1234567\"", "\"-1\"", "\"abc\"", "1e-3", "\"\"", "\"$3\""}) {
    EXPECT_THAT(errorsOf(withUpstream(std::string("prices:\n  \"m*\": { input: ") + bad +
                                      ", output: \"1\" }\n")),
                ElementsAre("prices.\"m*\".input" + message))
        << bad;
  }
  EXPECT_THAT(errorsOf(withUpstream("prices:\n  \"m*\": { input: \"1\", output: \"1\", "
                                    "cache_read: \"0.0000001\" }\n")),
              ElementsAre("prices.\"m*\".cache_read" + message));
}

TEST(ConfigLoaderTest, PriceNeedsInputAndOutput) {
  EXPECT_THAT(errorsOf(withUpstream("prices:\n  \"m*\": { cache_read: \"1\" }\n")),
              ElementsAre("prices.\"m*\".input: is required", "prices.\"m*\".output: is required"));
}

TEST(ConfigLoaderTest, PriceKeyMustBeAValidGlob) {
  EXPECT_THAT(errorsOf(withUpstream("prices:\n  \"gpt-[\": { input: \"1\", output: \"1\" }\n")),
              ElementsAre("prices.\"gpt-[\": invalid glob: unterminated '[' at offset 4"));
}

TEST(ConfigLoaderTest, PricesMustBeMappings) {
  EXPECT_THAT(errorsOf(withUpstream("prices: [a]\n")),
              ElementsAre("prices: expected a mapping of model glob to price"));
  EXPECT_THAT(errorsOf(withUpstream("prices:\n  \"m*\": \"1.00\"\n")),
              ElementsAre("prices.\"m*\": expected a mapping with input and output prices"));
  EXPECT_THAT(errorsOf(withUpstream("prices:\n  \"m*\": { input: [1], output: \"1\" }\n")),
              ElementsAre("prices.\"m*\".input: expected a decimal string of USD per 1M tokens"));
}

TEST(ConfigLoaderTest, PriceVersionMustNotBeEmpty) {
  EXPECT_EQ(parseValid(withUpstream("price_version: 2026-11-22\n")).price_catalog_version,
            "2026-11-22");
  EXPECT_THAT(errorsOf(withUpstream("price_version: \"\"\n")),
              ElementsAre("price_version: must not be empty"));
}

TEST(ConfigLoaderTest, ModelGlobWithoutPriceIsAWarningNotAnError) {
  const Config c = parseValid(R"(
upstreams:
  - { name: a, dialect: openai, base_url: "http://h", models: ["gpt-4o*", "*", "o3-mini"] }
prices:
  "gpt-4o*": { input: "1", output: "1" }
  "o3*": { input: "1", output: "1" }
)");
  EXPECT_THAT(c.warnings, ElementsAre("upstreams[0].models[1]: models matching \"*\" may have no "
                                      "price (their events will say \"priced\": false)"));
}

// --- events, attribution, logging -------------------------------------------------------

TEST(ConfigLoaderTest, SinkMustBeFileKafkaOrNone) {
  EXPECT_THAT(errorsOf(withUpstream("events: { sink: stdout }\n")),
              ElementsAre("events.sink: must be file, kafka or none"));
}

TEST(ConfigLoaderTest, FileSinkFieldsAreValidated) {
  EXPECT_THAT(errorsOf(withUpstream("events: { file: { path: \"\", queue_capacity: 0 } }\n")),
              ElementsAre("events.file.path: must not be empty",
                          "events.file.queue_capacity: expected a positive integer of events (at "
                          "most 16777216)"));
}

TEST(ConfigLoaderTest, KafkaSinkFieldsAreValidated) {
  EXPECT_THAT(errorsOf(withUpstream("events: { kafka: { brokers: \"\", topic: \"llm cost\" } }\n")),
              ElementsAre("events.kafka.brokers: must not be empty",
                          "events.kafka.topic: must be 1 to 249 characters of [A-Za-z0-9._-]"));
  EXPECT_THAT(errorsOf(withUpstream("events:\n  kafka:\n    properties: { linger.ms: [5] }\n")),
              ElementsAre("events.kafka.properties.\"linger.ms\": expected a string"));
  EXPECT_THAT(errorsOf(withUpstream("events:\n  kafka:\n    properties: [a]\n")),
              ElementsAre("events.kafka.properties: expected a mapping of librdkafka property to "
                          "value"));
}

TEST(ConfigLoaderTest, KafkaPropertiesKeepTheirText) {
  const Config c = parseValid(
      withUpstream("events:\n  sink: kafka\n  kafka:\n    properties: { \"compression.type\": lz4, "
                   "linger.ms: 5, acks: all }\n"));
  EXPECT_THAT(c.events.kafka.properties, ElementsAre(Pair("compression.type", "lz4"),
                                                     Pair("linger.ms", "5"), Pair("acks", "all")));
}

TEST(ConfigLoaderTest, AttributionHeaderNamesAreLowerCased) {
  const Config c =
      parseValid(withUpstream("attribution:\n  headers: { team: X-Org-Team, tags: X-Labels }\n"));
  EXPECT_EQ(c.attribution_headers.team, "x-org-team");
  EXPECT_EQ(c.attribution_headers.tags, "x-labels");
  EXPECT_EQ(c.attribution_headers.project, "x-project");
}

TEST(ConfigLoaderTest, AttributionHeaderNamesMustBeValidAndDistinct) {
  EXPECT_THAT(errorsOf(withUpstream("attribution:\n  headers: { team: \"x team\" }\n")),
              ElementsAre("attribution.headers.team: not a valid HTTP header name"));
  EXPECT_THAT(errorsOf(withUpstream("attribution:\n  headers: { project: X-Team }\n")),
              ElementsAre("attribution.headers.project: header x-team is already used by "
                          "attribution.headers.team"));
}

TEST(ConfigLoaderTest, LogLevelMustBeKnown) {
  EXPECT_EQ(parseValid(withUpstream("logging: { level: off }\n")).logging.level, "off");
  EXPECT_THAT(errorsOf(withUpstream("logging: { level: verbose }\n")),
              ElementsAre("logging.level: must be one of trace, debug, info, warn, error, off"));
}

// --- environment substitution -------------------------------------------------------------

TEST(ConfigLoaderTest, EnvironmentVariablesAreSubstitutedInsideStrings) {
  const Config c = parseValid(R"(
server:
  listen: "${HOST}:${PORT}"
  workers: ${WORKERS}
upstreams:
  - name: a
    dialect: openai
    base_url: "http://${UPSTREAM_HOST}/v1"
    models: ["*"]
    headers: { authorization: "Bearer ${KEY}${KEY}" }
)",
                              envFrom({{"HOST", "0.0.0.0"},
                                       {"PORT", "9000"},
                                       {"WORKERS", "3"},
                                       {"UPSTREAM_HOST", "up.internal:81"},
                                       {"KEY", "ab"}}));
  EXPECT_EQ(c.server.listen.host, "0.0.0.0");
  EXPECT_EQ(c.server.listen.port, 9000);
  EXPECT_EQ(c.server.workers, 3u);
  EXPECT_EQ(c.upstreams[0].host, "up.internal");
  EXPECT_EQ(c.upstreams[0].port, 81);
  EXPECT_EQ(c.upstreams[0].base_path, "/v1");
  EXPECT_THAT(c.upstreams[0].headers, ElementsAre(Pair("authorization", "Bearer abab")));
}

TEST(ConfigLoaderTest, DoubleDollarBraceIsALiteral) {
  const Config c = parseValid(upstreamHeaders("      x-a: \"$${KEY} costs $5 or $$5\"\n"));
  EXPECT_THAT(c.upstreams[0].headers, ElementsAre(Pair("x-a", "${KEY} costs $5 or $$5")));
}

TEST(ConfigLoaderTest, SubstitutedValuesAreNotExpandedAgain) {
  const Config c =
      parseValid(upstreamHeaders("      x-a: \"${A}\"\n"), envFrom({{"A", "${B}"}, {"B", "no"}}));
  EXPECT_THAT(c.upstreams[0].headers, ElementsAre(Pair("x-a", "${B}")));
}

TEST(ConfigLoaderTest, EmptyVariableIsSetAndSubstitutedAsEmpty) {
  const Config c =
      parseValid(upstreamHeaders("      x-a: \"k${EMPTY}\"\n"), envFrom({{"EMPTY", ""}}));
  EXPECT_THAT(c.upstreams[0].headers, ElementsAre(Pair("x-a", "k")));
}

TEST(ConfigLoaderTest, UnsetVariableIsAnErrorAtItsKeyPath) {
  EXPECT_THAT(errorsOf(withUpstream("events:\n  kafka: { brokers: \"${BROKERS}\" }\n")),
              ElementsAre("events.kafka.brokers: environment variable BROKERS is not set"));
  EXPECT_THAT(errorsOf(upstreamHeaders("      x-a: \"${A}-${B}\"\n")),
              ElementsAre("upstreams[0].headers.x-a: environment variable A is not set",
                          "upstreams[0].headers.x-a: environment variable B is not set"));
}

TEST(ConfigLoaderTest, MalformedReferenceIsAnError) {
  EXPECT_THAT(errorsOf(upstreamHeaders("      x-a: \"Bearer ${KEY\"\n")),
              ElementsAre("upstreams[0].headers.x-a: unterminated \"${\" (write \"$${\" for a "
                          "literal \"${\")"));
  EXPECT_THAT(errorsOf(upstreamHeaders("      x-a: \"${1KEY}\"\n")),
              ElementsAre("upstreams[0].headers.x-a: invalid environment variable reference "
                          "\"${1KEY}\""));
  EXPECT_THAT(errorsOf(upstreamHeaders("      x-a: \"${}\"\n")),
              ElementsAre("upstreams[0].headers.x-a: invalid environment variable reference "
                          "\"${}\""));
  EXPECT_THAT(errorsOf(upstreamHeaders("      x-a: \"${A-B}\"\n")),
              ElementsAre("upstreams[0].headers.x-a: invalid environment variable reference "
                          "\"${A-B}\""));
}

TEST(ConfigLoaderTest, KeysAreNotSubstituted) {
  const Config c = parseValid(
      withUpstream("prices:\n  \"$${X}*\": { input: \"1\", output: \"1\" }\n"), envFrom({}));
  EXPECT_EQ(c.prices[0].pattern, "$${X}*");
}

TEST(ConfigLoaderTest, ProcessEnvReadsTheEnvironment) {
  ASSERT_EQ(setenv("TOLLGATE_CONFIG_TEST_VAR", "from-env", 1), 0);
  const EnvLookup env = processEnv();
  EXPECT_EQ(env("TOLLGATE_CONFIG_TEST_VAR"), std::optional<std::string>("from-env"));
  EXPECT_EQ(env("TOLLGATE_CONFIG_TEST_UNSET_VAR"), std::nullopt);
  ASSERT_EQ(unsetenv("TOLLGATE_CONFIG_TEST_VAR"), 0);
}

// --- files ---------------------------------------------------------------------------------

TEST(ConfigLoaderTest, MissingFileIsOneErrorWithoutAPath) {
  auto result = loadConfigFile(kTestdata + "/does-not-exist.yaml", envFrom({}));
  ASSERT_TRUE(std::holds_alternative<std::vector<ConfigError>>(result));
  const auto& errors = std::get<std::vector<ConfigError>>(result);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].path, "");
  EXPECT_EQ(errors[0].toString(), "cannot read config file \"" + kTestdata +
                                      "/does-not-exist.yaml\": No such file or directory");
}

TEST(ConfigLoaderTest, DirectoryIsNotAConfigFile) {
  auto result = loadConfigFile(kTestdata, envFrom({}));
  ASSERT_TRUE(std::holds_alternative<std::vector<ConfigError>>(result));
  EXPECT_EQ(std::get<std::vector<ConfigError>>(result).at(0).toString(),
            "cannot read config file \"" + kTestdata + "\": is a directory");
}

TEST(ConfigLoaderTest, ErrorsFromAFileCarryTheirPaths) {
  auto result = loadConfigFile(kTestdata + "/invalid.yaml", envFrom({}));
  ASSERT_TRUE(std::holds_alternative<std::vector<ConfigError>>(result));
  std::vector<std::string> messages;
  for (const auto& e : std::get<std::vector<ConfigError>>(result)) messages.push_back(e.toString());
  EXPECT_THAT(messages,
              ElementsAre("server.listn: unknown key",
                          "upstreams[1].base_url: must not contain a query or fragment",
                          "upstreams[1].headers.authorization: environment variable "
                          "MISSING_KEY is not set",
                          "upstreams[2].name: duplicate upstream name \"openai\" (already used "
                          "by upstreams[0])",
                          "events.kafka.topic: must be 1 to 249 characters of [A-Za-z0-9._-]"));
}

// upstreams[].aws: the credentials a dialect: bedrock upstream is signed with.
EnvLookup awsEnv() {
  return envFrom({{"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
                  {"AWS_SECRET_ACCESS_KEY", "secret/with+chars"},
                  {"AWS_SESSION_TOKEN", "token-1"}});
}

std::string bedrockUpstream(const std::string& dialect, const std::string& extra) {
  return "upstreams:\n"
         "  - name: bedrock\n"
         "    dialect: " +
         dialect +
         "\n"
         "    base_url: \"https://bedrock-runtime.us-east-1.amazonaws.com\"\n"
         "    models: [\"anthropic.*\"]\n" +
         extra;
}

const std::string kBedrockAws =
    "    aws:\n"
    "      region: us-east-1\n"
    "      access_key_id: \"${AWS_ACCESS_KEY_ID}\"\n"
    "      secret_access_key: \"${AWS_SECRET_ACCESS_KEY}\"\n";

TEST(ConfigLoaderTest, BedrockCredentialsComeFromTheEnvironment) {
  const Config config = parseValid(
      bedrockUpstream("bedrock", kBedrockAws + "      session_token: \"${AWS_SESSION_TOKEN}\"\n"),
      awsEnv());
  ASSERT_EQ(config.upstreams.size(), 1u);
  const auto& aws = config.upstreams[0].aws;
  EXPECT_EQ(aws.region, "us-east-1");
  EXPECT_EQ(aws.access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(aws.secret_access_key, "secret/with+chars");
  EXPECT_EQ(aws.session_token, "token-1");
}

TEST(ConfigLoaderTest, ABedrockUpstreamWithoutAwsIsRefused) {
  EXPECT_THAT(errorsOf(bedrockUpstream("bedrock", ""), awsEnv()),
              ElementsAre("upstreams[0].aws: is required for dialect: bedrock (region and "
                          "credentials)"));
}

TEST(ConfigLoaderTest, AwsOnAnotherDialectThanBedrockIsRefused) {
  EXPECT_THAT(errorsOf(bedrockUpstream("anthropic", kBedrockAws), awsEnv()),
              ElementsAre("upstreams[0].aws: is for dialect: bedrock only"));
}

TEST(ConfigLoaderTest, MissingAwsCredentialsAndABadRegionAreEachNamed) {
  EXPECT_THAT(errorsOf(bedrockUpstream("bedrock", "    aws:\n      region: US East 1\n"), awsEnv()),
              ElementsAre("upstreams[0].aws.region: must be an AWS region name such as us-east-1",
                          "upstreams[0].aws.access_key_id: is required (write it as ${ENV_VAR})",
                          "upstreams[0].aws.secret_access_key: is required (write it as "
                          "${ENV_VAR})"));
}

TEST(ConfigLoaderTest, AnUnknownAwsKeyIsRefused) {
  EXPECT_THAT(
      errorsOf(bedrockUpstream("bedrock", kBedrockAws + "      profile: default\n"), awsEnv()),
      ElementsAre(::testing::HasSubstr("upstreams[0].aws.profile")));
}

TEST(ConfigLoaderTest, AnEmptyAwsSecretIsRefused) {
  EXPECT_THAT(
      errorsOf(bedrockUpstream("bedrock",
                               "    aws:\n      region: us-east-1\n      access_key_id: AK\n"
                               "      secret_access_key: \"\"\n"),
               awsEnv()),
      ElementsAre("upstreams[0].aws.secret_access_key: must be non-empty without spaces "
                  "or control characters"));
}

TEST(ConfigLoaderTest, PassthroughAuthOnBedrockIsRefusedBecauseTheGatewaySigns) {
  EXPECT_THAT(
      errorsOf(bedrockUpstream("bedrock", kBedrockAws + "    passthrough_auth: true\n"), awsEnv()),
      ElementsAre("upstreams[0].passthrough_auth: cannot be used with dialect: bedrock "
                  "(the gateway signs)"));
}

// upstreams[].deployments: Azure OpenAI's deployment -> model map, for pricing.
std::string azureUpstream(const std::string& dialect, const std::string& extra) {
  return "upstreams:\n"
         "  - name: azure\n"
         "    dialect: " +
         dialect +
         "\n"
         "    base_url: \"https://contoso.openai.azure.com\"\n"
         "    models: [\"*\"]\n" +
         extra;
}

TEST(ConfigLoaderTest, AzureDeploymentsMapDeploymentNamesToModels) {
  const Config config = parseValid(azureUpstream("azure_openai",
                                                 "    headers: {api-key: k}\n"
                                                 "    deployments:\n"
                                                 "      prod-chat: gpt-4o-2024-11-20\n"
                                                 "      embed: text-embedding-3-small\n"));
  ASSERT_EQ(config.upstreams.size(), 1u);
  const auto& deployments = config.upstreams[0].deployments;
  ASSERT_EQ(deployments.size(), 2u);
  EXPECT_EQ(deployments.at("prod-chat"), "gpt-4o-2024-11-20");
  EXPECT_EQ(deployments.at("embed"), "text-embedding-3-small");
}

TEST(ConfigLoaderTest, DeploymentsOnAnotherDialectThanAzureOpenAiAreRefused) {
  EXPECT_THAT(errorsOf(azureUpstream("openai", "    deployments: {a: gpt-4o}\n")),
              ElementsAre("upstreams[0].deployments: is for dialect: azure_openai only"));
}

TEST(ConfigLoaderTest, ADeploymentWithoutAModelIsRefused) {
  EXPECT_THAT(errorsOf(azureUpstream("azure_openai", "    deployments: {a: \"\"}\n")),
              ElementsAre("upstreams[0].deployments.a: must name a model"));
}

// upstreams[].credentials_file: a bearer token on disk (Vertex AI).
class CredentialsFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tollgate-credentials-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path, std::ios::binary) << text;
    return path.string();
  }

  static std::string vertex(const std::string& extra) {
    return "upstreams:\n"
           "  - name: vertex\n"
           "    dialect: gemini\n"
           "    base_url: \"https://us-central1-aiplatform.googleapis.com\"\n"
           "    models: [\"gemini-*\"]\n" +
           extra;
  }

  std::filesystem::path dir_;
};

TEST_F(CredentialsFileTest, AReadableTokenFileIsKept) {
  const std::string path = write("token", "ya29.a0token\n");
  const Config config = parseValid(vertex("    credentials_file: \"" + path + "\"\n"));
  EXPECT_EQ(config.upstreams[0].credentials_file, path);
}

TEST_F(CredentialsFileTest, AMissingOrEmptyTokenFileIsRefusedAtLoad) {
  const std::string empty = write("empty", " \n");
  for (const std::string& path : {empty, (dir_ / "absent").string(), dir_.string()}) {
    EXPECT_THAT(errorsOf(vertex("    credentials_file: \"" + path + "\"\n")),
                ElementsAre("upstreams[0].credentials_file: cannot read an access token from \"" +
                            path + "\""))
        << path;
  }
}

TEST_F(CredentialsFileTest, ATokenFileBesideAnotherCredentialIsRefused) {
  const std::string path = write("token", "ya29.a0token\n");
  const std::string file = "    credentials_file: \"" + path + "\"\n";
  EXPECT_THAT(errorsOf(vertex(file + "    headers: {Authorization: \"Bearer x\"}\n")),
              ElementsAre("upstreams[0].credentials_file: cannot be used with an injected "
                          "authorization header"));
  EXPECT_THAT(errorsOf(vertex(file + "    passthrough_auth: true\n")),
              ElementsAre("upstreams[0].credentials_file: cannot be used with passthrough_auth "
                          "(the token replaces the client's)"));
}

}  // namespace
}  // namespace tollgate::config
