#include "core/process_tree.h"

#include <gtest/gtest.h>

namespace lineage::core {
namespace {

Process make(int32_t pid, int32_t ppid, uint64_t start) {
  Process p;
  p.key = {pid, start};
  p.stat.pid = pid;
  p.stat.ppid = ppid;
  return p;
}

std::vector<int32_t> pids(const ProcessTree& t, const std::vector<size_t>& idx) {
  std::vector<int32_t> out;
  for (size_t i : idx) out.push_back(t.at(i).pid());
  return out;
}

// The canonical tree:
//
//   1 init (t=0)
//   ├─ 100 sshd (t=10)
//   │  └─ 200 bash (t=20)
//   │     ├─ 300 make (t=30)
//   │     └─ 250 vim (t=25)
//   └─ 50 cron (t=5)
//   400 orphan of a gone parent 999 (t=40)
//   600 claims parent 700, but 700 started later: pid 700 was reused (t=60)
//   700 (t=70), parent 1
ProcessTree canonical() {
  return ProcessTree({make(300, 200, 30), make(1, 0, 0), make(100, 1, 10), make(200, 100, 20),
                      make(250, 200, 25), make(50, 1, 5), make(400, 999, 40), make(600, 700, 60),
                      make(700, 1, 70)});
}

TEST(ProcessTree, ChildrenInPidOrder) {
  ProcessTree t = canonical();
  size_t bash = t.find(200);
  ASSERT_NE(bash, ProcessTree::kNone);
  std::vector<size_t> kids(t.children(bash).begin(), t.children(bash).end());
  EXPECT_EQ(pids(t, kids), (std::vector<int32_t>{250, 300}));
  std::vector<size_t> init_kids(t.children(t.find(1)).begin(), t.children(t.find(1)).end());
  EXPECT_EQ(pids(t, init_kids), (std::vector<int32_t>{50, 100, 700}));
}

TEST(ProcessTree, RootsIncludeOrphansAndReusedParents) {
  ProcessTree t = canonical();
  EXPECT_EQ(pids(t, t.roots()), (std::vector<int32_t>{1, 400, 600}));
  EXPECT_EQ(t.parent(t.find(600)), ProcessTree::kNone);
  EXPECT_EQ(t.find(12345), ProcessTree::kNone);
}

TEST(ProcessTree, ADuplicatePidFindsTheEarliestStarted) {
  ProcessTree t({make(42, 1, 90), make(1, 0, 0), make(42, 1, 30)});
  ASSERT_NE(t.find(42), ProcessTree::kNone);
  EXPECT_EQ(t.at(t.find(42)).key.start_time_ns, 30u);
}

TEST(ProcessTree, RebuiltSmallerKeepsNothingOfTheLargerTree) {
  ProcessTree t = canonical();
  std::vector<Process> back = t.take_processes();
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(back.size(), 9u);
  // Then a small tree, out of pid order (a chain after pid wrap-around).
  t.rebuild({make(7, 0, 0), make(3, 7, 5), make(5, 3, 9)});
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t.find(200), ProcessTree::kNone);
  EXPECT_EQ(pids(t, t.roots()), (std::vector<int32_t>{7}));
  EXPECT_EQ(pids(t, t.ancestors(t.find(5))), (std::vector<int32_t>{3, 7}));
  std::vector<size_t> kids(t.children(t.find(7)).begin(), t.children(t.find(7)).end());
  EXPECT_EQ(pids(t, kids), (std::vector<int32_t>{3}));
  EXPECT_TRUE(t.children(t.find(5)).empty());
  // And the canonical one again: the same as built fresh.
  t.rebuild(std::move(back));
  ProcessTree fresh = canonical();
  EXPECT_EQ(pids(t, t.roots()), pids(fresh, fresh.roots()));
  for (size_t i = 0; i < fresh.size(); ++i) {
    std::vector<size_t> a(t.children(i).begin(), t.children(i).end());
    std::vector<size_t> b(fresh.children(i).begin(), fresh.children(i).end());
    EXPECT_EQ(a, b) << i;
    EXPECT_EQ(t.parent(i), fresh.parent(i)) << i;
  }
}

TEST(ProcessTree, AncestorsNearestFirst) {
  ProcessTree t = canonical();
  EXPECT_EQ(pids(t, t.ancestors(t.find(300))), (std::vector<int32_t>{200, 100, 1}));
  EXPECT_EQ(pids(t, t.ancestors(t.find(300), 2)), (std::vector<int32_t>{200, 100}));
  EXPECT_TRUE(t.ancestors(t.find(1)).empty());
  EXPECT_TRUE(t.ancestors(t.find(600)).empty());
}

TEST(ProcessTree, SameStartTickIsAPlausibleParent) {
  ProcessTree t({make(10, 1, 5), make(1, 0, 5)});
  EXPECT_EQ(t.parent(t.find(10)), t.find(1));
}

TEST(ProcessTree, LoopIsBroken) {
  // A snapshot read over time can show a cycle with equal start ticks.
  ProcessTree t({make(10, 20, 5), make(20, 10, 5)});
  EXPECT_LE(t.ancestors(t.find(10)).size(), 1u);
  EXPECT_LE(t.ancestors(t.find(20)).size(), 1u);
}

TEST(ProcessTree, SelfParentIsRoot) {
  ProcessTree t({make(10, 10, 5)});
  EXPECT_EQ(t.roots().size(), 1u);
}

TEST(SameStart, WithinOneTick) {
  EXPECT_TRUE(same_start(1'000'000'000, 1'009'999'999, 10'000'000));
  EXPECT_FALSE(same_start(1'000'000'000, 1'010'000'000, 10'000'000));
  EXPECT_TRUE(same_start(1'009'999'999, 1'000'000'000, 10'000'000));
}

}  // namespace
}  // namespace lineage::core
