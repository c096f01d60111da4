#pragma once
// Builds a fake proc tree in a temporary directory for unit tests: the
// reader takes its root in the constructor, so tests need no root and no
// live kernel.
#include <cstdint>
#include <string>
#include <vector>

namespace lineage::testing {

struct FakeProcess {
  int pid = 1;
  int ppid = 0;
  std::string comm = "proc";
  char state = 'S';
  uint64_t start_ticks = 100;  // clock ticks after boot
  uint32_t uid = 0;
  std::vector<std::string> argv;  // empty: an empty cmdline (kernel thread)
  int pgid = 0, sid = 0;          // 0: same as pid
  int tty_nr = 0, tpgid = -1;
  uint32_t flags = 0x00400000;    // PF_FORKNOEXEC-free user task
  int nice = 0;
  int threads = 1;
  int64_t rss_pages = 256;
  uint64_t utime = 0, stime = 0;
  // stat fields 26-28: 1, 1, 0 is what a process not ours to see shows.
  uint64_t start_code = 1, end_code = 1, start_stack = 0;
  std::string cgroup = "0::/user.slice/user-0.slice/session-1.scope\n";
};

class FakeProcfs {
 public:
  /// uptime_seconds sets "now"; meminfo reports mem_total_kb.
  explicit FakeProcfs(double uptime_seconds = 1000.0, uint64_t mem_total_kb = 1024 * 1024);
  ~FakeProcfs();
  FakeProcfs(const FakeProcfs&) = delete;
  FakeProcfs& operator=(const FakeProcfs&) = delete;

  /// Writes stat, status, cmdline and cgroup of one process.
  FakeProcfs& add(const FakeProcess& p);
  /// Writes (or overwrites) one file under PID/.
  void write(int pid, const std::string& name, const std::string& content);
  /// Removes one file under PID/ (a read of it fails with ENOENT).
  void remove(int pid, const std::string& name);
  /// Creates a symlink PID/name -> target (exe, cwd, ns/pid ...).
  void link(int pid, const std::string& name, const std::string& target);
  /// The stat line the kernel would print for p.
  static std::string stat_line(const FakeProcess& p);

  const std::string& root() const { return root_; }

 private:
  std::string root_;
};

}  // namespace lineage::testing
