#pragma once
#include <string>
#include <vector>

#include "cli/app.h"

namespace lineage::cli {

struct WatchOptions {
  CommonOptions common;
  std::string source = "auto";
  std::vector<int32_t> pids;      // subtrees
  std::vector<std::string> comms;
  std::string user;
  std::string events;             // fork,exec,exit
  std::string container;          // name or id: only its processes
  double duration = 0;            // seconds; 0: until Ctrl-C
  int poll_interval_ms = 1000;
  bool threads = false;           // also thread start/exit events
  size_t max_processes = 65536;   // tree budgets (dead entries evicted first)
  size_t max_threads = 65536;
  // --audit: the audit rules on every exec (and fork-storm on forks);
  // findings are printed instead of events.
  bool audit = false;
  std::vector<std::string> rules;  // --rule: only these
  std::vector<std::string> skip;   // --skip
  std::string min_severity = "info";
  uint32_t storm_rate = 1000;      // fork-storm: forks per second in one subtree
};

/// Streams events to stdout until interrupted or the duration ends; the
/// summary goes to stderr. Returns the exit code.
Result<int> run_watch(const WatchOptions& options);

}  // namespace lineage::cli
