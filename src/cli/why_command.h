#pragma once
#include <string>
#include <vector>

#include "cli/app.h"
#include "explain/context.h"

namespace lineage::cli {

struct WhyOptions {
  CommonOptions common;
  std::vector<std::string> targets;  // PID, NAME, :PORT or PATH
  std::vector<std::string> pids, names, ports, files, containers;
  bool exact = false;
  bool all = false;
  bool short_form = false;
  bool tree = false;
  bool env = false;
  bool wide = false;
  std::string db;  // history database (default kDefaultDb, read only when needed)
  std::string at;  // TIME: the process and its chain as recorded then
  std::string from;  // a snapshot file instead of /proc
  explain::Paths paths;  // configuration roots (tests point them at fixtures)
};

struct CommandOutput {
  std::string text;
  int exit_code = 0;  // 0, or 1 when there are warnings
  /// Lines for stderr after the text (matches skipped because they exited
  /// before they could be explained); empty with --json, which has "skipped".
  std::string notes;
};

Result<CommandOutput> run_why(const WhyOptions& options);

}  // namespace lineage::cli
