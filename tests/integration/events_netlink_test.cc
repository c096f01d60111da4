// Event sources against the real kernel: the test spawns a known workload
// and checks that every process of it shows up with the right lineage.
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <set>
#include <vector>

#include <gtest/gtest.h>

#include "core/clock.h"
#include "events/netlink_source.h"
#include "events/poll_source.h"
#include "procfs/parsers.h"
#include "procfs/reader.h"

namespace lineage::events {
namespace {

using Clock = std::chrono::steady_clock;

pid_t spawn(const char* path, const char* arg = nullptr) {
  char* argv[] = {const_cast<char*>(path), const_cast<char*>(arg), nullptr};
  pid_t pid = ::fork();
  if (pid == 0) {
    ::execv(path, argv);
    ::_exit(127);
  }
  return pid;
}

// Child forks a grandchild running `sleep 5`, reports its pid, and exits:
// the grandchild's fork-time parent is the (then dead) child.
std::pair<pid_t, pid_t> spawn_double_fork() {
  int fds[2];
  if (::pipe(fds) != 0) return {-1, -1};
  pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    pid_t grandchild = spawn("/bin/sleep", "5");
    ssize_t ignored = ::write(fds[1], &grandchild, sizeof grandchild);
    (void)ignored;
    ::_exit(0);
  }
  ::close(fds[1]);
  pid_t grandchild = -1;
  if (::read(fds[0], &grandchild, sizeof grandchild) != sizeof grandchild) grandchild = -1;
  ::close(fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return {child, grandchild};
}

struct Seen {
  const core::Event* fork = nullptr;
  const core::Event* exec = nullptr;
  const core::Event* exit = nullptr;
};

std::map<int32_t, Seen> index_events(const std::vector<core::Event>& events) {
  std::map<int32_t, Seen> by_pid;
  for (const core::Event& e : events) {
    Seen& s = by_pid[e.pid];
    switch (e.kind) {
      case core::EventKind::kFork: s.fork = &e; break;
      case core::EventKind::kExec: s.exec = &e; break;
      case core::EventKind::kExit: s.exit = &e; break;
      case core::EventKind::kLost: break;
    }
  }
  return by_pid;
}

TEST(NetlinkEventSource, SeesForkExecExitOfSpawnedProcesses) {
  auto reader = procfs::ProcReader::open();
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  auto source = NetlinkEventSource::open(*reader);
  if (!source.ok()) {
    if (source.error().kind == ErrorKind::kPermission) GTEST_SKIP() << source.error().message;
    FAIL() << source.error().message;
  }
  EXPECT_EQ((*source)->name(), "netlink");

  constexpr int kCount = 200;
  std::vector<pid_t> trues;
  for (int i = 0; i < kCount; ++i) {
    pid_t pid = spawn("/bin/true");
    ASSERT_GT(pid, 0);
    trues.push_back(pid);
  }
  for (pid_t pid : trues) {
    int status = -1;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_EQ(status, 0);
  }
  const auto spawned = spawn_double_fork();  // no structured binding: lambdas below capture these
  const pid_t child = spawned.first, grandchild = spawned.second;
  ASSERT_GT(child, 0);
  ASSERT_GT(grandchild, 0);

  // Collect until every spawned process is complete, for at most 5 s.
  std::vector<core::Event> events;
  auto complete = [&] {
    auto seen = index_events(events);
    for (pid_t pid : trues) {
      const Seen& s = seen[pid];
      if (!s.fork || !s.exec || !s.exit) return false;
    }
    return seen[grandchild].fork && seen[grandchild].exec;
  };
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline && !complete()) {
    auto polled = (*source)->poll(events, 100);
    ASSERT_TRUE(polled.ok()) << polled.error().message;
  }
  ::kill(grandchild, SIGKILL);  // reparented away from us: not ours to reap

