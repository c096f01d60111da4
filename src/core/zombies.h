#pragma once
// Zombies grouped by the parent that fails to reap them. Pure logic over a
// snapshot forest: no syscalls, so a tree read from /proc and one read from
// a snapshot file (`--from`) group the same way.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/process_tree.h"

namespace lineage::core {

/// An exited process waiting for its parent's wait(). A thread group leader
/// that exited while other threads of its process still run shows state Z
/// too, but the process is alive: stat's num_threads still counts them.
/// Kernel threads are never zombie processes of a parent.
bool is_zombie_process(const Process& p);

/// pid 1 of the host, or of its own pid namespace (NSpid's last entry, when
/// status was read): the init that adopts orphans there.
bool is_namespace_init(const Process& p);

/// Who the zombies' parent is to them.
enum class Reaper {
  kParent,     // their parent, which forked them (or nothing says otherwise)
  kInit,       // pid 1 of the host or of its pid namespace: adopted orphans
  kSubreaper,  // adopted them when their parent exited (PR_SET_CHILD_SUBREAPER)
};
const char* reaper_name(Reaper r);

struct ZombieGroup {
  int32_t parent_pid = 0;
  /// The parent in the tree, or ProcessTree::kNone when it is not there.
  size_t parent = ProcessTree::kNone;
  std::vector<size_t> zombies;  // indices into the tree, oldest first
  Reaper reaper = Reaper::kParent;
  uint64_t oldest_start_ns = 0;  // boot-relative start of the oldest zombie
  uint64_t newest_start_ns = 0;
};

/// Every zombie process of the tree grouped by its current parent; the
/// largest group first (ties: the lower parent pid). A parent that is pid 1
/// in its own pid namespace (NSpid's last entry, when status was read) is
/// Reaper::kInit; subreapers are not visible in /proc (see mark_subreapers
/// in the caller's layer: only recorded history knows a fork parent).
std::vector<ZombieGroup> group_zombies(const ProcessTree& tree);

}  // namespace lineage::core
