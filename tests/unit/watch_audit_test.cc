// watch's parts below cli: the event filter, the event line, and the audit
// rules over the live tree (fork-storm's rate, a chain whose parent exited
// before the exec was judged).
#include <gtest/gtest.h>

#include "audit/live.h"
#include "core/live_tree.h"
#include "output/event_writer.h"
#include "resolve/event_filter.h"

namespace lineage {
namespace {

constexpr uint64_t kS = 1'000'000'000;

core::Event fork_ev(uint64_t t, int32_t pid, int32_t ppid, uint64_t parent_start, std::string comm = "") {
  core::Event e;
  e.kind = core::EventKind::kFork;
  e.time_ns = e.start_time_ns = t;
  e.pid = e.tid = pid;
  e.ppid = ppid;
  e.parent_start_time_ns = parent_start;
  e.comm = std::move(comm);
  return e;
}

core::Event exec_ev(uint64_t t, int32_t pid, uint64_t start, std::string exe, std::vector<std::string> argv,
                    uint32_t uid = 0) {
  core::Event e;
  e.kind = core::EventKind::kExec;
  e.time_ns = t;
  e.start_time_ns = start;
  e.pid = e.tid = pid;
  e.comm = exe.substr(exe.rfind('/') + 1);
  e.exe = std::move(exe);
  e.argv = std::move(argv);
  e.uid = uid;
  return e;
}

core::Event exit_ev(uint64_t t, int32_t pid) {
  core::Event e;
  e.kind = core::EventKind::kExit;
  e.time_ns = t;
  e.pid = e.tid = pid;
  return e;
}

// init(1) > sshd(10) > bash(20) > make(30)
core::LiveTree small_tree() {
  core::LiveTree tree;
  tree.apply(fork_ev(1 * kS, 1, 0, 0, "init"));
  tree.apply(fork_ev(2 * kS, 10, 1, 1 * kS, "sshd"));
  tree.apply(fork_ev(3 * kS, 20, 10, 2 * kS, "sshd"));
  tree.apply(exec_ev(3 * kS + 1, 20, 3 * kS, "/usr/bin/bash", {"-bash"}, 1000));
  tree.apply(fork_ev(4 * kS, 30, 20, 3 * kS, "bash"));
  tree.apply(exec_ev(4 * kS + 1, 30, 4 * kS, "/usr/bin/make", {"make", "-j2"}, 1000));
  return tree;
}

TEST(EventFilter, KindsParseAndUnknownKindIsAUsageError) {
  resolve::EventFilter f;
  ASSERT_TRUE(resolve::parse_event_kinds("fork,exit", f));
  EXPECT_TRUE(f.fork);
  EXPECT_FALSE(f.exec);
  EXPECT_TRUE(f.exit);
  resolve::EventFilter g;
  auto bad = resolve::parse_event_kinds("fork,spawn", g);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().kind, ErrorKind::kUsage);
  EXPECT_NE(bad.error().message.find("spawn"), std::string::npos);
}

TEST(EventFilter, KindCommUserAndSubtree) {
  core::LiveTree tree = small_tree();
  auto e = exec_ev(5 * kS, 30, 4 * kS, "/usr/bin/make", {"make"}, 1000);
  const core::LiveProcess* make = tree.find_pid(30);
  ASSERT_NE(make, nullptr);
  resolve::EventFilter all;
  EXPECT_TRUE(resolve::wanted(all, e, tree, make));
  resolve::EventFilter forks;
  ASSERT_TRUE(resolve::parse_event_kinds("fork", forks));
  EXPECT_FALSE(resolve::wanted(forks, e, tree, make));
  resolve::EventFilter comm;
  comm.comms = {"mak"};
  EXPECT_TRUE(resolve::wanted(comm, e, tree, make));
  comm.comms = {"gcc"};
  EXPECT_FALSE(resolve::wanted(comm, e, tree, make));
  resolve::EventFilter user;
  user.uid = 0;
  EXPECT_FALSE(resolve::wanted(user, e, tree, make));
  user.uid = 1000;
  EXPECT_TRUE(resolve::wanted(user, e, tree, make));
  resolve::EventFilter sub;
  sub.subtrees = {tree.find_pid(20)->key};
  EXPECT_TRUE(resolve::wanted(sub, e, tree, make));
  sub.subtrees = {core::ProcessKey{99, 1}};
  EXPECT_FALSE(resolve::wanted(sub, e, tree, make));
  core::Event lost;
  lost.kind = core::EventKind::kLost;
  EXPECT_TRUE(resolve::wanted(sub, lost, tree, nullptr));  // losses are always shown
}

TEST(EventWriter, ChainRootFirstAndHostileArgvEscaped) {
  core::LiveTree tree = small_tree();
  auto names = resolve::chain_names(tree, tree.find_pid(30), 5 * kS);
  ASSERT_EQ(names.size(), 4u);
  EXPECT_EQ(names.front(), "init");
  EXPECT_EQ(names.back(), "make");
  auto e = exec_ev(5 * kS, 30, 4 * kS, "/usr/bin/make", {"make", "\x1b]0;pwned\x07"});
  std::string line = output::render_event_text(e, names, "alice", 0, 0);
  EXPECT_EQ(line.find('\x1b'), std::string::npos);
  EXPECT_NE(line.find("[init > sshd > bash > make]"), std::string::npos);
  EXPECT_NE(line.find("alice"), std::string::npos);
  std::string json = output::render_event_json(e, names);
  EXPECT_NE(json.find("\"lineage\":[\"init\",\"sshd\",\"bash\",\"make\"]"), std::string::npos);
  EXPECT_EQ(json.back(), '\n');
}

void flag_tmp(const audit::Scene& scene, size_t i, std::vector<audit::Finding>& out) {
  const core::Process& p = scene.tree().at(i);
  if (!p.exe || p.exe->path.rfind("/tmp/", 0) != 0) return;
  audit::Finding f;
  f.rule = "test-tmp";
  f.severity = audit::Severity::kHigh;
  f.process = p.key;
  f.title = "runs from /tmp";
  out.push_back(f);
}

TEST(LiveAudit, ExecJudgedWithItsChainEvenAfterTheParentExited) {
  core::LiveTree tree = small_tree();
  audit::Rule rule{"test-tmp", audit::Severity::kHigh, "test", core::kFieldStat | core::kFieldExe, flag_tmp};
  audit::LiveAuditor auditor({{&rule}, audit::Severity::kInfo, 1000}, nullptr);
  // make forks 40, which execs /tmp/x; make exits before the exec is judged.
  tree.apply(fork_ev(6 * kS, 40, 30, 4 * kS, "make"));
  auto ex = exec_ev(6 * kS + 10, 40, 6 * kS, "/tmp/x", {"x"});
  tree.apply(ex);
  tree.apply(exit_ev(6 * kS + 20, 30));
  auto found = auditor.on_event(ex, tree, tree.find_pid(40));
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].finding.rule, "test-tmp");
  ASSERT_EQ(found[0].chain.size(), 5u);
  EXPECT_EQ(found[0].chain[3].pid, 30);  // the exited make is still in the chain
  EXPECT_EQ(found[0].chain[4].pid, 40);
  // once per process
  EXPECT_TRUE(auditor.on_event(ex, tree, tree.find_pid(40)).empty());
  // an exec elsewhere: nothing
  auto fine = exec_ev(7 * kS, 20, 3 * kS, "/usr/bin/vim", {"vim"});
  tree.apply(fine);
  EXPECT_TRUE(auditor.on_event(fine, tree, tree.find_pid(20)).empty());
}

