#pragma once
// Process events from the netlink proc connector (CN_IDX_PROC): fork, exec
// and exit of every process on the machine, without eBPF. The kernel sends
// only pids and times, so exec details (comm, exe, argv, uid) are read from
// /proc right after the event arrives; a process that exited by then keeps
// what the event had (from_proc stays false).
//
// A reader thread drains the socket and does those /proc reads as soon as a
// datagram arrives, independent of how often the consumer calls poll(): a
// short-lived process (/bin/true lives about a millisecond) is gone by the
// time a consumer that polls every 100 ms would look, and a slow consumer
// would make the socket overflow (ENOBUFS). Events wait in a bounded queue.
//
// Known limits: thread creation and thread exit are not reported; when a
// non-leader thread execs, the kernel (by a reading of de_thread, not yet
// tested) reports the old leader's exit with
// pid == tgid just before the exec, so that process shows exit then exec.
// Lost events are counted exactly from gaps in the kernel's per-cpu
// sequence numbers (an ENOBUFS counts one at once, credited against them).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "core/result.h"
#include "core/unique_fd.h"
#include "events/event_source.h"
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

class NetlinkEventSource : public EventSource {
 public:
  /// Subscribes to the proc connector. kPermission without CAP_NET_ADMIN or
  /// when the kernel does not answer (it ignores listeners outside the
  /// initial user and pid namespace); kInternal with the errno text otherwise.
  static Result<std::unique_ptr<NetlinkEventSource>> open(const procfs::ProcReader& reader,
                                                          bool include_threads = false);
  ~NetlinkEventSource() override;

  std::string_view name() const override { return "netlink"; }
  Result<size_t> poll(std::vector<core::Event>& out, int timeout_ms) override;
  SourceStats stats() const override;

  /// Times the socket overflowed (ENOBUFS); the events lost are in stats().lost.
  uint64_t overruns() const { return overruns_.load(); }

 private:
  static constexpr size_t kMaxQueued = 1 << 18;  // events held for a slow consumer

  NetlinkEventSource(const procfs::ProcReader& reader, UniqueFd sock, UniqueFd wake, bool include_threads);
  void run();
  void enrich(const std::vector<ProcMessage>& msgs, std::vector<core::Event>& batch);
  void count_gap(const ProcMessage& m, std::vector<core::Event>& batch);
  void publish(std::vector<core::Event>& batch);
  void fail(Error error);

  const procfs::ProcReader& reader_;
  bool include_threads_ = false;
  InterpreterCache interpreters_;  // reader thread only
  MountTypes mount_types_;         // likewise
  UniqueFd sock_;
  UniqueFd wake_;  // eventfd: tells the reader thread to stop
  uint64_t tick_ns_ = 10'000'000;
  int64_t boot_minus_mono_ns_ = 0;
  std::vector<std::optional<uint32_t>> next_seq_;  // per cpu, reader thread only
  uint64_t lost_credit_ = 0;
  uint64_t leader_exits_ = 0;  // leader-thread exits not passed on as process exits  // overruns already reported, not yet seen as gaps

  mutable std::mutex mu_;
  std::condition_variable ready_;
  std::deque<core::Event> queue_;
  uint64_t dropped_ = 0;  // queue full: reported as kLost at the next poll()
  std::optional<Error> error_;
  SourceStats stats_;
  std::atomic<uint64_t> overruns_{0};

  std::thread thread_;  // last: started after every member above exists
};

}  // namespace lineage::events
