#include "audit/live.h"

#include <fmt/format.h>

#include "audit/scene.h"
#include "core/clock.h"
#include "core/entries.h"
#include "procfs/complete.h"

namespace lineage::audit {
namespace {

constexpr uint64_t kSecond = 1'000'000'000;
constexpr uint64_t kStormQuiet = 10 * kSecond;  // one fork-storm finding per subtree per 10 s
constexpr size_t kMaxReported = 100'000;
constexpr size_t kMaxWindows = 50'000;
constexpr size_t kStormDepth = 8;  // ancestors a fork is counted at

// The process as the tree knew it at a moment, in `into`: a fresh Process
// (nothing of the one before survives) built in the buffers of into's
// comm, exe path and argv, so a chain rebuilt for every exec allocates
// nothing once they have grown.
void process_at(const core::ProcessAt& a, core::Process& into) {
  std::string comm = std::move(into.stat.comm);
  std::string exe = into.exe ? std::move(into.exe->path) : std::string();
  std::vector<std::string> argv = into.argv ? std::move(*into.argv) : std::vector<std::string>();
  core::Process p;
  p.key = a.key;
  p.stat.pid = a.key.pid;
  p.stat.ppid = a.parent.pid;
  comm.assign(a.comm);
  p.stat.comm = std::move(comm);
  p.stat.state = a.alive ? 'S' : 'X';
  if (!a.exe.empty()) {
    exe.assign(a.exe);
    p.exe = core::ExeInfo{std::move(exe), false};
  }
  if (!a.argv.empty()) {
    argv.resize(a.argv.size());
    for (size_t i = 0; i < a.argv.size(); ++i) argv[i].assign(a.argv[i]);
    p.argv = std::move(argv);
  }
  core::StatusInfo st;
  st.uid.real = st.uid.effective = st.uid.saved = st.uid.filesystem = a.uid;
  st.gid.real = st.gid.effective = st.gid.saved = st.gid.filesystem = a.gid;
  p.status = st;
  p.read = core::kFieldStat | core::kFieldStatus;
  if (p.exe) p.read |= core::kFieldExe;
  if (p.argv) p.read |= core::kFieldCmdline;
  into = std::move(p);
}

}  // namespace

LiveAuditor::LiveAuditor(LiveAuditOptions options, const procfs::ProcReader* reader)
    : options_(std::move(options)), reader_(reader) {
  for (const Rule* r : options_.rules) storms_ |= r->id == "fork-storm";
  // Not kFieldExeFile: for one process the rules ask the file system themselves.
  fields_ = fields_for(options_.rules) & ~core::kFieldExeFile;
  if (reader_) {
    init_ = reader_->read(1, core::kFieldStat | core::kFieldNamespaces | core::kFieldExe);
    sys_ = reader_->system_info();
  }
}

std::vector<core::Process> LiveAuditor::chain_of(const core::LiveTree& tree, const core::ProcessKey& key, uint64_t t) {
  std::vector<core::Process> chain;
  ChainScratch scratch;
  fill_chain(tree, key, t, scratch, chain);
  return chain;
}

void LiveAuditor::fill_chain(const core::LiveTree& tree, const core::ProcessKey& key, uint64_t t,
                             ChainScratch& scratch, std::vector<core::Process>& chain) {
  std::vector<core::ProcessKey>& up = scratch.up;
  std::vector<core::ProcessAt>& at = scratch.at;
  tree.lineage(key, t, 4096, false, up);
  size_t n = 0;
  // One scratch per depth: the same ancestor sits at the same depth exec
  // after exec, so its argument buffers fit again.
  auto put = [&](const core::ProcessKey& k) {
    if (n == at.size()) at.emplace_back();
    if (!tree.at(k, t, at[n])) return;
    if (n == chain.size()) chain.emplace_back();
    process_at(at[n], chain[n]);
    ++n;
  };
  for (auto it = up.rbegin(); it != up.rend(); ++it) put(*it);
  put(key);
  chain.resize(n);
}

bool LiveAuditor::first_time(const std::string& rule, const core::ProcessKey& key) {
  if (reported_.size() >= kMaxReported) reported_.clear();  // a repeat beats unbounded memory
  return reported_.emplace(rule, key).second;
}

core::Process LiveAuditor::seen_at_exec(const core::LiveProcess& lp, const core::Event& e) const {
  const core::ProcessKey* parent = lp.parent.latest();
  core::Process seen = core::process_at_exec(e, lp.key, parent ? parent->pid : e.ppid, reader_->tick_ns());
  core::FieldMask missing = fields_ & ~seen.read;
  if (e.has_environ) {
    // The rules read LD_PRELOAD alone of the environment: nothing else of
    // it is kept. An environment cut at the event's bound is judged on
    // what it holds unless /proc, read for the rest, gives all of it.
    std::vector<std::string> wanted;
    core::for_each_entry(e.environ, [&](std::string_view entry) {
      if (env_wanted(entry)) wanted.emplace_back(entry);
    });
    seen.environ = std::move(wanted);
    if (e.environ_complete) {
      seen.read |= core::kFieldEnviron;
      missing &= ~core::kFieldEnviron;
    }
  }
  if (missing != 0) procfs::complete_from_proc(*reader_, seen, missing);
  return seen;
}

void LiveAuditor::judge_exec(const core::LiveTree& tree, const core::LiveProcess& lp, const core::Event& e,
                             std::optional<core::Process>* given, std::vector<AuditEntry>& out) {
  const uint64_t t = e.time_ns;
  // The chain is rebuilt in the processes of the last exec's (their
  // buffers, not their values).
  std::vector<core::Process> chain = std::move(spare_);
  fill_chain(tree, lp.key, t, scratch_, chain);
  if (chain.empty()) {
    spare_ = std::move(chain);
    return;
  }
  // What /proc still has of the process itself (gone already: the tree's
  // view is all there is).
  bool from_proc = false;
  if (reader_) {
    std::optional<core::Process> now;
    if (given != nullptr) now = std::move(*given);
    else if (e.at_exec) now = seen_at_exec(lp, e);  // the kernel's word at the exec
    else now = reader_->read(lp.key.pid, fields_);
    if (now && core::same_start(now->key.start_time_ns, lp.key.start_time_ns, reader_->tick_ns())) {
      now->key = lp.key;
      chain.back() = std::move(*now);
      from_proc = true;
    }
  }
  if (init_ && chain.front().pid() == 1 && core::same_start(chain.front().key.start_time_ns,
                                                            init_->key.start_time_ns, reader_->tick_ns())) {
    chain.front().ns = init_->ns;
    chain.front().read |= init_->read & core::kFieldNamespaces;
  }
  // The chain as findings name it (pids and comms: short strings), then
  // the chain itself is the scene's (not copied).
  std::vector<std::pair<int32_t, std::string>>& links = links_;
  links.clear();
  for (const auto& c : chain) links.emplace_back(c.pid(), c.stat.comm);
  core::ProcessTree& scene_tree = scene_tree_;
  scene_tree.rebuild(std::move(chain));
  if (size_t index = scene_tree.find(lp.key.pid); index != core::ProcessTree::kNone) {
    // Memory size and tick rate do not change; only the clocks are read per
    // exec (not /proc/uptime and /proc/meminfo on the hot path).
    core::SystemInfo sys = sys_;
    if (reader_) {
      sys.boot_ns_now = core::boot_now_ns();
      sys.realtime_ns_now = core::realtime_now_ns();
    }
    Scene scene(scene_tree, sys, reader_);
    for (auto& f : evaluate_process(scene, index, options_.rules)) {
      if (f.severity < options_.min_severity || !first_time(f.rule, f.process)) continue;
      AuditEntry e;
      size_t i = scene_tree.find(f.process.pid);
      if (i != core::ProcessTree::kNone) {
        e.process = scene_tree.at(i);
        e.process_from_proc = from_proc && i == index;
        for (const auto& [pid, comm] : links) {
          e.chain.push_back({pid, comm});
          if (pid == f.process.pid) break;
        }
      }
      e.finding = std::move(f);
      out.push_back(std::move(e));
    }
  }
  spare_ = scene_tree.take_processes();
}

void LiveAuditor::count_fork(const core::LiveTree& tree, const core::LiveProcess& child, uint64_t t,
                             std::vector<AuditEntry>& out) {
  if (windows_.size() >= kMaxWindows) {
    for (auto it = windows_.begin(); it != windows_.end();) {
      it = t - it->second.start_ns > 2 * kSecond ? windows_.erase(it) : std::next(it);
    }
    if (windows_.size() >= kMaxWindows) windows_.clear();
  }
  std::vector<core::ProcessKey>& up = storm_up_;
  tree.lineage(child.key, t, kStormDepth, false, up);  // nearest first: the forking parent first
  // Name the nearest subtree over the rate (the loop that forks, not every
  // ancestor above it, which count the same forks); one named within
  // kStormQuiet, or with an ancestor named, is not named again.
  const core::ProcessKey* worst = nullptr;
  uint32_t worst_forks = 0;
  bool quiet = false;
  auto& counted = storm_counted_;  // nearest first
  counted.clear();
  for (const auto& key : up) {
    if (key.pid <= 2) break;  // init and kthreadd are everyone's ancestors
    Window& w = windows_[key];
    if (t < w.start_ns || t - w.start_ns >= kSecond) {
      w.start_ns = t;
      w.forks = 0;
    }
    ++w.forks;
    quiet |= w.reported_ns != 0 && t - w.reported_ns < kStormQuiet;
    counted.emplace_back(&key, w.forks);
    if (worst == nullptr && w.forks >= options_.storm_rate) {
      worst = &key;
      worst_forks = w.forks;
    }
  }
  // The forker itself may sit a few forks below the rate when its parent
  // crosses it (the parent also counted the fork that made it): name the
  // nearest subtree that holds nearly all (90 %) of the crossing count.
  if (worst != nullptr) {
    for (const auto& [key, forks] : counted) {
      if (key == worst) break;
      if (uint64_t{forks} * 10 >= uint64_t{worst_forks} * 9) {
        worst = key;
        worst_forks = forks;
        break;
      }
    }
  }
  if (quiet) return;
  if (worst == nullptr) return;
  windows_[*worst].reported_ns = t;
  auto chain = chain_of(tree, *worst, t);
  if (chain.empty()) return;
  AuditEntry e;
  e.finding.rule = "fork-storm";
  e.finding.severity = Severity::kHigh;
  e.finding.process = *worst;
  e.finding.title = fmt::format("its subtree forked {} processes within a second (limit {}/s)", worst_forks,
                                options_.storm_rate);
  e.finding.evidence.push_back(fmt::format("{} fork events below pid {} ({}) in under 1 s, counted at up to {} "
                                           "ancestors of each new process",
                                           worst_forks, worst->pid, chain.back().stat.comm, kStormDepth));
  e.finding.related_pid = child.key.pid;
  for (const auto& c : chain) e.chain.push_back({c.pid(), c.stat.comm});
  e.process = chain.back();
  e.process_from_proc = false;
  if (e.finding.severity >= options_.min_severity) out.push_back(std::move(e));
}

std::vector<AuditEntry> LiveAuditor::on_event(const core::Event& e, const core::LiveTree& tree,
                                              const core::LiveProcess* p, std::optional<core::Process>* now) {
  std::vector<AuditEntry> out;
  if (p == nullptr || e.thread) return out;
  if (e.kind == core::EventKind::kExec) judge_exec(tree, *p, e, now, out);
  else if (e.kind == core::EventKind::kFork && storms_) count_fork(tree, *p, e.time_ns, out);
  return out;
}

}  // namespace lineage::audit
