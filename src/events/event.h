#pragma once
// Kernel process events, as every source delivers them. One clock:
// boot-relative nanoseconds (CLOCK_BOOTTIME), the clock of /proc start times.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace lineage::events {

enum class EventKind : uint8_t {
  kFork,  // pid (a new process) forked from ppid; a new thread when pid == ppid's tgid
  kExec,  // pid replaced its image: comm, exe, argv
  kExit,  // pid (the whole process) exited with exit_code
  kLost,  // the source lost `lost` events (ring buffer full, ENOBUFS)
};

struct Event {
  EventKind kind = EventKind::kFork;
  uint64_t time_ns = 0;        // when it happened, CLOCK_BOOTTIME
  int32_t pid = 0;             // process (tgid) the event is about
  int32_t tid = 0;             // thread that did it (exec from a non-leader thread: tid != pid)
  uint64_t start_time_ns = 0;  // pid's start, boot-relative; 0 when unknown
  int32_t ppid = 0;            // fork: the parent process (tgid)
  uint64_t parent_start_time_ns = 0;
  uint32_t uid = 0, gid = 0;
  int32_t exit_code = 0;       // exit: the wait status code (as in waitpid)
  uint64_t cgroup_id = 0;
  uint32_t pidns = 0;          // pid namespace inode; 0 when unknown
  int32_t ns_pid = 0;          // pid inside that namespace
  std::string comm;            // fork: the child's (inherited) comm; exec: the new comm
  std::string exe;             // exec: the executable path
  std::vector<std::string> argv;  // exec
  uint64_t lost = 0;           // kLost
  bool from_proc = false;      // details filled from /proc after the event (may be late)
};

struct SourceStats {
  uint64_t forks = 0, execs = 0, exits = 0;
  uint64_t lost = 0;        // events the source knows it lost
};

/// A stream of process events.
class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual std::string_view name() const = 0;
  /// Waits up to timeout_ms for events and appends them to out (oldest
  /// first). Returns the number appended; an error is fatal for the source.
  virtual Result<size_t> poll(std::vector<Event>& out, int timeout_ms) = 0;
  virtual SourceStats stats() const = 0;
};

}  // namespace lineage::events
