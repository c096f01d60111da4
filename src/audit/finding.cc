#include "audit/finding.h"

#include <array>

namespace lineage::audit {
namespace {
constexpr std::array<std::string_view, 5> kNames = {"info", "low", "medium", "high", "critical"};
}  // namespace

std::string_view severity_name(Severity s) { return kNames[static_cast<size_t>(s)]; }

std::optional<Severity> parse_severity(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (kNames[i] == name) return static_cast<Severity>(i);
  }
  return std::nullopt;
}

}  // namespace lineage::audit
