#include "gateway/upstream/access_token_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>

namespace tollgate::gateway {
namespace {

class AccessTokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // A parameterised test's name has a '/' in it: one directory per test, not a tree.
    std::string test = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    std::replace(test.begin(), test.end(), '/', '-');
    dir_ = std::filesystem::temp_directory_path() /
           ("tollgate-token-" + std::to_string(::getpid()) + "-" + test);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "token").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `text` in place (same inode).
  void overwrite(const std::string& text) const {
    std::ofstream(path_, std::ios::binary | std::ios::trunc) << text;
  }

  // Writes `text` to a new file renamed over the token: what a Kubernetes secret update or
  // `gcloud auth print-access-token > tmp && mv tmp token` does.
  void replace(const std::string& text) const {
    const std::string tmp = path_ + ".tmp";
    std::ofstream(tmp, std::ios::binary) << text;
    std::filesystem::rename(tmp, path_);
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST_F(AccessTokenFileTest, NoFileConfiguredIsNoToken) {
  AccessTokenFile none{""};
  EXPECT_EQ(none.current(), "");
  EXPECT_EQ(none.reads(), 0u);
}

TEST_F(AccessTokenFileTest, TheFirstLineWithoutSurroundingWhitespaceIsTheToken) {
  overwrite("  ya29.first-token \r\nsecond line\n");
  AccessTokenFile file{path_};
  EXPECT_EQ(file.current(), "ya29.first-token");
}

TEST_F(AccessTokenFileTest, AnUnchangedFileIsReadOnce) {
  overwrite("ya29.token\n");
  AccessTokenFile file{path_};
  EXPECT_EQ(file.current(), "ya29.token");
  EXPECT_EQ(file.current(), "ya29.token");
  EXPECT_EQ(file.reads(), 1u);
}

TEST_F(AccessTokenFileTest, AMissingOrEmptyFileKeepsTheLastToken) {
  overwrite("ya29.valid\n");
  AccessTokenFile file{path_};
  EXPECT_EQ(file.current(), "ya29.valid");
  std::filesystem::remove(path_);
  EXPECT_EQ(file.current(), "ya29.valid");
  overwrite("");  // a writer that truncated and has not written yet
  EXPECT_EQ(file.current(), "ya29.valid");
  overwrite("ya29.next\n");
  EXPECT_EQ(file.current(), "ya29.next");
}

// A change to the token file between two calls, and the token the second call must use.
struct TokenChange {
  enum class Write { kInPlace, kByRename };
  const char* name;
  Write write;
  std::string text;
  std::string expected;
};

void PrintTo(const TokenChange& change, std::ostream* out) { *out << change.name; }

class AccessTokenFileChangeTest : public AccessTokenFileTest,
                                  public ::testing::WithParamInterface<TokenChange> {};

TEST_P(AccessTokenFileChangeTest, AtTheNextCall) {
  const TokenChange& change = GetParam();
  overwrite("ya29.old\n");
  AccessTokenFile file{path_};
  EXPECT_EQ(file.current(), "ya29.old");
  if (change.write == TokenChange::Write::kByRename) {
    replace(change.text);
  } else {
    overwrite(change.text);
  }
  EXPECT_EQ(file.current(), change.expected);
}

using Write = TokenChange::Write;

INSTANTIATE_TEST_SUITE_P(
    Changes, AccessTokenFileChangeTest,
    ::testing::Values(TokenChange{"ATokenRotatedByRenameIsUsed", Write::kByRename, "ya29.new\n",
                                  "ya29.new"},
                      TokenChange{"ATokenRewrittenInPlaceIsUsed", Write::kInPlace,
                                  "ya29.longer-new\n", "ya29.longer-new"},
                      TokenChange{"ATokenWithAControlCharacterIsNotUsed", Write::kByRename,
                                  std::string("ya29.bad\x01token\n"), "ya29.old"}),
    [](const ::testing::TestParamInfo<TokenChange>& info) { return info.param.name; });

}  // namespace
}  // namespace tollgate::gateway
