#include <cstddef>
#include <cstdint>
#include <string_view>

#include "procfs/parsers.h"

// Targets of /proc/PID/exe and /proc/PID/ns/* links.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  (void)lineage::procfs::parse_ns_link(text);
  auto exe = lineage::procfs::parse_exe_link(text);
  if (exe.path.size() > text.size()) __builtin_trap();
  return 0;
}
