// rank_load on hand-made snapshots: CPU over the interval by (pid, start
// time), groups ranked, new and exited processes counted.
#include <gtest/gtest.h>

#include "core/top_load.h"

namespace lineage::core {
namespace {

Process proc(int32_t pid, uint64_t start, uint64_t utime, uint64_t stime, int64_t rss_pages = 10) {
  Process p;
  p.key = {pid, start};
  p.stat.pid = pid;
  p.stat.utime_ticks = utime;
  p.stat.stime_ticks = stime;
  p.stat.rss_pages = rss_pages;
  return p;
}

LoadOptions options() {
  LoadOptions o;
  o.interval_ns = 1'000'000'000;
  o.tick_ns = 10'000'000;  // 100 ticks a second
  o.page_size = 4096;
  return o;
}

TEST(RankLoad, DeltaOfUtimePlusStimeSummedPerGroupAndRanked) {
  std::vector<Process> before{proc(10, 1, 100, 50), proc(11, 1, 0, 0), proc(20, 2, 500, 0)};
  std::vector<Process> after{proc(10, 1, 150, 60), proc(11, 1, 90, 10), proc(20, 2, 505, 0)};
  std::vector<GroupRef> g{{"cron:x:3", "cron", "cron job x:3"}, {"cron:x:3", "cron", "cron job x:3"},
                          {"systemd:a", "systemd", "unit a"}};
  LoadReport r = rank_load(before, after, g, options());
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.groups[0].key, "cron:x:3");
  EXPECT_EQ(r.groups[0].cpu_ticks, 60u + 100u);
  EXPECT_DOUBLE_EQ(r.groups[0].cpu_percent, 160.0);
  EXPECT_EQ(r.groups[0].processes, 2u);
  EXPECT_EQ(r.groups[0].rss_bytes, 2u * 10 * 4096);
  ASSERT_EQ(r.groups[0].top.size(), 2u);
  EXPECT_EQ(after[r.groups[0].top[0].index].pid(), 11);  // 100 ticks before 60
  EXPECT_EQ(r.groups[1].cpu_ticks, 5u);
  EXPECT_EQ(r.started, 0u);
  EXPECT_EQ(r.exited, 0u);
  EXPECT_DOUBLE_EQ(r.cpu_percent, 165.0);
}

TEST(RankLoad, ReusedPidCountsFromZeroAndExitedAreCounted) {
  // pid 10 exited and its pid was reused (a later start time): the new
  // process's whole CPU time is new, never the difference with the old one.
  std::vector<Process> before{proc(10, 1, 1000, 0), proc(30, 3, 5, 5)};
  std::vector<Process> after{proc(10, 7, 40, 2), proc(31, 8, 3, 0)};
  std::vector<GroupRef> g{{"a", "user", "user a"}, {"a", "user", "user a"}};
  LoadReport r = rank_load(before, after, g, options());
  ASSERT_EQ(r.groups.size(), 1u);
  EXPECT_EQ(r.groups[0].cpu_ticks, 45u);
  EXPECT_EQ(r.groups[0].started, 2u);
  EXPECT_DOUBLE_EQ(r.groups[0].started_per_s, 2.0);
  EXPECT_EQ(r.started, 2u);
  EXPECT_EQ(r.exited, 2u);  // the old 10 and 30
  EXPECT_TRUE(r.groups[0].top[0].started);
}

TEST(RankLoad, LimitsAndTiesAndCountersGoingBackwards) {
  std::vector<Process> before{proc(1, 1, 10, 0), proc(2, 1, 0, 0), proc(3, 1, 0, 0)};
  std::vector<Process> after{proc(1, 1, 5, 0, 1), proc(2, 1, 0, 0, 50), proc(3, 1, 0, 0, 5)};
  std::vector<GroupRef> g{{"a", "k", "a"}, {"b", "k", "b"}, {"c", "k", "c"}};
  LoadOptions o = options();
  o.limit = 2;
  o.processes = 0;
  LoadReport r = rank_load(before, after, g, o);
  EXPECT_EQ(r.groups_total, 3u);
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.groups[0].cpu_ticks, 0u);  // a counter that went back is no negative load
  EXPECT_EQ(r.groups[0].key, "b");       // no CPU anywhere: memory decides
  EXPECT_EQ(r.groups[1].key, "c");
  EXPECT_TRUE(r.groups[0].top.empty());
}

TEST(RankLoad, IntervalScalesPercent) {
  std::vector<Process> before{proc(1, 1, 0, 0)};
  std::vector<Process> after{proc(1, 1, 100, 100)};
  std::vector<GroupRef> g{{"a", "k", "a"}};
  LoadOptions o = options();
  o.interval_ns = 2'000'000'000;
  LoadReport r = rank_load(before, after, g, o);
  EXPECT_DOUBLE_EQ(r.groups[0].cpu_percent, 100.0);  // 2 s of CPU over 2 s: one core
  EXPECT_DOUBLE_EQ(r.interval_s, 2.0);
}

}  // namespace
}  // namespace lineage::core
