#include "output/columns.h"

#include <gtest/gtest.h>

#include "output/format.h"
#include "procfs/reader.h"

namespace lineage::output {
namespace {

TEST(ParseColumns, NamesAndAliases) {
  auto cols = parse_columns("pid,args user %cpu,pcpu");
  ASSERT_TRUE(cols);
  ASSERT_EQ(cols->size(), 5u);
  EXPECT_EQ((*cols)[1]->name, "cmd");
  EXPECT_EQ((*cols)[3]->name, "%cpu");
  EXPECT_EQ((*cols)[4]->name, "%cpu");
}

TEST(ParseColumns, UnknownIsAUsageError) {
  auto cols = parse_columns("pid,bogus");
  ASSERT_FALSE(cols);
  EXPECT_EQ(cols.error().kind, ErrorKind::kUsage);
  EXPECT_NE(cols.error().message.find("bogus"), std::string::npos);
  EXPECT_FALSE(parse_columns(","));
}

TEST(ParseSort, DirectionPrefixes) {
  auto keys = parse_sort("-rss,+pid,user");
  ASSERT_TRUE(keys);
  ASSERT_EQ(keys->size(), 3u);
  EXPECT_TRUE((*keys)[0].descending);
  EXPECT_EQ((*keys)[0].column->name, "rss");
  EXPECT_FALSE((*keys)[1].descending);
  EXPECT_FALSE(parse_sort("-nothing"));
  EXPECT_FALSE(parse_sort(""));
}

TEST(Format, ElapsedAndCpuTimeLikePs) {
  constexpr uint64_t s = 1'000'000'000;
  EXPECT_EQ(format_etime(5 * s), "00:05");
  EXPECT_EQ(format_etime(3725 * s), "01:02:05");
  EXPECT_EQ(format_etime((2 * 86400 + 3600) * s), "2-01:00:00");
  EXPECT_EQ(format_cputime(65), "00:01:05");
  EXPECT_EQ(format_cputime(86400 + 1), "1-00:00:01");
  EXPECT_EQ(format_rfc3339(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_rfc3339(1'790'000'000'123'000'000), "2026-09-21T14:13:20.123Z");
}

TEST(Format, StatFlags) {
  core::Process p;
  p.key.pid = 10;
  p.stat.state = 'S';
  p.stat.sid = 10;
  p.stat.pgid = 10;
  p.stat.tpgid = 10;
  p.stat.num_threads = 4;
  p.stat.nice = -5;
  EXPECT_EQ(format_stat(p), "S<sl+");
  p.stat.nice = 19;
  p.stat.sid = 1;
  p.stat.tpgid = -1;
  p.stat.num_threads = 1;
  EXPECT_EQ(format_stat(p), "SN");
}

TEST(Columns, CpuAndMemoryPercent) {
  core::SystemInfo sys;
  sys.boot_ns_now = 200'000'000'000;  // 200 s after boot
  sys.mem_total_kb = 1000;
  sys.page_size = 4096;
  core::Process p;
  p.key.start_time_ns = 100'000'000'000;  // ran 100 s
  p.stat.utime_ticks = 2500;              // 25 s of cpu at 100 Hz
  p.stat.rss_pages = 50;                  // 200 KiB of 1000 KiB
  EXPECT_EQ(find_column("%cpu")->text(p, sys), "25.0");
  EXPECT_EQ(find_column("%mem")->text(p, sys), "20.0");
  EXPECT_EQ(find_column("rss")->text(p, sys), "200");
  EXPECT_EQ(find_column("etime")->text(p, sys), "01:40");
  EXPECT_EQ(find_column("user")->text(p, sys), "?");  // status not read
}

}  // namespace
}  // namespace lineage::output
