#include "procfs/parsers.h"

#include <gtest/gtest.h>

#include "fake_procfs.h"

namespace lineage::procfs {
namespace {

using testing::FakeProcess;
using testing::FakeProcfs;

TEST(ParseStat, ReadsFieldsOfARealLine) {
  auto s = parse_stat(
      "1234 (bash) S 1000 1234 1234 34816 5678 4194560 1523 0 0 0 12 34 0 0 20 0 1 0 "
      "987654 9076736 1280 18446744073709551615 1 1 0 0 0 0 65536 3686404 1266761467 0 0 0 17 "
      "1 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->pid, 1234);
  EXPECT_EQ(s->comm, "bash");
  EXPECT_EQ(s->state, 'S');
  EXPECT_EQ(s->ppid, 1000);
  EXPECT_EQ(s->pgid, 1234);
  EXPECT_EQ(s->sid, 1234);
  EXPECT_EQ(s->tty_nr, 34816);
  EXPECT_EQ(s->tpgid, 5678);
  EXPECT_EQ(s->flags, 4194560u);
  EXPECT_EQ(s->utime_ticks, 12u);
  EXPECT_EQ(s->stime_ticks, 34u);
  EXPECT_EQ(s->nice, 0);
  EXPECT_EQ(s->num_threads, 1);
  EXPECT_EQ(s->start_ticks, 987654u);
  EXPECT_EQ(s->vsize_bytes, 9076736u);
  EXPECT_EQ(s->rss_pages, 1280);
  EXPECT_EQ(s->start_code, 1u);  // "1": not ours to see
  EXPECT_EQ(s->end_code, 1u);
}

TEST(ParseStat, TheProgramsTextRange) {
  auto s = parse_stat(
      "77 (sleep) S 1 77 77 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 500 5767168 200 18446744073709551615 "
      "94527376515072 94527376533985 140722105011520 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->start_code, 94527376515072u);
  EXPECT_EQ(s->end_code, 94527376533985u);
  EXPECT_EQ(s->start_stack, 140722105011520u);
  // A line that stops at rss (older format, or cut): the range is unknown.
  auto cut = parse_stat("77 (sleep) S 1 77 77 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 500 5767168 200\n");
  ASSERT_TRUE(cut);
  EXPECT_EQ(cut->rss_pages, 200);
  EXPECT_EQ(cut->start_code, 0u);
  // Garbage there is not a range (nor numbers after a garbage rsslim).
  auto bad = parse_stat("77 (sleep) S 1 77 77 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 500 5767168 200 9 x y z\n");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->start_code, 0u);
  EXPECT_EQ(bad->end_code, 0u);
  auto shifted = parse_stat("77 (sleep) S 1 77 77 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 500 5767168 200 x 5 6 7\n");
  ASSERT_TRUE(shifted);
  EXPECT_EQ(shifted->start_code, 0u);
  EXPECT_EQ(shifted->start_stack, 0u);
}

TEST(ParseStat, CommEndsAtTheLastParenthesis) {
  FakeProcess p;
  p.pid = 42;
  p.comm = "a) (b";
  p.ppid = 7;
  auto s = parse_stat(FakeProcfs::stat_line(p));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->comm, "a) (b");
  EXPECT_EQ(s->ppid, 7);
  EXPECT_EQ(s->state, 'S');
}

TEST(ParseStat, CommWithSpacesNewlineAndEscape) {
  FakeProcess p;
  p.comm = "x y\n\x1b[31m)";
  p.state = 'R';
  auto s = parse_stat(FakeProcfs::stat_line(p));
  ASSERT_TRUE(s);
  EXPECT_EQ(s->comm, "x y\n\x1b[31m)");
  EXPECT_EQ(s->state, 'R');
}

TEST(ParseStat, KernelThreadAndZombie) {
  FakeProcess k;
  k.pid = 2;
  k.comm = "kthreadd";
  k.flags = 0x00208040;  // PF_KTHREAD set
  auto ks = parse_stat(FakeProcfs::stat_line(k));
  ASSERT_TRUE(ks);
  EXPECT_TRUE(ks->flags & core::kPfKthread);
  FakeProcess z;
  z.state = 'Z';
  z.comm = "defunct";
  auto zs = parse_stat(FakeProcfs::stat_line(z));
  ASSERT_TRUE(zs);
  EXPECT_EQ(zs->state, 'Z');
}

TEST(ParseStat, RejectsMalformedInput) {
  EXPECT_FALSE(parse_stat(""));
  EXPECT_FALSE(parse_stat("12 (x"));
  EXPECT_FALSE(parse_stat("12 x) S 1"));
  EXPECT_FALSE(parse_stat("abc (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"));
  EXPECT_FALSE(parse_stat("12 (x) S 1 1 1 0 -1"));                    // truncated
  EXPECT_FALSE(parse_stat("12 (x) SS 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"));
  EXPECT_FALSE(parse_stat("12 (x) S 99999999999 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0 0"));
  EXPECT_FALSE(parse_stat(")12 (x( S"));
}

TEST(ParseStatus, ReadsIdsAndLockedMemory) {
  auto s = parse_status(
      "Name:\tsshd\nUmask:\t0022\nState:\tS (sleeping)\nUid:\t1000\t1001\t1002\t1003\n"
      "Gid:\t100\t101\t102\t103\nGroups:\t4 24 27\nVmLck:\t      12 kB\n");
  ASSERT_TRUE(s);
  EXPECT_EQ(s->uid.real, 1000u);
  EXPECT_EQ(s->uid.effective, 1001u);
  EXPECT_EQ(s->uid.saved, 1002u);
  EXPECT_EQ(s->uid.filesystem, 1003u);
  EXPECT_EQ(s->gid.effective, 101u);
  EXPECT_EQ(s->vm_locked_kb, 12u);
}

TEST(ParseStatus, ReadsTracerPid) {
  const std::string ids = "Uid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n";
  auto traced = parse_status("Name:\tsleep\nTracerPid:\t4242\n" + ids);
  ASSERT_TRUE(traced);
  EXPECT_EQ(traced->tracer_pid, 4242);
  auto untraced = parse_status("TracerPid:\t0\n" + ids);
  ASSERT_TRUE(untraced);
  EXPECT_EQ(untraced->tracer_pid, 0);
  EXPECT_EQ(parse_status(ids)->tracer_pid, 0);                       // no line: not traced
  EXPECT_EQ(parse_status("TracerPid:\tx1\n" + ids)->tracer_pid, 0);   // garbage: not traced
  EXPECT_EQ(parse_status("TracerPid:\t-5\n" + ids)->tracer_pid, 0);
}

TEST(ParseStatus, MissingOrBadIdsFail) {
  EXPECT_FALSE(parse_status("Name:\tx\n"));
  EXPECT_FALSE(parse_status("Uid:\t1\t2\t3\nGid:\t1\t1\t1\t1\n"));
  EXPECT_FALSE(parse_status("Uid:\ta\tb\tc\td\nGid:\t1\t1\t1\t1\n"));
}

TEST(ParseCmdline, SplitsOnNul) {
  using V = std::vector<std::string>;
  EXPECT_EQ(parse_cmdline(std::string_view("sleep\0" "10\0", 9)), (V{"sleep", "10"}));
  EXPECT_EQ(parse_cmdline(std::string_view("a\0\0b\0", 5)), (V{"a", "", "b"}));
  EXPECT_EQ(parse_cmdline("nginx: worker process"), (V{"nginx: worker process"}));
  EXPECT_TRUE(parse_cmdline("").empty());  // kernel thread or zombie
}

TEST(ParseCgroup, V1AndV2) {
  auto e = parse_cgroup(
      "12:pids:/user.slice\n1:name=systemd:/system.slice/ssh.service\n0::/system.slice/a:b.service\n");
  ASSERT_EQ(e.size(), 3u);
  EXPECT_EQ(e[0].hierarchy, 12u);
  EXPECT_EQ(e[0].controllers, "pids");
  EXPECT_EQ(e[1].controllers, "name=systemd");
  EXPECT_EQ(e[1].path, "/system.slice/ssh.service");
  EXPECT_EQ(e[2].hierarchy, 0u);
  EXPECT_EQ(e[2].controllers, "");
  EXPECT_EQ(e[2].path, "/system.slice/a:b.service");
  EXPECT_TRUE(parse_cgroup("garbage\nx:y\n").empty());
}

TEST(ParseLinks, NamespaceAndExe) {
  EXPECT_EQ(parse_ns_link("pid:[4026531836]"), 4026531836u);
  EXPECT_FALSE(parse_ns_link("pid:[]"));
  EXPECT_FALSE(parse_ns_link("pid:4026531836"));
  auto exe = parse_exe_link("/tmp/x (deleted)");
  EXPECT_TRUE(exe.deleted);
  EXPECT_EQ(exe.path, "/tmp/x");
  EXPECT_FALSE(parse_exe_link("/usr/bin/bash").deleted);
}

TEST(ParseSystemFiles, MeminfoAndUptime) {
  EXPECT_EQ(parse_meminfo_total_kb("MemTotal:       24576000 kB\nMemFree: 1 kB\n"), 24576000u);
  EXPECT_FALSE(parse_meminfo_total_kb("MemFree: 1 kB\n"));
  EXPECT_EQ(parse_uptime_ns("425.37 800.00\n"), 425'370'000'000u);
  EXPECT_EQ(parse_uptime_ns("7 1"), 7'000'000'000u);
  EXPECT_FALSE(parse_uptime_ns("x"));
  EXPECT_FALSE(parse_uptime_ns("99999999999999999999.0"));
}

}  // namespace
}  // namespace lineage::procfs
