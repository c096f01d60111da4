#pragma once
// What only systemd knows about a unit, asked over D-Bus (sd-bus).
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace lineage::explain {

struct UnitProperties {
  std::string description;
  std::string fragment_path;
  std::optional<uint32_t> restarts;     // services only (NRestarts)
  std::vector<std::string> triggered_by;  // timers, sockets, paths
};

/// nullopt when systemd is not running (no /run/systemd/system), the bus
/// cannot be reached, or the unit is unknown. user_uid selects that user's
/// manager when user_manager is set. Each call is bounded by a short timeout.
std::optional<UnitProperties> query_unit(const std::string& unit, bool user_manager, uint32_t user_uid);

}  // namespace lineage::explain
