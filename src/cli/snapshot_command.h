#pragma once
#include <string>

#include "cli/app.h"
#include "explain/context.h"

namespace lineage::cli {

struct SnapshotOptions {
  CommonOptions common;
  std::string output;           // empty: lineage-snapshot-HOST-YYYYmmdd-HHMMSS.json
  bool force = false;           // replace an existing file
  std::string db;               // history database (default kDefaultDb)
  std::string history = "10m";  // recorded events of this last span; 0: none
  explain::Paths paths;
};

Result<int> run_snapshot(const SnapshotOptions& options);

Command add_snapshot_command(CLI::App& app);

}  // namespace lineage::cli
