#pragma once
// Parsing systemd's cgroup layout (pure).
#include <optional>
#include <string>
#include <string_view>

namespace lineage::explain {

struct UnitInfo {
  std::string unit;     // nginx.service, foo.scope
  std::string manager;  // "system" or "user"
  std::string slice;    // the innermost slice, if any
  uint32_t user_uid = 0;    // for manager == "user"
  bool session_scope = false;    // session-N.scope: a login session
  bool container_scope = false;  // docker-/libpod-/crio-/cri-containerd- scopes
};

/// The innermost unit of a cgroup path such as
/// "/user.slice/user-1000.slice/user@1000.service/app.slice/foo.service".
std::optional<UnitInfo> unit_from_cgroup(std::string_view path);

}  // namespace lineage::explain
