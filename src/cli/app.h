#pragma once
#include <string>
#include <vector>

#include "core/result.h"

namespace lineage::cli {

/// Options every command takes.
struct CommonOptions {
  bool json = false;
  bool no_color = false;
  std::string proc_root = "/proc";  // hidden: for tests on fake trees
};

/// Terminal facts decided once, in one place.
struct Terminal {
  bool color = false;
  size_t width = 0;  // 0: unlimited (not a terminal)
};
Terminal detect_terminal(const CommonOptions& common);

/// Parses the command line and runs the command; returns the exit code.
/// Prints errors as one line on stderr.
int run(int argc, char** argv);

}  // namespace lineage::cli
