#pragma once
// Process events from eBPF programs on the scheduler's BTF tracepoints
// (sched_process_fork, sched_process_exec, sched_process_exit), the kernel
// side in bpf/process_events.bpf.c. Unlike the netlink source the kernel
// hands over everything at the moment it happens (start times, comm, exe,
// argv, ids, cgroup, pid namespace), so nothing is read from /proc and a
// process that lives a millisecond is reported as fully as any other.
//
// Records that do not fit in the ring buffer are counted in the kernel and
// reported as kLost events at the next poll().
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "events/event_source.h"
#include "events/exe_info.h"

struct process_events_bpf;  // the generated skeleton (process_events.skel.h)
struct ring_buffer;         // libbpf

namespace lineage::events {

class BpfEventSource : public EventSource {
 public:
  struct Options {
    /// Also report threads: kFork/kExit with `thread` set for each thread
    /// other than the leader (clone with CLONE_THREAD, pthread_exit).
    bool include_threads = false;
    /// Exec events carry the new image's environment (its first
    /// LINEAGE_ENV_LEN bytes): `record` keeps its context variables from it
    /// instead of reading /proc/PID/environ.
    bool include_environ = false;
    /// Which KEY=VALUE entries of that environment the event keeps (the
    /// others are not copied out of the ring); empty: every one.
    std::function<bool(std::string_view entry)> keep_environ;
    /// Exec events carry Event::at_exec: the resolved executable and
    /// working directory, the cgroup lines, status's ids (the kernel walks
    /// the paths in the exec, and the record is 2 KiB longer: not for
    /// consumers that do not use them). Implied by include_environ.
    bool include_paths = true;
    /// The pid namespace (inode) whose pids the records carry, that of the
    /// /proc lineage reads; 0 or the initial one: global pids. Tasks outside
    /// it are not reported (lineage runs in a container and sees its own).
    uint64_t view_pidns = 0;
    /// The cgroup lines exec events carry (Event::at_exec), as lineage's own
    /// /proc/self/cgroup shows the hierarchies: the id of "name=systemd"
    /// (0: none), whether the unified one ("0::") is shown. Not when
    /// lineage runs in a cgroup namespace of its own (cgroup_paths false):
    /// the kernel's paths are the initial namespace's, not those /proc shows.
    uint32_t systemd_hierarchy = 0;
    bool unified_hierarchy = true;
    bool cgroup_paths = true;
    /// Ring buffer size in bytes: a power of two, a multiple of the page size.
    uint32_t ring_bytes = 16u << 20;
  };

  /// Opens, configures, loads and attaches the programs. kPermission when
  /// the kernel refuses (no CAP_BPF/CAP_PERFMON, lockdown, unprivileged BPF
  /// disabled); kInternal with libbpf's message otherwise.
  static Result<std::unique_ptr<BpfEventSource>> open(const Options& options);
  static Result<std::unique_ptr<BpfEventSource>> open() { return open(Options{}); }
  ~BpfEventSource() override;

  std::string_view name() const override { return "bpf"; }
  Result<size_t> poll(std::vector<core::Event>& out, int timeout_ms) override;
  SourceStats stats() const override;

 private:
  struct SkeletonDeleter {
    void operator()(process_events_bpf* skel) const;
  };
  struct RingDeleter {
    void operator()(ring_buffer* ring) const;
  };

  BpfEventSource() = default;
  static int on_record(void* self, void* data, size_t size);
  void handle(const void* data, size_t size);
  uint64_t kernel_lost() const;

  std::unique_ptr<process_events_bpf, SkeletonDeleter> skel_;
  std::unique_ptr<ring_buffer, RingDeleter> ring_;  // declared after skel_: freed first
  std::vector<core::Event>* sink_ = nullptr;              // poll()'s output while it runs
  SourceStats stats_;
  uint64_t lost_reported_ = 0;  // kernel count already reported as kLost
  uint64_t malformed_ = 0;      // records too short for their kind
  Options options_;
  InterpreterCache interpreters_;  // ELF loaders by file identity
};

/// Splits the kernel's argv area (arguments separated by NUL, the last one
/// possibly cut without one) into arguments. Exposed for tests.
std::vector<std::string> split_args(const char* data, size_t len);
/// The entries of an environment area (KEY=VALUE separated by NUL) that
/// `keep` accepts, NUL-separated, in order. Exposed for tests.
std::string kept_entries(std::string_view area, const std::function<bool(std::string_view)>& keep);

}  // namespace lineage::events
