#pragma once
// Turns what the user typed (a pid or a name) into processes of a snapshot.
#include <string>
#include <vector>

#include "core/process_tree.h"
#include "core/result.h"

namespace lineage::resolve {

enum class TargetKind { kAuto, kPid, kName };

struct TargetSpec {
  TargetKind kind = TargetKind::kAuto;
  std::string text;
  bool exact = false;
};

/// A pid as typed: digits only, 1..4194304 (PID_MAX_LIMIT); usage error otherwise.
Result<int32_t> parse_pid(const std::string& text);

/// True when text should be taken as a pid.
bool looks_like_pid(const std::string& text);
inline bool is_pid_target(const TargetSpec& spec) {
  return spec.kind == TargetKind::kPid || (spec.kind == TargetKind::kAuto && looks_like_pid(spec.text));
}

/// Indices of matching processes, in pid order. A name matches a substring
/// of comm or of the command line (with exact: comm or argv[0]'s base name
/// equal). The calling process (self_pid) never matches a name, and its
/// ancestors in the tree match only by their own name (comm, argv[0]), not
/// through a command line that carries ours (`timeout 10 lineage why sleep`,
/// `sudo lineage why X`). kNotFound when none.
Result<std::vector<size_t>> resolve_target(const core::ProcessTree& tree, const TargetSpec& spec,
                                           int32_t self_pid);

}  // namespace lineage::resolve
