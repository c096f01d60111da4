#pragma once
#include <optional>
#include <string>

#include "cli/app.h"
#include "resolve/targets.h"

namespace lineage::cli {

struct TreeOptions {
  CommonOptions common;
  std::optional<resolve::TargetSpec> target;
  std::string columns;  // empty: defaults
  std::string sort;
  std::string user;
  bool threads = false;
  bool kernel = false;
  bool compact = false;
  bool ascii = false;
  bool wide = false;
  size_t width = 0;  // explicit --width
  std::string at;    // TIME: the forest as recorded then
  std::string db;    // history database (default kDefaultDb)
  std::string from;  // a snapshot file instead of /proc
};

/// Runs `lineage tree`; the output text on success.
Result<std::string> run_tree(const TreeOptions& options);

}  // namespace lineage::cli
