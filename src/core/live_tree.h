#pragma once
// The live, versioned process tree, driven by kernel events (src/events).
// Identity is (pid, start time); the fork parent never changes; the current
// parent, comm, executable image (path, identity, interpreter, argv), ids
// and cgroup are versioned; an exited process stays while any descendant
// lives, so an orphan's original chain survives.
//
// Storage is built for the event rate: processes live in a slab (a vector
// of slots with a free list) found through flat hash indexes; children,
// adopted children, threads and the eviction queue are intrusive lists of
// slot numbers; strings (exe, interpreter, argv) are interned and
// reference-counted. A fork or an exit allocates nothing once the slab has
// grown to its working size; an exec allocates only for a string the tree
// has not seen.
//
// Pointers returned by find() and find_pid() stay valid until the next
// apply(), bootstrap() or reconcile().
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/flat_index.h"
#include "core/process.h"
#include "core/string_pool.h"
#include "core/versioned.h"
#include "core/event.h"

namespace lineage::core {

struct KeyHash {
  size_t operator()(const ProcessKey& k) const {
    uint64_t x = k.start_time_ns ^ (static_cast<uint64_t>(static_cast<uint32_t>(k.pid)) << 32 | uint32_t(k.pid));
    x ^= x >> 33;  // murmur3's finaliser: every input bit reaches the low bits
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return static_cast<size_t>(x);
  }
};
struct PidHash {
  size_t operator()(int32_t pid) const {
    return static_cast<size_t>((static_cast<uint64_t>(static_cast<uint32_t>(pid)) * 0x9E3779B97F4A7C15ull) >> 20);
  }
};

/// A task's name as the kernel keeps it: at most 15 bytes, NUL-padded.
struct Comm {
  std::array<char, 16> bytes{};
  static Comm of(std::string_view s);
  std::string_view view() const;
  bool operator==(const Comm&) const = default;
};

/// What a process runs: set at exec, shared with the parent after a fork.
struct Image {
  StringPool::Id exe = StringPool::kEmpty;          // the path exec'd
  StringPool::Id interpreter = StringPool::kEmpty;  // #! interpreter or ELF loader
  StringPool::Id argv = StringPool::kEmpty;         // NUL-separated
  uint64_t dev = 0, ino = 0, ctime_ns = 0;          // identity of the file run; 0: unknown
  bool operator==(const Image&) const = default;
};

struct Creds {
  uint32_t uid = 0, gid = 0;  // effective, as ps shows them
  bool operator==(const Creds&) const = default;
};

struct LiveProcess {
  static constexpr uint32_t kNone = UINT32_MAX;

  ProcessKey key;
  ProcessKey fork_parent;        // {0, 0}: unknown
  Versioned<ProcessKey> parent;  // the current parent over time
  Versioned<Comm> comm;
  Versioned<Image> image;        // only from exec: a fork shares its parent's
  Versioned<Creds> creds;
  Versioned<uint64_t> cgroup_id;  // cgroup v2 id; 0 when the source has none
  uint64_t fork_time_ns = 0;
  uint64_t exit_time_ns = 0;      // 0: alive
  int32_t exit_code = 0;
  bool placeholder = false;  // known only indirectly (a parent we never saw fork)
  bool backfilled = false;   // filled from /proc, not from an event
  bool exit_unseen = false;  // gone from /proc without an exit event (time approximate)
  bool parent_assumed = false;  // the current parent is init by assumption (reaper unknown)

  bool alive() const { return exit_time_ns == 0; }

