#pragma once
// The recorder: events (any source) -> the live tree -> the history
// database. The tree resolves identity (pid reuse, placeholders, exec
// without fork, re-parenting on exit); the recorder turns each change into
// a record, adds the evidence `why` needs from /proc while the process is
// still there, and commits in batches (at most one commit a second, or
// every kBatchRecords records), so a kill -9 loses at most one batch.
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "audit/live.h"
#include "core/live_tree.h"
#include "core/event.h"
#include "procfs/reader.h"
#include "store/writer.h"

namespace lineage::store {

struct RecorderOptions {
  uint64_t batch_ns = 1'000'000'000;  // at most one commit per this
  size_t batch_records = 20000;       // or per this many records
  size_t max_pending = 2'000'000;     // records kept while the disk is full
  Writer::Retention retention;
  std::FILE* export_to = nullptr;     // lineage.event/v1 JSON lines
  std::string boot_id;                // stamped on each exported line, with its wall time
  /// Judges every exec (and counts forks for fork-storm); its findings are
  /// stored with the batch. Null: no audit.
  audit::LiveAuditor* auditor = nullptr;
};

struct RecorderStats {
  uint64_t events = 0, lost = 0, records = 0, commits = 0, dropped = 0, pruned = 0, findings = 0;
  bool writing = true;  // false while writes fail (disk full)
};

class Recorder {
 public:
  Recorder(Writer& writer, const procfs::ProcReader& reader, core::LiveTree& tree, RecorderOptions options);

  /// Records every process in /proc (backfilled) and closes the ones an
  /// earlier run left open that are gone. Call once, after the source is
  /// open and before the first event.
  Result<bool> start(uint64_t now_ns);
  /// Applies events to the tree and queues their records.
  void apply(const std::vector<core::Event>& batch, uint64_t now_ns);
  /// Commits what is queued when the batch is due (or `force`). A failed
  /// write keeps the records (bounded) and is retried at the next call.
  void flush(uint64_t now_ns, bool force = false);
  const RecorderStats& stats() const { return stats_; }
  /// When the next commit is due (boot ns).
  uint64_t next_flush_ns() const { return last_flush_ns_ + options_.batch_ns; }
  /// One line to say on stderr (a write failure, a recovery), then empty.
  std::string take_notice() { return std::move(notice_); }

 private:
  void on_fork(const core::Event& e);
  void on_exec(const core::Event& e, bool exited);
  void on_exit(const core::Event& e, const core::ProcessKey& key, const std::vector<core::ProcessKey>& children);
  void on_lost(uint64_t now_ns);
  void judge(const core::Event& e, std::optional<core::Process>* read);
  void backfill(const core::Process& p, const core::LiveProcess& live, uint64_t now_ns);
  ExecRecord evidence(const core::ProcessKey& key, uint64_t time_ns, const core::Process* known,
                      bool may_check_exe = true);
  /// Whether the exec of pid at index i of the batch is followed there by
  /// the same process's exit.
  bool exits_later(const core::Event& exec, size_t i) const;
  void queue(Record r);

  Writer& writer_;
  const procfs::ProcReader& reader_;
  core::LiveTree& tree_;
  RecorderOptions options_;
  RecorderStats stats_;
  std::vector<Record> pending_;
  std::unordered_set<core::ProcessKey, core::KeyHash> alive_;  // recorded, not yet seen to exit
  struct BatchExit {
    uint64_t start_time_ns;
    size_t index;
  };
  std::unordered_map<int32_t, BatchExit> batch_exits_;  // pid -> its last exit in the batch being applied
  std::optional<core::Process> exec_read_;  // the exec'ing process as /proc showed it (evidence and audit)
  uint64_t last_flush_ns_ = 0, last_prune_ns_ = 0, last_reconcile_ns_ = 0;
  bool reconcile_due_ = false;  // events were lost since the last /proc scan
  uint64_t rate_events_ = 0, rate_since_ns_ = 0;
  double rate_ = 0;
  std::string notice_;
};

/// The context variables `why`'s detectors read, from a KEY=VALUE list:
/// nothing else of the environment is ever stored. NUL-separated.
std::string context_environment(const std::vector<std::string>& environ);
/// The same from the environment area itself (KEY=VALUE\0..., as an exec
/// event carries it; a last entry cut without its NUL counts as it is).
std::string context_environment_area(std::string_view area);
/// Whether context_environment could keep this KEY=VALUE entry (pm2's
/// `name` is kept only beside a `pm_id`, which this alone cannot see): what
/// an event source needs to copy of an exec's environment.
bool may_be_context(std::string_view entry);
/// Whether a process running this executable (base name) is a launcher
/// whose verification the recorder keeps.
bool is_launcher(std::string_view exe_base);

}  // namespace lineage::store
