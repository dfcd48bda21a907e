#include "gateway/upstream/access_token_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace tollgate::gateway {
namespace {

class AccessTokenFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tollgate-token-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
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

TEST_F(AccessTokenFileTest, ATokenRotatedByRenameIsUsedAtTheNextCall) {
  overwrite("ya29.old\n");
  AccessTokenFile file{path_};
  EXPECT_EQ(file.current(), "ya29.old");
  replace("ya29.new\n");
  EXPECT_EQ(file.current(), "ya29.new");
}

TEST_F(AccessTokenFileTest, ATokenRewrittenInPlaceIsUsedAtTheNextCall) {
  overwrite("ya29.old\n");
  AccessTokenFile file{path_};
  EXPECT_EQ(file.current(), "ya29.old");
  overwrite("ya29.longer-new\n");
  EXPECT_EQ(file.current(), "ya29.longer-new");
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

TEST_F(AccessTokenFileTest, ATokenWithAControlCharacterIsNotUsed) {
  overwrite("ya29.valid\n");
  AccessTokenFile file{path_};
  EXPECT_EQ(file.current(), "ya29.valid");
  replace(std::string("ya29.bad\x01token\n"));
  EXPECT_EQ(file.current(), "ya29.valid");
}

}  // namespace
}  // namespace tollgate::gateway
