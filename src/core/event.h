#pragma once
// Kernel process events: the model's input vocabulary, as every source in
// src/events delivers them and the live tree consumes them. One clock:
// boot-relative nanoseconds (CLOCK_BOOTTIME), the clock of /proc start times.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/process.h"

namespace lineage::core {

// exec, from a source that reads them in the exec itself (eBPF): parts of
// the process as /proc would show them at that moment, so a later read of
// /proc (of a process that may be gone, its pid reused) is not needed.
// Each part is set only when the source had it whole.
struct AtExec {
  std::optional<StatusInfo> status;  // uid and gid (all four), CapEff, TracerPid
  std::optional<ExeInfo> exe;        // the file that runs, its path resolved
  std::optional<std::string> cwd;    // " (deleted)" appended as /proc does
  std::optional<std::vector<CgroupEntry>> cgroups;  // the unified and name=systemd hierarchies
};

enum class EventKind : uint8_t {
  kFork,  // pid (a new process) forked from ppid; with `thread`, thread tid started in pid
  kExec,  // pid replaced its image: comm, exe, argv
  kExit,  // pid (the whole process) exited with exit_code; with `thread`, only thread tid
  kLost,  // the source lost `lost` events (ring buffer full, ENOBUFS)
};

struct Event {
  EventKind kind = EventKind::kFork;
  uint64_t time_ns = 0;        // when it happened, CLOCK_BOOTTIME
  int32_t pid = 0;             // process (tgid) the event is about
  int32_t tid = 0;             // thread that did it (exec from a non-leader thread: tid != pid)
  uint64_t start_time_ns = 0;  // pid's start, boot-relative; 0 when unknown
  int32_t ppid = 0;            // fork: the parent process (tgid); exit: the current parent
  uint64_t parent_start_time_ns = 0;
  bool thread = false;         // fork/exit of one thread (tid) of pid, not of the process
  uint64_t thread_start_time_ns = 0;  // that thread's own start
  uint32_t uid = 0, gid = 0;
  int32_t exit_code = 0;       // exit: the wait status code (as in waitpid)
  uint64_t cgroup_id = 0;
  uint32_t pidns = 0;          // pid namespace inode; 0 when unknown
  int32_t ns_pid = 0;          // pid inside that namespace
  std::string comm;            // fork: the child's (inherited) comm; exec: the new comm
  std::string exe;             // exec: the executable path
  std::vector<std::string> argv;  // exec
  bool argv_complete = false;     // exec: argv is all of it (a source's record may cut it)
  // exec: the file the kernel runs (for a script, its interpreter) by
  // identity, so a replaced binary shows; 0 when the source cannot say.
  uint64_t exe_dev = 0, exe_ino = 0, exe_ctime_ns = 0;
  std::string interpreter;     // exec: a script's #! interpreter, an ELF's dynamic loader
  // exec, from a source asked for it (`record`, `watch --audit`): the
  // environment execve gave the new image (KEY=VALUE, NUL-separated), of
  // its first 4 KiB only the entries the consumer asked to keep (all when
  // it gave no filter); environ_complete when those 4 KiB were all of it.
  std::string environ;
  bool has_environ = false, environ_complete = false;
  // exec: the session evidence as it was at the exec (/proc's stat, status
  // and loginuid say the same while the process lives), when the source
  // can say (has_session_ids, has_login_uid).
  int32_t sid = 0, pgid = 0;
  uint32_t tty_nr = 0, ruid = 0, login_uid = 0;
  bool has_session_ids = false, has_login_uid = false;
  // exit: who adopts the exiting process's children (the nearest live
  // child subreaper, else the pid namespace's init); 0 when unknown.
  int32_t reaper_pid = 0;
  uint64_t reaper_start_time_ns = 0;
  // exit: CPU time the whole process used (every thread, user and system,
  // the scheduler's runtime in ns); 0 when the source cannot say.
  uint64_t cpu_ns = 0;
  std::optional<AtExec> at_exec;  // exec
  uint64_t lost = 0;           // kLost
  bool from_proc = false;      // details filled from /proc after the event (may be late)
};

/// The process an exec event shows, as a read of /proc at that moment
/// would have: stat's fields from the event (ppid and the key from the
/// caller's tree), and each part of at_exec it carries; `read` names what
/// is there. The argv when the event holds all of it, never the
/// environment (a caller keeps what it needs of that).
Process process_at_exec(const Event& e, const ProcessKey& key, int32_t ppid, uint64_t tick_ns);

}  // namespace lineage::core
