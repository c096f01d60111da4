#pragma once
// The launch context of every process of a snapshot, memoized: `top`
// needs it for thousands of processes every second, and a full `why`
// report per process would cost a chain walk and every detector each.
//
// A process starts a new context only where a launcher could have put it
// in one: it has no parent in the snapshot, its parent is init, its cgroup
// differs from its parent's (a systemd unit, a container), or its parent
// is a launcher daemon (cron, atd, sshd, tmux, screen, supervisord, a
// container shim ...). Only such a candidate gets the detectors run on its
// chain (detect_all); any other process inherits its parent's context.
// Entries are kept by (pid, start time), so a process is explained once,
// when it is first seen, and forgotten when a snapshot no longer holds it.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/process.h"
#include "core/process_tree.h"
#include "explain/context.h"
#include "procfs/reader.h"
#include "procfs/users.h"

namespace lineage::explain {

/// A group's identity: one subtree rooted at a launch context, or, for a
/// cron line, every run of that line (a runaway job is one line however
/// many times cron started it).
struct LaunchContext {
  std::string key;    // identity: "cron:/etc/cron.d/x:3", "systemd:system:nginx.service" ...
  /// systemd, container, cron, at, ssh, tmux, screen, supervisor; "process"
  /// where none was found (the subtree of a child of init), "init", "kernel".
  std::string kind;
  std::string name;   // Source::name, or the root process's comm
  std::string label;  // for people: "cron job /etc/cron.d/x:3" (raw text: escape it)
  core::ProcessKey root;  // the process the context starts at
  std::string root_comm;
  int32_t launcher_pid = 0;  // cron, sshd, tmux server ... (Source::pid), 0 if none
  bool verified = true;      // false: the launcher only claims to be one
  std::vector<std::pair<std::string, std::string>> details;  // the source's, in order
};

struct ProcessContext {
  std::shared_ptr<const LaunchContext> context;
  std::string unit;       // the systemd unit of its own cgroup; empty if none
  std::string container;  // the container its context lies in; empty if none
  std::string user;       // effective user; empty when status was not readable
  bool explained = false; // the detectors ran on its chain (a candidate root)
};

/// True for a daemon whose children each start a launch context: by its
/// executable's base name (never comm), or passes_context_in_environment.
bool is_launcher(const core::Process& p);

/// Groups of kinds that make a `top` group, in the order detect_all ranks them.
bool is_group_kind(std::string_view kind);

class ContextCache {
 public:
  /// verifier: null for the real check (unit tests pass a fake).
  ContextCache(const procfs::ProcReader& reader, const core::SystemInfo& sys, Paths paths,
               const ExeVerifier* verifier = nullptr);

  /// The context of every process of `tree` (by index; never null). Reads
  /// /proc only for keys not seen in the previous call; forgets keys the
  /// tree no longer holds.
  std::vector<const ProcessContext*> resolve(const core::ProcessTree& tree);

  /// Full explains run since construction (detectors on a chain).
  size_t explained() const { return explained_; }
  /// Processes whose cgroup, status, exe were read since construction.
  size_t read() const { return read_; }
  size_t size() const { return entries_.size(); }

 private:
  struct KeyHash {
    size_t operator()(const core::ProcessKey& k) const {
      return std::hash<uint64_t>()(k.start_time_ns * 31 + static_cast<uint32_t>(k.pid));
    }
  };
  struct Entry {
    ProcessContext pc;
    std::string cgroup;  // every line of /proc/PID/cgroup, joined
    bool launcher = false;
    uint64_t generation = 0;
  };

  Entry compute(const core::ProcessTree& tree, size_t index, const Entry* parent);
  /// Runs the detectors on the chain of p; false when p exited or no
  /// group kind was found (the caller then inherits or falls back).
  bool explain(const core::Process& p, Entry& e);

  const procfs::ProcReader& reader_;
  const core::SystemInfo& sys_;
  Paths paths_;
  const ExeVerifier* verifier_;
  procfs::UserNames users_;
  std::unordered_map<core::ProcessKey, Entry, KeyHash> entries_;
  std::shared_ptr<const LaunchContext> kernel_;
  uint64_t generation_ = 0;
  size_t explained_ = 0;
  size_t read_ = 0;
};

}  // namespace lineage::explain
