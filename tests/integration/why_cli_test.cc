// `lineage why PID` takes a fast path past CLI11 for its commonest command
// lines; it must mean exactly what CLI11 would make of them. And user names
// read straight from /etc/passwd must be what the C library answers.
#include <pwd.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <string>
#include <vector>

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

// A process group of real processes, killed whole when the test ends.
class Group {
 public:
  /// Runs argv in a new process group (argv[0] a path, argv0 what it shows).
  Group(const std::vector<std::string>& argv, const std::string& argv0 = "") {
    leader_ = ::fork();
    if (leader_ == 0) {
      ::setpgid(0, 0);
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      if (!argv0.empty()) args[0] = const_cast<char*>(argv0.c_str());
      args.push_back(nullptr);
      ::execv(argv[0].c_str(), args.data());
      ::_exit(127);
    }
    if (leader_ > 0) ::setpgid(leader_, leader_);
  }
  ~Group() {
    if (leader_ <= 0) return;
    ::kill(-leader_, SIGKILL);
    ::waitpid(leader_, nullptr, 0);
  }
  Group(const Group&) = delete;
  Group& operator=(const Group&) = delete;
  pid_t pid() const { return leader_; }

 private:
  pid_t leader_ = -1;
};

std::string temp_path(const std::string& stem) {
  return (std::filesystem::temp_directory_path() / (stem + std::to_string(::getpid()))).string();
}

