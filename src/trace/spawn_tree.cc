#include "trace/spawn_tree.h"

#include <string.h>

#include <algorithm>

namespace lineage::trace {

SpawnTree::SpawnTree(int32_t root_pid, uint64_t fork_ns, uint64_t tolerance_ns) : tolerance_ns_(tolerance_ns) {
  TracedProcess root;
  root.pid = root_pid;
  root.fork_ns = fork_ns;
  nodes_.push_back(std::move(root));
  live_[root_pid] = 0;
}

bool SpawnTree::same_start(uint64_t a, uint64_t b) const {
  if (a == 0 || b == 0) return true;  // one side unknown: the pid decides
  return (a > b ? a - b : b - a) <= tolerance_ns_;
}

size_t SpawnTree::add(const core::Event& fork, size_t parent) {
  TracedProcess p;
  p.pid = fork.pid;
  p.start_time_ns = fork.start_time_ns;
  p.fork_ns = fork.start_time_ns ? fork.start_time_ns : fork.time_ns;
  p.ppid = nodes_[parent].pid;
  p.parent = parent;
  p.comm = fork.comm;
  size_t index = nodes_.size();
  nodes_.push_back(std::move(p));
  nodes_[parent].children.push_back(index);
  return index;
}

std::optional<size_t> SpawnTree::apply(const core::Event& e) {
  using core::EventKind;
  if (e.kind == EventKind::kLost) {
    lost_ += e.lost;
    return std::nullopt;
  }
  if (e.thread) return std::nullopt;  // threads are not processes of the tree
  auto it = live_.find(e.pid);
  if (e.kind == EventKind::kFork) {
    if (it != live_.end() && it->second == 0 && nodes_[0].start_time_ns == 0 && nodes_[0].execs.empty()) {
      // The root's own fork (its parent is lineage): learn its start time.
      TracedProcess& root = nodes_[0];
      root.start_time_ns = e.start_time_ns;
      if (e.start_time_ns) root.fork_ns = e.start_time_ns;
      root.ppid = e.ppid;
      root.comm = e.comm;
      return 0;
    }
    auto parent = live_.find(e.ppid);
    if (parent == live_.end() || !same_start(nodes_[parent->second].start_time_ns, e.parent_start_time_ns)) {
      return std::nullopt;
    }
    if (it != live_.end()) {
      // The pid is ours and alive, yet forked again: its exit was lost.
      mark_vanished(it->second);
    }
    size_t index = add(e, parent->second);
    live_[e.pid] = index;
    return index;
  }
  if (it == live_.end()) return std::nullopt;
  TracedProcess& p = nodes_[it->second];
  if (!same_start(p.start_time_ns, e.start_time_ns)) return std::nullopt;  // another process with that pid
  size_t index = it->second;
  if (e.kind == EventKind::kExec) {
    p.execs.push_back(Exec{e.time_ns, e.exe, e.argv});
    if (!e.comm.empty()) p.comm = e.comm;
    return index;
  }
  // kExit of the whole process.
  p.ending = Ending::kExited;
  p.exit_ns = e.time_ns;
  p.wait_status = e.exit_code;
  if (e.cpu_ns != 0) {
    p.cpu_ns = e.cpu_ns;
    p.cpu_known = p.cpu_final = true;
  }
  live_.erase(it);
  return index;
}

void SpawnTree::note_cpu(size_t index, uint64_t cpu_ns, bool final) {
  TracedProcess& p = nodes_.at(index);
  if (p.cpu_final) return;
  // CPU time only grows: an older, smaller reading never replaces a newer one.
  if (p.cpu_known && cpu_ns < p.cpu_ns) return;
  p.cpu_ns = cpu_ns;
  p.cpu_known = true;
  p.cpu_final = final;
}

void SpawnTree::mark_vanished(size_t index) {
  TracedProcess& p = nodes_.at(index);
  if (p.ending != Ending::kRunning) return;
  p.ending = Ending::kVanished;
  auto it = live_.find(p.pid);
  if (it != live_.end() && it->second == index) live_.erase(it);
}

size_t SpawnTree::reconcile(const std::vector<core::Process>& snapshot, uint64_t now_ns) {
  size_t changed = 0;
  std::unordered_map<int32_t, const core::Process*> by_pid;
  for (const auto& p : snapshot) by_pid[p.key.pid] = &p;
  for (size_t i : running()) {
    auto it = by_pid.find(nodes_[i].pid);
    if (it == by_pid.end() || !same_start(nodes_[i].start_time_ns, it->second->key.start_time_ns)) {
      mark_vanished(i);
      ++changed;
    }
  }
  // Oldest first: a missed parent is added before its missed children.
  std::vector<const core::Process*> order;
  for (const auto& p : snapshot) order.push_back(&p);
  std::sort(order.begin(), order.end(),
            [](const core::Process* a, const core::Process* b) { return a->key.start_time_ns < b->key.start_time_ns; });
  for (const core::Process* p : order) {
    if (live_.count(p->key.pid)) continue;
    auto parent = live_.find(p->stat.ppid);
    if (parent == live_.end()) continue;
    const TracedProcess& pp = nodes_[parent->second];
    // The parent must be older than the child (not a reuse of its pid).
    if (pp.start_time_ns != 0 && p->key.start_time_ns + tolerance_ns_ < pp.start_time_ns) continue;
    core::Event fork;
    fork.pid = p->key.pid;
    fork.start_time_ns = p->key.start_time_ns;
    fork.time_ns = p->key.start_time_ns ? p->key.start_time_ns : now_ns;
    fork.comm = p->stat.comm;
    size_t index = add(fork, parent->second);
    TracedProcess& added = nodes_[index];
    added.backfilled = true;
    if (p->argv && !p->argv->empty()) {
      added.execs.push_back(Exec{added.fork_ns, p->exe ? p->exe->path : std::string(), *p->argv});
    }
    live_[p->key.pid] = index;
    ++changed;
  }
  return changed;
}

std::vector<size_t> SpawnTree::running() const {
  std::vector<size_t> out;
  for (const auto& [pid, index] : live_) out.push_back(index);
  std::sort(out.begin(), out.end());
  return out;
}

std::optional<size_t> SpawnTree::find_pid(int32_t pid) const {
  auto it = live_.find(pid);
  if (it == live_.end()) return std::nullopt;
  return it->second;
}

size_t attach_io(TraceResult& r, std::vector<events::IoCall> calls, uint64_t tolerance_ns) {
  std::stable_sort(calls.begin(), calls.end(),
                   [](const events::IoCall& a, const events::IoCall& b) { return a.time_ns < b.time_ns; });
  std::unordered_multimap<int32_t, size_t> by_pid;
  for (size_t i = 0; i < r.processes.size(); ++i) by_pid.emplace(r.processes[i].pid, i);
  size_t unmatched = 0;
  for (auto& c : calls) {
    auto [first, last] = by_pid.equal_range(c.pid);
    TracedProcess* owner = nullptr;
    for (auto it = first; it != last; ++it) {
      TracedProcess& p = r.processes[it->second];
      uint64_t a = p.start_time_ns, b = c.start_time_ns;
      if (a == 0 || b == 0 || (a > b ? a - b : b - a) <= tolerance_ns) {
        owner = &p;
        break;
      }
    }
    if (owner) owner->io.push_back(std::move(c));
    else ++unmatched;
  }
  return unmatched;
}

std::string signal_name(int sig) {
  const char* abbrev = ::sigabbrev_np(sig);
  return abbrev ? std::string(abbrev) : std::to_string(sig);
}

std::string describe_wait_status(int32_t wait_status) {
  if (wait_status < 0) return "unknown";
  int sig = wait_status & 0x7f;
  if (sig == 0) return "exit " + std::to_string((wait_status >> 8) & 0xff);
  return "signal " + signal_name(sig) + ((wait_status & 0x80) ? " (core dumped)" : "");
}

int shell_exit_status(int32_t wait_status) {
  if (wait_status < 0) return 255;
  int sig = wait_status & 0x7f;
  if (sig == 0) return (wait_status >> 8) & 0xff;
  return 128 + sig;
}

}  // namespace lineage::trace
