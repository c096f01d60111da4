#pragma once
// The recorder's side of the history database: one writer, prepared
// statements, strings interned per kind, one transaction per batch. A batch
// that fails (disk full) is rolled back whole and can be written again
// later: nothing already committed is touched.
#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/flat_index.h"
#include "core/live_tree.h"
#include "core/process.h"
#include "core/result.h"
#include "store/schema.h"
#include "store/sqlite.h"

namespace lineage::store {

/// A process first seen (forked, backfilled from /proc, or a placeholder).
struct ForkRecord {
  core::ProcessKey key;
  core::ProcessKey parent;  // fork parent; {0, 0}: unknown
  uint64_t fork_ns = 0;
  int64_t flags = 0;
  std::string comm;
  uint32_t uid = 0, gid = 0;
};

/// An exec, with the evidence `why` needs once the process is gone.
struct ExecRecord {
  core::ProcessKey key;
  uint64_t time_ns = 0;
  std::string comm, exe, argv, interpreter;  // argv NUL-separated
  uint64_t dev = 0, ino = 0, ctime_ns = 0;
  uint32_t uid = 0, gid = 0;
  std::optional<uint32_t> ruid;
  std::optional<std::string> cwd, cgroup, env;  // cgroup: /proc/PID/cgroup lines; env: KEY=VALUE\0...
  std::optional<int32_t> sid, pgid, tty;
  std::optional<uint32_t> login_uid;
  std::optional<bool> verified;  // only for launchers
  std::string unverified_reason;
  bool exe_deleted = false;
};

struct ExitRecord {
  core::ProcessKey key;
  uint64_t time_ns = 0;
  std::optional<int32_t> status;  // the wait status; none when unknown (seen gone by a /proc poll)
  bool unseen = false;
};

struct ChangeRecord {
  core::ProcessKey key;
  ChangeKind kind = kChangeParent;
  uint64_t time_ns = 0;
  core::ProcessKey parent;  // kChangeParent
  int64_t value = 0;        // uid, gid
  std::string text;         // kChangeCgroup
};

/// An audit finding (`record` judges every exec), self-contained: it
/// outlives the processes retention prunes.
struct FindingRecord {
  core::ProcessKey key;     // the process it is about; {0, 0}: the system
  uint64_t time_ns = 0;     // boot ns, when it was found
  std::string rule;
  int severity = 0;         // audit::Severity as a number (0 info .. 4 critical)
  std::string title;
  std::vector<std::string> evidence;
  std::vector<std::pair<int32_t, std::string>> chain;  // (pid, comm), root first
  int32_t related_pid = 0;
};

using Record = std::variant<ForkRecord, ExecRecord, ExitRecord, ChangeRecord, FindingRecord>;

struct RunInfo {
  std::string boot_id;
  int64_t realtime_offset_ns = 0;  // Unix ns - boot ns
  uint64_t now_ns = 0;             // boot ns
  int32_t pid = 0;
  std::string source;
  /// Resolution of /proc start times: a process recorded from an event
  /// (exact ns) is the one /proc shows within a tick of it.
  uint64_t tick_ns = 10'000'000;
};

class Writer {
 public:
  /// Opens (or creates) the database and registers this run and boot.
  static Result<Writer> open(const std::string& path, const RunInfo& run);
  /// The same on the handle open_for_write returned (opened read-write and
  /// migrated): a handle from anywhere else breaks the writer's statements.
  static Result<Writer> open(Db db, const RunInfo& run);

  /// Writes the records in one transaction. On failure nothing of them
  /// is kept (the caller keeps them to try again).
  Result<bool> write(const std::vector<Record>& records);
  /// Processes of this boot recorded alive whose keys are not in `alive`:
  /// a previous run ended without seeing their exit. Closed at now_ns.
  Result<size_t> close_unseen(const std::vector<core::ProcessKey>& alive, uint64_t now_ns);
  /// Run counters, written with the next batch.
  void set_counters(uint64_t events, uint64_t lost, uint64_t now_ns, double rate) {
    events_ = events, lost_ = lost, updated_ns_ = now_ns, rate_ = rate;
  }
  /// Marks this run stopped (a clean exit).
  Result<bool> stop(uint64_t now_ns);

  struct Retention {
    uint64_t keep_ns = 0;    // 0: keep forever
    uint64_t max_bytes = 0;  // 0: no size limit
  };
  /// One bounded step of retention: deletes at most `budget` of the oldest
  /// exited processes that are past keep_ns (or all the oldest, while the
  /// file is above max_bytes) and have no recorded child left. Returns how
  /// many went.
  Result<size_t> prune(const Retention& r, int64_t now_unix_ns, size_t budget);
  /// Bytes the database holds (pages in use).
  int64_t size_bytes() const;
  const Db& db() const { return db_; }
  int64_t realtime_offset_ns() const { return offset_; }

