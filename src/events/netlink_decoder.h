#pragma once
// The pure half of the netlink proc connector source: datagrams in, events
// out. The kernel sends only pids and times, so exec details (comm, exe,
// argv, uid) and start times are read from /proc (through a ProcReader,
// a FakeProcfs one in tests) as soon as a batch of messages is decoded.
// Lost events are counted exactly from gaps in the kernel's per-cpu
// sequence numbers (an ENOBUFS counts one at once, credited against them).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/event.h"
#include "events/exe_info.h"
#include "procfs/reader.h"

namespace lineage::events {

/// One proc connector message, decoded and checked; the pure half of the
/// source, exposed for tests. Thread events (clone with CLONE_THREAD, exit
/// of a non-leader thread) have their own types; the source passes them on
/// only when asked for threads.
struct ProcMessage {
  enum class Type { kNone, kAck, kFork, kExec, kExit, kThreadFork, kThreadExit, kOther };
  Type type = Type::kNone;
  uint32_t cpu = 0;
  uint32_t seq = 0;            // per-cpu counter of the kernel (gaps = lost)
  uint32_t ack = 0;
  uint32_t ack_err = 0;
  uint64_t timestamp_ns = 0;   // CLOCK_MONOTONIC (ktime_get_ns)
  int32_t pid = 0, tid = 0, ppid = 0;
  int32_t exit_code = 0;
};

/// Decodes one netlink datagram (possibly several nlmsghdr) into messages.
/// Every length is checked; malformed or truncated parts are skipped and
/// counted in *malformed.
std::vector<ProcMessage> parse_proc_datagram(const void* data, size_t len, size_t* malformed);

/// Turns proc connector messages into events, keeping what spans batches:
/// the per-cpu sequence numbers (gaps are lost events), the overruns not
/// yet seen as gaps, and the connector clock's offset. One thread only.
class NetlinkDecoder {
 public:
  NetlinkDecoder(const procfs::ProcReader& reader, bool include_threads);

  /// CLOCK_BOOTTIME - CLOCK_MONOTONIC: the connector stamps events on the
  /// monotonic clock; events carry boot time.
  void set_boot_minus_mono_ns(int64_t ns) { boot_minus_mono_ns_ = ns; }
  /// The socket overflowed (ENOBUFS): appends one lost event at time_ns,
  /// credited against the next sequence gap so it is not counted twice.
  void overrun(uint64_t time_ns, std::vector<core::Event>& out);
  /// Appends the events of messages drained together, oldest first. /proc
  /// is read in order of urgency: exec details first (argv and exe vanish
  /// when the process exits), then start times, which last while a zombie
  /// is unreaped. A process that appears several times in the batch (fork,
  /// exec, exit) is read once.
  void decode(const std::vector<ProcMessage>& msgs, std::vector<core::Event>& out);
  /// One datagram: parse_proc_datagram, then decode.
  void decode(const void* datagram, size_t len, std::vector<core::Event>& out);

  /// Leader-thread exits not passed on as process exits (the process runs on).
  uint64_t leader_exits() const { return leader_exits_; }

 private:
  struct Batch;

  uint64_t boot_ns(const ProcMessage& m) const { return m.timestamp_ns + static_cast<uint64_t>(boot_minus_mono_ns_); }
  void count_gap(const ProcMessage& m, std::vector<core::Event>& out);
  core::Event thread_event(const ProcMessage& m) const;
  void sort_into_lives(const std::vector<ProcMessage>& msgs, Batch& b, std::vector<core::Event>& out);
  void read_exec_details(Batch& b);
  void read_start_times(Batch& b);
  void read_fork_parents(Batch& b);
  void emit(Batch& b, std::vector<core::Event>& out);

  const procfs::ProcReader& reader_;
  bool include_threads_ = false;
  uint64_t tick_ns_ = 10'000'000;
  int64_t boot_minus_mono_ns_ = 0;
  InterpreterCache interpreters_;
  MountTypes mount_types_;
  std::vector<std::optional<uint32_t>> next_seq_;  // per cpu
  uint64_t lost_credit_ = 0;   // overruns already reported, not yet seen as gaps
  uint64_t leader_exits_ = 0;
};

}  // namespace lineage::events