  // Intrusive links (slot numbers), owned by LiveTree.
  uint32_t fork_parent_slot = kNone;
  uint32_t first_child = kNone, next_sibling = kNone, prev_sibling = kNone;  // by fork parent
  uint32_t adopter = kNone;  // current parent's slot when it is not the fork parent
  uint32_t first_adopted = kNone, next_adopted = kNone, prev_adopted = kNone;
  uint32_t first_thread = LiveProcess::kNone;
  uint32_t lru_prev = kNone, lru_next = kNone;  // the eviction queue
  bool queued = false;                          // in the eviction queue
};

struct LiveThread {
  int32_t tid = 0;
  uint64_t start_time_ns = 0;
  ProcessKey process;
  Comm comm;
  uint64_t exit_time_ns = 0;  // 0: alive
  uint32_t process_slot = LiveProcess::kNone;
  uint32_t next = LiveProcess::kNone, prev = LiveProcess::kNone;          // the process's threads
  uint32_t lru_prev = LiveProcess::kNone, lru_next = LiveProcess::kNone;  // dead threads, oldest first
  bool queued = false;
  bool alive() const { return exit_time_ns == 0; }
};

struct TreeCounters {
  uint64_t forks = 0, execs = 0, exits = 0, lost = 0;
  uint64_t placeholders = 0, backfilled = 0, evicted = 0;
  uint64_t exec_without_fork = 0, exit_without_fork = 0, pid_reuse = 0;
  uint64_t reparented = 0;  // re-parentings recorded (exit of a parent, or observed later)
  uint64_t thread_forks = 0, thread_exits = 0, threads_evicted = 0, threads_dropped = 0;
  uint64_t vanished = 0;    // alive in the tree, gone from /proc at a reconcile
  uint64_t false_exits = 0; // an exit undone by a later exec of the same process
};

/// What a process looked like at one moment.
struct ProcessAt {
  ProcessKey key;
  ProcessKey parent;
  std::string comm, exe, interpreter;
  std::vector<std::string> argv;
  uint64_t exe_dev = 0, exe_ino = 0, exe_ctime_ns = 0;
  uint32_t uid = 0, gid = 0;
  bool alive = false;
};

/// A queue threaded through slab entries (their lru_prev, lru_next and
/// queued members): the eviction order of dead processes and dead threads.
struct SlabQueue {
  static constexpr uint32_t kNone = UINT32_MAX;
  uint32_t head = kNone, tail = kNone;

  template <class T>
  void push(std::vector<T>& slab, uint32_t i, bool front = false) {
    T& e = slab[i];
    if (e.queued) return;
    e.queued = true;
    if (front) {
      e.lru_prev = kNone;
      e.lru_next = head;
      if (head != kNone) slab[head].lru_prev = i;
      head = i;
      if (tail == kNone) tail = i;
    } else {
      e.lru_next = kNone;
      e.lru_prev = tail;
      if (tail != kNone) slab[tail].lru_next = i;
      tail = i;
      if (head == kNone) head = i;
    }
  }
  template <class T>
  void remove(std::vector<T>& slab, uint32_t i) {
    T& e = slab[i];
    if (!e.queued) return;
    e.queued = false;
    if (e.lru_prev != kNone) slab[e.lru_prev].lru_next = e.lru_next;
    else head = e.lru_next;
    if (e.lru_next != kNone) slab[e.lru_next].lru_prev = e.lru_prev;
    else tail = e.lru_prev;
    e.lru_prev = e.lru_next = kNone;
  }
};

class LiveTree {
 public:
  static constexpr size_t kDefaultMaxProcesses = 65536;
  static constexpr size_t kDefaultMaxThreads = 65536;

  explicit LiveTree(size_t max_processes = kDefaultMaxProcesses, uint64_t tick_ns = 10'000'000,
                    size_t max_threads = kDefaultMaxThreads);

  /// Seeds the tree from a /proc snapshot (processes marked backfilled).
  void bootstrap(const std::vector<Process>& snapshot, uint64_t now_ns);
  /// After lost events: brings the tree in line with a fresh /proc snapshot.
  /// Processes the tree missed are added (backfilled); live ones gone from
  /// /proc are marked exited at now_ns (exit_unseen); changed parents are
  /// recorded as re-parenting. Returns how many processes changed.
  size_t reconcile(const std::vector<Process>& snapshot, uint64_t now_ns);
  void apply(const Event& e);

