#include "cli/targets.h"

#include <gtest/gtest.h>

namespace lineage::cli {
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

TEST(ResolveTarget, ExplicitPidFormRejectsNames) {
  auto t = sample();
  auto r = resolve_target(t, {TargetKind::kPid, "nginx", false}, 30);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
}

}  // namespace
}  // namespace lineage::cli
