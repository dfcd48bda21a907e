#include "gateway/policy/key_table.h"

#include <gtest/gtest.h>

namespace tollgate::gateway {
namespace {

config::KeyConfig keyWithHash(std::string id, std::string sha256_hex) {
  config::KeyConfig key;
  key.id = std::move(id);
  key.sha256 = std::move(sha256_hex);
  return key;
}

TEST(Sha256, MatchesTheStandardTestVectors) {
  EXPECT_EQ(toHex(sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(toHex(sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(KeyTable, FindsTheKeyWhoseHashMatches) {
  const std::vector<config::KeyConfig> keys = {
      keyWithHash("abc-key", toHex(sha256("abc"))),
      keyWithHash("fraud-prod", "749ce0db1827db657a7e2060ae27f665f6c3b3f00b320c2aa92236e29f51b5c7"),
  };
  const KeyTable table(keys);
  EXPECT_FALSE(table.empty());
  EXPECT_EQ(table.size(), 2u);
  const auto* found = table.find("fraud-secret-key");
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->id, "fraud-prod");
  ASSERT_NE(table.find("abc"), nullptr);
  EXPECT_EQ(table.find("abc")->id, "abc-key");
}

TEST(KeyTable, UnknownEmptyAndNearlyRightKeysAreNotFound) {
  const std::vector<config::KeyConfig> keys = {keyWithHash("abc-key", toHex(sha256("abc")))};
  const KeyTable table(keys);
  EXPECT_EQ(table.find("abd"), nullptr);
  EXPECT_EQ(table.find("abc "), nullptr);
  EXPECT_EQ(table.find("ABC"), nullptr);
  EXPECT_EQ(table.find(""), nullptr);
  // The stored hash itself is not a key.
  EXPECT_EQ(table.find(toHex(sha256("abc"))), nullptr);
}

TEST(KeyTable, ManyKeysEachFoundByItsOwnSecret) {
  std::vector<config::KeyConfig> keys;
  for (int i = 0; i < 500; ++i) {
    const std::string n = std::to_string(i);
    keys.push_back(keyWithHash("k" + n, toHex(sha256("secret-" + n))));
  }
  const KeyTable table(keys);
  for (int i = 0; i < 500; ++i) {
    const auto* key = table.find("secret-" + std::to_string(i));
    ASSERT_NE(key, nullptr) << i;
    EXPECT_EQ(key->id, "k" + std::to_string(i));
  }
  EXPECT_EQ(table.find("secret-500"), nullptr);
}

TEST(KeyTable, NoKeysMeansOpenMode) {
  const std::vector<config::KeyConfig> keys;
  const KeyTable table(keys);
  EXPECT_TRUE(table.empty());
  EXPECT_EQ(table.find("anything"), nullptr);
}

}  // namespace
}  // namespace tollgate::gateway
