#include "store/recorder.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "core/entries.h"
#include "events/event_json.h"
#include "explain/context.h"
#include "explain/verify.h"
#include "procfs/complete.h"

namespace lineage::store {
namespace {

constexpr core::FieldMask kEvidenceFields = core::kFieldStat | core::kFieldStatus | core::kFieldExe |
                                            core::kFieldCwd | core::kFieldCgroup | core::kFieldEnviron |
                                            core::kFieldLoginUid;
constexpr core::FieldMask kBackfillFields = kEvidenceFields | core::kFieldCmdline;
// What /proc still shows of a process that has exited (its exit event is
// already in hand): do_exit() has run, or is running, exit_mm() (no
// environ, cmdline or exe link) and exit_fs() (no cwd); a zombie keeps its
// stat, status, cgroup and login uid until it is reaped.
constexpr core::FieldMask kExitedFields = core::kFieldStat | core::kFieldStatus | core::kFieldCgroup |
                                          core::kFieldLoginUid;

std::string join_nul(const std::vector<std::string>& v) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += '\0';
    out += v[i];
  }
  return out;
}

std::string cgroup_text(const std::vector<core::CgroupEntry>& entries) {
  std::string out;
  for (const auto& c : entries) out += fmt::format("{}:{}:{}\n", c.hierarchy, c.controllers, c.path);
  return out;
}

}  // namespace

namespace {

constexpr std::array<std::string_view, 13> kContextKeys = {
    "SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY",   "TMUX",       "TMUX_PANE", "STY",     "WINDOW",
    "INVOCATION_ID",  "container",  "pm_id",     "PM2_HOME",   "LD_PRELOAD", "JOURNAL_STREAM"};

bool context_key(std::string_view key) {
  return std::find(kContextKeys.begin(), kContextKeys.end(), key) != kContextKeys.end() ||
         key.starts_with("SUPERVISOR_");
}

// Calls f(entry) for each KEY=VALUE of the environment, in order.
template <typename Each, typename F>
void keep_context(const Each& each, F&& keep) {
  bool pm2 = false;
  each([&](std::string_view kv) {
    std::string_view key = kv.substr(0, kv.find('='));
    if (key == "pm_id") pm2 = true;
    if (context_key(key)) keep(kv.substr(0, 4096));
  });
  if (pm2) {  // pm2 names its program in `name`
    each([&](std::string_view kv) {
      if (kv.starts_with("name=")) keep(kv.substr(0, 4096));
    });
  }
}

std::string join_kept(auto each) {
  std::string out;
  bool first = true;
  keep_context(each, [&](std::string_view kv) {
    if (!first) out += '\0';
    first = false;
    out += kv;
  });
  return out;
}

}  // namespace

std::string context_environment(const std::vector<std::string>& environ) {
  return join_kept([&](auto&& f) {
    for (const auto& kv : environ) f(std::string_view(kv));
  });
}

std::string context_environment_area(std::string_view area) {
  return join_kept([&](auto&& f) { core::for_each_entry(area, f); });
}

bool may_be_context(std::string_view entry) {
  // Most entries fail on their first byte (a source asks for each one).
  static constexpr auto kFirst = [] {
    std::array<bool, 256> first{};
    for (std::string_view k : kContextKeys) first[static_cast<unsigned char>(k[0])] = true;
    first['S'] = first['n'] = true;  // SUPERVISOR_*, pm2's name
    return first;
  }();
  if (entry.empty() || !kFirst[static_cast<unsigned char>(entry[0])]) return false;
  return context_key(entry.substr(0, entry.find('='))) || entry.starts_with("name=");
}

bool is_launcher(std::string_view exe) {
  static constexpr std::array<std::string_view, 22> kLaunchers = {
      "sshd",     "sshd-session", "cron",    "crond",      "anacron",   "atd",      "busybox", "tmux",
      "screen",   "supervisord",  "runsv",   "runsvdir",   "s6-supervise", "supervise", "pm2",  "gunicorn",
      "uwsgi",    "systemd",      "containerd-shim", "containerd-shim-runc-v2", "conmon", "dockerd"};
  return std::find(kLaunchers.begin(), kLaunchers.end(), exe) != kLaunchers.end();
}

