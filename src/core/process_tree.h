#pragma once
// A snapshot forest of processes: parent links validated by start time, so a
// reused pid never adopts a process it did not start.
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "core/process.h"

namespace lineage::core {

class ProcessTree {
 public:
  static constexpr size_t kNone = static_cast<size_t>(-1);

  ProcessTree() = default;
  explicit ProcessTree(std::vector<Process> processes) { rebuild(std::move(processes)); }
  /// Makes this the tree of `processes`, reusing its arrays' room (a caller
  /// that builds one small tree after another allocates nothing anew).
  void rebuild(std::vector<Process> processes);

  const std::vector<Process>& processes() const { return processes_; }
  size_t size() const { return processes_.size(); }
  const Process& at(size_t index) const { return processes_[index]; }
  /// The processes back (in key order), for a caller that reuses their
  /// buffers; the tree is empty then (its arrays keep their room).
  std::vector<Process> take_processes() {
    pids_.clear(), parent_.clear(), child_begin_.assign(1, 0), child_list_.clear(), roots_.clear();
    return std::move(processes_);
  }

  /// Index of the process with this pid, or kNone.
  size_t find(int32_t pid) const;
  /// Index of the validated parent, or kNone (root, parent gone or reused).
  size_t parent(size_t index) const { return parent_[index]; }
  std::span<const size_t> children(size_t index) const;
  /// Processes without a validated parent in the snapshot, in pid order.
  const std::vector<size_t>& roots() const { return roots_; }

  /// Ancestors nearest first, stopping at a loop, a reused pid or max_depth.
  std::vector<size_t> ancestors(size_t index, size_t max_depth = 4096) const;

 private:
  std::vector<Process> processes_;
  std::vector<int32_t> pids_;  // processes_' pids, in their (key) order: find's index
  std::vector<size_t> parent_;
  // Children of every process in one array (CSR layout): the children of i
  // are child_list_[child_begin_[i] .. child_begin_[i + 1]).
  std::vector<size_t> child_begin_{0};
  std::vector<size_t> child_list_;
  std::vector<size_t> roots_;
};

/// True when `parent` can be the parent of `child`: it started no later.
bool plausible_parent(const Process& parent, const Process& child);

}  // namespace lineage::core
