#pragma once
#include <optional>
#include <string>

#include "cli/app.h"

namespace lineage::cli {

struct HistoryOptions {
  CommonOptions common;
  std::string db;
  std::string target;  // a pid (every holder) or a name
  std::string since, until, exe, user;
  size_t limit = 50;
  std::optional<int32_t> descendants;
};

/// Lists recorded processes; returns the exit code.
Result<int> run_history(const HistoryOptions& options);

/// The history database, or an error that says how to start recording.
std::string history_path(const std::string& option);

}  // namespace lineage::cli
