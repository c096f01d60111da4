#include <cstddef>
#include <cstdint>
#include <string_view>

#include "procfs/parsers.h"

// System-wide files: /proc/meminfo and /proc/uptime.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)lineage::procfs::parse_meminfo_total_kb(text);
  (void)lineage::procfs::parse_uptime_ns(text);
  return 0;
}
