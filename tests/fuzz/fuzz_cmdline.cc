#include <cstddef>
#include <cstdint>
#include <string_view>

#include "procfs/parsers.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto result = lineage::procfs::parse_cmdline(text);
  (void)result;
  return 0;
}