// What the rules were shown of each exec's scene: the chain, root first.
std::vector<std::vector<core::Process>> g_scenes;
void keep_scene(const audit::Scene& scene, size_t, std::vector<audit::Finding>&) {
  g_scenes.push_back(scene.tree().processes());
}

TEST(LiveAudit, AChainRebuiltInTheLastExecsBuffersKeepsNothingOfIt) {
  core::LiveTree tree = small_tree();
  audit::Rule rule{"test-keep", audit::Severity::kHigh, "test", core::kFieldStat, keep_scene};
  audit::LiveAuditor auditor({{&rule}, audit::Severity::kInfo, 1000}, nullptr);
  g_scenes.clear();
  // Each exec judged: its pid and time, for the fresh chain it must equal.
  std::vector<std::pair<int32_t, uint64_t>> judged;
  auto judge = [&](uint64_t t, int32_t pid, int32_t ppid, uint64_t parent_start, const char* parent_comm,
                   std::string exe, std::vector<std::string> argv, uint32_t uid) {
    tree.apply(fork_ev(t, pid, ppid, parent_start, parent_comm));
    auto ex = exec_ev(t + 10, pid, t, std::move(exe), std::move(argv), uid);
    tree.apply(ex);
    (void)auditor.on_event(ex, tree, tree.find_pid(pid));
    judged.emplace_back(pid, t + 10);
  };
  // A deep chain with long arguments (make's child), then a shorter one
  // (bash's child) whose process has no argv and another uid, then the
  // deep one again.
  judge(6 * kS, 40, 30, 4 * kS, "make", "/usr/bin/cc", {"cc", std::string(300, 'a'), "-o", "out"}, 1000);
  judge(7 * kS, 50, 20, 3 * kS, "bash", "/usr/bin/ls", {}, 0);
  judge(8 * kS, 60, 30, 4 * kS, "make", "/usr/bin/ld", {"ld"}, 1000);
  // A pid below its ancestors' (after wrap-around): the scene's tree sorts
  // the chain, and hands it back in pid order; then a short one again.
  judge(9 * kS, 5, 30, 4 * kS, "make", "/usr/bin/as", {"as", "-o", std::string(40, 'o')}, 1000);
  judge(10 * kS, 70, 20, 3 * kS, "bash", "/usr/bin/sh", {}, 0);
  ASSERT_EQ(g_scenes.size(), 5u);
  // Each scene is the chain a fresh build gives (as the scene's tree orders
  // it), field for field.
  for (size_t n = 0; n < judged.size(); ++n) {
    auto fresh = core::ProcessTree(
                     audit::LiveAuditor::chain_of(tree, tree.find_pid(judged[n].first)->key, judged[n].second))
                     .take_processes();
    const auto& seen = g_scenes[n];
    ASSERT_EQ(seen.size(), fresh.size()) << "scene " << n;
    for (size_t i = 0; i < seen.size(); ++i) {
      EXPECT_EQ(seen[i].key, fresh[i].key) << n << "/" << i;
      EXPECT_EQ(seen[i].stat.comm, fresh[i].stat.comm) << n << "/" << i;
      EXPECT_EQ(seen[i].stat.ppid, fresh[i].stat.ppid) << n << "/" << i;
      EXPECT_EQ(seen[i].exe.has_value(), fresh[i].exe.has_value()) << n << "/" << i;
      if (seen[i].exe && fresh[i].exe) {
        EXPECT_EQ(seen[i].exe->path, fresh[i].exe->path) << n << "/" << i;
      }
      EXPECT_EQ(seen[i].argv, fresh[i].argv) << n << "/" << i;
      ASSERT_TRUE(seen[i].status && fresh[i].status);
      EXPECT_EQ(seen[i].status->uid.effective, fresh[i].status->uid.effective) << n << "/" << i;
      EXPECT_EQ(seen[i].status->gid.effective, fresh[i].status->gid.effective) << n << "/" << i;
      EXPECT_EQ(seen[i].stat.state, fresh[i].stat.state) << n << "/" << i;
      EXPECT_EQ(seen[i].read, fresh[i].read) << n << "/" << i;
      EXPECT_FALSE(seen[i].cwd || seen[i].cgroups || seen[i].environ) << n << "/" << i;
    }
  }
  // The shallow one's process: no argv of cc's, root's uid, ls.
  const core::Process& ls = g_scenes[1].back();
  EXPECT_EQ(ls.pid(), 50);
  EXPECT_FALSE(ls.argv.has_value());
  EXPECT_EQ(ls.exe->path, "/usr/bin/ls");
  EXPECT_EQ(ls.status->uid.effective, 0u);
  EXPECT_EQ(g_scenes[1].size(), 4u);  // init, sshd, bash, ls
  EXPECT_EQ(g_scenes[2].back().argv, std::vector<std::string>{"ld"});
  EXPECT_EQ(g_scenes[3].front().pid(), 1);  // sorted: 1, 5, 10, 20, 30
  EXPECT_EQ(g_scenes[3][1].pid(), 5);
  EXPECT_FALSE(g_scenes[4].back().argv.has_value());
}

