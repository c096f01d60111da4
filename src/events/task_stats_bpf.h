#pragma once
// The stat of every process asked of the kernel in one read(): a BPF task
// iterator (bpf/task_stats.bpf.c) reports each task's identity, parent,
// CPU time and resident pages, so `top`'s refresh costs no syscall per
// process. Loaded once, read every refresh. Needs root (CAP_BPF and
// CAP_PERFMON, or CAP_SYS_ADMIN) and the initial pid namespace; callers
// fall back to procfs::StatSampler when open() fails.
#include <memory>
#include <vector>

#include "core/process.h"
#include "core/result.h"

namespace lineage::events {

class TaskStatsBpf {
 public:
  /// Loads and attaches the iterator. kPermission when the kernel refuses
  /// BPF; kInternal with libbpf's message otherwise.
  static Result<std::unique_ptr<TaskStatsBpf>> open();
  ~TaskStatsBpf();
  TaskStatsBpf(const TaskStatsBpf&) = delete;
  TaskStatsBpf& operator=(const TaskStatsBpf&) = delete;

  /// Every process now, as procfs::StatSampler gives it: key (start time
  /// in ticks of tick_ns, as /proc counts), ppid, comm, flags, rss_pages,
  /// and its CPU time (every thread's, exited ones included) in utime_ticks
  /// (stime_ticks 0: the kernel keeps one sum; /proc splits it).
  Result<std::vector<core::Process>> sample(uint64_t tick_ns);

 private:
  struct State;
  explicit TaskStatsBpf(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace lineage::events
