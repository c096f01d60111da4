#pragma once
#include <cstddef>
#include <string>

#include "cli/app.h"
#include "explain/context.h"

namespace lineage::cli {

struct ZombiesOptions {
  CommonOptions common;
  size_t min = 1;        // exit 1 when a parent has at least this many
  bool wide = false;
  std::string db;        // history database (subreapers are known from it)
  std::string from;      // a snapshot file instead of /proc
  explain::Paths paths;
};

/// `lineage zombies`: 0 no parent reaches --min, 1 one does.
Result<int> run_zombies(const ZombiesOptions& options);

Command add_zombies_command(CLI::App& app);

}  // namespace lineage::cli
