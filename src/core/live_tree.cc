#include "core/live_tree.h"

#include <algorithm>

namespace lineage::core {

LiveTree::LiveTree(size_t max_processes, uint64_t tick_ns) : max_processes_(max_processes), tick_ns_(tick_ns) {
  size_t expect = std::min<size_t>(max_processes + 1, size_t{1} << 16);
  processes_.reserve(expect);
  current_.reserve(expect);
  children_.reserve(expect / 4);
}

template <class T>
const T* LiveTree::image_at(const LiveProcess& p, Versioned<T> LiveProcess::*field, uint64_t time_ns) const {
  const LiveProcess* cur = &p;
  uint64_t t = time_ns;
  for (int depth = 0; depth < 64; ++depth) {
    if (const T* v = (cur->*field).at(t)) return v;
    if (cur->fork_parent.pid == 0) return nullptr;
    t = std::min(t, cur->fork_time_ns);  // the parent's image when it forked
    cur = find(cur->fork_parent);
    if (cur == nullptr) return nullptr;
  }
  return nullptr;
}

LiveProcess* LiveTree::lookup(const ProcessKey& key) {
  auto it = processes_.find(key);
  return it == processes_.end() ? nullptr : &it->second;
}

const LiveProcess* LiveTree::find(const ProcessKey& key) const {
  auto it = processes_.find(key);
  return it == processes_.end() ? nullptr : &it->second;
}

const LiveProcess* LiveTree::find_pid(int32_t pid) const {
  auto it = current_.find(pid);
  return it == current_.end() ? nullptr : find(it->second);
}

LiveProcess& LiveTree::add(ProcessKey key, ProcessKey fork_parent, uint64_t time_ns) {
  // A live process already holding this pid missed its exit event.
  if (auto it = current_.find(key.pid); it != current_.end() && it->second != key) {
    if (LiveProcess* old = lookup(it->second); old && old->alive()) {
      ++counters_.pid_reuse;
      mark_exited(*old, time_ns, -1);
    }
  }
  LiveProcess& p = processes_[key];
  p.key = key;
  p.fork_parent = fork_parent;
  p.fork_time_ns = time_ns;
  if (fork_parent.pid != 0) {
    p.parent.set(time_ns, fork_parent);
    children_[fork_parent].push_back(key);
  }
  current_[key.pid] = key;
  adjust_descendants(p, +1);
  evict_if_needed();
  return processes_[key];  // eviction never removes a live process
}

LiveProcess& LiveTree::placeholder(int32_t pid, uint64_t start_ns, uint64_t time_ns) {
  ++counters_.placeholders;
  LiveProcess& p = add({pid, start_ns}, {}, time_ns);
  p.placeholder = true;
  return p;
}

void LiveTree::adjust_descendants(const LiveProcess& from, int delta) {
  // Along the fork-parent chain: an ancestor is kept while this one lives.
  ProcessKey k = from.fork_parent;
  for (size_t depth = 0; k.pid != 0 && depth < 4096; ++depth) {
    LiveProcess* a = lookup(k);
    if (a == nullptr) break;
    a->live_descendants = static_cast<uint32_t>(static_cast<int64_t>(a->live_descendants) + delta);
    k = a->fork_parent;
  }
}

void LiveTree::mark_exited(LiveProcess& p, uint64_t time_ns, int32_t code) {
  if (!p.alive()) return;
  p.exit_time_ns = std::max<uint64_t>(time_ns, 1);
  p.exit_code = code;
  adjust_descendants(p, -1);
  if (auto it = current_.find(p.key.pid); it != current_.end() && it->second == p.key) current_.erase(it);
  // The kernel re-parents the live children to init (or a subreaper, which
  // the events do not name; /proc tells later). The fork parent stays.
  ProcessKey init{};
  if (const LiveProcess* i = find_pid(1)) init = i->key;
  if (auto kids = children_.find(p.key); kids != children_.end()) {
    for (const ProcessKey& c : kids->second) {
      LiveProcess* child = lookup(c);
      if (child && child->alive()) child->parent.set(time_ns, init);
    }
  }
  exited_.push_back(p.key);
}

void LiveTree::evict_if_needed() {
  // Dead processes with no live descendant go first, oldest exit first.
  size_t scanned = 0;
  while (processes_.size() > max_processes_ && scanned < exited_.size()) {
    ProcessKey k = exited_.front();
    exited_.pop_front();
    LiveProcess* p = lookup(k);
    if (p == nullptr) continue;
    if (p->live_descendants > 0) {
      exited_.push_back(k);  // still an ancestor of someone alive
      ++scanned;
      continue;
    }
    children_.erase(k);
    processes_.erase(k);
    ++counters_.evicted;
    // Parents' child lists still name evicted keys; drop them now and then
    // (amortised) so a long-lived parent of many short jobs stays bounded.
    if (++evictions_since_compaction_ >= 4096) compact_children();
  }
}

void LiveTree::compact_children() {
  evictions_since_compaction_ = 0;
  for (auto it = children_.begin(); it != children_.end();) {
    auto& list = it->second;
    list.erase(std::remove_if(list.begin(), list.end(), [&](const ProcessKey& c) { return !find(c); }),
               list.end());
    it = list.empty() ? children_.erase(it) : std::next(it);
  }
}

void LiveTree::bootstrap(const std::vector<Process>& snapshot, uint64_t now_ns) {
  (void)now_ns;
  // Parents first, so children find them.
  std::vector<const Process*> order;
  for (const auto& p : snapshot) order.push_back(&p);
  std::sort(order.begin(), order.end(), [](const Process* a, const Process* b) {
    return std::pair(a->key.start_time_ns, a->key.pid) < std::pair(b->key.start_time_ns, b->key.pid);
  });
  for (const Process* p : order) {
    ProcessKey parent{};
    if (const LiveProcess* pp = find_pid(p->ppid()); pp && pp->key.start_time_ns <= p->key.start_time_ns) {
      parent = pp->key;
    }
    LiveProcess& lp = add(p->key, parent, p->key.start_time_ns);
    lp.backfilled = true;
    lp.comm.set(p->key.start_time_ns, p->stat.comm);
    if (p->exe) lp.exe.set(p->key.start_time_ns, p->exe->path);
    if (p->argv) lp.argv.set(p->key.start_time_ns, *p->argv);
    if (p->status) {
      lp.uid.set(p->key.start_time_ns, p->status->uid.effective);
      lp.gid.set(p->key.start_time_ns, p->status->gid.effective);
    }
    ++counters_.backfilled;
  }
}

void LiveTree::apply(const events::Event& e) {
  using events::EventKind;
  switch (e.kind) {
    case EventKind::kFork: {
      ++counters_.forks;
      LiveProcess* parent = nullptr;
      if (auto it = current_.find(e.ppid); it != current_.end()) parent = lookup(it->second);
      if (parent == nullptr && e.ppid > 0) {
        parent = &placeholder(e.ppid, e.parent_start_time_ns, e.time_ns);
      }
      ProcessKey parent_key = parent ? parent->key : ProcessKey{};
      uint64_t start = e.start_time_ns ? e.start_time_ns : e.time_ns;
      LiveProcess& child = add({e.pid, start}, parent_key, e.time_ns);
      // A fork runs its parent's image until it execs: exe and argv are
      // looked up through the fork parent (image_at), not copied.
      parent = parent_key.pid ? lookup(parent_key) : nullptr;
      if (!e.comm.empty()) child.comm.set(e.time_ns, e.comm);
      else if (parent && parent->comm.latest()) child.comm.set(e.time_ns, *parent->comm.latest());
      child.uid.set(e.time_ns, e.uid);
      child.gid.set(e.time_ns, e.gid);
      if (e.cgroup_id) child.cgroup_id.set(e.time_ns, e.cgroup_id);
      break;
    }
    case EventKind::kExec: {
      ++counters_.execs;
      LiveProcess* p = nullptr;
      if (auto it = current_.find(e.pid); it != current_.end()) p = lookup(it->second);
      // A known start time that differs beyond a tick: the pid was reused
      // and we missed the fork.
      if (p && e.start_time_ns && !same_start(p->key.start_time_ns, e.start_time_ns, tick_ns_) &&
          !p->placeholder) {
        p = nullptr;
      }
      if (p == nullptr) {
        ++counters_.exec_without_fork;
        p = &placeholder(e.pid, e.start_time_ns ? e.start_time_ns : e.time_ns, e.time_ns);
        if (e.ppid > 0) {
          if (const LiveProcess* parent = find_pid(e.ppid)) p->parent.set(e.time_ns, parent->key);
        }
      }
      // exec from a non-leader thread (e.tid != e.pid): the kernel gives the
      // thread the leader's pid; the process keeps its identity.
      if (!e.comm.empty()) p->comm.set(e.time_ns, e.comm);
      if (!e.exe.empty()) p->exe.set(e.time_ns, e.exe);
      if (!e.argv.empty()) p->argv.set(e.time_ns, e.argv);
      p->uid.set(e.time_ns, e.uid);
      p->gid.set(e.time_ns, e.gid);
      if (e.cgroup_id) p->cgroup_id.set(e.time_ns, e.cgroup_id);
      break;
    }
    case EventKind::kExit: {
      ++counters_.exits;
      LiveProcess* p = nullptr;
      if (auto it = current_.find(e.pid); it != current_.end()) p = lookup(it->second);
      if (p == nullptr) {
        ++counters_.exit_without_fork;  // exit before (or without) its fork
        break;
      }
      mark_exited(*p, e.time_ns, e.exit_code);
      evict_if_needed();
      break;
    }
    case EventKind::kLost:
      counters_.lost += e.lost;
      break;
  }
}

std::optional<ProcessAt> LiveTree::at(const ProcessKey& key, uint64_t time_ns) const {
  const LiveProcess* p = find(key);
  if (p == nullptr) return std::nullopt;
  uint64_t born = std::min(p->fork_time_ns, p->key.start_time_ns);
  if (time_ns < born) return std::nullopt;
  ProcessAt out;
  out.key = key;
  out.alive = p->alive() || time_ns < p->exit_time_ns;
  if (const ProcessKey* parent = p->parent.at(time_ns)) out.parent = *parent;
  if (const std::string* c = image_at(*p, &LiveProcess::comm, time_ns)) out.comm = *c;
  if (const std::string* x = image_at(*p, &LiveProcess::exe, time_ns)) out.exe = *x;
  if (const auto* a = image_at(*p, &LiveProcess::argv, time_ns)) out.argv = *a;
  return out;
}

std::vector<ProcessKey> LiveTree::lineage(const ProcessKey& key, uint64_t time_ns, size_t max_depth,
                                          bool fork_parents) const {
  std::vector<ProcessKey> chain;
  const LiveProcess* p = find(key);
  while (p != nullptr && chain.size() < max_depth) {
    ProcessKey next = p->fork_parent;
    if (!fork_parents) {
      const ProcessKey* current = p->parent.at(time_ns);
      next = current ? *current : ProcessKey{};
    }
    if (next.pid == 0 || std::find(chain.begin(), chain.end(), next) != chain.end() || next == key) break;
    chain.push_back(next);
    p = find(next);
  }
  return chain;
}

std::vector<ProcessKey> LiveTree::children(const ProcessKey& key) const {
  auto it = children_.find(key);
  if (it == children_.end()) return {};
  std::vector<ProcessKey> out;
  for (const auto& c : it->second) {
    if (find(c)) out.push_back(c);
  }
  return out;
}

}  // namespace lineage::core