  const int32_t self = ::getpid();
  auto seen = index_events(events);
  int with_argv = 0, with_exe = 0, with_start = 0;
  for (pid_t pid : trues) {
    SCOPED_TRACE("pid " + std::to_string(pid));
    const Seen& s = seen[pid];
    ASSERT_NE(s.fork, nullptr);
    EXPECT_EQ(s.fork->ppid, self);
    EXPECT_EQ(s.fork->tid, pid);
    if (s.fork->start_time_ns != 0) ++with_start;  // read from /proc too: racy
    ASSERT_NE(s.exec, nullptr);
    EXPECT_GE(s.exec->time_ns, s.fork->time_ns);
    if (!s.exec->argv.empty()) {
      ++with_argv;
      EXPECT_EQ(s.exec->argv[0], "/bin/true");
      EXPECT_TRUE(s.exec->from_proc);
    }
    if (!s.exec->exe.empty()) {
      ++with_exe;
      EXPECT_TRUE(s.exec->exe == "/usr/bin/true" || s.exec->exe == "/bin/true") << s.exec->exe;
    }
    ASSERT_NE(s.exit, nullptr);
    EXPECT_EQ(s.exit->exit_code, 0);
    EXPECT_GE(s.exit->time_ns, s.exec->time_ns);
  }
  std::cout << "[ measured ] exec details from /proc for " << kCount << " /bin/true: argv "
            << with_argv << ", exe " << with_exe << ", fork start time " << with_start
            << "; lost " << (*source)->stats().lost << "\n";
  // The proc connector carries pids only: argv is read from /proc after the
  // event and /bin/true lives about a millisecond, so coverage depends on
  // how soon the reader thread runs. Measured on a shared 2-vCPU VM: 10% to
  // 90% between runs, far from a guarantee (the BPF source reads argv in the
  // kernel). Asserted: the lookup works at all; the long-lived sleep below
  // must have full details.
  EXPECT_GT(with_argv, 0);

  ASSERT_NE(seen[child].fork, nullptr);
  EXPECT_EQ(seen[child].fork->ppid, self);
  ASSERT_NE(seen[grandchild].fork, nullptr);
  EXPECT_NE(seen[grandchild].fork->start_time_ns, 0u) << "alive for 5 s: its stat is readable";
  EXPECT_EQ(seen[grandchild].fork->ppid, child) << "the fork-time parent, not the reaper";
  ASSERT_NE(seen[grandchild].exec, nullptr);
  const core::Event& sleep_exec = *seen[grandchild].exec;
  EXPECT_TRUE(sleep_exec.from_proc);
  ASSERT_EQ(sleep_exec.argv, (std::vector<std::string>{"/bin/sleep", "5"}));
  EXPECT_EQ(sleep_exec.comm, "sleep");
  EXPECT_TRUE(sleep_exec.exe == "/usr/bin/sleep" || sleep_exec.exe == "/bin/sleep")
      << sleep_exec.exe;
  EXPECT_EQ(sleep_exec.uid, ::getuid());
  EXPECT_NE(sleep_exec.start_time_ns, 0u);
  EXPECT_EQ(sleep_exec.start_time_ns, seen[grandchild].fork->start_time_ns) << "one identity";