// Waits up to `ms` for a file holding a pid.
pid_t wait_for_pid_file(const std::string& path, int ms) {
  for (int waited = 0; waited < ms; waited += 20) {
    std::ifstream in(path);
    pid_t pid = 0;
    if (in >> pid && pid > 0) return pid;
    ::usleep(20'000);
  }
  return 0;
}

// Issue 8: the walk stopped at 256 ancestors, silently. A sleep 300 shells
// deep is walked up to this test (and above), and not marked truncated.
TEST(WhyDepth, ChainOf300ShellsIsWalkedWhole) {
  constexpr int kDepth = 300;
  std::string script = temp_path("lineage-deep-") + ".sh";
  std::string pid_file = script + ".pid";
  {
    // "; exit $?" keeps each shell waiting (no exec of the last command).
    std::ofstream(script) << "if [ \"$1\" -gt 0 ]; then /bin/sh \"$0\" $(($1 - 1)) \"$2\"; exit $?; fi\n"
                             "echo $$ > \"$2.tmp\" && mv \"$2.tmp\" \"$2\"\n"
                             "exec /bin/sleep 60\n";
  }
  Group deep({"/bin/sh", script, std::to_string(kDepth), pid_file});
  pid_t target = wait_for_pid_file(pid_file, 60'000);
  ASSERT_GT(target, 0) << "the shells did not reach depth " << kDepth;
  ::usleep(50'000);  // until sleep has exec'd
  auto r = run_lineage({"why", std::to_string(target), "--json"});
  std::filesystem::remove(script);
  std::filesystem::remove(pid_file);
  ASSERT_LE(r.exit_code, 1) << r.err;
  auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["truncated"], false);
  const auto& chain = j["chain"];
  ASSERT_GT(chain.size(), static_cast<size_t>(kDepth + 1));
  EXPECT_EQ(chain.back()["pid"], target);
  bool reaches_us = std::any_of(chain.begin(), chain.end(), [](const auto& p) { return p["pid"] == ::getpid(); });
  EXPECT_TRUE(reaches_us) << "the walk stopped below the test process";
  for (const auto& w : j["warnings"]) EXPECT_NE(w["id"], "chain-truncated");
}

// Issue 8: `timeout 10 lineage why NAME` listed timeout, whose command line
// carries NAME as our argument: an ambiguous match (exit 4) for one process.
TEST(WhyTargets, OwnWrapperIsNotAMatch) {
  std::string name = "lbwrapped" + std::to_string(::getpid());
  Group target({"/bin/sleep", "60"}, name);
  ::usleep(50'000);
  auto r = run_command({"/usr/bin/timeout", "20", LINEAGE_BINARY, "why", name, "--json"});
  ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.exit_code << ": " << r.err;
  // One document (not "results"), for the sleep: timeout was not a match.
  // (The summary may still name a timeout that runs the test suite itself.)
  auto j = nlohmann::json::parse(r.out);
  EXPECT_FALSE(j.contains("results")) << r.out;
  EXPECT_EQ(j["target"]["pid"], target.pid()) << r.out;
  EXPECT_EQ(j["target"]["comm"], "sleep") << r.out;
}

// Issue 8: one match exiting between the scan and its report failed the
// whole command (exit 2, nothing printed). Three loops restart matches that
// live 10 ms beside one that lives on: no run may fail, every run reports
// the long-lived one, and a vanished match is listed under "skipped".
TEST(WhyChurn, VanishedMatchesAreSkippedNotFatal) {
  std::string name = "lbchurn" + std::to_string(::getpid());
  Group steady({"/bin/sleep", "120"}, name);
  std::string loop = "while :; do (exec -a " + name + " /bin/sleep 0.01); done";
  std::vector<std::unique_ptr<Group>> churn;
  for (int i = 0; i < 3; ++i) churn.push_back(std::make_unique<Group>(std::vector<std::string>{"/bin/bash", "-c", loop}));
  ::usleep(100'000);
  int skipped_runs = 0;
  for (int run = 0; run < 15; ++run) {
    auto r = run_lineage({"why", name, "--all", "--json"});
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << "run " << run << " exited " << r.exit_code << ": " << r.err;
    auto j = nlohmann::json::parse(r.out);
    auto docs = j.contains("results") ? j["results"] : nlohmann::json::array({j});
    bool steady_seen = std::any_of(docs.begin(), docs.end(),
                                   [&](const auto& d) { return d["target"]["pid"] == steady.pid(); });
    EXPECT_TRUE(steady_seen) << r.out;
    if (j.contains("skipped")) {
      ++skipped_runs;
      for (const auto& s : j["skipped"]) {
        EXPECT_EQ(s["target"], name);
        EXPECT_EQ(s["reason"], "exited before it could be explained");
        EXPECT_NE(s["pid"], steady.pid());
      }
    }
  }
  // Text: the note goes to stderr, and --short stays one line a report.
  for (int run = 0; run < 5; ++run) {
    auto r = run_lineage({"why", name, "--all", "--short", "--no-color"});
    ASSERT_TRUE(r.exit_code == 0 || r.exit_code == 1) << r.err;
    EXPECT_EQ(r.out.find("exited before"), std::string::npos);
    for (size_t at = 0; (at = r.err.find("lineage: note: ", at)) != std::string::npos; ++at) {
      EXPECT_NE(r.err.find("exited before it could be explained", at), std::string::npos) << r.err;
    }
  }
  std::printf("[ info ] %d of 30 runs skipped a match that exited\n", skipped_runs);
}

// A pid typed by the user that does not exist is still an error (exit 2).
TEST(WhyChurn, MissingGivenPidStillFails) {
  auto r = run_lineage({"why", "4194303"});
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.err.find("no process with pid 4194303"), std::string::npos) << r.err;
}

// Capabilities held only inside the process's own user namespace give
// nothing on the host: no dangerous-capabilities. The same capability held
// in the initial namespace (ambient, as nobody) still raises it.
TEST(WhyWarnings, CapabilitiesInsideAUserNamespaceAreNotDangerous) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to start processes as nobody";
  if (::access("/usr/bin/setpriv", X_OK) != 0 || ::access("/usr/bin/unshare", X_OK) != 0) {
    GTEST_SKIP() << "setpriv or unshare is not installed";
  }
  auto as_nobody = [](std::vector<std::string> extra) {
    std::vector<std::string> argv{"/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
  };
  auto warnings_of = [](pid_t leader) {
    // The leader exec'd through setpriv (and unshare) into sleep: same pid.
    auto r = run_lineage({"why", std::to_string(leader), "--json"});
    std::vector<std::string> ids;
    EXPECT_LE(r.exit_code, 1) << r.err;
    if (r.exit_code > 1) return ids;
    auto j = nlohmann::json::parse(r.out);
    for (const auto& w : j["warnings"]) ids.push_back(w["id"]);
    return ids;
  };
  Group userns(as_nobody({"/usr/bin/unshare", "-Ur", "/bin/sleep", "60"}));
  Group ambient(as_nobody({"--inh-caps=+sys_ptrace", "--ambient-caps=+sys_ptrace", "/bin/sleep", "60"}));
  ::usleep(200'000);
  auto probe = run_command({"/bin/grep", "CapEff", "/proc/" + std::to_string(userns.pid()) + "/status"});
  if (probe.out.find("000001ff") == std::string::npos && probe.out.find("0000003f") == std::string::npos) {
    GTEST_SKIP() << "unshare -Ur did not give a full set here: " << probe.out << probe.err;
  }
  auto in_userns = warnings_of(userns.pid());
  auto on_host = warnings_of(ambient.pid());
  EXPECT_EQ(std::count(in_userns.begin(), in_userns.end(), "dangerous-capabilities"), 0);
  EXPECT_EQ(std::count(on_host.begin(), on_host.end(), "dangerous-capabilities"), 1)
      << run_command({"/bin/grep", "-E", "Uid|CapEff", "/proc/" + std::to_string(ambient.pid()) + "/status"}).out;
}

// User input echoed in an error is escaped: no raw escape sequence reaches
// the terminal from a file target or an unknown option.
TEST(WhyErrors, UserInputInErrorsIsEscaped) {
  auto file = run_lineage({"why", "/nonexistent/\x1b[31mred"});
  EXPECT_EQ(file.exit_code, 2);
  EXPECT_EQ(file.err.find('\x1b'), std::string::npos) << file.err;
  EXPECT_NE(file.err.find("\\e[31mred"), std::string::npos) << file.err;
  auto option = run_lineage({"why", "--\x1b]0;title\x07"});
  EXPECT_EQ(option.exit_code, 4);
  EXPECT_EQ(option.err.find('\x1b'), std::string::npos) << option.err;
  auto name = run_lineage({"why", "no-such-\x1b[2Jname"});
  EXPECT_EQ(name.exit_code, 2);
  EXPECT_EQ(name.err.find('\x1b'), std::string::npos) << name.err;
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
