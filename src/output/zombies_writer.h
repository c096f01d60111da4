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

/// A parent with its zombies and what `why` says of it.
struct ZombieFactory {
  core::ZombieGroup group;
  /// The parent as read for its report (status, cmdline, exe); nullopt when
  /// it could not be read (the tree's copy is used then, if any).
  std::optional<core::Process> parent;
  std::string summary;  // why --short of the parent; empty: not explained
  std::vector<explain::Source> sources;
  explain::Restart restart;
  std::string advice;
  /// How the reaper kind was known ("recorded history: forked by pid N").
  std::string reaper_evidence;
};

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
