#pragma once
// Warnings an operator should see about a process, each with a stable id.
#include <vector>

#include "explain/context.h"

namespace lineage::explain {

struct WarningInputs {
  std::vector<Source> sources;
  int32_t reused_parent_pid = 0;  // from the chain walk
  bool chain_truncated = false;   // the walk hit its bound (Chain::truncated)
  size_t zombie_children = 0;
  bool listens_on_all_interfaces = false;
  std::string listening_on;  // e.g. "0.0.0.0:8080/tcp"
};

std::vector<Warning> find_warnings(const Context& ctx, const WarningInputs& in);

/// True for paths under a world-writable directory (/tmp, /var/tmp, /dev/shm).
bool in_world_writable_dir(std::string_view path);

}  // namespace lineage::explain
