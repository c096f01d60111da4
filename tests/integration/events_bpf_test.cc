// The eBPF event source against real processes: the test forks and execs
// processes itself and checks that every fork, exec and exit arrives with
// the identity (pid, start time) /proc gives them.
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/unique_fd.h"
#include "core/live_tree.h"
#include "events/bpf_source.h"

namespace lineage::events {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kChildren = 500;
constexpr uint64_t kInitPidNs = 0xEFFFFFFCu;  // PROC_PID_INIT_INO

uint64_t pidns_inode(const char* path) {
  struct stat st {};
  return ::stat(path, &st) == 0 ? st.st_ino : 0;
}

// Start time from /proc/PID/stat (field 22, clock ticks since boot), in ns.
// Read while the child is a zombie: the pid cannot be reused until reaped.
uint64_t proc_start_ns(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return 0;
  std::istringstream fields(stat.substr(paren + 2));
  std::string field;
  for (int i = 3; i <= 22 && fields >> field; ++i) {
    if (i == 22) return std::stoull(field) * (1'000'000'000ull / uint64_t(::sysconf(_SC_CLK_TCK)));
  }
  return 0;
}

pid_t spawn_true() {
  pid_t pid = ::fork();
  if (pid == 0) {
    char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
    ::execv("/bin/true", argv);
    ::_exit(127);
  }
  return pid;
}

// A process this test started but does not parent (re-parented to init):
// killed through a pidfd, so a reused pid can never be hit. (Raw syscalls:
// glibc 2.36's <sys/pidfd.h> lacks extern "C" and does not link from C++.)
class Orphan {
 public:
  explicit Orphan(pid_t pid) : pid_(pid), fd_(int(::syscall(SYS_pidfd_open, pid, 0))) {}
  ~Orphan() {
    if (fd_.valid()) ::syscall(SYS_pidfd_send_signal, fd_.get(), SIGKILL, nullptr, 0);
  }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
  UniqueFd fd_;
};

// Double fork: the child forks a grandchild (`sleep 3`), tells us its pid
// and exits. Returns the child's pid; the grandchild is in *grandchild.
pid_t double_fork(pid_t* grandchild) {
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  pid_t child = ::fork();
  if (child == 0) {
    ::close(fds[0]);
    pid_t g = ::fork();
    if (g == 0) {
      char* const argv[] = {const_cast<char*>("sleep"), const_cast<char*>("3"), nullptr};
      ::execv("/bin/sleep", argv);
      ::_exit(127);
    }
    (void)!::write(fds[1], &g, sizeof g);
    ::_exit(0);
  }
  ::close(fds[1]);
  *grandchild = -1;
  if (child > 0 && ::read(fds[0], grandchild, sizeof *grandchild) != sizeof *grandchild)
    *grandchild = -1;
  ::close(fds[0]);
  return child;
}

struct Seen {
  const core::Event* fork = nullptr;
  const core::Event* exec = nullptr;
  const core::Event* exit = nullptr;
  bool complete = false;
};

class BpfSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (pidns_inode("/proc/self/ns/pid") != kInitPidNs)
      GTEST_SKIP() << "not in the initial pid namespace: the source reports the kernel's pids";
    auto opened = BpfEventSource::open();
    if (!opened.ok()) {
      if (opened.error().kind == ErrorKind::kPermission)
        GTEST_SKIP() << "the kernel refuses BPF here: " << opened.error().message;
      FAIL() << opened.error().message;
    }
    source_ = std::move(opened.value());
  }

  // Polls until done(events) or the deadline; returns when it stopped.
  template <class Done>
  void poll_until(Done done, std::chrono::milliseconds limit) {
    auto deadline = Clock::now() + limit;
    while (!done() && Clock::now() < deadline) {
      auto r = source_->poll(events_, 50);
      ASSERT_TRUE(r.ok()) << r.error().message;
    }
  }

  std::unique_ptr<BpfEventSource> source_;
  std::vector<core::Event> events_;
};

