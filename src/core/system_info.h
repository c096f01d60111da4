#pragma once
// System-wide facts a snapshot is presented with: plain data, filled by the
// procfs reader (or a test, or a recorded history).
#include <cstdint>

namespace lineage::core {

/// System-wide facts needed to present a snapshot.
struct SystemInfo {
  uint64_t boot_ns_now = 0;      // from <root>/uptime
  int64_t realtime_ns_now = 0;   // wall clock at the same moment
  uint64_t mem_total_kb = 0;     // 0 when unknown
  uint64_t ticks_per_second = 100;
  uint64_t page_size = 4096;
  uint64_t tick_ns() const { return 1'000'000'000ull / ticks_per_second; }
};

}  // namespace lineage::core
