#pragma once
// The chains a snapshot explains, one per process of a scanned tree. Each
// ancestor is cut to the fields build_chain reads (as `why PID` sees it)
// once, by its identity (pid and start time), and that cut copy is shared by
// every descendant's chain: a process's environment, cgroups and the like
// are not copied again for each process below it.
#include <cstddef>
#include <map>
#include <vector>

#include "core/process.h"
#include "core/process_tree.h"

namespace lineage::snapshot {

class ChainMemo {
 public:
  /// The chain of tree.at(index) for explain_chain: ancestors root first,
  /// cut (the root keeps its namespaces; an ancestor keeps its environment
  /// below the first that passes context in it, complete_chain's rule),
  /// then the process itself, whole.
  std::vector<core::Process> chain(const core::ProcessTree& tree, size_t index);

  /// Ancestors cut so far (each once unless its place in a chain changed).
  size_t cuts() const { return cuts_; }

 private:
  struct Cut {
    core::Process process;
    bool root = false;
    bool keep_environ = false;
  };
  const Cut& cut(const core::Process& p, bool root, bool keep_environ);

  std::map<core::ProcessKey, Cut> memo_;
  size_t cuts_ = 0;
};

}  // namespace lineage::snapshot
