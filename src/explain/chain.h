#pragma once
// The causality chain of one process: the target and its ancestors through
// the current parent, each link checked by start time. Reads only the chain,
// never the whole of /proc.
#include <cstdint>
#include <vector>

#include "core/process.h"
#include "core/result.h"
#include "core/unique_fd.h"
#include "procfs/reader.h"

namespace lineage::explain {

/// Everything a detector may look at for a process in the chain.
inline constexpr core::FieldMask kChainFields =
    core::kFieldStat | core::kFieldStatus | core::kFieldCmdline | core::kFieldExe |
    core::kFieldCwd | core::kFieldCgroup | core::kFieldNamespaces | core::kFieldEnviron |
    core::kFieldLoginUid;

/// Ancestors need less: detectors read their exe, argv and cgroup. The
/// environment (costly: it walks the other process's memory) is read later
/// only where a detector looks (complete_chain); namespaces only for the root.
inline constexpr core::FieldMask kAncestorFields =
    core::kFieldStat | core::kFieldStatus | core::kFieldCmdline | core::kFieldExe | core::kFieldCgroup;

struct Chain {
  std::vector<core::Process> processes;  // root first, target last
  /// The walk stopped because the parent pid now names a younger process:
  /// the real parent exited and its pid was reused.
  int32_t reused_parent_pid = 0;
  bool loop = false;  // stopped on a pid seen before
  /// The walk stopped at its depth bound with a parent still above: the
  /// chain is cut and an origin may be missing.
  bool truncated = false;
  /// The pid directories of `processes`, same order, kept open while a
  /// report is built so that later reads need neither a new lookup nor a
  /// start-time check. Empty once the report is done (fds are bounded).
  std::vector<UniqueFd> dirfds;
};

/// Reads `fields` of chain[index] into it, if the pid still names the same
/// process (its kept directory fd, else the start time checked).
void read_more(const procfs::ProcReader& reader, Chain& chain, size_t index, core::FieldMask fields);

/// Walks the whole chain: its length is bounded only by max_depth, which
/// 0 takes from the reader's pid_max (read only for a chain deeper than
/// kShallowChain); reaching it sets Chain::truncated. kNotFound when the
/// target does not exist.
Result<Chain> build_chain(const procfs::ProcReader& reader, int32_t pid,
                          core::FieldMask fields = kChainFields, size_t max_depth = 0,
                          core::FieldMask ancestor_fields = kAncestorFields);

/// Chains up to this depth are checked for loops by a linear search; deeper
/// ones through a hash set, so that a chain thousands deep stays linear.
inline constexpr size_t kShallowChain = 64;

}  // namespace lineage::explain