TEST(SplitArgs, KernelLayout) {
  const char data[] = "/bin/true\0-x\0\0last";
  EXPECT_EQ(split_args(data, sizeof data - 1),
            (std::vector<std::string>{"/bin/true", "-x", "", "last"}));
  EXPECT_EQ(split_args("a\0b\0", 4), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(split_args("", 0).empty());
}

TEST(KeptEntries, OnlyTheAcceptedEntriesInOrder) {
  using namespace std::string_literals;
  auto ssh = [](std::string_view kv) { return kv.starts_with("SSH_") || kv.starts_with("TMUX="); };
  EXPECT_EQ(kept_entries("HOME=/root\0SSH_TTY=/dev/pts/1\0SECRET=x\0TMUX=/tmp/t,1,0\0"s, ssh),
            "SSH_TTY=/dev/pts/1\0TMUX=/tmp/t,1,0"s);
  // Empty entries, nothing kept, a last entry cut without its NUL.
  EXPECT_EQ(kept_entries("\0\0PATH=/bin\0"s, ssh), "");
  EXPECT_EQ(kept_entries("", ssh), "");
  EXPECT_EQ(kept_entries("PATH=/bin\0SSH_CONNECTION=10.0.0.7 5"s, ssh), "SSH_CONNECTION=10.0.0.7 5");
}

TEST_F(BpfSourceTest, SeesEveryForkExecExitOfShortLivedProcesses) {
  const pid_t self = ::getpid();
  const auto started = Clock::now();

  std::vector<pid_t> pids;
  for (int i = 0; i < kChildren; ++i) {
    pid_t pid = spawn_true();
    ASSERT_GT(pid, 0) << "fork failed after " << i << " children";
    pids.push_back(pid);
  }
  pid_t grandchild = -1;
  pid_t child = double_fork(&grandchild);
  ASSERT_GT(child, 0);
  ASSERT_GT(grandchild, 0);
  Orphan sleeper(grandchild);

  // Reap, reading each start time while the zombie still holds its pid.
  std::map<pid_t, uint64_t> proc_start;
  for (pid_t pid : pids) {
    siginfo_t info{};
    ASSERT_EQ(::waitid(P_PID, pid, &info, WEXITED | WNOWAIT), 0);
    proc_start[pid] = proc_start_ns(pid);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "pid " << pid << " status " << status;
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  const auto spawned = Clock::now();

  // Index by pid; a pid is ours only with the start time of our fork.
  std::map<pid_t, Seen> seen;
  for (pid_t pid : pids) seen[pid];
  seen[child];
  seen[grandchild];
  size_t complete = 0, scanned = 0;
  auto done = [&] {
    for (; scanned < events_.size(); ++scanned) {
      const core::Event& e = events_[scanned];
      auto it = seen.find(e.pid);
      if (it == seen.end()) continue;
      Seen& s = it->second;
      if (e.kind == core::EventKind::kFork && !s.fork) s.fork = &e;
      if (s.fork && e.start_time_ns == s.fork->start_time_ns) {
        if (e.kind == core::EventKind::kExec && !s.exec) s.exec = &e;
        if (e.kind == core::EventKind::kExit && !s.exit) s.exit = &e;
      }
      // The grandchild is still running `sleep 3`: no exit expected.
      if (!s.complete && s.fork && s.exec && (s.exit || e.pid == grandchild)) {
        s.complete = true;
        ++complete;
      }
    }
    return complete >= seen.size() - 1;  // the child does not exec
  };
  // Pointers into events_ stay valid only without reallocation.
  events_.reserve(1 << 16);
  poll_until(done, std::chrono::seconds(5));
  ASSERT_LT(events_.size(), size_t(1 << 16)) << "too many events for the pointer index";
  const auto finished = Clock::now();
  // The child forks and exits but never execs: catch its exit too.
  poll_until([&] { done(); return seen[child].exit != nullptr; }, std::chrono::seconds(1));

  const uint32_t ns = uint32_t(pidns_inode("/proc/self/ns/pid"));
  uint64_t previous_start = 0;
  for (pid_t pid : pids) {
    SCOPED_TRACE("pid " + std::to_string(pid));
    const Seen& s = seen[pid];
    ASSERT_NE(s.fork, nullptr) << "no fork event";
    EXPECT_EQ(s.fork->ppid, self);
    EXPECT_EQ(s.fork->tid, pid);
    EXPECT_GT(s.fork->start_time_ns, previous_start);  // forked one after another
    previous_start = s.fork->start_time_ns;
    uint64_t from_proc = proc_start[pid];
    ASSERT_NE(from_proc, 0u);
    // /proc truncates to clock ticks: the event is at most a tick later.
    EXPECT_LT(std::llabs(int64_t(s.fork->start_time_ns) - int64_t(from_proc)), 20'000'000);
    EXPECT_GE(s.fork->time_ns, s.fork->start_time_ns);
    EXPECT_EQ(s.fork->uid, ::geteuid());
    EXPECT_EQ(s.fork->pidns, ns);
    EXPECT_EQ(s.fork->ns_pid, pid);
    EXPECT_NE(s.fork->cgroup_id, 0u);

    ASSERT_NE(s.exec, nullptr) << "no exec event";
    EXPECT_TRUE(s.exec->exe == "/bin/true" || s.exec->exe == "/usr/bin/true") << s.exec->exe;
    ASSERT_FALSE(s.exec->argv.empty());
    EXPECT_EQ(s.exec->argv[0], "/bin/true");
    EXPECT_EQ(s.exec->argv.size(), 1u);
    EXPECT_EQ(s.exec->comm, "true");
    EXPECT_EQ(s.exec->tid, pid);

    ASSERT_NE(s.exit, nullptr) << "no exit event";
    EXPECT_EQ(s.exit->exit_code, 0);
    EXPECT_GE(s.exit->time_ns, s.exec->time_ns);
  }

  const Seen& c = seen[child];
  const Seen& g = seen[grandchild];
  ASSERT_NE(c.fork, nullptr);
  EXPECT_EQ(c.fork->ppid, self);
  ASSERT_NE(c.exit, nullptr);
  EXPECT_EQ(c.exit->exit_code, 0);
  ASSERT_NE(g.fork, nullptr);
  EXPECT_EQ(g.fork->ppid, child);  // the fork-time parent, though it is gone now
  EXPECT_EQ(g.fork->parent_start_time_ns, c.fork->start_time_ns);
  ASSERT_NE(g.exec, nullptr);
  EXPECT_EQ(g.exec->exe, "/bin/sleep");
  EXPECT_EQ(g.exec->argv, (std::vector<std::string>{"sleep", "3"}));
  EXPECT_EQ(g.exit, nullptr);

  SourceStats stats = source_->stats();
  EXPECT_EQ(stats.lost, 0u);
  EXPECT_GE(stats.forks, uint64_t(kChildren + 2));
  EXPECT_GE(stats.execs, uint64_t(kChildren + 1));
  EXPECT_GE(stats.exits, uint64_t(kChildren + 1));

  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  double total_ms = ms(finished - started);
  std::printf("[ bpf      ] %d processes spawned and reaped in %.1f ms; all %zu events seen %.1f ms "
              "after the start (%.0f events/s); %llu events from the whole machine; lost %llu\n",
              kChildren + 2, ms(spawned - started), events_.size(), total_ms,
              events_.size() / (total_ms / 1000), static_cast<unsigned long long>(events_.size()),
              static_cast<unsigned long long>(stats.lost));
}

// A ring buffer too small for the burst: what did not fit is counted in the
// kernel and reported, as kLost events and in stats().lost, never silently.
TEST_F(BpfSourceTest, ReportsWhatTheRingBufferCouldNotHold) {
  source_.reset();
  BpfEventSource::Options small;
  small.ring_bytes = uint32_t(::sysconf(_SC_PAGESIZE));  // two exec records at most
  auto opened = BpfEventSource::open(small);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  source_ = std::move(opened.value());

  for (int i = 0; i < 50; ++i) {  // not polling meanwhile
    pid_t pid = spawn_true();
    ASSERT_GT(pid, 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  }
  uint64_t reported = 0;
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(source_->poll(events_, 10).ok());
  }
  for (const core::Event& e : events_)
    if (e.kind == core::EventKind::kLost) reported += e.lost;
  EXPECT_GT(reported, 100u);  // 150 events of ours, a page holds a handful
  // GE: other processes on the machine may lose more after the last poll.
  EXPECT_GE(source_->stats().lost, reported);
}

// exec from a thread that is not the leader: the kernel makes that thread the
// leader (pid becomes tgid); the event names the tid that called execve.
TEST_F(BpfSourceTest, ExecFromNonLeaderThread) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    static int out;
    out = fds[1];
    pthread_t thread;
    ::pthread_create(
        &thread, nullptr,
        [](void*) -> void* {
          pid_t tid = ::gettid();
          (void)!::write(out, &tid, sizeof tid);
          char* const argv[] = {const_cast<char*>("/bin/true"), const_cast<char*>("from-thread"),
                                nullptr};
          ::execv("/bin/true", argv);
          ::_exit(127);
        },
        nullptr);
    for (;;) ::pause();
  }
  ::close(fds[1]);
  pid_t tid = 0;
  ASSERT_EQ(::read(fds[0], &tid, sizeof tid), ssize_t(sizeof tid));
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

  const core::Event* exec = nullptr;
  const core::Event* exit = nullptr;
  size_t scanned = 0;
  events_.reserve(1 << 16);
  poll_until(
      [&] {
        for (; scanned < events_.size() && scanned < (1 << 16); ++scanned) {
          const core::Event& e = events_[scanned];
          if (e.pid != pid) continue;
          if (e.kind == core::EventKind::kExec) exec = &e;
          if (e.kind == core::EventKind::kExit) exit = &e;
        }
        return exec && exit;
      },
      std::chrono::seconds(5));
  ASSERT_NE(exec, nullptr);
  EXPECT_NE(tid, pid);
  EXPECT_EQ(exec->tid, tid);
  EXPECT_EQ(exec->argv, (std::vector<std::string>{"/bin/true", "from-thread"}));
  ASSERT_NE(exit, nullptr);
  EXPECT_EQ(exit->exit_code, 0);
  // Only the process exit is reported, not the threads' (the leader thread
  // died in de_thread()).
  int exits = 0;
  for (const core::Event& e : events_)
    if (e.pid == pid && e.kind == core::EventKind::kExit) ++exits;
  EXPECT_EQ(exits, 1);
}

}  // namespace
}  // namespace lineage::events

