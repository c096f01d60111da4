#pragma once
// The forest a tree view shows: which processes, in which order, with which
// folded. Flat rows with child index lists so that no step recurses (a fork
// chain can be tens of thousands deep).
#include <cstdint>
#include <functional>
#include <vector>

#include "core/process_tree.h"
#include "output/columns.h"
#include "core/system_info.h"

namespace lineage::output {

struct Row {
  size_t index = 0;           // into the ProcessTree
  int32_t tid = 0;            // non-zero: a thread of process `index`
  uint32_t count = 1;         // > 1: identical leaf siblings folded here
  std::vector<int32_t> folded_pids;
  bool target = false;        // named on the command line
  bool context = false;       // an ancestor shown only as the path to a target
  std::vector<uint32_t> children;
};

struct Forest {
  std::vector<Row> rows;
  std::vector<uint32_t> roots;
};

struct ForestOptions {
  /// Filters (kernel threads, user); ancestors of targets are shown anyway.
  std::function<bool(const core::Process&)> visible;
  /// Show these subtrees and the path above them; empty: the whole system.
  std::vector<size_t> targets;
  std::vector<SortKey> sort;  // empty: by pid
  bool threads = false;
  bool compact = false;
};

Forest build_forest(const core::ProcessTree& tree, const core::SystemInfo& sys,
                    const ForestOptions& options);

}  // namespace lineage::output