  // Event times are CLOCK_BOOTTIME, the clock of /proc start times.
  uint64_t boot_ns = core::boot_now_ns();
  const core::Event& fork = *seen[grandchild].fork;
  EXPECT_LE(fork.time_ns, boot_ns);
  EXPECT_GT(fork.time_ns + 10'000'000'000ull, boot_ns);
  EXPECT_LE(fork.start_time_ns, fork.time_ns + 10'000'000ull) << "within a clock tick";
  EXPECT_GE(fork.start_time_ns + 20'000'000ull, fork.time_ns);

  SourceStats stats = (*source)->stats();
  EXPECT_GE(stats.forks, static_cast<uint64_t>(kCount + 2));
  EXPECT_GE(stats.execs, static_cast<uint64_t>(kCount + 1));
  EXPECT_GE(stats.exits, static_cast<uint64_t>(kCount + 1));
}

// Bytes on a netlink socket are hostile: truncations of a valid message and
// lies in its length fields yield nothing, never a read past the end.
TEST(NetlinkEventSource, ParserRejectsTruncatedAndLyingMessages) {
  constexpr size_t kLen = NLMSG_LENGTH(sizeof(cn_msg) + sizeof(proc_event));
  alignas(nlmsghdr) unsigned char buf[kLen] = {};
  nlmsghdr hdr{};
  hdr.nlmsg_len = kLen;
  hdr.nlmsg_type = NLMSG_DONE;
  cn_msg msg{};
  msg.id = {CN_IDX_PROC, CN_VAL_PROC};
  msg.len = sizeof(proc_event);
  proc_event ev{};
  ev.what = proc_event::PROC_EVENT_FORK;
  ev.event_data.fork = {10, 10, 11, 11};
  std::memcpy(buf, &hdr, sizeof hdr);
  std::memcpy(buf + NLMSG_HDRLEN, &msg, sizeof msg);
  std::memcpy(buf + NLMSG_HDRLEN + sizeof msg, &ev, sizeof ev);

  size_t malformed = 0;
  auto whole = parse_proc_datagram(buf, kLen, &malformed);
  ASSERT_EQ(whole.size(), 1u);
  EXPECT_EQ(whole[0].type, ProcMessage::Type::kFork);
  EXPECT_EQ(whole[0].pid, 11);
  EXPECT_EQ(whole[0].ppid, 10);
  EXPECT_EQ(malformed, 0u);

  for (size_t len = 0; len < kLen; ++len) {
    EXPECT_TRUE(parse_proc_datagram(buf, len, nullptr).empty()) << "truncated to " << len;
  }
  auto lie = [&](size_t offset, uint32_t value, size_t width) {
    unsigned char copy[kLen];
    std::memcpy(copy, buf, kLen);
    std::memcpy(copy + offset, &value, width);
    return parse_proc_datagram(copy, kLen, nullptr);
  };
  EXPECT_TRUE(lie(0, kLen + 64, 4).empty()) << "nlmsg_len past the datagram";
  EXPECT_TRUE(lie(0, 4, 4).empty()) << "nlmsg_len shorter than its header";
  const size_t cn_len = NLMSG_HDRLEN + offsetof(cn_msg, len);
  EXPECT_TRUE(lie(cn_len, 0xffff, 2).empty()) << "cn_msg.len past the message";
  EXPECT_TRUE(lie(cn_len, 20, 2).empty()) << "too short for a fork event";
  EXPECT_TRUE(lie(NLMSG_HDRLEN, 7, 4).empty()) << "another connector";

  // A thread is not a new process: its own type, passed on only on request.
  ev.event_data.fork = {10, 10, 12, 10};
  std::memcpy(buf + NLMSG_HDRLEN + sizeof msg, &ev, sizeof ev);
  auto thread = parse_proc_datagram(buf, kLen, nullptr);
  ASSERT_EQ(thread.size(), 1u);
  EXPECT_EQ(thread[0].type, ProcMessage::Type::kThreadFork);
  EXPECT_EQ(thread[0].tid, 12);
}

TEST(PollEventSource, AKnownProcessThatExecsLaterIsReportedAgain) {
  auto reader = procfs::ProcReader::open();
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  PollEventSource source(*reader, std::chrono::milliseconds(100));
  // Seen first as the parent's image (a child stopped before its exec, as
  // a scan can find one between fork and exec), then after its exec.
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::raise(SIGSTOP);
    ::execl("/bin/sleep", "sleep", "3", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, WUNTRACED), pid);
  std::vector<core::Event> events;
  ASSERT_TRUE(source.poll(events, 1000).ok());
  auto first = index_events(events);
  ASSERT_NE(first[pid].exec, nullptr);
  EXPECT_NE(first[pid].exec->comm, "sleep");
  events.clear();
  ::kill(pid, SIGCONT);
  const core::Event* exec = nullptr;
  for (int i = 0; i < 20 && exec == nullptr; ++i) {
    ASSERT_TRUE(source.poll(events, 1000).ok());
    for (const auto& e : events) {
      if (e.pid == pid && e.kind == core::EventKind::kExec) exec = &e;
    }
  }
  ASSERT_NE(exec, nullptr) << "the exec after the first scan was not reported";
  EXPECT_EQ(exec->comm, "sleep");
  EXPECT_EQ(exec->argv, (std::vector<std::string>{"sleep", "3"}));
  EXPECT_TRUE(exec->from_proc);
  for (const auto& e : events) EXPECT_FALSE(e.pid == pid && e.kind == core::EventKind::kFork) << "forked once";
  ::kill(pid, SIGKILL);
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
}

// The poll source tells an exec by the program's text moving: a rename
// (prctl(PR_SET_NAME)) is not an exec, an exec of a program of the same
// name is. Real processes, stopped where a scan must find them.
TEST(PollEventSource, ARenameIsNotAnExecAndAnExecUnderTheSameNameIs) {
  {
    // The rule needs the image's addresses, which the ptrace read check
    // may hide even from the test's own children (an undumpable test).
    auto self = procfs::parse_stat([] {
      std::ifstream f("/proc/self/stat");
      return std::string(std::istreambuf_iterator<char>(f), {});
    }());
    if (!self || self->start_code <= 1) GTEST_SKIP() << "the image's addresses are hidden here";
  }
  auto reader = procfs::ProcReader::open();
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  PollEventSource source(*reader, std::chrono::milliseconds(100));
  // Killed and reaped however the test ends (a stopped child left behind
  // would hold the test's output open), and dead with the test.
  struct Reaper {
    std::vector<pid_t> pids;
    ~Reaper() {
      for (pid_t pid : pids) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, nullptr, 0);
      }
    }
  } reaper;
  const pid_t test = ::getpid();
  auto child = [&](auto body) {
    pid_t pid = ::fork();
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != test) ::_exit(1);
      body();
      ::_exit(127);
    }
    if (pid > 0) reaper.pids.push_back(pid);
    return pid;
  };
  pid_t renamer = child([] {
    ::raise(SIGSTOP);  // seen under the test's own name
    ::prctl(PR_SET_NAME, "renamed", 0, 0, 0);
    ::raise(SIGSTOP);  // seen under the new one, the same image
    ::pause();
  });
  ASSERT_GT(renamer, 0);
  pid_t same_name = child([] {
    ::prctl(PR_SET_NAME, "sleep", 0, 0, 0);
    ::raise(SIGSTOP);  // seen as "sleep" running the test's image
    ::execl("/bin/sleep", "sleep", "3", static_cast<char*>(nullptr));
  });
  ASSERT_GT(same_name, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(renamer, &status, WUNTRACED), renamer);
  ASSERT_TRUE(WIFSTOPPED(status));
  ASSERT_EQ(::waitpid(same_name, &status, WUNTRACED), same_name);
  ASSERT_TRUE(WIFSTOPPED(status));
  std::vector<core::Event> events;
  ASSERT_TRUE(source.poll(events, 1000).ok());
  auto first = index_events(events);
  ASSERT_NE(first[renamer].fork, nullptr);
  ASSERT_NE(first[same_name].exec, nullptr);
  EXPECT_EQ(first[same_name].exec->comm, "sleep");
  EXPECT_NE(first[same_name].exec->argv, (std::vector<std::string>{"sleep", "3"})) << "not exec'd yet";

  ::kill(renamer, SIGCONT);
  ASSERT_EQ(::waitpid(renamer, &status, WUNTRACED), renamer);  // renamed, stopped again
  ASSERT_TRUE(WIFSTOPPED(status));
  ::kill(same_name, SIGCONT);
  const core::Event* exec = nullptr;
  events.clear();
  for (int i = 0; i < 20 && exec == nullptr; ++i) {
    ASSERT_TRUE(source.poll(events, 1000).ok());
    for (const auto& e : events) {
      if (e.pid == same_name && e.kind == core::EventKind::kExec) exec = &e;
    }
  }
  ASSERT_NE(exec, nullptr) << "the exec of a program of the same name was not reported";
  EXPECT_EQ(exec->argv, (std::vector<std::string>{"sleep", "3"}));
  std::string comm;
  std::ifstream("/proc/" + std::to_string(renamer) + "/comm") >> comm;
  EXPECT_EQ(comm, "renamed");
  for (const auto& e : events) {
    EXPECT_FALSE(e.pid == renamer && e.kind == core::EventKind::kExec) << "a rename read as an exec";
  }
}

