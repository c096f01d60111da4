#include "resolve/targets.h"

#include <gtest/gtest.h>

namespace lineage::resolve {
namespace {

core::Process make(int32_t pid, std::string comm, std::vector<std::string> argv) {
  core::Process p;
  p.key = {pid, static_cast<uint64_t>(pid)};
  p.stat.pid = pid;
  p.stat.ppid = 1;
  p.stat.comm = std::move(comm);
  p.argv = std::move(argv);
  return p;
}

core::ProcessTree sample() {
  return core::ProcessTree({make(1, "init", {"/sbin/init"}), make(10, "nginx", {"nginx: master"}),
                            make(11, "nginx", {"nginx: worker process"}),
                            make(20, "python3", {"/usr/bin/python3", "/srv/app.py"}),
                            make(30, "lineage", {"lineage", "tree", "nginx"})});
}

TEST(ParsePid, AcceptsOnlyValidPids) {
  EXPECT_EQ(*parse_pid("1"), 1);
  EXPECT_EQ(*parse_pid("4194304"), 4194304);
  for (const char* bad : {"0", "4194305", "-1", "12a", "", "99999999999999999999"}) {
    auto r = parse_pid(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
  }
}

TEST(ResolveTarget, ByPid) {
  auto t = sample();
  auto r = resolve_target(t, {TargetKind::kAuto, "20", false}, 30);
  ASSERT_TRUE(r);
  EXPECT_EQ(t.at(r->front()).pid(), 20);
  auto missing = resolve_target(t, {TargetKind::kAuto, "999", false}, 30);
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().kind, ErrorKind::kNotFound);
}

TEST(ResolveTarget, ByNameSkipsSelf) {
  auto t = sample();
  auto r = resolve_target(t, {TargetKind::kAuto, "nginx", false}, 30);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->size(), 2u);  // not pid 30, whose command line mentions nginx
  EXPECT_EQ(t.at((*r)[0]).pid(), 10);
  auto script = resolve_target(t, {TargetKind::kName, "app.py", false}, 30);
  ASSERT_TRUE(script);
  EXPECT_EQ(t.at(script->front()).pid(), 20);
}

TEST(ResolveTarget, ExactMatchesCommOrArgv0BaseName) {
  auto t = sample();
  EXPECT_FALSE(resolve_target(t, {TargetKind::kName, "ngin", true}, 30));
  auto r = resolve_target(t, {TargetKind::kName, "python3", true}, 30);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->size(), 1u);
  auto none = resolve_target(t, {TargetKind::kName, "app.py", true}, 30);
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().kind, ErrorKind::kNotFound);
}

// init(1) - sshd(3) - sshd(4) - bash(5) - sudo(6) - timeout(7) - lineage(30),
// beside them sleep(40) and another wrapper, timeout(41), running sleep.
core::ProcessTree wrapped() {
  auto child = [](int32_t pid, int32_t ppid, std::string comm, std::vector<std::string> argv) {
    core::Process p = make(pid, std::move(comm), std::move(argv));
    p.stat.ppid = ppid;
    return p;
  };
  return core::ProcessTree({make(1, "init", {"/sbin/init"}), child(3, 1, "sshd", {"/usr/sbin/sshd", "-D"}),
                            child(4, 3, "sshd", {"sshd: alice@pts/0"}), child(5, 4, "bash", {"-bash"}),
                            child(6, 5, "sudo", {"sudo", "timeout", "10", "lineage", "why", "sleep"}),
                            child(7, 6, "timeout", {"timeout", "10", "lineage", "why", "sleep"}),
                            child(30, 7, "lineage", {"lineage", "why", "sleep"}),
                            child(40, 1, "sleep", {"sleep", "100"}),
                            child(41, 1, "timeout", {"timeout", "5", "sleep", "9"})});
}

std::vector<int32_t> pids_of(const core::ProcessTree& t, const Result<std::vector<size_t>>& r) {
  std::vector<int32_t> pids;
  if (r) {
    for (size_t i : *r) pids.push_back(t.at(i).pid());
  }
  return pids;
}

TEST(ResolveTarget, OwnAncestorsDoNotMatchThroughOurCommandLine) {
  auto t = wrapped();
  // sudo and timeout above us carry "sleep" only as our argument; the other
  // timeout, not ours, still matches by its command line.
  EXPECT_EQ(pids_of(t, resolve_target(t, {TargetKind::kName, "sleep", false}, 30)),
            (std::vector<int32_t>{40, 41}));
  EXPECT_EQ(pids_of(t, resolve_target(t, {TargetKind::kName, "why", false}, 30)), std::vector<int32_t>{});
  // Without us in the snapshot, every wrapper matches as before.
  EXPECT_EQ(pids_of(t, resolve_target(t, {TargetKind::kName, "sleep", false}, 999)),
            (std::vector<int32_t>{6, 7, 30, 40, 41}));
}

TEST(ResolveTarget, OwnAncestorsStillMatchByTheirOwnName) {
  auto t = wrapped();
  // The sshd we run below is still an sshd; so is a timeout asked by name.
  EXPECT_EQ(pids_of(t, resolve_target(t, {TargetKind::kName, "sshd", false}, 30)),
            (std::vector<int32_t>{3, 4}));
  EXPECT_EQ(pids_of(t, resolve_target(t, {TargetKind::kName, "timeout", true}, 30)),
            (std::vector<int32_t>{7, 41}));
}

TEST(ResolveTarget, ExplicitPidFormRejectsNames) {
  auto t = sample();
  auto r = resolve_target(t, {TargetKind::kPid, "nginx", false}, 30);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
}

}  // namespace
}  // namespace lineage::resolve