Recorder::Recorder(Writer& writer, const procfs::ProcReader& reader, core::LiveTree& tree, RecorderOptions options)
    : writer_(writer), reader_(reader), tree_(tree), options_(options) {}

void Recorder::queue(Record r) {
  ++stats_.records;
  pending_.push_back(std::move(r));
}

ExecRecord Recorder::evidence(const core::ProcessKey& key, uint64_t time_ns, const core::Process* known,
                              bool may_check_exe) {
  ExecRecord r;
  r.key = key;
  r.time_ns = time_ns;
  std::optional<core::Process> read;
  if (known == nullptr) {
    read = reader_.read(key.pid, kEvidenceFields);
    // The pid may already name a later process: its evidence is not ours.
    if (read && core::same_start(read->key.start_time_ns, key.start_time_ns, reader_.tick_ns())) known = &*read;
  }
  if (known == nullptr) return r;
  const core::Process& p = *known;
  r.comm = p.stat.comm;
  if (p.exe) {
    r.exe = p.exe->path;
    r.exe_deleted = p.exe->deleted;
  }
  if (p.argv) r.argv = join_nul(*p.argv);
  if (p.status) {
    r.uid = p.status->uid.effective;
    r.gid = p.status->gid.effective;
    r.ruid = p.status->uid.real;
  }
  r.cwd = p.cwd;
  if (p.cgroups) r.cgroup = cgroup_text(*p.cgroups);
  if (p.environ) r.env = context_environment(*p.environ);
  r.sid = p.stat.sid;
  r.pgid = p.stat.pgid;
  r.tty = p.stat.tty_nr;
  r.login_uid = p.login_uid;
  if (p.exe && is_launcher(explain::base_name(p.exe->path))) {
    explain::Verification v{false, "gone before its executable could be checked"};
    if (may_check_exe) v = explain::default_verifier(reader_.root()).check_exe(p);
    r.verified = v.verified;
    if (!v.verified) r.unverified_reason = v.text;
  }
  return r;
}

void Recorder::backfill(const core::Process& p, const core::LiveProcess& live, uint64_t now_ns) {
  (void)now_ns;
  ForkRecord f;
  f.key = live.key;
  f.parent = live.fork_parent;
  f.fork_ns = live.key.start_time_ns;
  f.flags = kFlagBackfilled;
  f.comm = p.stat.comm;
  if (p.status) f.uid = p.status->uid.effective, f.gid = p.status->gid.effective;
  queue(std::move(f));
  if (!p.is_kernel_thread()) queue(evidence(live.key, live.key.start_time_ns, &p));
  alive_.insert(live.key);
}

Result<bool> Recorder::start(uint64_t now_ns) {
  auto snapshot = reader_.scan(kBackfillFields);
  tree_.bootstrap(snapshot, now_ns);
  std::vector<core::ProcessKey> keys;
  for (const auto& p : snapshot) {
    const core::LiveProcess* live = tree_.find_pid(p.pid());
    if (live == nullptr) continue;
    keys.push_back(live->key);
    backfill(p, *live, now_ns);
  }
  auto closed = writer_.close_unseen(keys, now_ns);
  if (!closed) return closed.error();
  last_flush_ns_ = 0;
  flush(now_ns, true);
  if (!stats_.writing) return Error{ErrorKind::kInternal, take_notice()};
  rate_since_ns_ = now_ns;
  return true;
}

void Recorder::on_fork(const core::Event& e) {
  const core::LiveProcess* p = tree_.find_pid(e.pid);
  if (p == nullptr || alive_.count(p->key)) return;
  ForkRecord f;
  f.key = p->key;
  f.parent = p->fork_parent;
  f.fork_ns = p->fork_time_ns ? p->fork_time_ns : e.time_ns;
  f.comm = std::string(tree_.comm_at(*p, e.time_ns));
  if (const auto* c = p->creds.latest()) f.uid = c->uid, f.gid = c->gid;
  if (p->backfilled) f.flags |= kFlagBackfilled;
  if (p->placeholder) f.flags |= kFlagPlaceholder;
  alive_.insert(p->key);
  queue(std::move(f));
}

