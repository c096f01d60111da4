// `lineage why PID` takes a fast path past CLI11 for its commonest command
// lines; it must mean exactly what CLI11 would make of them. And user names
// read straight from /etc/passwd must be what the C library answers.
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "procfs/users.h"
#include "spawn.h"

namespace lineage::testing {
namespace {

class WhyCli : public ::testing::Test {
 protected:
  void SetUp() override {
    child_ = ::fork();
    ASSERT_GE(child_, 0);
    if (child_ == 0) {
      ::execl("/bin/sleep", "sleep", "30", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::usleep(50'000);  // until it has exec'd
  }
  void TearDown() override {
    if (child_ > 0) {
      ::kill(child_, SIGKILL);
      ::waitpid(child_, nullptr, 0);
    }
  }
  // What stays the same between two runs a moment apart.
  static nlohmann::json stable(const std::string& out) {
    auto j = nlohmann::json::parse(out);
    nlohmann::json s;
    s["target"] = j["target"]["pid"];
    for (const auto& p : j["chain"]) s["chain"].push_back(p["pid"]);
    for (const auto& src : j["sources"]) s["sources"].push_back(src["kind"]);
    for (const auto& w : j["warnings"]) s["warnings"].push_back(w["id"]);
    return s;
  }
  pid_t child_ = -1;
};

// The fast path (pids and boolean flags) against CLI11 (the same request
// with an option that takes a value, which the fast path leaves to CLI11).
TEST_F(WhyCli, FastPathMeansWhatCli11Means) {
  std::string pid = std::to_string(child_);
  auto fast = run_lineage({pid, "--json"});
  auto slow = run_lineage({"why", "--proc-root", "/proc", "--json", pid});
  ASSERT_EQ(fast.exit_code, slow.exit_code) << fast.err << slow.err;
  EXPECT_EQ(stable(fast.out), stable(slow.out));
  EXPECT_EQ(stable(fast.out)["target"], child_);

  auto fast_short = run_lineage({"why", pid, "-w", "--short", "--no-color"});
  auto slow_short = run_lineage({"why", "--short", "--wide", "--proc-root", "/proc", pid});
  EXPECT_EQ(fast_short.exit_code, slow_short.exit_code);
  EXPECT_EQ(fast_short.out, slow_short.out);
  EXPECT_EQ(std::count(fast_short.out.begin(), fast_short.out.end(), '\n'), 1);  // one line
}

TEST_F(WhyCli, WhatTheFastPathDeclinesStillWorksOrFails) {
  std::string pid = std::to_string(child_);
  auto twice = run_lineage({"why", pid, "--short", "--short"});  // a repeat: CLI11 decides
  EXPECT_TRUE(twice.exit_code == 0 || twice.exit_code == 1) << twice.err;
  EXPECT_EQ(run_lineage({"why", pid, "--bogus"}).exit_code, 4);
  EXPECT_EQ(run_lineage({"why", "0"}).exit_code, 4);
  auto two = run_lineage({"why", pid, pid, "--short"});  // two targets: one line each
  EXPECT_TRUE(two.exit_code == 0 || two.exit_code == 1) << two.err;
  EXPECT_EQ(std::count(two.out.begin(), two.out.end(), '\n'), 2) << two.out;
  auto help = run_lineage({"why", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--short"), std::string::npos);
}

// Every uid in the user database gets the name getpwuid gives (the first
// entry of a uid wins in both).
TEST(UserNames, MatchTheCLibrary) {
  procfs::UserNames names;
  std::map<uid_t, std::string> first;
  ::setpwent();
  while (passwd* pw = ::getpwent()) first.emplace(pw->pw_uid, pw->pw_name);
  ::endpwent();
  ASSERT_FALSE(first.empty());
  for (const auto& [uid, name] : first) {
    passwd* pw = ::getpwuid(uid);
    ASSERT_NE(pw, nullptr);
    EXPECT_EQ(names.name(uid), pw->pw_name) << uid;
  }
  EXPECT_EQ(names.name(4'000'000'000u), "4000000000");  // nobody has it: the number
}

}  // namespace
}  // namespace lineage::testing
