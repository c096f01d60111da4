#include "explain/systemd_unit.h"

#include <charconv>

namespace lineage::explain {

std::optional<UnitInfo> unit_from_cgroup(std::string_view path) {
  UnitInfo info;
  info.manager = "system";
  bool found = false;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    path.remove_prefix(slash == std::string_view::npos ? path.size() : slash + 1);
    if (part.empty()) continue;
    if (part.starts_with("user@") && part.ends_with(".service")) {
      // Everything below is managed by that user's systemd.
      std::string_view uid = part.substr(5, part.size() - 5 - 8);
      std::from_chars(uid.data(), uid.data() + uid.size(), info.user_uid);
      info.manager = "user";
      info.unit = std::string(part);
      found = true;
      continue;
    }
    if (part.ends_with(".slice")) {
      info.slice = std::string(part);
    } else if (part.ends_with(".service") || part.ends_with(".scope") || part.ends_with(".socket") ||
               part.ends_with(".mount") || part.ends_with(".swap")) {
      info.unit = std::string(part);
      found = true;
    }
  }
  if (!found) return std::nullopt;
  info.session_scope = info.unit.starts_with("session-") && info.unit.ends_with(".scope");
  for (std::string_view prefix : {"docker-", "libpod-", "crio-", "cri-containerd-"}) {
    if (info.unit.starts_with(prefix) && info.unit.ends_with(".scope")) info.container_scope = true;
  }
  return info;
}

}  // namespace lineage::explain
