#pragma once
// The last-resort event source: scan /proc every interval and report the
// difference from the previous scan as events. It needs no privilege and
// no kernel support, but it only sees what is alive at a scan: a process
// that starts and exits between two scans (shorter than the interval) is
// never reported, exit codes are unknown (-1), and event times are the
// start time (fork, exec) or the scan that noticed (exit).
#include <chrono>
#include <string>
#include <cstdint>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "events/event_source.h"
#include "procfs/reader.h"

namespace lineage::events {

class PollEventSource : public EventSource {
 public:
  /// Takes the baseline scan now: processes alive at construction are not
  /// reported, like a kernel source that starts listening. The reader must
  /// outlive the source.
  explicit PollEventSource(const procfs::ProcReader& reader,
                           std::chrono::milliseconds interval = std::chrono::milliseconds(1000));

  std::string_view name() const override { return "poll"; }
  /// Sleeps until the next scan is due (at most timeout_ms), scans, and
  /// appends fork + exec for each new process, exit for each vanished one,
  /// and exec for a known one that runs another image (it exec'd since: a
  /// scan that found it between its fork and its exec saw its parent's).
  Result<size_t> poll(std::vector<core::Event>& out, int timeout_ms) override;
  SourceStats stats() const override { return stats_; }

 private:
  struct Seen {
    uint64_t start_time_ns = 0;
    int32_t ppid = 0;
    std::string comm;
    uint64_t start_code = 0, end_code = 0, start_stack = 0;  // where the image lies: moved, it exec'd
  };
  using Table = std::unordered_map<int32_t, Seen>;  // pid → the process holding it

  Table scan(std::vector<core::Process>* processes) const;
  size_t diff(std::vector<core::Process>& now, Table& table, std::vector<core::Event>& out);

  const procfs::ProcReader& reader_;
  std::chrono::milliseconds interval_;
  std::chrono::steady_clock::time_point next_scan_;
  Table previous_;
  SourceStats stats_;
};

}  // namespace lineage::events
