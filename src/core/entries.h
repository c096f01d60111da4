#pragma once
// A NUL-separated area, as the kernel lays out an environment
// (KEY=VALUE\0KEY=VALUE\0...): its entries one by one.
#include <algorithm>
#include <string_view>

namespace lineage::core {

/// Calls f(entry) for each non-empty entry of area, in order; a last entry
/// cut without its NUL counts as far as it goes.
template <class F>
void for_each_entry(std::string_view area, F&& f) {
  while (!area.empty()) {
    size_t end = std::min(area.find('\0'), area.size());
    if (end > 0) f(area.substr(0, end));
    area.remove_prefix(std::min(end + 1, area.size()));
  }
}

}  // namespace lineage::core