  const LiveProcess* find(const ProcessKey& key) const;
  /// The live process holding pid now.
  const LiveProcess* find_pid(int32_t pid) const;
  /// The process as it was at time_ns; nullopt if it did not exist then.
  std::optional<ProcessAt> at(const ProcessKey& key, uint64_t time_ns) const;
  /// The same into `out`, whose buffers are reused (every member is set);
  /// false, out unspecified, when it did not exist then.
  bool at(const ProcessKey& key, uint64_t time_ns, ProcessAt& out) const;
  /// The name as of time_ns (the parent's when forked and not yet named).
  std::string_view comm_at(const LiveProcess& p, uint64_t time_ns) const;
  /// The image as of time_ns: a fork that has not exec'd runs its parent's.
  const Image* image_at(const LiveProcess& p, uint64_t time_ns) const;
  std::string_view text(StringPool::Id id) const { return strings_.view(id); }
  /// Ancestors nearest first, as of time_ns, through fork parents (the
  /// original chain) or current parents (after re-parenting).
  std::vector<ProcessKey> lineage(const ProcessKey& key, uint64_t time_ns, size_t max_depth = 64,
                                  bool fork_parents = true) const;
  /// The same into `chain` (cleared first; its room reused).
  void lineage(const ProcessKey& key, uint64_t time_ns, size_t max_depth, bool fork_parents,
               std::vector<ProcessKey>& chain) const;
  /// Processes forked by key (alive or not, still in the tree), oldest first.
  std::vector<ProcessKey> children(const ProcessKey& key) const;
  /// Everything forked below key (children, theirs, ...) that existed at
  /// time_ns, breadth first, at most max; the original tree (fork parents).
  std::vector<ProcessKey> descendants(const ProcessKey& key, uint64_t time_ns, size_t max = SIZE_MAX) const;
  /// Threads of key still in the tree (alive or not), newest first.
  std::vector<const LiveThread*> threads(const ProcessKey& key) const;

  size_t size() const { return processes_.size(); }
  size_t thread_count() const { return threads_.size(); }
  size_t string_count() const { return strings_.size(); }
  const TreeCounters& counters() const { return counters_; }

 private:
  static constexpr uint32_t kNone = LiveProcess::kNone;

  uint32_t slot_of(const ProcessKey& key) const { return processes_.find(key); }
  uint32_t live_slot(int32_t pid) const { return current_.find(pid); }
  uint32_t add(ProcessKey key, uint32_t parent_slot, uint64_t time_ns);
  uint32_t placeholder(int32_t pid, uint64_t start_ns, uint64_t time_ns);
  void mark_exited(uint32_t slot, uint64_t time_ns, int32_t code, uint32_t reaper);
  void reparent(uint32_t child, uint32_t new_parent, uint64_t time_ns, bool assumed = false);
  void set_image(LiveProcess& p, uint64_t time_ns, const Event& e);
  void set_image(LiveProcess& p, uint64_t time_ns, Image image);
  void release(const Image& image);
  Image image_of(const Process& p);  // exe and argv from /proc, interned
  StringPool::Id intern_argv(const std::vector<std::string>& argv);  // NUL-separated
  template <class T>
  const T* inherited(const LiveProcess& p, const Versioned<T> LiveProcess::*field, uint64_t time_ns) const;
  void evict_if_needed();
  void evict(uint32_t slot);
  void apply_fork(const Event& e);  // of a process; a thread's is thread_fork
  void apply_exec(const Event& e);
  void apply_exit(const Event& e);  // of a process or (e.thread) one thread
  void thread_fork(const Event& e);
  void thread_exit(uint32_t thread_slot, uint64_t time_ns);  // a dead one: nothing
  void end_threads(const LiveProcess& p, uint64_t time_ns);  // every live thread of p
  void remove_thread(uint32_t thread_slot);
  void evict_threads_if_needed();

  size_t max_processes_;
  uint64_t tick_ns_;
  size_t max_threads_;
  std::vector<LiveProcess> slab_;
  std::vector<uint32_t> free_;
  FlatIndex<ProcessKey, KeyHash> processes_;  // every process in the tree
  FlatIndex<int32_t, PidHash> current_;       // pid -> the live process holding it
  SlabQueue dead_leaves_;  // evictable: dead, no child in the tree; oldest exit first

  std::vector<LiveThread> thread_slab_;
  std::vector<uint32_t> thread_free_;
  FlatIndex<int32_t, PidHash> live_threads_;  // tid -> live thread (not leaders)
  FlatIndex<ProcessKey, KeyHash> threads_;    // (tid, start) -> thread slot
  SlabQueue dead_threads_;  // oldest exit first

  StringPool strings_;
  std::string argv_buffer_;  // reused to join argv at exec
  TreeCounters counters_;
};

}  // namespace lineage::core