namespace lineage::events {
namespace {

struct stat stat_of(const char* path) {
  struct stat st {};
  ::stat(path, &st);
  return st;
}

// A child subreaper S forks M, M forks G (a #! script) and exits at once.
// The kernel hands G to S, not to init: M's exit event names S as the
// reaper, G's exit names S as its parent, and the live tree follows. G's
// exec reports the script's interpreter and the identity of the file that
// really runs (the interpreter's binary); an ELF exec reports its loader.
TEST_F(BpfSourceTest, SubreaperReparentingAndExecIdentity) {
  char script[] = "/tmp/lineage-subreaper-XXXXXX";
  int sfd = ::mkstemp(script);
  ASSERT_GE(sfd, 0);
  const char body[] = "#!/bin/sh\nsleep 0.3\n";
  ASSERT_EQ(::write(sfd, body, sizeof body - 1), ssize_t(sizeof body - 1));
  ::fchmod(sfd, 0700);
  ::close(sfd);

  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  pid_t s = ::fork();
  ASSERT_GE(s, 0);
  if (s == 0) {
    ::close(fds[0]);
    ::prctl(PR_SET_CHILD_SUBREAPER, 1);
    pid_t m = ::fork();
    if (m == 0) {
      pid_t g = ::fork();
      if (g == 0) {
        char* const argv[] = {script, nullptr};
        ::execv(script, argv);
        ::_exit(127);
      }
      pid_t pids[2] = {::getpid(), g};
      (void)!::write(fds[1], pids, sizeof pids);
      ::_exit(0);
    }
    while (::waitpid(-1, nullptr, 0) > 0) {
    }
    ::_exit(0);
  }
  ::close(fds[1]);
  pid_t mg[2] = {0, 0};
  ASSERT_EQ(::read(fds[0], mg, sizeof mg), ssize_t(sizeof mg));
  ::close(fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(s, &status, 0), s);
  pid_t t = spawn_true();
  ASSERT_EQ(::waitpid(t, &status, 0), t);
  ::unlink(script);
  const pid_t m = mg[0], g = mg[1];

  const core::Event *m_exit = nullptr, *g_exit = nullptr, *g_exec = nullptr, *t_exec = nullptr, *s_exit = nullptr;
  size_t scanned = 0;
  events_.reserve(1 << 16);
  poll_until(
      [&] {
        for (; scanned < events_.size() && scanned < (1 << 16); ++scanned) {
          const core::Event& e = events_[scanned];
          if (e.kind == core::EventKind::kExit && e.pid == m) m_exit = &e;
          if (e.kind == core::EventKind::kExit && e.pid == g) g_exit = &e;
          if (e.kind == core::EventKind::kExit && e.pid == s) s_exit = &e;
          if (e.kind == core::EventKind::kExec && e.pid == g) g_exec = &e;
          if (e.kind == core::EventKind::kExec && e.pid == t) t_exec = &e;
        }
        return m_exit && g_exit && g_exec && t_exec && s_exit;
      },
      std::chrono::seconds(5));
  ASSERT_NE(m_exit, nullptr);
  ASSERT_NE(g_exit, nullptr);
  ASSERT_NE(g_exec, nullptr);
  ASSERT_NE(t_exec, nullptr);
  EXPECT_EQ(m_exit->reaper_pid, s);
  EXPECT_EQ(m_exit->ppid, s);
  EXPECT_EQ(g_exit->ppid, s);  // its current parent: the subreaper
  EXPECT_EQ(s_exit->reaper_pid, 1);  // S itself is not a subreaper's child

  EXPECT_EQ(g_exec->exe, script);
  EXPECT_EQ(g_exec->interpreter, "/bin/sh");
  struct stat sh = stat_of("/bin/sh");
  EXPECT_EQ(g_exec->exe_ino, uint64_t(sh.st_ino));
  EXPECT_EQ(g_exec->exe_dev, uint64_t(sh.st_dev));
  EXPECT_EQ(g_exec->exe_ctime_ns, uint64_t(sh.st_ctim.tv_sec) * 1'000'000'000ull + uint64_t(sh.st_ctim.tv_nsec));
  struct stat tr = stat_of("/bin/true");
  EXPECT_EQ(t_exec->exe_ino, uint64_t(tr.st_ino));
  EXPECT_EQ(t_exec->interpreter.rfind("/lib", 0), 0u) << t_exec->interpreter;  // the ELF's loader

  core::LiveTree tree;
  for (const core::Event& e : events_) tree.apply(e);
  const core::LiveProcess* gp = tree.find({g, g_exit->start_time_ns});
  ASSERT_NE(gp, nullptr);
  auto after = tree.at(gp->key, m_exit->time_ns + 1);
  ASSERT_TRUE(after);
  EXPECT_EQ(after->parent.pid, s);
  auto original = tree.lineage(gp->key, g_exit->time_ns);
  ASSERT_GE(original.size(), 2u);
  EXPECT_EQ(original[0].pid, m);
  EXPECT_EQ(original[1].pid, s);
}

}  // namespace
}  // namespace lineage::events

namespace lineage::events {
namespace {

[[noreturn]] void spin() {
  for (;;) asm volatile("" ::: "memory");  // busy, never optimised away
}

// A process whose threads all die at once (SIGKILL of a busy multithreaded
// process, every CPU running one of them) is reported as exiting once:
// several threads can find the group dead by the time they reach the exit
// tracepoint, and only one may speak for the process.
TEST_F(BpfSourceTest, GroupDeathIsOneExit) {
  constexpr int kProcesses = 20;
  std::vector<pid_t> pids;
  for (int i = 0; i < kProcesses; ++i) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      for (int t = 0; t < 6; ++t) {
        pthread_t thread;
        ::pthread_create(
            &thread, nullptr,
            [](void*) -> void* {
              spin();
              return nullptr;
            },
            nullptr);
      }
      (void)!::write(fds[1], "x", 1);
      spin();
    }
    ::close(fds[1]);
    char c;
    ASSERT_EQ(::read(fds[0], &c, 1), 1);
    ::close(fds[0]);
    ::usleep(20'000);  // all threads running
    ::kill(pid, SIGKILL);
    ASSERT_EQ(::waitpid(pid, nullptr, 0), pid);
    pids.push_back(pid);
  }
  std::map<pid_t, int> exits;
  events_.reserve(1 << 16);
  size_t scanned = 0;
  poll_until(
      [&] {
        for (; scanned < events_.size(); ++scanned) {
          const core::Event& e = events_[scanned];
          if (e.kind == core::EventKind::kExit && !e.thread) ++exits[e.pid];
        }
        for (pid_t p : pids)
          if (exits[p] == 0) return false;
        return true;
      },
      std::chrono::seconds(5));
  poll_until([] { return false; }, std::chrono::milliseconds(300));  // any late duplicate
  for (; scanned < events_.size(); ++scanned) {
    const core::Event& e = events_[scanned];
    if (e.kind == core::EventKind::kExit && !e.thread) ++exits[e.pid];
  }
  for (pid_t p : pids) EXPECT_EQ(exits[p], 1) << "pid " << p;
}

}  // namespace
}  // namespace lineage::events

