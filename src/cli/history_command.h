#pragma once
#include <optional>
#include <string>

#include "cli/app.h"
#include "store/history.h"

namespace lineage::cli {

struct HistoryOptions {
  CommonOptions common;
  std::string db;
  std::string target;  // a pid (every holder) or a name
  std::string since, until, exe, user;
  size_t limit = 50;
  std::optional<int32_t> descendants;
  std::string format;  // "", text, json (as --json) or chrome (with --descendants)
};

/// Lists recorded processes; returns the exit code.
Result<int> run_history(const HistoryOptions& options);

/// The history database: the option's, else the default.
std::string history_path(const std::string& option);

/// An opened history and a TIME (--at) inside it.
struct AtTime {
  store::History history;
  int64_t unix_ns = 0;
};
/// Parses TIME and opens the history that must cover it: no database,
/// or a time before it begins, is kNotFound with a one-line message.
Result<AtTime> resolve_at(const std::string& time, const std::string& db_path);
/// Opens the history for a command that needs it (kNotFound says how to
/// start recording).
Result<store::History> open_history(const std::string& db_path);

}  // namespace lineage::cli
