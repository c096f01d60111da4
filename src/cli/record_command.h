#pragma once
#include <string>

#include "cli/app.h"

namespace lineage::cli {

/// Where history lives unless --db says otherwise.
inline constexpr const char* kDefaultDb = "/var/lib/lineage/history.db";

struct RecordOptions {
  CommonOptions common;
  std::string db = kDefaultDb;
  std::string source = "auto";
  std::string keep;       // "14d"; empty: forever
  std::string max_size;   // "1G"; empty: unbounded
  std::string export_to;  // FILE or "-"
  bool status = false;
  double duration = 0;    // seconds; 0: until SIGTERM/SIGINT
  int poll_interval_ms = 1000;
  size_t max_processes = 65536;
  bool no_audit = false;  // --no-audit: do not judge execs with the audit rules
  uint32_t storm_rate = 1000;  // fork-storm: forks per second in one subtree
};

/// The pid of the `lineage record` writing db (its lock's holder), 0 when
/// none holds it, -1 when held by a process whose pid cannot be read.
int32_t record_lock_holder(const std::string& db);

/// Records until stopped (or shows --status). Returns the exit code.
Result<int> run_record(const RecordOptions& options);

}  // namespace lineage::cli
