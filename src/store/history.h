#pragma once
// Queries over the history database: a recorded process with every version
// of what it ran, the holders of a pid over time, the processes alive at a
// moment, and the fork children of a process. Times are kept as recorded
// (boot-relative ns) with the boot's offset to Unix time.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/process.h"
#include "core/result.h"
#include "store/schema.h"
#include "store/sqlite.h"

namespace lineage::store {

struct RecordedExec {
  uint64_t time_ns = 0;
  std::string comm, exe, interpreter;
  std::vector<std::string> argv;
  uint64_t dev = 0, ino = 0;
  uint32_t uid = 0, gid = 0;
  std::optional<uint32_t> ruid;
  std::optional<std::string> cwd, cgroup;
  std::vector<std::string> env;  // the context variables only
  std::optional<int32_t> sid, pgid, tty;
  std::optional<uint32_t> login_uid;
  std::optional<bool> verified;
  std::string unverified_reason;
  bool exe_deleted = false;
};

struct RecordedProcess {
  int64_t row = 0;
  int64_t boot = 0;
  int64_t realtime_offset_ns = 0;  // Unix ns = boot ns + this
  core::ProcessKey key;
  int64_t parent_row = 0;  // fork parent; 0: unknown
  int32_t ppid = 0;
  uint64_t fork_ns = 0;
  std::optional<uint64_t> exit_ns;
  std::optional<int32_t> status;  // wait status
  int64_t flags = 0;
  std::string fork_comm;
  uint32_t uid = 0, gid = 0;
  std::vector<RecordedExec> execs;                   // oldest first
  std::vector<std::pair<uint64_t, int64_t>> parents;  // re-parentings: (time, new parent row)

  bool alive_at(uint64_t boot_ns) const { return key.start_time_ns <= boot_ns && (!exit_ns || *exit_ns > boot_ns); }
  /// The exec in force at boot_ns (the latest one not after it); null when
  /// the process had not exec'd under the recorder (it runs its parent's).
  const RecordedExec* exec_at(uint64_t boot_ns) const;
  const RecordedExec* last_exec() const { return execs.empty() ? nullptr : &execs.back(); }
  /// The current parent's row at boot_ns.
  int64_t parent_at(uint64_t boot_ns) const;
  int64_t unix_ns(uint64_t boot_ns) const { return static_cast<int64_t>(boot_ns) + realtime_offset_ns; }
  std::string comm_at(uint64_t boot_ns) const;
};

/// How an exit status reads: "code 0", "signal 9 (KILL)".
std::string describe_status(int32_t status);

struct HistoryFilter {
  std::optional<int32_t> pid;
  std::string name;  // substring of the comm of an exec (never exec'd: of its fork comm)
  std::string exe;   // exact executable path
  std::optional<uint32_t> uid;
  std::optional<int64_t> since_unix_ns, until_unix_ns;  // overlapping this span
  size_t limit = 50;
};

struct Coverage {
  int64_t first_unix_ns = 0;  // where recording began (0: nothing recorded)
  int64_t last_unix_ns = 0;   // newest record
  int64_t processes = 0;
  int32_t recorder_pid = 0;   // a run not marked stopped, 0: none
  uint64_t recorder_events = 0, recorder_lost = 0;
  int64_t recorder_started_unix_ns = 0;
};

/// An audit finding as `record` stored it.
struct StoredFinding {
  int64_t unix_ns = 0;
  core::ProcessKey key;
  std::string rule;
  int severity = 0;
  std::string title;
  std::vector<std::string> evidence;
  std::vector<std::pair<int32_t, std::string>> chain;  // root first
  int32_t related_pid = 0;
};

class History {
 public:
  /// Opens read-only; kNotFound when there is no file (exit 2 for
  /// `history`, silence for `why`).
  /// kShared: a normal read-only connection even on an idle file (the
  /// second try of a reader that saw an immutable file change).
  static Result<History> open(const std::string& path, ReadMode mode = ReadMode::kAuto);
  /// Opened immutable (no recorder, empty WAL) and the main file changed
  /// since: what was read may mix two states; read again with kShared.
  bool changed_since_open() const;

  /// The boot row of a boot id (0: this boot was never recorded).
  int64_t boot_of(const std::string& boot_id) const;
  /// The recorded process of this key on boot (start within tick_ns).
  Result<std::optional<RecordedProcess>> find(int64_t boot, const core::ProcessKey& key, uint64_t tick_ns) const;
  Result<std::optional<RecordedProcess>> by_row(int64_t row) const;
  /// The process that held pid at Unix time t.
  Result<std::optional<RecordedProcess>> holder_at(int32_t pid, int64_t unix_ns) const;
  /// Recorded processes matching the filter, newest first.
  Result<std::vector<RecordedProcess>> query(const HistoryFilter& f) const;
  /// Fork children's rows, oldest first.
  Result<std::vector<int64_t>> children(int64_t row) const;
  /// Every process alive at Unix time t (at most max).
  Result<std::vector<RecordedProcess>> alive_at(int64_t unix_ns, size_t max) const;
  Result<Coverage> coverage() const;
  /// Findings stored since Unix time t, oldest first (at most max). Empty
  /// for a file older than schema 3 (nothing was stored then).
  Result<std::vector<StoredFinding>> findings_since(int64_t unix_ns, size_t max) const;
  /// The schema version of the file (older files are read with slower plans).
  int64_t version() const { return version_; }

  /// One read transaction over several queries: one snapshot, and one
  /// lock taken instead of one per statement. Nests; released at scope end.
  class Snapshot {
   public:
    explicit Snapshot(const History& h);
    ~Snapshot();
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

   private:
    const History& h_;
  };
  /// Where recording began (Unix ns; 0: nothing recorded): one small read,
  /// unlike coverage(), which counts every process.
  int64_t first_unix_ns() const;
  const Db& db() const { return db_; }

 private:
  History() = default;
  Result<std::vector<RecordedProcess>> load(Stmt& s) const;  // rows of kProcessColumns, filled
  Result<std::vector<RecordedProcess>> rows_of(Stmt& s) const;  // the same, not filled
  Result<bool> fill(std::vector<RecordedProcess>& rows) const;
  struct Readers;  // the statements that fill a process's execs and changes
  Result<Readers*> cached_readers() const;
  // Schema 2's plans (older files take the SQL of version 1).
  Result<std::vector<RecordedProcess>> query_name(const HistoryFilter& f) const;
  Result<std::vector<RecordedProcess>> alive_at_by_span(int64_t unix_ns, size_t max) const;

  Db db_;
  int64_t version_ = 0;
  std::optional<FileStamp> immutable_;
  mutable int snapshot_depth_ = 0;
  mutable std::shared_ptr<Readers> readers_;
  mutable Stmt by_row_;
  // Processes already read by row (a chain and its inherited images ask
  // for the same ancestors again).
  mutable std::shared_ptr<std::unordered_map<int64_t, RecordedProcess>> rows_cache_;
};

}  // namespace lineage::store
