// `lineage tree` against the real /proc: the test builds a real process
// tree and checks that lineage shows exactly what it built.
#include <pthread.h>
#include <signal.h>
#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "spawn.h"

namespace lineage::testing {
namespace {

using nlohmann::json;

// Name with spaces, parentheses and an escape sequence (comm holds 15 bytes).
const std::string kEvilComm = "a) (b\x1b[31m x";

void* sleep_forever(void*) {
  for (;;) ::pause();
  return nullptr;
}

// Kills a process that is not our child, by pid, and waits until it is gone
// (re-parented processes are reaped by init on its own schedule).
void kill_and_wait(pid_t pid) {
  if (pid <= 0) return;
  ::kill(pid, SIGKILL);
  for (int i = 0; i < 200 && ::kill(pid, 0) == 0; ++i) ::usleep(5000);
}

// Builds, under the test process:
//
//   root (comm kEvilComm)
//   ├─ threaded (2 extra threads)
//   ├─ sh -c 'sleep 1000; : "line1<NL>line2<ESC>[2J"'
//   │  └─ sleep 1000
//   └─ zombie child (exited, never reaped)
class RealTree : public ::testing::Test {
 protected:
  void SetUp() override {
    int ready[2];
    ASSERT_EQ(::pipe(ready), 0);
    root_ = ::fork();
    ASSERT_GE(root_, 0);
    if (root_ == 0) {
      ::close(ready[0]);
      // Nothing below may hold the test's output pipes open.
      int devnull = ::open("/dev/null", O_RDWR);
      ::dup2(devnull, 0);
      ::dup2(devnull, 1);
      ::dup2(devnull, 2);
      ::prctl(PR_SET_NAME, kEvilComm.c_str());
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      pid_t threaded = ::fork();
      if (threaded == 0) {
        std::string name = "lthr" + std::to_string(::getpid());  // unique per run
        ::prctl(PR_SET_NAME, name.c_str());
        pthread_t t;
        for (int i = 0; i < 2; ++i) ::pthread_create(&t, nullptr, sleep_forever, nullptr);
        sleep_forever(nullptr);
      }
      pid_t shell = ::fork();
      if (shell == 0) {
        ::execl("/bin/sh", "sh", "-c", "sleep 1000; : \"line1\nline2\x1b[2J\"", nullptr);
        ::_exit(127);
      }
      pid_t zombie = ::fork();
      if (zombie == 0) ::_exit(0);
      std::string children;  // of the shell: the sleep
      // Report once the zombie is a zombie and the shell has started sleep.
      for (int i = 0; i < 500; ++i) {
        siginfo_t info{};
        ::waitid(P_PID, zombie, &info, WEXITED | WNOWAIT | WNOHANG);
        bool zombie_ready = info.si_pid == zombie;
        children.clear();
        FILE* f = std::fopen(("/proc/" + std::to_string(shell) + "/task/" + std::to_string(shell) + "/children").c_str(), "r");
        if (f) {
          char buf[64] = {0};
          if (std::fgets(buf, sizeof buf, f)) children = buf;
          std::fclose(f);
        }
        if (zombie_ready && !children.empty()) break;
        ::usleep(10000);
      }
      pid_t pids[4] = {threaded, shell, zombie, std::atoi(children.c_str())};
      if (::write(ready[1], pids, sizeof pids) != sizeof pids) ::_exit(1);
      for (;;) ::pause();
    }
    ::close(ready[1]);
    pid_t pids[4];
    ASSERT_EQ(::read(ready[0], pids, sizeof pids), static_cast<ssize_t>(sizeof pids));
    ::close(ready[0]);
    threaded_ = pids[0];
    shell_ = pids[1];
    zombie_ = pids[2];
    sleep_ = pids[3];
    ::usleep(50000);  // let the threads start
  }

  void TearDown() override {
    for (pid_t p : {sleep_, threaded_, shell_}) kill_and_wait(p);
    if (root_ > 0) {
      ::kill(root_, SIGKILL);
      ::waitpid(root_, nullptr, 0);
    }
  }

  static const json* child_with_pid(const json& node, int pid) {
    for (const auto& c : node["children"]) {
      if (c["pid"] == pid) return &c;
    }
    return nullptr;
  }

