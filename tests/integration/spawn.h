#pragma once
// Helpers for integration tests: run the real lineage binary and real
// process trees.
#include <string>
#include <vector>

namespace lineage::testing {

struct CommandResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

/// Runs argv (no shell) and collects its output and exit code.
CommandResult run_command(const std::vector<std::string>& argv);

/// Runs the lineage binary under test with these arguments.
CommandResult run_lineage(const std::vector<std::string>& args);

}  // namespace lineage::testing