TEST(LiveAudit, ForkStormNamesTheNearestSubtreeOnce) {
  core::LiveTree tree = small_tree();
  const audit::Rule* storm = audit::find_rule("fork-storm");
  ASSERT_NE(storm, nullptr);
  audit::LiveAuditor auditor({{storm}, audit::Severity::kInfo, 100}, nullptr);
  std::vector<audit::AuditEntry> found;
  // make (30) forks 99 children in half a second: under the rate.
  int32_t pid = 1000;
  for (int i = 0; i < 99; ++i, ++pid) {
    auto f = fork_ev(10 * kS + static_cast<uint64_t>(i) * 5'000'000, pid, 30, 4 * kS, "make");
    tree.apply(f);
    for (auto& e : auditor.on_event(f, tree, tree.find_pid(pid))) found.push_back(std::move(e));
  }
  EXPECT_TRUE(found.empty());
  // one more within the second: over it, once, naming make, not bash or sshd
  for (int i = 0; i < 50; ++i, ++pid) {
    auto f = fork_ev(10 * kS + 500'000'000 + static_cast<uint64_t>(i) * 1'000'000, pid, 30, 4 * kS, "make");
    tree.apply(f);
    for (auto& e : auditor.on_event(f, tree, tree.find_pid(pid))) found.push_back(std::move(e));
  }
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].finding.rule, "fork-storm");
  EXPECT_EQ(found[0].finding.process.pid, 30);
  EXPECT_EQ(found[0].chain.back().pid, 30);
  // forks spread out (10 a second) never make a storm
  audit::LiveAuditor calm({{storm}, audit::Severity::kInfo, 100}, nullptr);
  size_t calm_found = 0;
  for (int i = 0; i < 300; ++i, ++pid) {
    auto f = fork_ev(100 * kS + static_cast<uint64_t>(i) * 100'000'000, pid, 30, 4 * kS, "make");
    tree.apply(f);
    calm_found += calm.on_event(f, tree, tree.find_pid(pid)).size();
  }
  EXPECT_EQ(calm_found, 0u);
}

}  // namespace
}  // namespace lineage