  pid_t root_ = -1, threaded_ = -1, shell_ = -1, zombie_ = -1, sleep_ = -1;
};

TEST_F(RealTree, JsonMatchesWhatWasBuilt) {
  auto r = run_lineage({"tree", std::to_string(root_), "--json", "--threads"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["schema"], "lineage.tree/v1");
  EXPECT_EQ(doc["targets"], json::array({root_}));
  // Walk down the context path (ancestors) to the target.
  const json* node = &doc["processes"][0];
  EXPECT_EQ((*node)["pid"], 1);
  while ((*node)["pid"] != root_) {
    ASSERT_EQ((*node)["children"].size(), 1u) << "ancestors are shown as a single path";
    EXPECT_TRUE(node->value("context", false));
    node = &(*node)["children"][0];
  }
  const json& root = *node;
  EXPECT_TRUE(root.value("target", false));
  EXPECT_EQ(root["comm"], kEvilComm.substr(0, 15));
  EXPECT_EQ(root["ppid"], ::getpid());
  ASSERT_EQ(root["children"].size(), 3u);

  const json* threaded = child_with_pid(root, threaded_);
  ASSERT_NE(threaded, nullptr);
  EXPECT_EQ((*threaded)["nlwp"], 3);
  EXPECT_EQ((*threaded)["threads"].size(), 2u);

  const json* zombie = child_with_pid(root, zombie_);
  ASSERT_NE(zombie, nullptr);
  EXPECT_EQ((*zombie)["state"], "Z");

  const json* shell = child_with_pid(root, shell_);
  ASSERT_NE(shell, nullptr);
  EXPECT_EQ((*shell)["cmdline"][2], "sleep 1000; : \"line1\nline2\x1b[2J\"");
  ASSERT_EQ((*shell)["children"].size(), 1u);
  const json& sleep = (*shell)["children"][0];
  EXPECT_EQ(sleep["pid"], sleep_);
  EXPECT_EQ(sleep["cmdline"], json::array({"sleep", "1000"}));
  EXPECT_EQ(sleep["uid"], ::geteuid());
}

TEST_F(RealTree, TextEscapesHostileNamesAndDrawsTheTree) {
  auto r = run_lineage({"tree", std::to_string(root_), "--threads", "-o", "pid,stat,cmd", "--ascii"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (char c : r.out) {
    auto u = static_cast<unsigned char>(c);
    ASSERT_TRUE(u >= 0x20 || c == '\n') << "raw control byte " << int(u) << " in:\n" << r.out;
  }
  EXPECT_NE(r.out.find("line1\\nline2\\e[2J"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("{lthr" + std::to_string(threaded_) + "}"), std::string::npos) << r.out;
  // Lines: header, ancestors, target, 3 children, 2 threads, the sleep.
  std::istringstream lines(r.out);
  std::string line;
  bool saw_zombie = false, saw_sleep = false;
  while (std::getline(lines, line)) {
    if (line.find(std::to_string(zombie_) + " Z") != std::string::npos) saw_zombie = true;
    if (line.find("`- sleep 1000") != std::string::npos) saw_sleep = true;
  }
  EXPECT_TRUE(saw_zombie) << r.out;
  EXPECT_TRUE(saw_sleep) << r.out;
}

TEST_F(RealTree, NameTargetFindsTheProcess) {
  auto r = run_lineage({"tree", "--name", "lthr" + std::to_string(threaded_), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  json doc = json::parse(r.out);
  EXPECT_EQ(doc["targets"], json::array({threaded_}));
}

// Every parent link lineage shows is the kernel's, as ps reports it.
TEST(RealProc, ParentLinksMatchPs) {
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto ps = run_command({"ps", "-e", "-o", "pid=,ppid="});
    auto mine = run_lineage({"tree", "--kernel", "--json"});
    ASSERT_EQ(ps.exit_code, 0);
    ASSERT_EQ(mine.exit_code, 0) << mine.err;
    std::map<int, int> kernel;
    std::istringstream in(ps.out);
    int pid, ppid;
    while (in >> pid >> ppid) kernel[pid] = ppid;
    std::map<int, int> shown;
    std::vector<std::pair<const json*, int>> stack;
    json doc = json::parse(mine.out);
    for (const auto& p : doc["processes"]) stack.emplace_back(&p, 0);
    while (!stack.empty()) {
      auto [node, parent] = stack.back();
      stack.pop_back();
      int self = (*node)["pid"];
      shown[self] = (*node)["ppid"];
      if (parent != 0) {
        EXPECT_EQ((*node)["ppid"], parent) << "drawn under the wrong parent";
      }
      for (const auto& c : (*node)["children"]) stack.emplace_back(&c, self);
    }
    size_t common = 0, differ = 0;
    for (auto [p, pp] : kernel) {
      auto it = shown.find(p);
      if (it == shown.end()) continue;
      ++common;
      differ += it->second != pp;
    }
    EXPECT_GT(common, kernel.size() / 2);
    if (differ == 0) return;  // processes may come and go between the two reads
  }
  FAIL() << "parent links differ from ps in three attempts";
}

TEST(RealProc, ExitCodesForBadInput) {
  EXPECT_EQ(run_lineage({"tree", "0"}).exit_code, 4);
  EXPECT_EQ(run_lineage({"tree", "--pid", "abc"}).exit_code, 4);
  EXPECT_EQ(run_lineage({"tree", "-o", "pid,bogus"}).exit_code, 4);
  EXPECT_EQ(run_lineage({"tree", "--user", "no-such-user-xyz"}).exit_code, 4);
  EXPECT_EQ(run_lineage({"tree", "--sort", "-nothing"}).exit_code, 4);
  EXPECT_EQ(run_lineage({"tree", "--no-such-flag"}).exit_code, 4);
  EXPECT_EQ(run_lineage({"tree", "4194000"}).exit_code, 2);
  auto none = run_lineage({"tree", "--exact", "no-such-process-name-xyz"});
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("no process matches"), std::string::npos);
  EXPECT_EQ(run_lineage({"tree", "--help"}).exit_code, 0);
}

TEST(RealProc, KernelThreadsHiddenByDefault) {
  auto hidden = run_lineage({"tree", "--json"});
  auto shown = run_lineage({"tree", "--json", "--kernel"});
  ASSERT_EQ(hidden.exit_code, 0);
  ASSERT_EQ(shown.exit_code, 0);
  EXPECT_EQ(hidden.out.find("\"kernel_thread\":true"), std::string::npos);
  EXPECT_NE(shown.out.find("\"kernel_thread\":true"), std::string::npos);
}

}  // namespace
}  // namespace lineage::testing
