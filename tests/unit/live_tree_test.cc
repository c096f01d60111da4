// The live tree driven by recorded events (the replay source), with the
// scenarios drawn in comments and queries at several past times.
#include "core/live_tree.h"

#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "events/event_json.h"
#include "events/replay_source.h"

namespace lineage::core {
namespace {

constexpr uint64_t kS = 1'000'000'000;

// Applies JSON lines (lineage.event/v1) to a tree.
void replay(LiveTree& tree, const std::string& lines) {
  std::istringstream in(lines);
  events::ReplayEventSource source(in);
  std::vector<events::Event> evs;
  ASSERT_TRUE(source.poll(evs, 0));
  ASSERT_EQ(source.malformed(), 0u);
  for (const auto& e : evs) tree.apply(e);
}

std::string fork(uint64_t t, int pid, int ppid, const char* comm = "") {
  return "{\"event\":\"fork\",\"time_ns\":" + std::to_string(t) + ",\"pid\":" + std::to_string(pid) +
         ",\"start_time_ns\":" + std::to_string(t) + ",\"ppid\":" + std::to_string(ppid) + ",\"comm\":\"" + comm +
         "\"}\n";
}
std::string exec(uint64_t t, int pid, const char* exe, int tid = 0) {
  return "{\"event\":\"exec\",\"time_ns\":" + std::to_string(t) + ",\"pid\":" + std::to_string(pid) +
         (tid ? ",\"tid\":" + std::to_string(tid) : std::string()) + ",\"exe\":\"" + exe +
         "\",\"comm\":\"" + std::string(exe).substr(std::string(exe).rfind('/') + 1) + "\",\"argv\":[\"" + exe +
         "\"]}\n";
}
std::string exit_(uint64_t t, int pid, int code = 0) {
  return "{\"event\":\"exit\",\"time_ns\":" + std::to_string(t) + ",\"pid\":" + std::to_string(pid) +
         ",\"exit_code\":" + std::to_string(code) + "}\n";
}

// init(1) forks sshd(10) at 1 s; sshd forks 20 at 2 s which execs bash at
// 3 s; bash forks 30 at 4 s, which execs make at 5 s and exits at 9 s.
std::string basic() {
  return fork(1 * kS, 1, 0, "init") + fork(1 * kS + 1, 10, 1, "sshd") + fork(2 * kS, 20, 10) +
         exec(3 * kS, 20, "/usr/bin/bash") + fork(4 * kS, 30, 20) + exec(5 * kS, 30, "/usr/bin/make") +
         exit_(9 * kS, 30, 2);
}

TEST(LiveTree, ForkExecExitAndTimeTravel) {
  LiveTree tree;
  replay(tree, basic());
  ProcessKey make{30, 4 * kS};
  const LiveProcess* p = tree.find(make);
  ASSERT_NE(p, nullptr);
  EXPECT_FALSE(p->alive());
  EXPECT_EQ(p->exit_code, 2 << 8);  // the wait status of exit(2)
  EXPECT_EQ(tree.find_pid(30), nullptr);  // exited: pid 30 is free now
  // As of 4.5 s it was a fork of bash, still running bash's image.
  auto before = tree.at(make, 4 * kS + kS / 2);
  ASSERT_TRUE(before);
  EXPECT_EQ(before->comm, "bash");
  EXPECT_EQ(before->exe, "/usr/bin/bash");
  EXPECT_TRUE(before->alive);
  auto during = tree.at(make, 6 * kS);
  ASSERT_TRUE(during);
  EXPECT_EQ(during->comm, "make");
  auto after = tree.at(make, 10 * kS);
  ASSERT_TRUE(after);
  EXPECT_FALSE(after->alive);
  EXPECT_FALSE(tree.at(make, 3 * kS));  // not yet born
  // The sshd fork at 2.5 s was still "sshd"; at 3.5 s it was bash.
  EXPECT_EQ(tree.at({20, 2 * kS}, 2 * kS + kS / 2)->comm, "sshd");
  EXPECT_EQ(tree.at({20, 2 * kS}, 3 * kS + kS / 2)->comm, "bash");
  std::vector<ProcessKey> chain = tree.lineage(make, 6 * kS);
  ASSERT_EQ(chain.size(), 3u);
  EXPECT_EQ(chain[0].pid, 20);
  EXPECT_EQ(chain[1].pid, 10);
  EXPECT_EQ(chain[2].pid, 1);
  EXPECT_EQ(tree.counters().forks, 4u);
  EXPECT_EQ(tree.counters().execs, 2u);
  EXPECT_EQ(tree.counters().exits, 1u);
}

// Double fork: bash(20) forks a(40) at 6 s, a forks d(41) at 7 s, a exits
// at 8 s: d is re-parented to init, but its fork parent stays a.
TEST(LiveTree, DoubleForkKeepsTheOriginalChain) {
  LiveTree tree(4);  // a tiny budget: a may not be evicted while d lives
  replay(tree, basic() + fork(6 * kS, 40, 20) + fork(7 * kS, 41, 40) + exit_(8 * kS, 40) + exit_(12 * kS, 20));
  for (int i = 0; i < 10; ++i) {  // churn: short-lived children of init
    replay(tree, fork((20 + i) * kS, 100 + i, 1) + exit_((20 + i) * kS + 1, 100 + i));
  }
  ProcessKey d{41, 7 * kS};
  ASSERT_NE(tree.find(d), nullptr);
  auto now = tree.at(d, 30 * kS);
  ASSERT_TRUE(now);
  EXPECT_EQ(now->parent.pid, 1);  // current parent after re-parenting
  auto then = tree.at(d, 7 * kS + 1);
  EXPECT_EQ(then->parent.pid, 40);  // as of before a exited
  std::vector<ProcessKey> original = tree.lineage(d, 30 * kS, 64, true);
  ASSERT_GE(original.size(), 4u);
  EXPECT_EQ(original[0].pid, 40);  // a, exited, still known
  EXPECT_EQ(original[1].pid, 20);  // bash, exited too
  EXPECT_EQ(original[2].pid, 10);
  std::vector<ProcessKey> current = tree.lineage(d, 30 * kS, 64, false);
  ASSERT_EQ(current.size(), 1u);
  EXPECT_EQ(current[0].pid, 1);
  EXPECT_LE(tree.size(), 8u);
  EXPECT_GT(tree.counters().evicted, 0u);
}

// 20,000 short jobs under one long-lived parent, with a budget of 100.
TEST(LiveTree, BudgetHoldsUnderChurn) {
  LiveTree tree(100);
  std::string lines = fork(1 * kS, 1, 0) + fork(2 * kS, 10, 1, "cron");
  replay(tree, lines);
  uint64_t t = 3 * kS;
  for (int i = 0; i < 20000; ++i) {
    int pid = 1000 + i % 30000;
    replay(tree, fork(t, pid, 10) + exec(t + 1, pid, "/bin/job") + exit_(t + 2, pid));
    t += 10;
  }
  EXPECT_LE(tree.size(), 100u);
  EXPECT_LE(tree.children(tree.find_pid(10)->key).size(), 100u);
  EXPECT_GE(tree.counters().evicted, 19900u);
  ASSERT_NE(tree.find_pid(10), nullptr);  // alive processes are never evicted
  ASSERT_NE(tree.find_pid(1), nullptr);
}

// pid 30 exits at 9 s and a new process takes pid 30 at 10 s.
TEST(LiveTree, PidReuseMakesTwoProcesses) {
  LiveTree tree;
  replay(tree, basic() + fork(10 * kS, 30, 10) + exec(10 * kS + 5, 30, "/usr/bin/vim"));
  const LiveProcess* old = tree.find({30, 4 * kS});
  const LiveProcess* fresh = tree.find({30, 10 * kS});
  ASSERT_NE(old, nullptr);
  ASSERT_NE(fresh, nullptr);
  EXPECT_EQ(old->comm.latest()->view(), "make");
  EXPECT_EQ(fresh->comm.latest()->view(), "vim");
  EXPECT_EQ(tree.find_pid(30), fresh);
  EXPECT_EQ(tree.lineage({30, 4 * kS}, 6 * kS)[0].pid, 20);
  EXPECT_EQ(tree.lineage({30, 10 * kS}, 11 * kS)[0].pid, 10);
}

TEST(LiveTree, ReuseWithAMissedExitClosesTheOldProcess) {
  LiveTree tree;
  replay(tree, fork(1 * kS, 1, 0) + fork(2 * kS, 50, 1) + fork(5 * kS, 50, 1));  // exit of the first 50 lost
  EXPECT_EQ(tree.counters().pid_reuse, 1u);
  EXPECT_FALSE(tree.find({50, 2 * kS})->alive());
  EXPECT_TRUE(tree.find({50, 5 * kS})->alive());
}

// uid, gid and cgroup change at exec (setuid binary, moved cgroup): the
// versions before stay.
TEST(LiveTree, IdentityFieldsAreVersioned) {
  LiveTree tree;
  replay(tree, fork(1 * kS, 1, 0) + fork(2 * kS, 70, 1));
  events::Event e;
  e.kind = events::EventKind::kExec;
  e.time_ns = 3 * kS;
  e.pid = e.tid = 70;
  e.uid = 1000;
  e.gid = 100;
  e.cgroup_id = 4242;
  e.exe = "/usr/bin/su";
  tree.apply(e);
  const LiveProcess* p = tree.find_pid(70);
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(p->creds.at(2 * kS + 1)->uid, 0u);
  EXPECT_EQ(p->creds.at(3 * kS)->uid, 1000u);
  EXPECT_EQ(p->creds.at(3 * kS)->gid, 100u);
  EXPECT_EQ(p->cgroup_id.at(2 * kS + 1), nullptr);  // not known before the exec
  EXPECT_EQ(*p->cgroup_id.latest(), 4242u);
}

// A thread (tid 61) of process 60 calls exec: the process keeps its
// identity and gets the new image.
TEST(LiveTree, ExecFromANonLeaderThread) {
  LiveTree tree;
  replay(tree, fork(1 * kS, 1, 0) + fork(2 * kS, 60, 1, "java") + exec(3 * kS, 60, "/usr/bin/python3", 61));
  const LiveProcess* p = tree.find({60, 2 * kS});
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(tree.text(p->image.latest()->exe), "/usr/bin/python3");
  EXPECT_EQ(p->comm.first()->view(), "java");
  EXPECT_EQ(tree.size(), 2u);
}

TEST(LiveTree, OutOfOrderAndMissingEvents) {
  LiveTree tree;
  // exit of 70 before any fork of it; exec of 80 with no fork; a fork whose
  // parent (90) was never seen; a loss report.
  replay(tree, exit_(1 * kS, 70) + exec(2 * kS, 80, "/bin/sh") + fork(3 * kS, 91, 90) +
                   "{\"event\":\"lost\",\"time_ns\":4,\"lost\":17}\n");
  EXPECT_EQ(tree.counters().exit_without_fork, 1u);
  EXPECT_EQ(tree.counters().exec_without_fork, 1u);
  EXPECT_EQ(tree.counters().placeholders, 2u);  // 80, and parent 90
  EXPECT_EQ(tree.counters().lost, 17u);
  const LiveProcess* parent = tree.find_pid(90);
  ASSERT_NE(parent, nullptr);
  EXPECT_TRUE(parent->placeholder);
  EXPECT_EQ(tree.lineage(tree.find_pid(91)->key, 5 * kS)[0].pid, 90);
}

TEST(LiveTree, BootstrapFromASnapshot) {
  std::vector<Process> snap(3);
  snap[0].key = {1, 0};
  snap[0].stat.comm = "init";
  snap[1].key = {10, 5};
  snap[1].stat.ppid = 1;
  snap[1].stat.comm = "sshd";
  snap[2].key = {11, 3};  // claims parent 10, which started later: reused pid
  snap[2].stat.ppid = 10;
  LiveTree tree;
  tree.bootstrap(snap, 100);
  EXPECT_EQ(tree.size(), 3u);
  EXPECT_EQ(tree.counters().backfilled, 3u);
  EXPECT_EQ(tree.find({10, 5})->fork_parent.pid, 1);
  EXPECT_EQ(tree.find({11, 3})->fork_parent.pid, 0);
}

TEST(EventJson, RoundTripsAndRejectsGarbage) {
  events::Event e;
  e.kind = events::EventKind::kExec;
  e.time_ns = 42;
  e.pid = 7;
  e.tid = 8;
  e.exe = "/bin/x";
  e.argv = {"x", "a\nb"};
  auto back = events::from_json_line(events::to_json_line(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->tid, 8);
  EXPECT_EQ(back->argv, e.argv);
  events::Event killed;
  killed.kind = events::EventKind::kExit;
  killed.exit_code = 9;  // SIGKILL
  auto k = nlohmann::json::parse(events::to_json_line(killed));
  EXPECT_EQ(k["signal"], 9);
  EXPECT_TRUE(k["exit_code"].is_null());
  EXPECT_EQ(events::from_json_line(events::to_json_line(killed))->exit_code, 9);
  EXPECT_FALSE(events::from_json_line("{"));
  EXPECT_FALSE(events::from_json_line("{\"event\":\"nope\"}"));
  EXPECT_FALSE(events::from_json_line("{\"event\":\"fork\",\"pid\":\"x\"}"));
  EXPECT_FALSE(events::from_json_line("[]"));
}

}  // namespace
}  // namespace lineage::core
