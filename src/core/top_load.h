#pragma once
// `top`'s arithmetic: two snapshots of the process table, the CPU each
// process used between them, summed per group and ranked. Pure: the caller
// reads /proc and says which group each process belongs to.
//
// Processes are matched by (pid, start time), never by pid alone: a pid
// reused during the interval is a new process. A process that started
// during the interval counts from zero (all its CPU time is new); one that
// exited is lost (its last ticks are not seen) and only counted.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/process.h"

namespace lineage::core {

/// The group a process is counted in (views into strings the caller keeps
/// alive during rank_load).
struct GroupRef {
  std::string_view key;    // identity
  std::string_view kind;   // cron, systemd, user, parent ...
  std::string_view label;  // for people
};

struct LoadOptions {
  size_t limit = 10;      // groups shown (0: all)
  size_t processes = 3;   // processes shown per group (0: none)
  uint64_t interval_ns = 1'000'000'000;  // measured between the two snapshots
  uint64_t tick_ns = 10'000'000;         // one clock tick of utime/stime
  uint64_t page_size = 4096;
};

struct ProcessLoad {
  size_t index = 0;         // into `after`
  uint64_t cpu_ticks = 0;   // used during the interval
  double cpu_percent = 0;   // of one core, as top shows it
  uint64_t rss_bytes = 0;
  bool started = false;     // started during the interval
};

struct GroupLoad {
  std::string key, kind, label;
  uint64_t cpu_ticks = 0;
  double cpu_percent = 0;
  uint64_t rss_bytes = 0;
  size_t processes = 0;
  size_t started = 0;          // processes that started during the interval
  double started_per_s = 0;
  size_t first_index = 0;      // into `after`: the group's first process (its sample)
  std::vector<ProcessLoad> top;  // the busiest, at most LoadOptions::processes
};

struct LoadReport {
  std::vector<GroupLoad> groups;  // sorted: CPU, then memory, then size
  size_t groups_total = 0;        // before the limit
  size_t processes = 0;
  size_t started = 0;   // alive at the end, started during the interval
  size_t exited = 0;    // seen at the start, gone at the end: their last CPU is lost
  double cpu_percent = 0;  // all processes
  double interval_s = 0;
};

/// before/after: stat of every process at each snapshot; group_of: the
/// group of each process of `after`, same order.
LoadReport rank_load(std::span<const Process> before, std::span<const Process> after,
                     std::span<const GroupRef> group_of, const LoadOptions& options);

}  // namespace lineage::core
