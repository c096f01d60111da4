#pragma once
// History as `why` asks it: the recorded origin of a re-parented process,
// and a recorded process as the core model (for detectors and writers).
#include <memory>
#include <string>

#include "explain/recall.h"
#include "procfs/reader.h"
#include "store/history.h"

namespace lineage::store {

/// A recorded process as it was at boot_ns, with `recorded` set: the
/// evidence kept at its exec (exe, argv, cwd, cgroup, ids, tty, session,
/// the context environment) in the fields /proc would have filled.
/// `as_of_ns` decides whether it has exited (default: the image's time).
core::Process to_process(const RecordedProcess& r, uint64_t boot_ns, uint64_t as_of_ns = 0);

/// A process that forked but never exec'd (sshd's session children, a
/// subshell) runs its parent's image: give it the nearest recorded
/// ancestor's exec in force at its fork, so detectors see what it ran.
void inherit_image(const History& h, RecordedProcess& r);

class HistoryRecall : public explain::Recall {
 public:
  /// nullopt when there is no database (or it cannot be read: `error`).
  static std::unique_ptr<HistoryRecall> open(const std::string& path, const procfs::ProcReader& reader,
                                             std::string* error = nullptr);
  explain::Origin origin(const core::Process& p) const override;
  const History& history() const { return history_; }
  int64_t boot() const { return boot_; }

 private:
  HistoryRecall(History h, const procfs::ProcReader& reader, int64_t boot)
      : history_(std::move(h)), reader_(reader), boot_(boot) {}
  bool alive_now(const RecordedProcess& r) const;
  explain::Origin walk(const core::Process& p) const;

  mutable History history_;  // reopened when an immutable read saw a change
  const procfs::ProcReader& reader_;
  mutable int64_t boot_ = 0;
};

/// A HistoryRecall opened on the first question: `why` of a process whose
/// chain is alive never touches the database. No file: no answer (why
/// works from /proc alone); an unreadable one: the answer says so.
class LazyRecall : public explain::Recall {
 public:
  LazyRecall(std::string path, const procfs::ProcReader& reader) : path_(std::move(path)), reader_(reader) {}
  explain::Origin origin(const core::Process& p) const override;

 private:
  std::string path_;
  const procfs::ProcReader& reader_;
  mutable std::unique_ptr<HistoryRecall> recall_;
  mutable std::string error_;
  mutable bool opened_ = false;
};

/// The boot id of the running kernel (/proc/sys/kernel/random/boot_id).
std::string read_boot_id(const std::string& proc_root);

}  // namespace lineage::store
