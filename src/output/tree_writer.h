#pragma once
// Text rendering of a Forest: aligned columns, line art in the command
// column, every cell escaped, lines cut to the terminal width.
#include <string>
#include <vector>

#include "output/columns.h"
#include "output/forest.h"

namespace lineage::output {

struct TextOptions {
  std::vector<const Column*> columns;
  bool ascii = false;
  size_t width = 0;  // 0: no limit
  bool color = false;
  bool header = true;
};

std::string render_tree_text(const Forest& forest, const core::ProcessTree& tree,
                             const core::SystemInfo& sys, const TextOptions& options);

}  // namespace lineage::output