bool Recorder::exits_later(const core::Event& exec, size_t i) const {
  auto it = batch_exits_.find(exec.pid);
  if (it == batch_exits_.end() || it->second.index <= i) return false;
  // The last exit of the pid in the batch is this process's only when
  // their start times agree (the pid may have been reused in between).
  return exec.start_time_ns != 0 && it->second.start_time_ns == exec.start_time_ns;
}

void Recorder::on_exec(const core::Event& e, bool exited) {
  exec_read_.reset();
  const core::LiveProcess* p = tree_.find_pid(e.pid);
  if (p == nullptr) return;
  if (!alive_.count(p->key)) on_fork(e);  // an exec whose fork came before us or was lost
  // One read of /proc serves the evidence and the audit rules.
  core::FieldMask fields = kEvidenceFields;
  if (options_.auditor != nullptr) fields |= options_.auditor->fields();
  if (e.has_login_uid) fields &= ~core::kFieldLoginUid;  // and sessionid, which is not kept
  // The environment execve gave, from the event: exact (the process may
  // rewrite its environ area later) and no walk of its memory. Only one cut
  // at the record's bound is read again from /proc, while it is there.
  std::optional<std::string> env;
  if (e.has_environ && (e.environ_complete || exited)) {
    env = context_environment_area(e.environ);
    fields &= ~core::kFieldEnviron;
  }
  bool may_check_exe = true;
  if (e.at_exec) {
    if (!e.argv.empty() && !e.argv_complete) fields |= core::kFieldCmdline;  // cut: the rest is in /proc
    // The kernel's own word at the exec (eBPF): /proc is read only for
    // what the event lacks, and for a launcher's executable, which is
    // checked against the file this very process runs.
    const core::ProcessKey* parent = p->parent.latest();
    core::Process seen = core::process_at_exec(e, p->key, parent ? parent->pid : e.ppid, reader_.tick_ns());
    core::FieldMask missing = fields & ~seen.read;
    if (seen.exe && is_launcher(explain::base_name(seen.exe->path))) missing |= core::kFieldExe;
    if (exited) missing &= kExitedFields;  // the rest is gone with its memory
    // A launcher is checked through /proc's links of this very process:
    // only while /proc shows it (its start time verified), never by pid
    // alone, and not once it has exited.
    const bool same = missing != 0 && procfs::complete_from_proc(reader_, seen, missing);
    may_check_exe = same && !exited;
    exec_read_ = std::move(seen);
  } else {
    if (exited) {
      fields = kExitedFields;
      if (e.has_login_uid) fields &= ~core::kFieldLoginUid;
    }
    // The kernel's argv, from the event: not read again from the process's
    // memory (a walk of its pages) for the audit rules.
    const bool argv_from_event = !e.argv.empty() && e.argv_complete;
    if (argv_from_event) fields &= ~core::kFieldCmdline;
    else if (!e.argv.empty()) fields |= core::kFieldCmdline;  // cut: the rest is in /proc
    exec_read_ = reader_.read(p->key.pid, fields);
    // The pid may already name a later process: its evidence is not ours.
    if (exec_read_ && !core::same_start(exec_read_->key.start_time_ns, p->key.start_time_ns, reader_.tick_ns())) {
      exec_read_.reset();
    }
    if (exec_read_ && argv_from_event) {
      exec_read_->argv = e.argv;
      exec_read_->argv_truncated = false;
      exec_read_->read |= core::kFieldCmdline;
      exec_read_->unavailable &= ~core::kFieldCmdline;
    }
  }
  ExecRecord r;
  if (exec_read_) {
    r = evidence(p->key, e.time_ns, &*exec_read_, may_check_exe);
  } else {
    r.key = p->key;
    r.time_ns = e.time_ns;
  }
  // Session ids, tty and real uid as they were at the exec, for a process
  // /proc no longer showed (short-lived ones are gone by now); /proc's
  // word, read the moment after, stands where there was one. The login uid
  // is set once, at login, before the session's programs run: the event's
  // spares reading loginuid and sessionid.
  if (e.has_session_ids && !r.sid) {
    r.sid = e.sid, r.pgid = e.pgid, r.tty = static_cast<int32_t>(e.tty_nr);
  }
  if (e.has_session_ids && !r.ruid) r.ruid = e.ruid;
  if (e.has_login_uid) r.login_uid = e.login_uid;
  if (env) {
    r.env = *env;
    if (exec_read_) {
      // The audit rules read LD_PRELOAD alone of the environment (kept
      // among the context variables): give them those entries.
      std::vector<std::string> kept;
      size_t begin = 0;
      while (!env->empty() && begin <= env->size()) {
        size_t end = std::min(env->find('\0', begin), env->size());
        kept.emplace_back(*env, begin, end - begin);
        begin = end + 1;
      }
      exec_read_->environ = std::move(kept);
      exec_read_->read |= core::kFieldEnviron;
      exec_read_->unavailable &= ~core::kFieldEnviron;
    }
  } else if (e.has_environ && !r.env && !e.environ.empty()) {
    r.env = context_environment_area(e.environ);  // gone meanwhile: the cut is what there is
  }
  // What the event says it ran wins over /proc, read later.
  if (!e.comm.empty()) r.comm = e.comm;
  if (!e.exe.empty()) r.exe = e.exe;
  // A cut eBPF argv (its 1 KiB record) loses to /proc's longer one when
  // that begins with it (the same exec, not a later one).
  if (!e.argv.empty()) {
    std::string cut = join_nul(e.argv);
    const bool longer_in_proc = r.argv.size() > cut.size() && r.argv.compare(0, cut.size(), cut) == 0;
    if (e.argv_complete || !longer_in_proc) r.argv = std::move(cut);
  }
  r.interpreter = e.interpreter;
  r.dev = e.exe_dev, r.ino = e.exe_ino, r.ctime_ns = e.exe_ctime_ns;
  if (!exec_read_ || !exec_read_->status) r.uid = e.uid, r.gid = e.gid;
  queue(std::move(r));
}

