#include <cstddef>
#include <cstdint>
#include <string_view>

#include "output/sanitize.h"
#include "core/tty.h"
#include "procfs/parsers.h"

// parse_stat, then what the tree does with a comm: escape and cut.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto stat = lineage::procfs::parse_stat(text);
  if (stat) {
    std::string shown = lineage::output::escape_text(stat->comm);
    for (char c : shown) {
      if (static_cast<unsigned char>(c) < 0x20) __builtin_trap();
    }
    (void)lineage::output::cut_to_width(shown, 7);
    (void)lineage::core::tty_name(stat->tty_nr);
    (void)lineage::output::to_valid_utf8(stat->comm);
  }
  return 0;
}
