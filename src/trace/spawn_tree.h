#pragma once
// The processes one command spawned, built from the event stream (src/events)
// as `lineage trace` runs it: pure logic, no syscalls.
//
// Membership is by fork parent: the root (the command, known by pid from
// the fork() that made it) is in, and so is every process forked by one
// that is in. An exec or exit of any other process is ignored. Each process
// keeps every exec it made (a shell that execs a compiler shows both), its
// exit (wait status, CPU time) and its children in fork order.
//
// The live tree (core/live_tree) answers questions about the whole system;
// a trace needs less (its own processes only, membership decided once, at
// fork) and more (every exec, the CPU time at exit), so it keeps its own.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/event.h"
#include "core/process.h"
#include "events/io_call.h"

namespace lineage::trace {

struct Exec {
  uint64_t time_ns = 0;  // CLOCK_BOOTTIME
  std::string exe;
  std::vector<std::string> argv;
};

/// How a process ended, or that it did not while traced.
enum class Ending : uint8_t {
  kRunning,   // still alive when the trace ended (a daemon left behind)
  kExited,    // its exit event was seen
  kVanished,  // gone without an exit event (events were lost): status unknown
};

struct TracedProcess {
  static constexpr size_t kNone = SIZE_MAX;

  int32_t pid = 0;
  uint64_t start_time_ns = 0;  // the kernel's start time; 0 until its fork event is seen
  uint64_t fork_ns = 0;        // when it started
  int32_t ppid = 0;            // its fork parent's pid
  size_t parent = kNone;       // index of the fork parent; kNone for the root
  std::vector<size_t> children;  // indexes, fork order
  std::string comm;            // the latest name (inherited at fork, new at exec)
  std::vector<Exec> execs;     // oldest first; empty: forked and never exec'd
  Ending ending = Ending::kRunning;
  uint64_t exit_ns = 0;        // kExited: when
  int32_t wait_status = -1;    // kExited: as waitpid gives it; -1 unknown
  uint64_t cpu_ns = 0;         // CPU time (user + system)
  bool cpu_known = false;
  bool cpu_final = false;      // from the exit itself, not from an earlier sighting
  bool backfilled = false;     // its fork event was lost: found in /proc afterwards
  std::vector<events::IoCall> io;  // -e file,net: its opens and network calls, oldest first

  bool alive() const { return ending == Ending::kRunning; }
  /// When it began running its program: its first exec, else its fork.
  uint64_t exec_ns() const { return execs.empty() ? fork_ns : execs.front().time_ns; }
};

class SpawnTree {
 public:
  /// root_pid is the command's process, forked at fork_ns (boot clock).
  /// tolerance_ns: start times that differ by at most this name the same
  /// process (a source may round them to clock ticks).
  SpawnTree(int32_t root_pid, uint64_t fork_ns, uint64_t tolerance_ns = 10'000'000);

  /// Applies one event; returns the index of the traced process it was
  /// about, or nullopt when it is not one of the command's processes.
  std::optional<size_t> apply(const core::Event& e);

  /// CPU time read elsewhere (from /proc) while the process was alive or a
  /// zombie; kept unless the exit event already gave the final figure.
  void note_cpu(size_t index, uint64_t cpu_ns, bool final);
  /// The process did not exit while traced (checked against /proc by the caller).
  void mark_vanished(size_t index);
  /// After lost events: brings the tree in line with a /proc snapshot.
  /// Processes forked below a traced one that the tree missed are added
  /// (backfilled, their argv as /proc has it now); traced ones gone from
  /// /proc are marked vanished. Returns how many processes changed.
  size_t reconcile(const std::vector<core::Process>& snapshot, uint64_t now_ns);

  const std::vector<TracedProcess>& processes() const { return nodes_; }
  const TracedProcess& root() const { return nodes_.front(); }
  /// Indexes of traced processes not seen to exit, in fork order.
  std::vector<size_t> running() const;
  /// The traced process holding pid now, if any.
  std::optional<size_t> find_pid(int32_t pid) const;
  /// Events the source said it lost while tracing: the tree may miss processes.
  uint64_t lost() const { return lost_; }

 private:
  bool same_start(uint64_t a, uint64_t b) const;
  size_t add(const core::Event& fork, size_t parent);

  uint64_t tolerance_ns_;
  std::vector<TracedProcess> nodes_;
  std::unordered_map<int32_t, size_t> live_;  // pid -> index of the traced process holding it
  uint64_t lost_ = 0;
};

/// Everything a report needs.
struct TraceResult {
  std::vector<std::string> command;
  std::string source;         // the event source used: "bpf" or "netlink"
  uint64_t start_ns = 0;      // the command's start (its fork), boot clock
  uint64_t end_ns = 0;        // when the command was reaped
  int64_t realtime_offset_ns = 0;  // wall clock ns = boot ns + this
  int32_t wait_status = -1;   // the command's, from waitpid
  uint64_t lost = 0;          // events the source lost while tracing
  std::vector<TracedProcess> processes;  // [0] is the command
  std::vector<std::string> io_events;    // -e: "file", "net" (empty: not asked)
  uint64_t io_lost = 0;                  // -e: calls lost (no room, or no process to hold them)
};

/// Gives each call to the traced process that made it (same pid, start
/// within tolerance_ns), in time order. Returns how many matched none.
size_t attach_io(TraceResult& r, std::vector<events::IoCall> calls, uint64_t tolerance_ns);

/// "exit 0", "exit 2", "signal TERM", "signal KILL (core dumped)", "unknown".
std::string describe_wait_status(int32_t wait_status);
/// What a shell would exit with: the code, or 128 + the signal.
int shell_exit_status(int32_t wait_status);
/// The signal's abbreviation without SIG ("TERM"), or its number.
std::string signal_name(int sig);

}  // namespace lineage::trace
