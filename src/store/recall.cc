#include "store/recall.h"

#include <cstdio>

#include <fmt/format.h>

#include "core/time_spec.h"
#include "procfs/parsers.h"
#include "store/schema.h"

namespace lineage::store {
namespace {

constexpr size_t kMaxRecordedDepth = 64;

}  // namespace

std::string read_boot_id(const std::string& proc_root) {
  std::string id;
  if (std::FILE* f = std::fopen((proc_root + "/sys/kernel/random/boot_id").c_str(), "re")) {
    char buf[64] = {};
    if (std::fgets(buf, sizeof buf, f)) id = buf;
    std::fclose(f);
  }
  while (!id.empty() && (id.back() == '\n' || id.back() == ' ')) id.pop_back();
  return id;
}

void inherit_image(const History& h, RecordedProcess& r) {
  constexpr int kMaxHops = 32;
  if (!r.execs.empty()) return;
  uint64_t forked = r.fork_ns ? r.fork_ns : r.key.start_time_ns;
  int64_t up = r.parent_row;
  for (int hop = 0; hop < kMaxHops && up != 0; ++hop) {
    auto p = h.by_row(up);
    if (!p || !*p) return;
    if (const RecordedExec* e = (*p)->exec_at(forked)) {
      RecordedExec inherited = *e;
      inherited.time_ns = r.key.start_time_ns;
      r.execs.push_back(std::move(inherited));
      return;
    }
    up = (*p)->parent_row;
  }
}

core::Process to_process(const RecordedProcess& r, uint64_t boot_ns, uint64_t as_of_ns) {
  if (as_of_ns == 0) as_of_ns = boot_ns;
  core::Process p;
  p.key = r.key;
  p.stat.pid = r.key.pid;
  p.stat.ppid = r.ppid;
  p.stat.comm = r.comm_at(boot_ns);
  const bool exited = r.exit_ns && *r.exit_ns <= as_of_ns;
  p.stat.state = exited ? 'X' : 'S';
  p.read = core::kFieldStat;
  p.status = core::StatusInfo{};
  p.status->uid.real = p.status->uid.effective = p.status->uid.saved = p.status->uid.filesystem = r.uid;
  p.status->gid.real = p.status->gid.effective = p.status->gid.saved = p.status->gid.filesystem = r.gid;
  p.read |= core::kFieldStatus;
  if (const RecordedExec* e = r.exec_at(boot_ns)) {
    p.status->uid.effective = p.status->uid.saved = p.status->uid.filesystem = e->uid;
    p.status->uid.real = e->ruid.value_or(e->uid);
    p.status->gid.real = p.status->gid.effective = e->gid;
    if (!e->exe.empty()) {
      p.exe = core::ExeInfo{e->exe, e->exe_deleted};
      p.read |= core::kFieldExe;
    }
    p.argv = e->argv;
    p.read |= core::kFieldCmdline;
    if (e->cwd) p.cwd = *e->cwd, p.read |= core::kFieldCwd;
    if (e->cgroup) p.cgroups = procfs::parse_cgroup(*e->cgroup), p.read |= core::kFieldCgroup;
    p.environ = e->env;
    p.read |= core::kFieldEnviron;
    p.stat.sid = e->sid.value_or(0);
    p.stat.pgid = e->pgid.value_or(0);
    p.stat.tty_nr = e->tty.value_or(0);
    if (e->login_uid) p.login_uid = e->login_uid, p.read |= core::kFieldLoginUid;
  }
  core::RecordedState s;
  s.exited = exited;
  s.exit_time_ns = exited ? *r.exit_ns : 0;
  s.status = r.status;
  s.exit_unseen = (r.flags & kFlagExitUnseen) != 0;
  s.realtime_offset_ns = r.realtime_offset_ns;
  if (const RecordedExec* e = r.exec_at(boot_ns)) {
    s.verified = e->verified;
    s.unverified_reason = e->unverified_reason;
  }
  p.recorded = std::move(s);
  return p;
}

std::unique_ptr<HistoryRecall> HistoryRecall::open(const std::string& path, const procfs::ProcReader& reader,
                                                   std::string* error) {
  auto h = History::open(path);
  if (!h) {
    if (error && h.error().kind != ErrorKind::kNotFound) *error = h.error().message;
    return nullptr;
  }
  int64_t boot = h->boot_of(read_boot_id(reader.root()));
  return std::unique_ptr<HistoryRecall>(new HistoryRecall(std::move(*h), reader, boot));
}

bool HistoryRecall::alive_now(const RecordedProcess& r) const {
  if (r.boot != boot_) return false;
  if (r.exit_ns && !(r.flags & kFlagExitUnseen)) return false;
  auto now = reader_.read(r.key.pid, core::kFieldStat);
  return now && core::same_start(now->key.start_time_ns, r.key.start_time_ns, reader_.tick_ns());
}

explain::Origin HistoryRecall::origin(const core::Process& p) const {
  explain::Origin o = walk(p);
  if (history_.changed_since_open()) {
    // Read from an immutable file that a writer changed meanwhile (a
    // recorder started and checkpointed): read again, through the WAL.
    auto again = History::open(history_.db().path(), ReadMode::kShared);
    if (!again) {
      o = explain::Origin{};
      o.note = again.error().message;
      return o;
    }
    history_ = std::move(*again);
    boot_ = history_.boot_of(read_boot_id(reader_.root()));
    o = walk(p);
  }
  return o;
}

explain::Origin HistoryRecall::walk(const core::Process& p) const {
  History::Snapshot snapshot(history_);  // one read lock for the whole walk
  explain::Origin o;
  int64_t first = history_.first_unix_ns();
  std::string since = first ? core::format_time(first, false) : "";
  if (boot_ == 0) {
    o.note = "history has no record of this boot";
    return o;
  }
  auto rec = history_.find(boot_, p.key, reader_.tick_ns());
  if (!rec || !*rec) {
    o.note = fmt::format("pid {} is not in the recorded history{}", p.pid(),
                         since.empty() ? "" : fmt::format(" (recording began {})", since));
    return o;
  }
  RecordedProcess cur = std::move(**rec);
  if (cur.flags & kFlagBackfilled) {
    o.note = fmt::format("pid {} started before recording began{}: its original parent is not recorded",
                         p.pid(), since.empty() ? "" : " (" + since + ")");
    return o;
  }
  o.covered = true;
  std::vector<core::Process> gone;  // nearest first
  while (gone.size() < kMaxRecordedDepth && cur.parent_row != 0) {
    uint64_t forked_at = cur.fork_ns ? cur.fork_ns : cur.key.start_time_ns;
    auto parent = history_.by_row(cur.parent_row);
    if (!parent || !*parent) break;
    RecordedProcess up = std::move(**parent);
    inherit_image(history_, up);
    if (alive_now(up)) {
      o.live_ancestor = up.key;
      break;
    }
    gone.push_back(to_process(up, forked_at, UINT64_MAX));
    if (!gone.back().recorded->exited) {
      // Not running now, yet no exit recorded: the recorder was not there.
      gone.back().recorded->exited = gone.back().recorded->exit_unseen = true;
    }
    if (up.flags & kFlagBackfilled) {
      // Known from /proc when recording began: its own parent is what
      // /proc said then, which may still be alive.
      auto grand = up.parent_row ? history_.by_row(up.parent_row) : Result<std::optional<RecordedProcess>>(std::nullopt);
      if (grand && *grand && alive_now(**grand)) o.live_ancestor = (*grand)->key;
      else if (grand && *grand) gone.push_back(to_process(**grand, up.key.start_time_ns, UINT64_MAX));
      break;
    }
    cur = std::move(up);
  }
  o.ancestors.assign(gone.rbegin(), gone.rend());
  return o;
}

explain::Origin LazyRecall::origin(const core::Process& p) const {
  if (!opened_) {
    opened_ = true;
    recall_ = HistoryRecall::open(path_, reader_, &error_);
  }
  if (recall_) return recall_->origin(p);
  explain::Origin o;
  if (!error_.empty()) o.note = error_;
  return o;
}

}  // namespace lineage::store
