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
// Thread creation and exit are passed on only when asked for. When a
// non-leader thread execs, the kernel reports the old leader's exit with
// pid == tgid just before the exec; the decoder drops that exit when /proc
// shows the process still running. Decoding, the /proc reads and the
// lost-event count are the NetlinkDecoder's (netlink_decoder.h).
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
#include "events/netlink_decoder.h"
#include "procfs/reader.h"

namespace lineage::events {

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
  void publish(std::vector<core::Event>& batch);
  void fail(Error error);

  NetlinkDecoder decoder_;  // reader thread only (and open() before it starts)
  UniqueFd sock_;
  UniqueFd wake_;  // eventfd: tells the reader thread to stop

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
