#pragma once
#include <string>
#include <vector>

#include "cli/app.h"

namespace lineage::cli {

struct TraceOptions {
  CommonOptions common;
  std::vector<std::string> command;  // after --
  std::string output;                // the report goes to this file instead of stdout
  std::string format;                // text | json | chrome; empty: text, or json with --json
  std::string source = "auto";       // auto (bpf, else netlink) | bpf | netlink
  bool live = false;                 // exec/exit lines on stderr as they happen
  bool wide = false;                 // do not cut lines to the terminal's width
  std::vector<std::string> events;   // -e file, -e net (bpf only)
};

/// `lineage trace -- CMD ARGS...`: CMD's exit status (128 + signal when it
/// was killed), 127 when it cannot be run, 3 when no event source starts,
/// 4 usage.
Result<int> run_trace(const TraceOptions& options);

Command add_trace_command(CLI::App& app);

}  // namespace lineage::cli