TEST(PollEventSource, SeesNewAndVanishedProcesses) {
  auto reader = procfs::ProcReader::open();
  ASSERT_TRUE(reader.ok()) << reader.error().message;
  PollEventSource source(*reader, std::chrono::milliseconds(200));
  EXPECT_EQ(source.name(), "poll");

  pid_t pid = spawn("/bin/sleep", "3");
  ASSERT_GT(pid, 0);
  std::vector<core::Event> events;
  // sleep must have exec'd before the scan that sees it: two scans.
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(source.poll(events, 1000).ok());
  auto seen = index_events(events);
  ASSERT_NE(seen[pid].fork, nullptr);
  EXPECT_EQ(seen[pid].fork->ppid, ::getpid());
  EXPECT_NE(seen[pid].fork->start_time_ns, 0u);
  ASSERT_NE(seen[pid].exec, nullptr);
  ASSERT_FALSE(seen[pid].exec->argv.empty());
  EXPECT_EQ(seen[pid].exec->argv[0], "/bin/sleep");
  EXPECT_EQ(seen[pid].exec->comm, "sleep");
  EXPECT_TRUE(seen[pid].exec->from_proc);
  EXPECT_EQ(seen[pid].exit, nullptr);

  ::kill(pid, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  events.clear();
  for (int i = 0; i < 2; ++i) ASSERT_TRUE(source.poll(events, 1000).ok());
  seen = index_events(events);
  ASSERT_NE(seen[pid].exit, nullptr);
  EXPECT_EQ(seen[pid].exit->exit_code, -1) << "a scan cannot know the exit code";
  EXPECT_EQ(seen[pid].fork, nullptr) << "reported once";
  EXPECT_GE(source.stats().exits, 1u);
}

}  // namespace
}  // namespace lineage::events
