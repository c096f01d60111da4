#pragma once
// The live, versioned process tree, driven by kernel events (src/events).
// Identity is (pid, start time); the fork parent never changes; the current
// parent, comm, exe, argv and uid are versioned; an exited process stays
// while any descendant lives, so an orphan's original chain survives.
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/process.h"
#include "core/versioned.h"
#include "events/event.h"

namespace lineage::core {

struct KeyHash {
  size_t operator()(const ProcessKey& k) const {
    return std::hash<uint64_t>()(k.start_time_ns * 0x9E3779B97F4A7C15ull ^ static_cast<uint32_t>(k.pid));
  }
};

struct LiveProcess {
  ProcessKey key;
  ProcessKey fork_parent;               // {0, 0}: unknown
  Versioned<ProcessKey> parent;         // the current parent over time
  Versioned<std::string> comm;
  Versioned<std::string> exe;                // only from exec: a fork shares its parent's
  Versioned<std::vector<std::string>> argv;  // likewise
  Versioned<uint32_t> uid, gid;
  Versioned<uint64_t> cgroup_id;             // cgroup v2 id; 0 when the source has none
  uint64_t fork_time_ns = 0;
  uint64_t exit_time_ns = 0;            // 0: alive
  int32_t exit_code = 0;
  bool placeholder = false;  // known only indirectly (a parent we never saw fork)
  bool backfilled = false;   // filled from /proc, not from an event
  uint32_t live_descendants = 0;
  bool alive() const { return exit_time_ns == 0; }
};

struct TreeCounters {
  uint64_t forks = 0, execs = 0, exits = 0, lost = 0;
  uint64_t placeholders = 0, backfilled = 0, evicted = 0;
  uint64_t exec_without_fork = 0, exit_without_fork = 0, pid_reuse = 0;
};

/// What a process looked like at one moment.
struct ProcessAt {
  ProcessKey key;
  ProcessKey parent;
  std::string comm, exe;
  std::vector<std::string> argv;
  bool alive = false;
};

class LiveTree {
 public:
  explicit LiveTree(size_t max_processes = 65536, uint64_t tick_ns = 10'000'000);

  /// Seeds the tree from a /proc snapshot (processes marked backfilled).
  void bootstrap(const std::vector<Process>& snapshot, uint64_t now_ns);
  void apply(const events::Event& e);

  const LiveProcess* find(const ProcessKey& key) const;
  /// The live process holding pid now.
  const LiveProcess* find_pid(int32_t pid) const;
  /// The process as it was at time_ns; nullopt if it did not exist then.
  std::optional<ProcessAt> at(const ProcessKey& key, uint64_t time_ns) const;
  /// Ancestors nearest first, as of time_ns, through fork parents (the
  /// original chain) or current parents (after re-parenting).
  std::vector<ProcessKey> lineage(const ProcessKey& key, uint64_t time_ns, size_t max_depth = 64,
                                  bool fork_parents = true) const;
  /// Processes forked by key (alive or not, still in the tree).
  std::vector<ProcessKey> children(const ProcessKey& key) const;

  size_t size() const { return processes_.size(); }
  const TreeCounters& counters() const { return counters_; }

 private:
  LiveProcess& add(ProcessKey key, ProcessKey fork_parent, uint64_t time_ns);
  LiveProcess& placeholder(int32_t pid, uint64_t start_ns, uint64_t time_ns);
  void mark_exited(LiveProcess& p, uint64_t time_ns, int32_t code);
  void adjust_descendants(const LiveProcess& from, int delta);
  void evict_if_needed();
  void compact_children();
  LiveProcess* lookup(const ProcessKey& key);
  /// A field as of time_ns; a fork that has not exec'd yet shows its
  /// parent's image (not copied at fork: forks stay cheap).
  template <class T>
  const T* image_at(const LiveProcess& p, Versioned<T> LiveProcess::*field, uint64_t time_ns) const;

  size_t max_processes_;
  uint64_t tick_ns_;
  std::unordered_map<ProcessKey, LiveProcess, KeyHash> processes_;
  std::unordered_map<int32_t, ProcessKey> current_;  // pid -> live process
  std::unordered_map<ProcessKey, std::vector<ProcessKey>, KeyHash> children_;
  std::deque<ProcessKey> exited_;  // eviction candidates, oldest exit first
  TreeCounters counters_;
  size_t evictions_since_compaction_ = 0;
};

}  // namespace lineage::core