void Recorder::on_exit(const core::Event& e, const core::ProcessKey& key,
                       const std::vector<core::ProcessKey>& children) {
  ExitRecord x;
  x.key = key;
  x.time_ns = e.time_ns;
  if (e.exit_code >= 0) x.status = e.exit_code;  // -1: a poll saw it gone, the status is its parent's to know
  queue(x);
  alive_.erase(key);
  for (const auto& child : children) {
    const core::LiveProcess* c = tree_.find(child);
    if (c == nullptr || !c->alive()) continue;
    const core::ProcessKey* parent = c->parent.latest();
    if (parent == nullptr || *parent == key) continue;
    ChangeRecord ch;
    ch.key = child;
    ch.kind = kChangeParent;
    ch.time_ns = e.time_ns;
    ch.parent = *parent;
    queue(std::move(ch));
  }
}

void Recorder::on_lost(uint64_t now_ns) {
  auto snapshot = reader_.scan(kBackfillFields);
  tree_.reconcile(snapshot, now_ns);
  for (const auto& p : snapshot) {
    const core::LiveProcess* live = tree_.find_pid(p.pid());
    if (live != nullptr && !alive_.count(live->key)) backfill(p, *live, now_ns);
  }
  std::vector<core::ProcessKey> gone;
  for (const auto& k : alive_) {
    const core::LiveProcess* live = tree_.find(k);
    if (live == nullptr || !live->alive()) gone.push_back(k);
  }
  for (const auto& k : gone) {
    const core::LiveProcess* live = tree_.find(k);
    ExitRecord x;
    x.key = k;
    x.time_ns = live && live->exit_time_ns ? live->exit_time_ns : now_ns;
    x.unseen = true;
    pending_.emplace_back(std::in_place_type<ExitRecord>, std::move(x));
    ++stats_.records;
    alive_.erase(k);
  }
}

void Recorder::judge(const core::Event& e, std::optional<core::Process>* read) {
  for (auto& entry : options_.auditor->on_event(e, tree_, tree_.find_pid(e.pid), read)) {
    FindingRecord f;
    f.key = entry.finding.process;
    f.time_ns = e.time_ns;
    f.rule = std::move(entry.finding.rule);
    f.severity = static_cast<int>(entry.finding.severity);
    f.title = std::move(entry.finding.title);
    f.evidence = std::move(entry.finding.evidence);
    for (auto& link : entry.chain) f.chain.emplace_back(link.pid, std::move(link.comm));
    f.related_pid = entry.finding.related_pid;
    pending_.emplace_back(std::in_place_type<FindingRecord>, std::move(f));
    ++stats_.records;
    ++stats_.findings;
  }
}

