#pragma once
// The audit rules: one small file each (rule_<id>.cc), listed in rules.cc.
// A rule reads a Scene and appends findings; it never prints, never writes.
//
// Per-process rules are asked about one process at a time (`audit` asks
// about every process of the table; `watch --audit` about the process an
// event names, in a scene of its chain), scene rules about the whole table.
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "audit/finding.h"
#include "audit/scene.h"
#include "core/process.h"

namespace lineage::audit {

using ProcessCheck = void (*)(const Scene& scene, size_t index, std::vector<Finding>& out);
using SceneCheck = void (*)(const Scene& scene, std::vector<Finding>& out);

struct Rule {
  std::string_view id;
  /// The usual severity; a finding may be raised or lowered by what it saw.
  Severity severity = Severity::kMedium;
  std::string_view summary;  // one line: what it means (for --list-rules)
  /// /proc field groups every process must be read with for this rule.
  core::FieldMask fields = core::kFieldStat;
  ProcessCheck check_process = nullptr;
  SceneCheck check_scene = nullptr;
  /// Needs event rates (`watch --audit`, `record`): not run by `audit`.
  bool live_only = false;
};

/// Every rule, in a fixed order (the order of `--list-rules` and of the README).
std::span<const Rule> all_rules();
/// nullptr when no rule has this id.
const Rule* find_rule(std::string_view id);

/// The rules a command runs: those named by `only` (all when empty), less
/// those in `skip`, and the live-only ones (fork-storm) only when
/// `live_too`. An id that names no rule: nullopt, and *unknown holds it
/// (raw text: escape it before printing).
std::optional<std::vector<const Rule*>> select_rules(const std::vector<std::string>& only,
                                                     const std::vector<std::string>& skip, bool live_too,
                                                     std::string* unknown);

/// The union of the field groups the rules need.
core::FieldMask fields_for(std::span<const Rule* const> rules);

/// Runs the rules over every process of the scene (and the scene rules
/// once). Findings come out most severe first, then by pid, then by rule.
std::vector<Finding> evaluate(const Scene& scene, std::span<const Rule* const> rules);

/// Runs the per-process rules over one process of the scene (live use).
std::vector<Finding> evaluate_process(const Scene& scene, size_t index, std::span<const Rule* const> rules);

// The rules' entry points (one file each).
void check_web_server_spawned_shell(const Scene&, size_t, std::vector<Finding>&);
void check_exec_from_writable_dir(const Scene&, size_t, std::vector<Finding>&);
/// The executables exec-from-writable-dir stats (not a package's, not
/// judged by their path alone): the scan reads kFieldExeFile for these.
bool asks_file_system(std::string_view exe_path);
/// The one environment entry the rules read (LD_PRELOAD=...): a scan for
/// them keeps no other (procfs::ScanFilters).
bool env_wanted(std::string_view entry);
void check_cron_runs_writable_script(const Scene&, size_t, std::vector<Finding>&);
void check_reverse_shell(const Scene&, size_t, std::vector<Finding>&);
void check_unexpected_listener(const Scene&, size_t, std::vector<Finding>&);
void check_outside_container(const Scene&, size_t, std::vector<Finding>&);
void check_privilege_gain(const Scene&, size_t, std::vector<Finding>&);
void check_masquerade(const Scene&, size_t, std::vector<Finding>&);
void check_ld_preload(const Scene&, size_t, std::vector<Finding>&);
void check_ld_so_preload(const Scene&, std::vector<Finding>&);
void check_ptrace_attached(const Scene&, size_t, std::vector<Finding>&);
void check_zombie_accumulation(const Scene&, std::vector<Finding>&);

}  // namespace lineage::audit