namespace lineage::events {
namespace {

// lineage in a container: a source given the container's pid namespace
// reports the processes in it only, with that namespace's pids (the ones
// its /proc shows), and a parent outside it as 0.
TEST_F(BpfSourceTest, ViewOfAPidNamespaceReportsItsOwnPidsOnly) {
  int ready[2], go[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  pid_t outer = ::fork();
  ASSERT_GE(outer, 0);
  if (outer == 0) {
    ::close(ready[0]);
    ::close(go[1]);  // only the test holds it: an early return closes it, and init ends
    // Its children are born in a new pid namespace: the first is its pid 1
    // (until then the namespace has no init and cannot be named).
    if (::unshare(CLONE_NEWPID) != 0) ::_exit(2);
    pid_t init = ::fork();
    if (init == 0) {
      char c;
      if (::read(go[0], &c, 1) != 1) ::_exit(3);
      int status;
      pid_t child = spawn_true();  // pid 2 there
      ::_exit(::waitpid(child, &status, 0) == child ? 0 : 4);
    }
    (void)!::write(ready[1], "x", 1);
    int status;
    ::_exit(init > 0 && ::waitpid(init, &status, 0) == init && WIFEXITED(status) ? WEXITSTATUS(status) : 5);
  }
  ::close(ready[1]);
  ::close(go[0]);
  UniqueFd ready_r(ready[0]), go_w(go[1]);
  char c;
  ASSERT_EQ(::read(ready_r.get(), &c, 1), 1);
  const uint64_t ns = pidns_inode(("/proc/" + std::to_string(outer) + "/ns/pid_for_children").c_str());
  ASSERT_NE(ns, 0u);
  ASSERT_NE(ns, kInitPidNs);
  BpfEventSource::Options options;
  options.view_pidns = ns;
  auto view = BpfEventSource::open(options);
  ASSERT_TRUE(view.ok()) << view.error().message;

  pid_t outside = spawn_true();  // in the test's namespace: not in the view
  ASSERT_EQ(::write(go_w.get(), "x", 1), 1);
  int status;
  ASSERT_EQ(::waitpid(outer, &status, 0), outer);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  ASSERT_EQ(::waitpid(outside, &status, 0), outside);

  std::vector<core::Event> events;
  auto seen_exit_of_init = [&] {
    for (const auto& e : events)
      if (e.kind == core::EventKind::kExit && e.pid == 1) return true;
    return false;
  };
  auto deadline = Clock::now() + std::chrono::seconds(5);
  while (!seen_exit_of_init() && Clock::now() < deadline) {
    auto r = view.value()->poll(events, 50);
    ASSERT_TRUE(r.ok()) << r.error().message;
  }
  (void)view.value()->poll(events, 100);  // anything late, from outside

  std::map<std::string, const core::Event*> got;  // "fork 2", "exec 2", ...
  for (const auto& e : events) {
    ASSERT_TRUE(e.pid == 1 || e.pid == 2) << "an event about pid " << e.pid << " (" << e.comm
                                          << ") outside the namespace, or not translated";
    EXPECT_EQ(e.pidns, ns) << "pid " << e.pid;
    const char* kind = e.kind == core::EventKind::kFork ? "fork" : e.kind == core::EventKind::kExec ? "exec" : "exit";
    EXPECT_EQ(got.count(kind + std::string(" ") + std::to_string(e.pid)), 0u) << "twice: " << kind << " " << e.pid;
    got[kind + std::string(" ") + std::to_string(e.pid)] = &e;
  }
  // (init was forked before the source was opened.)
  for (const char* key : {"fork 2", "exec 2", "exit 2", "exit 1"}) {
    ASSERT_EQ(got.count(key), 1u) << "missing: " << key << " (" << events.size() << " events)";
  }
  EXPECT_EQ(got.size(), 4u);
  EXPECT_EQ(got["exit 1"]->ppid, 0) << "init's parent is outside the namespace";
  EXPECT_EQ(got["fork 2"]->ppid, 1);
  EXPECT_EQ(got["exec 2"]->exe, "/bin/true");
  EXPECT_EQ(got["exit 2"]->ppid, 1);
  EXPECT_EQ(got["exec 2"]->tid, 2);
}

}  // namespace
}  // namespace lineage::events

#include <grp.h>
#include <sys/mman.h>
#include <sys/ptrace.h>

#include <filesystem>

#include "procfs/parsers.h"

namespace lineage::events {
namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  return std::string((std::istreambuf_iterator<char>(in)), {});
}

std::string read_link(const std::string& path) {
  std::string buf(8192, '\0');
  ssize_t n = ::readlink(path.c_str(), buf.data(), buf.size());
  return n > 0 ? buf.substr(0, size_t(n)) : std::string();
}

// How this host's /proc/self/cgroup names the hierarchies exec records carry.
BpfEventSource::Options host_cgroup_options() {
  BpfEventSource::Options o;
  o.unified_hierarchy = false;
  for (const auto& line : procfs::parse_cgroup(read_text("/proc/self/cgroup"))) {
    if (line.controllers == "name=systemd") o.systemd_hierarchy = line.hierarchy;
    if (line.hierarchy == 0 && line.controllers.empty()) o.unified_hierarchy = true;
  }
  return o;
}

// A child that enters `dir` (removing it after, with remove_dir) and execs
// `exe` (argv[0] `arg0`), or a memfd copy of /bin/sleep with memfd; it
// sleeps until killed.
pid_t spawn_sleeper(const std::string& dir, bool remove_dir, const std::string& exe, bool memfd = false) {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  if (!dir.empty() && ::chdir(dir.c_str()) != 0) ::_exit(120);
  if (remove_dir && ::rmdir(dir.c_str()) != 0) ::_exit(121);
  char* const argv[] = {const_cast<char*>("sleep"), const_cast<char*>("30"), nullptr};
  if (memfd) {
    int fd = int(::syscall(SYS_memfd_create, "lineage-test", 0));
    int in = ::open("/bin/sleep", O_RDONLY);
    char buf[65536];
    ssize_t n;
    while ((n = ::read(in, buf, sizeof buf)) > 0) {
      if (::write(fd, buf, size_t(n)) != n) ::_exit(122);
    }
    char* const envp[] = {nullptr};
    ::fexecve(fd, argv, envp);
    ::_exit(123);
  }
  ::execv(exe.c_str(), argv);
  ::_exit(127);
}

// A child whose real and effective ids differ (execve makes the saved
// ones, like the filesystem ones, the effective ones) that asks to be
// traced by the test and execs sleep: it stops at the exec, traced.
pid_t spawn_traced_with_ids() {
  pid_t pid = ::fork();
  if (pid != 0) return pid;
  if (::setgroups(0, nullptr) != 0 || ::setresgid(65531, 65532, 65533) != 0) ::_exit(124);
  if (::setresuid(65531, 65532, 65533) != 0) ::_exit(125);
  if (::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr) != 0) ::_exit(126);
  char* const argv[] = {const_cast<char*>("sleep"), const_cast<char*>("30"), nullptr};
  ::execv("/bin/sleep", argv);
  ::_exit(127);
}

