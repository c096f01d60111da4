#pragma once
// `zombies` output: one block per parent that fails to reap, or
// lineage.zombies/v1.
#include <optional>
#include <string>
#include <vector>

#include "core/process_tree.h"
#include "core/system_info.h"
#include "core/zombies.h"
#include "explain/reaping.h"
#include "explain/source.h"
#include "output/json_writer.h"

namespace lineage::output {

using explain::ZombieFactory;

struct ZombiesTextOptions {
  bool color = false;
  size_t width = 0;        // 0: no limit
  size_t max_pids = 20;    // zombie pids listed per parent
};

std::string render_zombies_text(const std::vector<ZombieFactory>& factories, const core::ProcessTree& tree,
                                const core::SystemInfo& sys, const ZombiesTextOptions& options);

/// {"schema": "lineage.zombies/v1", "generated_at", "min", "total",
///  "groups": [{"parent_pid", "parent", "reaper", "count", "oldest_age_seconds",
///  "newest_age_seconds", "summary", "sources", "restart", "advice", "zombies"}]}
Json zombies_json(const std::vector<ZombieFactory>& factories, const core::ProcessTree& tree,
                  const core::SystemInfo& sys, size_t min);

}  // namespace lineage::output
