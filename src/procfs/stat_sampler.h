#pragma once
// The cheapest look at every process: its stat file and nothing else (one
// open and one read per pid), for `top`'s refreshes. Identity (pid, start
// time), parent, CPU ticks and resident pages are all in stat.
#include <cstddef>
#include <string>
#include <vector>

#include "core/process.h"
#include "core/result.h"
#include "core/unique_fd.h"

namespace lineage::procfs {

class StatSampler {
 public:
  /// Fails with kNotFound when root cannot be opened as a directory.
  static Result<StatSampler> open(const std::string& root = "/proc");

  /// stat of every process now, pids in directory order. A process that
  /// exits between the listing and its read is left out (counted in
  /// *vanished); a stat that does not parse is left out too.
  std::vector<core::Process> sample(size_t* vanished = nullptr);

 private:
  StatSampler(UniqueFd fd, uint64_t tick_ns) : root_fd_(std::move(fd)), tick_ns_(tick_ns) {}

  UniqueFd root_fd_;
  uint64_t tick_ns_;
  std::string buf_;
  size_t last_count_ = 0;
};

}  // namespace lineage::procfs
