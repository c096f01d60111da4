#pragma once
// Output columns with ps-compatible names. Each column declares the /proc
// field groups it needs, so a scan reads nothing more.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/process.h"
#include "core/result.h"

namespace lineage::core {
struct SystemInfo;
}

namespace lineage::output {

using SortValue = std::variant<int64_t, std::string>;

struct Column {
  std::string_view name;     // canonical ps name
  std::string_view aliases;  // other accepted names, space separated
  std::string_view header;
  core::FieldMask needs;
  bool right_align;
  bool is_command;           // carries the tree art
  std::string (*text)(const core::Process&, const core::SystemInfo&);
  SortValue (*sort_value)(const core::Process&, const core::SystemInfo&);
};

inline constexpr std::string_view kDefaultColumns = "pid,ppid,user,stat,etime,cmd";

std::span<const Column> all_columns();
/// Parses "pid,user,cmd" (spaces also separate); usage error on an unknown name.
Result<std::vector<const Column*>> parse_columns(std::string_view spec);
const Column* find_column(std::string_view name);

struct SortKey {
  const Column* column;
  bool descending;
};
/// Parses "-rss,pid": '-' descending, '+' or nothing ascending.
Result<std::vector<SortKey>> parse_sort(std::string_view spec);

/// Seconds the process has run, as of sys.boot_ns_now.
uint64_t elapsed_ns(const core::Process& p, const core::SystemInfo& sys);

}  // namespace lineage::output
