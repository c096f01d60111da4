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
  std::vector<core::Event> evs;
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

// Descendants as of a time: the original tree, kept after exits.
TEST(LiveTree, DescendantsAsOfATime) {
  LiveTree tree;
  replay(tree, fork(1 * kS, 1, 0, "init") + fork(1 * kS + 1, 10, 1, "sshd") + fork(2 * kS, 20, 10) +
                   fork(4 * kS, 30, 20) + fork(6 * kS, 31, 30) + fork(7 * kS, 32, 31) + exit_(9 * kS, 30) +
                   fork(11 * kS, 21, 20));
  ProcessKey bash{20, 2 * kS};
  auto at8 = tree.descendants(bash, 8 * kS);
  ASSERT_EQ(at8.size(), 3u);
  EXPECT_EQ(at8[0].pid, 30);  // make, which exits at 9 s, still its history
  EXPECT_EQ(at8[1].pid, 31);
  EXPECT_EQ(at8[2].pid, 32);
  auto at12 = tree.descendants(bash, 12 * kS);
  ASSERT_EQ(at12.size(), 4u);
  EXPECT_EQ(at12[1].pid, 21);  // breadth first: bash's children, then theirs
  EXPECT_EQ(tree.descendants(bash, 12 * kS, 2).size(), 2u);
  EXPECT_TRUE(tree.descendants({99, 1}, 12 * kS).empty());
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
  core::Event e;
  e.kind = core::EventKind::kExec;
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

std::string exit_reaped(uint64_t t, int pid, int reaper) {
  return "{\"event\":\"exit\",\"time_ns\":" + std::to_string(t) + ",\"pid\":" + std::to_string(pid) +
         ",\"exit_code\":0,\"reaper\":" + std::to_string(reaper) + "}\n";
}

// init(1) > shell(10) > supervisor(20, a child subreaper) > worker(30) >
// job(40). worker exits at 5 s: the kernel hands job to the subreaper,
// which the bpf source names in the exit event. The subreaper exits at 8 s:
// job goes to init. The original chain stays.
TEST(LiveTree, ReparentsToTheSubreaperTheExitNames) {
  LiveTree tree;
  replay(tree, fork(1 * kS, 1, 0, "init") + fork(2 * kS, 10, 1, "sh") + fork(3 * kS, 20, 10, "sv") +
                   fork(4 * kS, 30, 20, "worker") + fork(4 * kS + 1, 40, 30, "job") +
                   exit_reaped(5 * kS, 30, 20) + exit_reaped(8 * kS, 20, 1));
  ProcessKey job{40, 4 * kS + 1};
  EXPECT_EQ(tree.at(job, 4 * kS + 2)->parent.pid, 30);
  EXPECT_EQ(tree.at(job, 6 * kS)->parent.pid, 20);  // adopted by the subreaper
  EXPECT_EQ(tree.at(job, 9 * kS)->parent.pid, 1);   // then by init
  std::vector<ProcessKey> current = tree.lineage(job, 6 * kS, 64, false);
  ASSERT_EQ(current.size(), 3u);
  EXPECT_EQ(current[0].pid, 20);
  EXPECT_EQ(current[1].pid, 10);
  std::vector<ProcessKey> original = tree.lineage(job, 9 * kS);
  ASSERT_EQ(original.size(), 4u);
  EXPECT_EQ(original[0].pid, 30);
  EXPECT_EQ(original[1].pid, 20);
  EXPECT_EQ(tree.counters().reparented, 2u);
}

// A source that cannot name the reaper (netlink, replay without it): the
// tree assumes init, and the process's own exit, which names its current
// parent, corrects the record from the time the old parent died.
TEST(LiveTree, ExitNamingTheParentCorrectsAnUnseenReparenting) {
  LiveTree tree;
  replay(tree, fork(1 * kS, 1, 0) + fork(2 * kS, 20, 1, "sv") + fork(3 * kS, 30, 20) + fork(4 * kS, 40, 30) +
                   exit_(5 * kS, 30));
  ProcessKey job{40, 4 * kS};
  EXPECT_EQ(tree.at(job, 6 * kS)->parent.pid, 1);  // the assumption
  replay(tree, "{\"event\":\"exit\",\"time_ns\":" + std::to_string(9 * kS) + ",\"pid\":40,\"ppid\":20}\n");
  EXPECT_EQ(tree.at(job, 6 * kS)->parent.pid, 20);  // corrected from 5 s on
  EXPECT_EQ(tree.at(job, 4 * kS + 1)->parent.pid, 30);
}

// Threads have their own table and budget: a process's threads end with
// it; dead threads go first when the budget is full.
TEST(LiveTree, ThreadsAreTrackedWithinTheirBudget) {
  LiveTree tree(100, 10'000'000, 4);
  auto thread = [](const char* kind, uint64_t t, int pid, int tid) {
    return std::string("{\"event\":\"") + kind + "\",\"time_ns\":" + std::to_string(t) +
           ",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid) +
           ",\"thread\":true,\"thread_start_time_ns\":" + std::to_string(t) + ",\"comm\":\"worker\"}\n";
  };
  replay(tree, fork(1 * kS, 1, 0) + fork(2 * kS, 50, 1, "java") + thread("fork", 3 * kS, 50, 51) +
                   thread("fork", 3 * kS + 1, 50, 52) + thread("exit", 4 * kS, 50, 51));
  ProcessKey java{50, 2 * kS};
  auto threads = tree.threads(java);
  ASSERT_EQ(threads.size(), 2u);
  EXPECT_EQ(threads[0]->tid, 52);
  EXPECT_TRUE(threads[0]->alive());
  EXPECT_FALSE(threads[1]->alive());
  EXPECT_EQ(threads[1]->comm.view(), "worker");
  for (int i = 0; i < 6; ++i) replay(tree, thread("fork", (5 + i) * kS, 50, 60 + i));
  EXPECT_LE(tree.thread_count(), 4u);
  EXPECT_GE(tree.counters().threads_evicted, 1u);  // 51 (dead) went first
  EXPECT_GE(tree.counters().threads_dropped, 1u);  // then no room: all alive
  replay(tree, exit_(20 * kS, 50));
  for (const LiveThread* t : tree.threads(java)) EXPECT_FALSE(t->alive());
  EXPECT_EQ(tree.size(), 2u);  // threads are not processes
}

// What a process runs is versioned with the file's identity and its
// interpreter; evicted processes give their strings back.
TEST(LiveTree, ImageIdentityAndInterpreterAreVersioned) {
  LiveTree tree(3);
  replay(tree, fork(1 * kS, 1, 0) + fork(2 * kS, 60, 1));
  core::Event e;
  e.kind = core::EventKind::kExec;
  e.pid = e.tid = 60;
  e.time_ns = 3 * kS;
  e.exe = "/srv/deploy.sh";
  e.interpreter = "/usr/bin/bash";
  e.argv = {"/bin/sh", "/srv/deploy.sh"};
  e.exe_dev = 2049;
  e.exe_ino = 77;
  e.exe_ctime_ns = 5;
  tree.apply(e);
  e.time_ns = 4 * kS;
  e.exe = "/usr/local/bin/app";
  e.interpreter = "/lib64/ld-linux-x86-64.so.2";
  e.argv = {"app", "--serve"};
  e.exe_ino = 78;
  tree.apply(e);
  ProcessKey p{60, 2 * kS};
  auto script = tree.at(p, 3 * kS + 1);
  EXPECT_EQ(script->exe, "/srv/deploy.sh");
  EXPECT_EQ(script->interpreter, "/usr/bin/bash");
  EXPECT_EQ(script->exe_ino, 77u);
  EXPECT_EQ(script->exe_dev, 2049u);
  EXPECT_EQ(script->argv, (std::vector<std::string>{"/bin/sh", "/srv/deploy.sh"}));
  auto app = tree.at(p, 5 * kS);
  EXPECT_EQ(app->exe_ino, 78u);
  EXPECT_EQ(app->interpreter, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ(app->argv, (std::vector<std::string>{"app", "--serve"}));
  size_t strings = tree.string_count();
  EXPECT_EQ(strings, 6u);
  replay(tree, exit_(6 * kS, 60));
  for (int i = 0; i < 5; ++i) replay(tree, fork((7 + i) * kS, 70 + i, 1) + exit_((7 + i) * kS + 1, 70 + i));
  EXPECT_EQ(tree.find(p), nullptr);  // evicted
  EXPECT_EQ(tree.string_count(), 0u);
}

// After lost events the tree is brought in line with /proc: the process it
// never saw is added, the one that vanished is closed, a changed parent is
// recorded.
TEST(LiveTree, ReconcileAfterLostEvents) {
  LiveTree tree;
  replay(tree, fork(1 * kS, 1, 0, "init") + fork(2 * kS, 10, 1, "sv") + fork(3 * kS, 20, 10, "a") +
                   fork(3 * kS + 5, 21, 10, "b"));
  std::vector<Process> snap(5);
  snap[0].key = {1, 1 * kS};
  snap[0].stat.comm = "init";
  snap[1].key = {10, 2 * kS};
  snap[1].stat.ppid = 1;
  snap[1].stat.comm = "sv2";  // an exec was lost: a new name
  snap[1].argv = std::vector<std::string>{"sv2", "--daemon"};
  snap[2].key = {20, 3 * kS};
  snap[2].stat.ppid = 1;  // re-parented while events were lost
  snap[2].stat.comm = "a";
  snap[3].key = {30, 4 * kS};  // never seen
  snap[3].stat.ppid = 20;
  snap[3].stat.comm = "new";
  snap[4].key = {40, 4 * kS};  // a zombie: dead already, nothing to add
  snap[4].stat.ppid = 20;
  snap[4].stat.state = 'Z';
  // 21 is gone.
  size_t changed = tree.reconcile(snap, 5 * kS);
  EXPECT_EQ(changed, 4u);
  EXPECT_EQ(tree.find_pid(40), nullptr);
  auto sv = tree.at({10, 2 * kS}, 5 * kS);
  EXPECT_EQ(sv->comm, "sv2");
  EXPECT_EQ(sv->argv, (std::vector<std::string>{"sv2", "--daemon"}));
  EXPECT_EQ(tree.at({10, 2 * kS}, 4 * kS)->comm, "sv");  // before: unchanged history
  EXPECT_EQ(tree.reconcile(snap, 6 * kS), 0u);  // nothing new the second time
  EXPECT_EQ(tree.find_pid(21), nullptr);
  const LiveProcess* b = tree.find({21, 3 * kS + 5});
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->exit_unseen);
  EXPECT_EQ(tree.counters().vanished, 1u);
  const LiveProcess* added = tree.find_pid(30);
  ASSERT_NE(added, nullptr);
  EXPECT_TRUE(added->backfilled);
  EXPECT_EQ(added->fork_parent.pid, 20);
  EXPECT_EQ(tree.at({20, 3 * kS}, 5 * kS)->parent.pid, 1);
  EXPECT_EQ(tree.lineage({20, 3 * kS}, 5 * kS)[0].pid, 10);  // the fork parent stays
}

// A source that took a leader thread's exit for the process's (netlink,
// exec from a non-leader thread): the exec that follows proves the process
// alive, and the tree undoes the exit.
TEST(LiveTree, ExecAfterAFalseExitRevivesTheProcess) {
  LiveTree tree;
  replay(tree, fork(1 * kS, 1, 0) + fork(2 * kS, 60, 1, "java") + exit_(3 * kS, 60));
  std::string exec60 = "{\"event\":\"exec\",\"time_ns\":" + std::to_string(3 * kS + 1) +
                       ",\"pid\":60,\"start_time_ns\":" + std::to_string(2 * kS) +
                       ",\"exe\":\"/usr/bin/python3\",\"comm\":\"python3\",\"argv\":[\"python3\"]}\n";
  replay(tree, exec60);
  const LiveProcess* p = tree.find_pid(60);
  ASSERT_NE(p, nullptr);
  EXPECT_TRUE(p->alive());
  EXPECT_EQ(p->key.start_time_ns, 2 * kS);
  EXPECT_EQ(tree.counters().false_exits, 1u);
  EXPECT_FALSE(p->placeholder);
  EXPECT_EQ(tree.counters().exec_without_fork, 0u);
  replay(tree, fork(4 * kS, 61, 60) + exit_(5 * kS, 60));
  EXPECT_EQ(tree.lineage(tree.find_pid(61)->key, 4 * kS)[0].pid, 60);
  EXPECT_EQ(tree.counters().exit_without_fork, 0u);
}

// Fork events for a process already seeded from /proc (start time in
// ticks) are the same process, not a reuse of its pid.
TEST(LiveTree, EventAfterBootstrapMatchesTheTickStartTime) {
  std::vector<Process> snap(1);
  snap[0].key = {5, 1 * kS};
  LiveTree tree;
  tree.bootstrap(snap, 2 * kS);
  replay(tree, fork(1 * kS + 3'000'000, 5, 0));
  EXPECT_EQ(tree.counters().pid_reuse, 0u);
  EXPECT_EQ(tree.size(), 1u);
}

TEST(EventJson, RoundTripsAndRejectsGarbage) {
  core::Event e;
  e.kind = core::EventKind::kExec;
  e.time_ns = 42;
  e.pid = 7;
  e.tid = 8;
  e.exe = "/bin/x";
  e.argv = {"x", "a\nb"};
  auto back = events::from_json_line(events::to_json_line(e));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->tid, 8);
  EXPECT_EQ(back->argv, e.argv);
  e.exe_dev = 2049;
  e.exe_ino = 1234;
  e.exe_ctime_ns = 99;
  e.interpreter = "/bin/sh";
  e.gid = 5;
  back = events::from_json_line(events::to_json_line(e));
  EXPECT_EQ(back->exe_ino, 1234u);
  EXPECT_EQ(back->exe_dev, 2049u);
  EXPECT_EQ(back->exe_ctime_ns, 99u);
  EXPECT_EQ(back->interpreter, "/bin/sh");
  EXPECT_EQ(back->gid, 5u);
  core::Event reaped;
  reaped.kind = core::EventKind::kExit;
  reaped.thread = true;
  reaped.reaper_pid = 77;
  back = events::from_json_line(events::to_json_line(reaped));
  EXPECT_TRUE(back->thread);
  EXPECT_EQ(back->reaper_pid, 77);
  core::Event killed;
  killed.kind = core::EventKind::kExit;
  killed.exit_code = 9;  // SIGKILL
  auto k = nlohmann::json::parse(events::to_json_line(killed));
  EXPECT_EQ(k["signal"], 9);
  EXPECT_TRUE(k["exit_code"].is_null());
  EXPECT_EQ(events::from_json_line(events::to_json_line(killed))->exit_code, 9);
  // record --export stamps wall time and boot id; replay reads the line.
  events::ExportStamp stamp{"3f0c6d9e-1b7a-4c55-9e0b-2a8d5c7e1f00", 1'700'000'000'000'000'000};
  core::Event forked;
  forked.kind = core::EventKind::kFork;
  forked.time_ns = 2'250'000'000;
  forked.pid = 9;
  auto stamped = nlohmann::json::parse(events::to_json_line(forked, &stamp));
  EXPECT_EQ(stamped["time"], "2023-11-14T22:13:22.250Z");
  EXPECT_EQ(stamped["boot_id"], stamp.boot_id);
  EXPECT_EQ(stamped["time_ns"], 2'250'000'000u);
  EXPECT_FALSE(nlohmann::json::parse(events::to_json_line(forked)).contains("time"));
  EXPECT_EQ(events::from_json_line(events::to_json_line(forked, &stamp))->pid, 9);
  EXPECT_FALSE(events::from_json_line("{"));
  EXPECT_FALSE(events::from_json_line("{\"event\":\"nope\"}"));
  EXPECT_FALSE(events::from_json_line("{\"event\":\"fork\",\"pid\":\"x\"}"));
  EXPECT_FALSE(events::from_json_line("[]"));
}

}  // namespace
}  // namespace lineage::core
