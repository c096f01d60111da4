#include "core/process.h"

namespace lineage::core {

bool same_start(uint64_t a_ns, uint64_t b_ns, uint64_t tick_ns) {
  uint64_t diff = a_ns > b_ns ? a_ns - b_ns : b_ns - a_ns;
  return diff < tick_ns;
}

std::optional<std::string> Process::env(std::string_view key) const {
  if (!environ) return std::nullopt;
  for (const auto& entry : *environ) {
    if (entry.size() > key.size() && entry[key.size()] == '=' && entry.starts_with(key)) {
      return entry.substr(key.size() + 1);
    }
  }
  return std::nullopt;
}

std::string Process::command_line() const {
  if (!argv || argv->empty()) return "[" + stat.comm + "]";
  std::string out;
  for (const auto& arg : *argv) {
    if (!out.empty()) out += ' ';
    out += arg;
  }
  return out;
}

}  // namespace lineage::core
