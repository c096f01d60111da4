#pragma once
// `lineage trace -e file,net`: the kernel side (bpf/trace_io.bpf.c) reports
// the opens and the connect/bind/listen/accept calls of the traced
// processes only; track(pid) names the command, its descendants follow in
// the kernel at fork. Loaded only when -e is given, so a plain trace costs
// nothing more. Needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN).
#include <memory>
#include <vector>

#include "core/result.h"
#include "events/io_call.h"

namespace lineage::events {

class IoTraceBpf {
 public:
  /// Loads and attaches the programs of the categories asked for (at least
  /// one). kPermission when the kernel refuses BPF (or lineage was built
  /// without it); kInternal with libbpf's message otherwise.
  static Result<std::unique_ptr<IoTraceBpf>> open(bool files, bool net);
  ~IoTraceBpf();
  IoTraceBpf(const IoTraceBpf&) = delete;
  IoTraceBpf& operator=(const IoTraceBpf&) = delete;

  /// Traces pid (a tgid) and, from now on, every process it forks.
  Result<bool> track(int32_t pid);
  /// Appends the calls reported since the last poll (waits at most timeout_ms).
  Result<size_t> poll(std::vector<IoCall>& out, int timeout_ms);
  /// Calls the ring buffer had no room for, and records too short to read.
  uint64_t lost() const;

 private:
  struct State;
  explicit IoTraceBpf(std::unique_ptr<State> s);
  std::unique_ptr<State> s_;
};

}  // namespace lineage::events
