// src/act driven directly on real child processes: the pidfd start-time
// check with a stale identity, and the kill sequence skipping it.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "act/killer.h"
#include "act/pidfd.h"
#include "procfs/reader.h"

namespace lineage::act {
namespace {

// A child that sleeps until killed; reaped by the destructor.
class Child {
 public:
  Child() {
    pid_ = ::fork();
    if (pid_ == 0) {
      for (;;) ::pause();
    }
  }
  ~Child() {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
};

char state_of(const procfs::ProcReader& reader, pid_t pid) {
  auto p = reader.read(pid, core::kFieldStat);
  return p ? p->stat.state : '-';
}

TEST(PidFdCheck, StaleStartTimeIsReusedNeverHeld) {
  auto reader = procfs::ProcReader::open("/proc");
  ASSERT_TRUE(reader);
  Child child;
  auto p = reader->read(child.pid(), core::kFieldStat);
  ASSERT_TRUE(p);
  PidFd fd;
  // As if the scan had seen another process at this pid, one tick earlier.
  EXPECT_EQ(PidFd::open({child.pid(), p->stat.start_ticks - 1}, *reader, fd), HoldStatus::kReused);
  EXPECT_FALSE(fd.valid());
  EXPECT_EQ(PidFd::open({child.pid(), p->stat.start_ticks}, *reader, fd), HoldStatus::kHeld);
  ASSERT_TRUE(fd.valid());
  EXPECT_FALSE(fd.exited());
  EXPECT_EQ(fd.send_signal(SIGKILL), 0);
  for (int i = 0; i < 200 && !fd.exited(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_TRUE(fd.exited());  // a zombie until reaped: the pidfd says exited
  PidFd again;
  EXPECT_EQ(PidFd::open({child.pid(), p->stat.start_ticks}, *reader, again), HoldStatus::kGone);
}

TEST(KillSequence, StaleIdentityIsSkippedAndTheProcessLives) {
  auto reader = procfs::ProcReader::open("/proc");
  ASSERT_TRUE(reader);
  Child stale, fresh;
  auto s = reader->read(stale.pid(), core::kFieldStat);
  auto f = reader->read(fresh.pid(), core::kFieldStat);
  ASSERT_TRUE(s && f);
  core::Process old = *s;
  old.stat.start_ticks -= 1;  // the process the plan saw is gone; this pid is someone else
  Anchor anchor{Scope::kGroup, {old.pid(), old.stat.start_ticks}, -1, 0};  // a group no process has: no rescan finds
  KillSettings settings;
  settings.timeout_ns = 1'000'000'000;
  settings.self_pid = static_cast<int32_t>(::getpid());
  KillReport report = kill_processes(*reader, anchor, {old, *f}, settings);
  ASSERT_EQ(report.members.size(), 2u);
  EXPECT_EQ(report.members[0].outcome, Outcome::kSkipped);
  EXPECT_EQ(report.members[0].reason, "pid reused by another process");
  EXPECT_EQ(report.members[1].outcome, Outcome::kSignalled);
  EXPECT_EQ(state_of(*reader, stale.pid()), 'S');  // never stopped, never ended
  EXPECT_EQ(state_of(*reader, fresh.pid()), 'Z');  // ended by TERM (not reaped yet)
}

}  // namespace
}  // namespace lineage::act