void Recorder::apply(const std::vector<core::Event>& batch, uint64_t now_ns) {
  using core::EventKind;
  batch_exits_.clear();
  for (size_t i = 0; i < batch.size(); ++i) {
    if (batch[i].kind == EventKind::kExit && !batch[i].thread) {
      batch_exits_[batch[i].pid] = BatchExit{batch[i].start_time_ns, i};
    }
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    const core::Event& e = batch[i];
    ++stats_.events;
    ++rate_events_;
    if (options_.export_to != nullptr) {
      events::ExportStamp stamp{options_.boot_id, writer_.realtime_offset_ns()};
      std::string line = events::to_json_line(e, &stamp);
      line += '\n';
      std::fwrite(line.data(), 1, line.size(), options_.export_to);
    }
    if (e.kind == EventKind::kLost) {
      stats_.lost += e.lost;
      tree_.apply(e);
      reconcile_due_ = true;
      continue;
    }
    if (e.thread) {
      tree_.apply(e);
      continue;
    }
    if (e.kind == EventKind::kExit) {
      const core::LiveProcess* p = tree_.find_pid(e.pid);
      if (p == nullptr) {
        tree_.apply(e);
        continue;
      }
      core::ProcessKey key = p->key;
      std::vector<core::ProcessKey> children = tree_.children(key);
      tree_.apply(e);
      on_exit(e, key, children);
      continue;
    }
    tree_.apply(e);
    if (e.kind == EventKind::kFork) {
      on_fork(e);
      if (options_.auditor != nullptr) judge(e, nullptr);
    } else {
      on_exec(e, exits_later(e, i));
      if (options_.auditor != nullptr) judge(e, &exec_read_);
    }
  }
  // Lost events: bring the tree and the records in line with /proc, at
  // most once a second (a scan reads every process).
  if (reconcile_due_ && now_ns - last_reconcile_ns_ >= 1'000'000'000ull) {
    reconcile_due_ = false;
    last_reconcile_ns_ = now_ns;
    on_lost(now_ns);
  }
}

void Recorder::flush(uint64_t now_ns, bool force) {
  bool due = force || now_ns - last_flush_ns_ >= options_.batch_ns || pending_.size() >= options_.batch_records;
  if (!due) return;
  last_flush_ns_ = now_ns;
  if (now_ns - rate_since_ns_ >= 10'000'000'000ull) {
    rate_ = static_cast<double>(rate_events_) * 1e9 / static_cast<double>(now_ns - rate_since_ns_);
    rate_events_ = 0;
    rate_since_ns_ = now_ns;
  }
  if (options_.export_to != nullptr) std::fflush(options_.export_to);
  writer_.set_counters(stats_.events, stats_.lost, now_ns, rate_);
  auto r = writer_.write(pending_);
  if (!r) {
    if (stats_.writing) {
      notice_ = fmt::format("{}; keeping {} records in memory and retrying every second", r.error().message,
                            pending_.size());
    }
    stats_.writing = false;
    if (pending_.size() > options_.max_pending) {
      size_t drop = pending_.size() - options_.max_pending;
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<ptrdiff_t>(drop));
      stats_.dropped += drop;
    }
    return;
  }
  if (!stats_.writing) notice_ = fmt::format("history database writable again; {} records written", pending_.size());
  stats_.writing = true;
  ++stats_.commits;
  pending_.clear();
  const auto& ret = options_.retention;
  if ((ret.keep_ns || ret.max_bytes) && now_ns - last_prune_ns_ >= 5'000'000'000ull) {
    last_prune_ns_ = now_ns;
    int64_t unix_now = static_cast<int64_t>(now_ns) + writer_.realtime_offset_ns();
    if (auto pruned = writer_.prune(ret, unix_now, 5000); pruned) stats_.pruned += *pruned;
  }
}

}  // namespace lineage::store