class ExecViewTest : public BpfSourceTest {
 protected:
  void SetUp() override {
    BpfSourceTest::SetUp();
    if (IsSkipped() || HasFatalFailure()) return;
    source_.reset();
    auto opened = BpfEventSource::open(host_cgroup_options());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    source_ = std::move(opened.value());
  }
  void TearDown() override {
    for (pid_t p : children_) {
      ::kill(p, SIGKILL);
      int status;
      // A traced child reports its stops first.
      while (::waitpid(p, &status, 0) == p && !WIFEXITED(status) && !WIFSIGNALED(status)) {
      }
    }
  }
  // The exec event of pid, once its new image runs (then /proc shows it).
  const core::Event* exec_of(pid_t pid) {
    children_.push_back(pid);
    const core::Event* found = nullptr;
    poll_until(
        [&] {
          for (const auto& e : events_)
            if (e.kind == core::EventKind::kExec && e.pid == pid) found = &e;
          return found != nullptr;
        },
        std::chrono::seconds(5));
    // /proc's comm changes in the exec, before the tracepoint: wait for it.
    for (int i = 0; i < 200 && read_text("/proc/" + std::to_string(pid) + "/comm").rfind("sleep", 0) != 0; ++i)
      ::usleep(10000);
    return found;
  }
  std::vector<pid_t> children_;
};

