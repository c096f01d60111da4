#pragma once
// `top` output: a block of groups and their busiest processes, or one
// lineage.top/v1 document.
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/system_info.h"
#include "core/top_load.h"
#include "explain/contexts.h"
#include "output/json_writer.h"

namespace lineage::output {

/// One refresh: the ranked load and what it refers to.
struct TopView {
  const core::LoadReport& report;
  std::span<const core::Process> after;  // LoadReport indices point here
  /// The context of each process of `after` (same order); groups of --by
  /// context carry their launch context's details from it.
  std::span<const explain::ProcessContext* const> contexts;
  std::string by;  // context, unit, container, user, parent
  /// The command line shown for after[index] (raw: the writer escapes it).
  std::function<std::string(size_t index)> command;
  core::SystemInfo sys;  // at the second snapshot
  size_t cores = 1;
  std::string sampler = "proc";  // how every process was read: bpf (task iterator) or proc
};

struct TopTextOptions {
  bool color = false;
  size_t width = 0;  // 0: no limit (command lines still cut at 160 columns unless wide)
  bool wide = false;
};

std::string render_top_text(const TopView& view, const TopTextOptions& options);

/// lineage.top/v1.
Json top_json(const TopView& view);

/// "512K", "12.3M", "1.5G": resident memory in a narrow column.
std::string format_bytes(uint64_t bytes);

}  // namespace lineage::output
