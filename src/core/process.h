#pragma once
// The process model. Plain data filled by src/procfs (and later by event
// sources); no syscalls here.
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace lineage::core {

/// Identity of a process: pids are reused within seconds, so a pid alone
/// never names a process. start_time_ns is boot-relative (CLOCK_BOOTTIME).
struct ProcessKey {
  int32_t pid = 0;
  uint64_t start_time_ns = 0;
  auto operator<=>(const ProcessKey&) const = default;
};

/// /proc start times have clock-tick resolution; events carry exact ns.
/// Two start times name the same process when they fall within one tick.
bool same_start(uint64_t a_ns, uint64_t b_ns, uint64_t tick_ns);

/// Groups of fields, one per /proc file, so a scan reads only what the
/// requested output needs.
enum Field : uint32_t {
  kFieldStat = 1u << 0,     // always read: ppid, state, times, tty, ...
  kFieldStatus = 1u << 1,   // uids, gids, VmLck
  kFieldCmdline = 1u << 2,
  kFieldExe = 1u << 3,
  kFieldCwd = 1u << 4,
  kFieldCgroup = 1u << 5,
  kFieldNamespaces = 1u << 6,
  kFieldThreads = 1u << 7,
  kFieldEnviron = 1u << 8,
  kFieldLoginUid = 1u << 9,  // loginuid and sessionid (audit)
  kFieldExeFile = 1u << 10,  // where the executable lives: ExeFile (with kFieldExe)
};
using FieldMask = uint32_t;

struct Ids {
  uint32_t real = 0, effective = 0, saved = 0, filesystem = 0;
};

struct CgroupEntry {
  uint32_t hierarchy = 0;
  std::string controllers;  // empty for cgroup v2 ("0::/path")
  std::string path;
};

struct Namespaces {
  std::optional<uint64_t> pid, mnt, net;
  /// Read with kFieldNamespaces only for a non-root process with effective
  /// capabilities (and status read in the same call): elsewhere it changes
  /// no finding. ProcReader::user_namespace reads it on demand.
  std::optional<uint64_t> user;
};

struct Thread {
  int32_t tid = 0;
  std::string comm;
  char state = '?';
  uint64_t utime_ticks = 0, stime_ticks = 0;
  uint64_t start_ticks = 0;
};

/// Parsed /proc/PID/stat: everything the kernel gives in one cheap read.
struct StatInfo {
  int32_t pid = 0;
  std::string comm;
  char state = '?';
  int32_t ppid = 0, pgid = 0, sid = 0;
  int32_t tty_nr = 0, tpgid = -1;
  uint32_t flags = 0;
  uint64_t utime_ticks = 0, stime_ticks = 0;
  int64_t priority = 0, nice = 0;
  int64_t num_threads = 0;
  uint64_t start_ticks = 0;
  uint64_t vsize_bytes = 0;
  int64_t rss_pages = 0;
  /// Where the program's text and its stack begin (fields 26-28): an exec
  /// maps a new image and a new stack (at random addresses with ASLR; the
  /// stack's also moves with the size of argv and the environment), a
  /// rename moves neither. start_code 0: no memory (a kernel thread, a
  /// zombie, a process exiting or in the middle of an exec) or not given;
  /// 1: not ours to see (the ptrace read check; start_stack is then 0).
  uint64_t start_code = 0, end_code = 0, start_stack = 0;
};

struct StatusInfo {
  Ids uid, gid;
  uint64_t vm_locked_kb = 0;
  uint64_t cap_effective = 0;
  /// The pid of the process tracing this one (ptrace), 0 when none ("TracerPid:").
  int32_t tracer_pid = 0;
  /// The pid in each nested pid namespace, outermost first ("NSpid:").
  std::vector<int32_t> ns_pids;
};

struct ExeInfo {
  std::string path;
  bool deleted = false;  // the kernel appends " (deleted)" to the link
};

/// What stat(2) says of a file, the part lineage judges by.
struct FileStat {
  uint64_t dev = 0, ino = 0;
  uint32_t mode = 0, uid = 0, gid = 0;
};

/// The executable and the root directory as the process sees them (through
/// its own exe and root links), and its mount namespace: two processes with
/// the same root and mount namespace resolve a path to the same file.
struct ExeFile {
  std::optional<FileStat> exe;
  std::optional<FileStat> root;
  std::optional<uint64_t> mnt_ns;
};

inline constexpr uint32_t kPfKthread = 0x00200000;  // PF_KTHREAD in stat flags

/// A process known from recorded history (`lineage record`), not read from
/// /proc now: it has exited, or its pid may name another process since.
/// Nothing may be read from /proc for it.
struct RecordedState {
  bool exited = false;              // false: alive when last recorded
  uint64_t exit_time_ns = 0;        // boot-relative, when exited
  std::optional<int32_t> status;    // wait status, when the exit was seen
  bool exit_unseen = false;         // gone without an exit event (time approximate)
  int64_t realtime_offset_ns = 0;   // Unix ns = boot ns + this (its boot's)
  std::optional<bool> verified;     // the recorder's verdict on a launcher's executable
  std::string unverified_reason;
};

struct Process {
  ProcessKey key;
  StatInfo stat;
  FieldMask read = 0;          // groups that were read successfully
  FieldMask unavailable = 0;   // groups requested but denied or missing
  std::optional<StatusInfo> status;
  std::optional<std::vector<std::string>> argv;
  bool argv_truncated = false;
  std::optional<ExeInfo> exe;
  std::optional<ExeFile> exe_file;  // kFieldExeFile, for the processes the scan's filter chose
  std::optional<std::string> cwd;
  std::optional<std::vector<CgroupEntry>> cgroups;
  Namespaces ns;
  std::vector<Thread> threads;  // with kFieldThreads, excluding the leader
  /// KEY=VALUE strings; only read when asked (it may hold secrets).
  std::optional<std::vector<std::string>> environ;
  std::optional<uint32_t> login_uid;   // 4294967295: not set
  std::optional<uint32_t> session_id;
  std::string user;             // resolved from the effective uid, if read
  std::optional<RecordedState> recorded;  // set only for a process from history

  int32_t pid() const { return key.pid; }
  int32_t ppid() const { return stat.ppid; }
  bool is_kernel_thread() const { return (stat.flags & kPfKthread) != 0; }
  bool is_zombie() const { return stat.state == 'Z'; }
  /// Value of an environment variable, if the environment was read.
  std::optional<std::string> env(std::string_view key) const;
  /// Command line for display: argv joined by spaces, or "[comm]" when the
  /// process has none (kernel threads, zombies).
  std::string command_line() const;
};

}  // namespace lineage::core
