#pragma once
// The one clock: boot-relative nanoseconds (CLOCK_BOOTTIME), the clock of
// /proc start times and of every event. It counts time suspended, so it never
// jumps when the wall clock is set. Unix realtime is for people and for
// history kept across runs; WallClock converts between the two.
#include <cstdint>

namespace lineage::core {

/// Now on CLOCK_BOOTTIME, in ns since boot.
uint64_t boot_now_ns();
/// Now on CLOCK_MONOTONIC, in ns (stops while suspended; the proc connector's stamps).
uint64_t monotonic_now_ns();
/// Now on CLOCK_REALTIME, in ns since the Unix epoch.
int64_t realtime_now_ns();

/// Converts boot-relative ns to Unix realtime ns and back with one offset
/// (realtime - boottime) sampled once, so every conversion in a run agrees
/// even when the wall clock is stepped later.
class WallClock {
 public:
  /// Samples the offset now.
  static WallClock sample();
  explicit WallClock(int64_t realtime_minus_boot_ns) : offset_ns_(realtime_minus_boot_ns) {}

  int64_t to_realtime_ns(uint64_t boot_ns) const { return offset_ns_ + static_cast<int64_t>(boot_ns); }
  /// A realtime before boot has no boot time: 0.
  uint64_t to_boot_ns(int64_t realtime_ns) const {
    return realtime_ns > offset_ns_ ? static_cast<uint64_t>(realtime_ns - offset_ns_) : 0;
  }
  int64_t realtime_minus_boot_ns() const { return offset_ns_; }

 private:
  int64_t offset_ns_;
};

}  // namespace lineage::core