// What an exec record says of the process is what /proc says of it while
// it runs: the executable through a symlink and across mounts, the working
// directory (also a removed one), the cgroup lines and status's ids. A path
// the kernel's walk cannot give whole is left to /proc, not guessed.
TEST_F(ExecViewTest, ExecCarriesWhatProcShows) {
  namespace fs = std::filesystem;
  char tmpl[] = "/dev/shm/lineage-view-XXXXXX";  // a tmpfs: the walk crosses a mount
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  const std::string top = tmpl;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      std::filesystem::remove_all(dir, ec);
    }
  } cleanup{top};
  const std::string deep = top + "/a b/c\nd/e";
  fs::create_directories(deep);
  fs::create_directories(top + "/gone");
  fs::create_symlink("/bin/sleep", top + "/sleep-link");
  std::string long_dir = top;  // past the record's 512 bytes
  while (long_dir.size() < 600) long_dir += "/" + std::string(60, 'x');
  fs::create_directories(long_dir);

  struct Case {
    const char* name;
    pid_t pid;
    bool whole_cwd;
    bool whole_exe;
  };
  std::vector<Case> cases = {
      {"nested cwd, exe through a symlink", spawn_sleeper(deep, false, top + "/sleep-link"), true, true},
      {"removed cwd", spawn_sleeper(top + "/gone", true, "/bin/sleep"), true, true},
      {"cwd past the bound", spawn_sleeper(long_dir, false, "/bin/sleep"), false, true},
      {"memfd executable", spawn_sleeper("/", false, "", true), true, false},
      {"distinct ids, traced", spawn_traced_with_ids(), true, true},
  };
  const auto host = host_cgroup_options();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_GT(c.pid, 0);
    const core::Event* e = exec_of(c.pid);
    ASSERT_NE(e, nullptr) << "no exec event";
    ASSERT_TRUE(e->at_exec.has_value());
    const core::AtExec& a = *e->at_exec;
    const std::string proc = "/proc/" + std::to_string(c.pid);
    if (c.whole_cwd) {
      ASSERT_TRUE(a.cwd.has_value());
      EXPECT_EQ(*a.cwd, read_link(proc + "/cwd"));
    } else {
      EXPECT_FALSE(a.cwd.has_value()) << *a.cwd;
    }
    const core::ExeInfo exe = procfs::parse_exe_link(read_link(proc + "/exe"));
    if (c.whole_exe) {
      ASSERT_TRUE(a.exe.has_value());
      EXPECT_EQ(a.exe->path, exe.path);
      EXPECT_EQ(a.exe->deleted, exe.deleted);
    } else {
      EXPECT_FALSE(a.exe.has_value()) << a.exe->path << " (/proc: " << exe.path << ")";
    }
    auto status = procfs::parse_status(read_text(proc + "/status"));
    ASSERT_TRUE(status && a.status);
    EXPECT_EQ(a.status->uid.real, status->uid.real);
    EXPECT_EQ(a.status->uid.effective, status->uid.effective);
    EXPECT_EQ(a.status->uid.saved, status->uid.saved);
    EXPECT_EQ(a.status->uid.filesystem, status->uid.filesystem);
    EXPECT_EQ(a.status->gid.real, status->gid.real);
    EXPECT_EQ(a.status->gid.saved, status->gid.saved);
    EXPECT_EQ(a.status->cap_effective, status->cap_effective);
    EXPECT_EQ(a.status->gid.effective, status->gid.effective);
    EXPECT_EQ(a.status->gid.filesystem, status->gid.filesystem);
    EXPECT_EQ(a.status->tracer_pid, status->tracer_pid);
    // The lines the record carries, each as /proc prints it.
    ASSERT_TRUE(a.cgroups.has_value());
    size_t expected = (host.systemd_hierarchy ? 1 : 0) + (host.unified_hierarchy ? 1 : 0);
    EXPECT_EQ(a.cgroups->size(), expected);
    auto lines = procfs::parse_cgroup(read_text(proc + "/cgroup"));
    for (const auto& got : *a.cgroups) {
      auto it = std::find_if(lines.begin(), lines.end(), [&](const core::CgroupEntry& l) {
        return l.hierarchy == got.hierarchy && l.controllers == got.controllers;
      });
      ASSERT_NE(it, lines.end()) << got.hierarchy << ":" << got.controllers;
      EXPECT_EQ(got.path, it->path) << got.hierarchy << ":" << got.controllers;
    }
  }
  EXPECT_NE(read_link("/proc/" + std::to_string(cases[1].pid) + "/cwd").find(" (deleted)"), std::string::npos)
      << "the removed directory's case tests nothing";
  // The ids case: all of them distinct in /proc, and the test its tracer.
  auto traced = procfs::parse_status(read_text("/proc/" + std::to_string(cases[4].pid) + "/status"));
  ASSERT_TRUE(traced);
  EXPECT_EQ(traced->tracer_pid, ::getpid());
  EXPECT_EQ(traced->uid.real, 65531u);
  EXPECT_EQ(traced->uid.effective, 65532u);
  EXPECT_EQ(traced->uid.saved, 65532u);  // execve sets the saved ids to the effective ones
  EXPECT_EQ(traced->gid.real, 65531u);
  EXPECT_EQ(traced->gid.effective, 65532u);
}

}  // namespace
}  // namespace lineage::events
