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
  double duration = 0;            // seconds; 0: until Ctrl-C
  int poll_interval_ms = 1000;
};

/// Streams events to stdout until interrupted or the duration ends; the
/// summary goes to stderr. Returns the exit code.
Result<int> run_watch(const WatchOptions& options);

}  // namespace lineage::cli