 private:
  Writer() = default;
  Result<int64_t> row(const core::ProcessKey& key, bool create = true);
  // Interned strings' ids by text; looked up by a string_view, no copy.
  struct TextHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
  };
  using TextCache = std::unordered_map<std::string, int64_t, TextHash, std::equal_to<>>;
  // The id of a value interned in its own table: from `cache` (recent
  // ones), else find() (0: not stored), else a new row of `insert`, which
  // bind(insert) fills. 0 once the batch has failed.
  template <class Cache, class Key, class Find, class Bind>
  int64_t interned(Cache& cache, const Key& key, Stmt& insert, Find&& find, Bind&& bind);
  int64_t intern(Stmt& find, Stmt& insert, TextCache& cache, std::string_view s, bool hashed);
  int64_t comm_id(std::string_view s);
  int64_t path_id(std::string_view s);
  int64_t argv_id(std::string_view s);
  int64_t remembered_argv(std::string_view s, uint32_t hash);
  void remember_argv(uint32_t hash, int64_t id);
  // A row of integers interned in its own table (schema 4): an
  // executable's identity in `files` (dev, ino, ctime), an exec's context
  // in `contexts`. NULL values match NULLs.
  template <size_t N>
  using Ints = std::array<std::optional<int64_t>, N>;
  struct IntsHash {
    template <size_t N>
    size_t operator()(const Ints<N>& k) const noexcept {
      uint64_t h = 0;
      for (const auto& v : k) h = (h ^ static_cast<uint64_t>(v.value_or(-7))) * 0x9e3779b97f4a7c15ull;
      return h;
    }
  };
  template <size_t N>
  using IntsCache = std::unordered_map<Ints<N>, int64_t, IntsHash>;
  template <size_t N>
  int64_t intern_ints(Stmt& find, Stmt& insert, IntsCache<N>& cache, const Ints<N>& k);
  Result<bool> put(const ForkRecord& r);
  Result<bool> put(const ExecRecord& r);
  Result<bool> put(const ExitRecord& r);
  Result<bool> put(const ChangeRecord& r);
  Result<bool> put(const FindingRecord& r);
  Result<bool> sql(Stmt& s, std::string_view what);

  Db db_;
  int64_t boot_ = 0, run_ = 0, offset_ = 0;
  uint64_t tick_ns_ = 10'000'000;
  uint64_t run_start_ns_ = 0;  // boot ns this run began
  bool rows_whole_ = true;     // rows_ holds every row this run wrote (no failed batch yet)
  uint64_t events_ = 0, lost_ = 0, updated_ns_ = 0;
  double rate_ = 0;
  struct Stmts {
    Stmt find_process, insert_process, insert_ended, exit_process, insert_exec, mark_execed, insert_change,
        run_counters;
    Stmt insert_finding;
    Stmt find_comm, insert_comm, find_path, insert_path, argv_text, insert_argv, find_env, insert_env;
    Stmt find_file, insert_file, find_context, insert_context;
  } s_;
  std::unordered_map<core::ProcessKey, int64_t, core::KeyHash> rows_;  // processes recorded alive
  // A process forked, exec'd and ended within one batch (most are) gets
  // one INSERT that holds its exit and exec'd flag, not an INSERT and two
  // UPDATEs: what this batch holds of each process, and what was folded.
  struct Fold {
    const ExitRecord* exit = nullptr;
    bool exec = false;
    bool exit_written = false, exec_marked = false;
  };
  // Flat: a batch's folds are found, cleared and refilled every second
  // without an allocation per process.
  std::vector<Fold> folds_;
  core::FlatIndex<core::ProcessKey, core::KeyHash> fold_index_;  // key -> folds_ slot
  Fold* fold(const core::ProcessKey& key);
  Fold& fold_for(const core::ProcessKey& key);
  void clear_folds();
  TextCache comms_, paths_, argvs_, envs_;  // bounded caches
  IntsCache<3> files_;     // dev, ino, ctime
  IntsCache<8> contexts_;  // uid, gid, ruid, cwd, cgroup, tty, login uid, env
  // Command lines have no hash index in the file (schema 5): the ids of
  // those this writer wrote or met, by their 32-bit hash, in two
  // generations (argv_id).
  struct IdHash {
    size_t operator()(uint32_t h) const noexcept { return static_cast<size_t>((h * 0x9e3779b97f4a7c15ull) >> 32); }
  };
  std::array<core::FlatIndex<uint32_t, IdHash>, 2> argv_ids_;  // [0] newer; id - argv_base_
  int64_t argv_base_ = 0;
  int64_t pruned_since_gc_ = 0;
  int intern_rc_ = 0;  // a failed string insert, reported by the next statement
};

}  // namespace lineage::store
