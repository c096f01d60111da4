#include "core/live_tree.h"

#include <algorithm>
#include <cstring>

namespace lineage::core {

Comm Comm::of(std::string_view s) {
  Comm c;
  std::memcpy(c.bytes.data(), s.data(), std::min(s.size(), c.bytes.size() - 1));
  return c;
}

std::string_view Comm::view() const { return std::string_view(bytes.data(), ::strnlen(bytes.data(), bytes.size())); }

namespace {
// A free slot of a slab: a recycled one, else a new one at the end.
template <class T>
uint32_t take_slot(std::vector<T>& slab, std::vector<uint32_t>& free) {
  if (!free.empty()) {
    uint32_t slot = free.back();
    free.pop_back();
    return slot;
  }
  slab.emplace_back();
  return static_cast<uint32_t>(slab.size() - 1);
}
}  // namespace

LiveTree::LiveTree(size_t max_processes, uint64_t tick_ns, size_t max_threads)
    : max_processes_(std::max<size_t>(max_processes, 1)),
      tick_ns_(tick_ns),
      max_threads_(max_threads),
      processes_(std::min<size_t>(max_processes + 1, size_t{1} << 16)),
      current_(std::min<size_t>(max_processes + 1, size_t{1} << 16)),
      live_threads_(16),
      threads_(16) {
  slab_.reserve(std::min<size_t>(max_processes + 1, size_t{1} << 16));
}

// ---- lookups -------------------------------------------------------------

const LiveProcess* LiveTree::find(const ProcessKey& key) const {
  uint32_t s = slot_of(key);
  return s == kNone ? nullptr : &slab_[s];
}

const LiveProcess* LiveTree::find_pid(int32_t pid) const {
  uint32_t s = live_slot(pid);
  return s == kNone ? nullptr : &slab_[s];
}

// A field as of time_ns; a fork that has not exec'd (or renamed itself)
// shows its parent's as it was when it forked: inherited, not copied.
template <class T>
const T* LiveTree::inherited(const LiveProcess& p, const Versioned<T> LiveProcess::*field, uint64_t time_ns) const {
  const LiveProcess* cur = &p;
  uint64_t t = time_ns;
  for (int depth = 0; depth < 64; ++depth) {
    if (const T* v = (cur->*field).at(t)) return v;
    if (cur->fork_parent_slot == kNone) return nullptr;
    t = std::min(t, cur->fork_time_ns);
    cur = &slab_[cur->fork_parent_slot];
  }
  return nullptr;
}

const Image* LiveTree::image_at(const LiveProcess& p, uint64_t time_ns) const {
  return inherited(p, &LiveProcess::image, time_ns);
}

std::string_view LiveTree::comm_at(const LiveProcess& p, uint64_t time_ns) const {
  const Comm* c = inherited(p, &LiveProcess::comm, time_ns);
  return c ? c->view() : std::string_view();
}

// ---- adding, exiting, re-parenting, evicting ----------------------------

uint32_t LiveTree::add(ProcessKey key, uint32_t parent_slot, uint64_t time_ns) {
  if (uint32_t s = slot_of(key); s != kNone) return s;  // a repeated event
  if (uint32_t held = live_slot(key.pid); held != kNone) {
    // The same process seen twice with clocks of different resolution
    // (a /proc start time in ticks, then the event's exact one)...
    if (same_start(slab_[held].key.start_time_ns, key.start_time_ns, tick_ns_)) return held;
    // ...or a live process holding this pid missed its exit event.
    ++counters_.pid_reuse;
    mark_exited(held, time_ns, -1, kNone);
  }
  uint32_t slot = take_slot(slab_, free_);
  LiveProcess& p = slab_[slot];
  p.key = key;
  p.fork_time_ns = time_ns;
  if (parent_slot != kNone) {
    LiveProcess& parent = slab_[parent_slot];
    p.fork_parent = parent.key;
    p.fork_parent_slot = parent_slot;
    p.parent.set(time_ns, parent.key);
    p.next_sibling = parent.first_child;
    if (parent.first_child != kNone) slab_[parent.first_child].prev_sibling = slot;
    parent.first_child = slot;
    dead_leaves_.remove(slab_, parent_slot);  // a child holds it now
  }
  processes_.put(key, slot);
  current_.put(key.pid, slot);
  evict_if_needed();
  return slot;  // eviction never removes a live process
}

uint32_t LiveTree::placeholder(int32_t pid, uint64_t start_ns, uint64_t time_ns) {
  ++counters_.placeholders;
  uint32_t slot = add({pid, start_ns}, kNone, time_ns);
  slab_[slot].placeholder = true;
  return slot;
}

void LiveTree::reparent(uint32_t child, uint32_t new_parent, uint64_t time_ns, bool assumed) {
  LiveProcess& c = slab_[child];
  c.parent_assumed = assumed;
  if (c.adopter != kNone) {  // leave the previous adopter's list
    if (c.prev_adopted != kNone) slab_[c.prev_adopted].next_adopted = c.next_adopted;
    else slab_[c.adopter].first_adopted = c.next_adopted;
    if (c.next_adopted != kNone) slab_[c.next_adopted].prev_adopted = c.prev_adopted;
    c.adopter = c.next_adopted = c.prev_adopted = kNone;
  }
  ProcessKey key = new_parent == kNone ? ProcessKey{} : slab_[new_parent].key;
  if (const ProcessKey* cur = c.parent.latest(); cur && *cur == key) return;
  c.parent.set(time_ns, key);
  ++counters_.reparented;
  if (new_parent != kNone && new_parent != c.fork_parent_slot) {
    LiveProcess& a = slab_[new_parent];
    c.adopter = new_parent;
    c.next_adopted = a.first_adopted;
    if (a.first_adopted != kNone) slab_[a.first_adopted].prev_adopted = child;
    a.first_adopted = child;
  }
}

void LiveTree::mark_exited(uint32_t slot, uint64_t time_ns, int32_t code, uint32_t reaper) {
  LiveProcess& p = slab_[slot];
  if (!p.alive()) return;
  p.exit_time_ns = std::max<uint64_t>(time_ns, 1);
  p.exit_code = code;
  if (current_.find(p.key.pid) == slot) current_.erase(p.key.pid);
  end_threads(p, time_ns);
  // A dead process is nobody's current child any more.
  if (p.adopter != kNone) reparent(slot, p.adopter, time_ns);  // unlinks; parent unchanged
  // The kernel hands the live children to the reaper (the nearest child
  // subreaper, else init of the pid namespace); the fork parent stays.
  bool assumed = reaper == kNone || reaper == slot;
  if (assumed) reaper = live_slot(1);
  for (uint32_t c = p.first_child; c != kNone;) {
    uint32_t next = slab_[c].next_sibling;
    if (slab_[c].alive() && slab_[c].adopter == kNone) reparent(c, reaper, time_ns, assumed);
    c = next;
  }
  for (uint32_t c = slab_[slot].first_adopted; c != kNone;) {
    uint32_t next = slab_[c].next_adopted;
    reparent(c, reaper, time_ns, assumed);
    c = next;
  }
  if (slab_[slot].first_child == kNone) dead_leaves_.push(slab_, slot);
}

void LiveTree::release(const Image& image) {
  strings_.release(image.exe);
  strings_.release(image.interpreter);
  strings_.release(image.argv);
}

void LiveTree::evict(uint32_t slot) {
  LiveProcess& p = slab_[slot];
  dead_leaves_.remove(slab_, slot);
  if (p.fork_parent_slot != kNone) {
    LiveProcess& parent = slab_[p.fork_parent_slot];
    if (p.prev_sibling != kNone) slab_[p.prev_sibling].next_sibling = p.next_sibling;
    else parent.first_child = p.next_sibling;
    if (p.next_sibling != kNone) slab_[p.next_sibling].prev_sibling = p.prev_sibling;
    // Its whole subtree is gone: the parent, if dead, is next in line.
    if (!parent.alive() && parent.first_child == kNone) dead_leaves_.push(slab_, p.fork_parent_slot, true);
  }
  for (uint32_t c = p.first_adopted; c != kNone; c = slab_[c].next_adopted) slab_[c].adopter = kNone;
  while (p.first_thread != kNone) remove_thread(p.first_thread);
  p.image.for_each([&](uint64_t, const Image& image) { release(image); });
  processes_.erase(p.key);
  if (current_.find(p.key.pid) == slot) current_.erase(p.key.pid);
  p = LiveProcess{};
  free_.push_back(slot);
  ++counters_.evicted;
}

void LiveTree::evict_if_needed() {
  // Dead leaves go first, oldest exit first; a dead process with a child in
  // the tree waits until its subtree is gone (it is someone's history).
  while (processes_.size() > max_processes_ && dead_leaves_.head != kNone) evict(dead_leaves_.head);
}

// ---- images --------------------------------------------------------------

void LiveTree::set_image(LiveProcess& p, uint64_t time_ns, Image image) {
  if (const Image* latest = p.image.latest(); latest && *latest == image) {
    release(image);  // the same image again: keep one version
    return;
  }
  if (auto dropped = p.image.set(time_ns, image)) release(*dropped);
}

void LiveTree::set_image(LiveProcess& p, uint64_t time_ns, const Event& e) {
  Image image;
  image.exe = strings_.intern(e.exe);
  image.interpreter = strings_.intern(e.interpreter);
  image.argv = intern_argv(e.argv);
  image.dev = e.exe_dev;
  image.ino = e.exe_ino;
  image.ctime_ns = e.exe_ctime_ns;
  set_image(p, time_ns, image);
}

// ---- threads -------------------------------------------------------------

void LiveTree::thread_exit(uint32_t t, uint64_t time_ns) {
  LiveThread& th = thread_slab_[t];
  if (!th.alive()) return;
  th.exit_time_ns = std::max<uint64_t>(time_ns, 1);
  if (live_threads_.find(th.tid) == t) live_threads_.erase(th.tid);
  dead_threads_.push(thread_slab_, t);
}

void LiveTree::end_threads(const LiveProcess& p, uint64_t time_ns) {
  for (uint32_t t = p.first_thread; t != kNone; t = thread_slab_[t].next) thread_exit(t, time_ns);
}

void LiveTree::remove_thread(uint32_t t) {
  dead_threads_.remove(thread_slab_, t);
  LiveThread& th = thread_slab_[t];
  LiveProcess& p = slab_[th.process_slot];  // and its process's list
  if (th.prev != kNone) thread_slab_[th.prev].next = th.next;
  else p.first_thread = th.next;
  if (th.next != kNone) thread_slab_[th.next].prev = th.prev;
  threads_.erase({th.tid, th.start_time_ns});
  if (live_threads_.find(th.tid) == t) live_threads_.erase(th.tid);
  th = LiveThread{};
  thread_free_.push_back(t);
}

void LiveTree::evict_threads_if_needed() {
  while (threads_.size() >= max_threads_ && dead_threads_.head != kNone) {
    remove_thread(dead_threads_.head);
    ++counters_.threads_evicted;
  }
}

void LiveTree::thread_fork(const Event& e) {
  ++counters_.thread_forks;
  if (e.tid == e.pid || e.tid <= 0) return;
  uint32_t ps = live_slot(e.pid);
  if (ps == kNone) ps = placeholder(e.pid, e.start_time_ns ? e.start_time_ns : e.time_ns, e.time_ns);
  uint64_t start = e.thread_start_time_ns ? e.thread_start_time_ns : e.time_ns;
  if (threads_.find({e.tid, start}) != kNone) return;  // a repeated event
  if (uint32_t old = live_threads_.find(e.tid); old != kNone) thread_exit(old, e.time_ns);  // missed exit
  evict_threads_if_needed();
  if (threads_.size() >= max_threads_) {  // every tracked thread is alive
    ++counters_.threads_dropped;
    return;
  }
  uint32_t t = take_slot(thread_slab_, thread_free_);
  LiveThread& th = thread_slab_[t];
  LiveProcess& p = slab_[ps];
  th.tid = e.tid;
  th.start_time_ns = start;
  th.process = p.key;
  th.process_slot = ps;
  th.comm = Comm::of(e.comm);
  th.next = p.first_thread;
  if (p.first_thread != kNone) thread_slab_[p.first_thread].prev = t;
  p.first_thread = t;
  threads_.put({e.tid, start}, t);
  live_threads_.put(e.tid, t);
}

std::vector<const LiveThread*> LiveTree::threads(const ProcessKey& key) const {
  std::vector<const LiveThread*> out;
  uint32_t s = slot_of(key);
  if (s == kNone) return out;
  for (uint32_t t = slab_[s].first_thread; t != kNone; t = thread_slab_[t].next) out.push_back(&thread_slab_[t]);
  return out;
}

// ---- /proc snapshots -----------------------------------------------------

namespace {
std::vector<const Process*> parents_first(const std::vector<Process>& snapshot) {
  std::vector<const Process*> order;
  order.reserve(snapshot.size());
  for (const auto& p : snapshot) order.push_back(&p);
  std::sort(order.begin(), order.end(), [](const Process* a, const Process* b) {
    return std::pair(a->key.start_time_ns, a->key.pid) < std::pair(b->key.start_time_ns, b->key.pid);
  });
  return order;
}
}  // namespace

Image LiveTree::image_of(const Process& p) {
  Image image;
  if (p.exe) image.exe = strings_.intern(p.exe->path);
  if (p.argv) image.argv = intern_argv(*p.argv);
  return image;
}

StringPool::Id LiveTree::intern_argv(const std::vector<std::string>& argv) {
  argv_buffer_.clear();  // reused: no allocation per exec
  for (const auto& a : argv) {
    argv_buffer_ += a;
    argv_buffer_ += '\0';
  }
  return strings_.intern(argv_buffer_);
}

void LiveTree::bootstrap(const std::vector<Process>& snapshot, uint64_t now_ns) { reconcile(snapshot, now_ns); }

size_t LiveTree::reconcile(const std::vector<Process>& snapshot, uint64_t now_ns) {
  size_t changed = 0;
  // Live processes /proc no longer has exited without an event we saw.
  std::vector<int32_t> pids;
  pids.reserve(snapshot.size());
  for (const auto& p : snapshot) pids.push_back(p.key.pid);
  std::sort(pids.begin(), pids.end());
  for (uint32_t s = 0; s < slab_.size(); ++s) {
    LiveProcess& p = slab_[s];
    if (p.key.pid == 0 || !p.alive() || std::binary_search(pids.begin(), pids.end(), p.key.pid)) continue;
    mark_exited(s, now_ns, -1, kNone);
    slab_[s].exit_unseen = true;
    ++counters_.vanished;
    ++changed;
  }
  for (const Process* p : parents_first(snapshot)) {
    uint32_t parent = p->ppid() > 0 ? live_slot(p->ppid()) : kNone;
    uint32_t held = live_slot(p->key.pid);
    if (held != kNone && same_start(slab_[held].key.start_time_ns, p->key.start_time_ns, tick_ns_)) {
      if (p->stat.state == 'Z') continue;  // dead, its exit on the way
      // Known: what may have changed unseen is the current parent (a
      // subreaper may well be younger than its adopted child) and, after a
      // lost exec, the name and the image.
      const ProcessKey* cur = slab_[held].parent.latest();
      if (parent != kNone && parent != held && (cur == nullptr || *cur != slab_[parent].key)) {
        reparent(held, parent, now_ns);
        ++changed;
      }
      if (comm_at(slab_[held], now_ns) != Comm::of(p->stat.comm).view()) {
        LiveProcess& lp = slab_[held];
        lp.comm.set(now_ns, Comm::of(p->stat.comm));
        set_image(lp, now_ns, image_of(*p));
        ++changed;
      }
      continue;
    }
    // A zombie was alive when its exit came or will come; one the tree
    // already closed (same key) is not news either.
    if (p->stat.state == 'Z' || slot_of(p->key) != kNone) continue;
    if (parent != kNone && slab_[parent].key.start_time_ns > p->key.start_time_ns) parent = kNone;  // reused pid
    uint32_t slot = add(p->key, parent, p->key.start_time_ns);
    LiveProcess& lp = slab_[slot];
    lp.backfilled = true;
    uint64_t t = p->key.start_time_ns;
    lp.comm.set(t, Comm::of(p->stat.comm));
    if (p->exe || p->argv) set_image(lp, t, image_of(*p));
    if (p->status) lp.creds.set(t, Creds{p->status->uid.effective, p->status->gid.effective});
    ++counters_.backfilled;
    ++changed;
  }
  return changed;
}

// ---- events --------------------------------------------------------------

void LiveTree::apply(const Event& e) {
  switch (e.kind) {
    case EventKind::kFork:
      if (e.thread) {
        thread_fork(e);
      } else {
        apply_fork(e);
      }
      break;
    case EventKind::kExec:
      apply_exec(e);
      break;
    case EventKind::kExit:
      apply_exit(e);
      break;
    case EventKind::kLost:
      counters_.lost += e.lost;
      break;
  }
}

void LiveTree::apply_fork(const Event& e) {
  ++counters_.forks;
  uint32_t parent = e.ppid > 0 ? live_slot(e.ppid) : kNone;
  if (parent == kNone && e.ppid > 0) parent = placeholder(e.ppid, e.parent_start_time_ns, e.time_ns);
  uint64_t start = e.start_time_ns ? e.start_time_ns : e.time_ns;
  uint32_t slot = add({e.pid, start}, parent, e.time_ns);
  LiveProcess& child = slab_[slot];
  // A fork runs its parent's image, with its name, until it execs: both
  // are looked up through the fork parent (image_at, comm_at), not
  // copied, so the exec's name is the first version (no allocation).
  if (!e.comm.empty()) {
    Comm comm = Comm::of(e.comm);
    if (parent == kNone || comm_at(slab_[parent], e.time_ns) != comm.view()) child.comm.set(e.time_ns, comm);
  }
  child.creds.set(e.time_ns, Creds{e.uid, e.gid});
  if (e.cgroup_id) child.cgroup_id.set(e.time_ns, e.cgroup_id);
}

void LiveTree::apply_exec(const Event& e) {
  ++counters_.execs;
  uint32_t slot = live_slot(e.pid);
  // A known start time that differs beyond a tick: the pid was reused
  // and we missed the fork.
  if (slot != kNone && e.start_time_ns && !slab_[slot].placeholder &&
      !same_start(slab_[slot].key.start_time_ns, e.start_time_ns, tick_ns_)) {
    slot = kNone;
  }
  if (slot == kNone && e.start_time_ns) slot = slot_of({e.pid, e.start_time_ns});  // known, closed
  if (slot == kNone) {
    ++counters_.exec_without_fork;
    slot = placeholder(e.pid, e.start_time_ns ? e.start_time_ns : e.time_ns, e.time_ns);
    if (uint32_t parent = e.ppid > 0 ? live_slot(e.ppid) : kNone; parent != kNone && parent != slot) {
      reparent(slot, parent, e.time_ns);
      --counters_.reparented;  // its first known parent, not a change
    }
  }
  if (!slab_[slot].alive()) {
    // An exec proves the process alive: the exit recorded for it was
    // not its end (a source that took a leader thread's exit for the
    // process's). The false end is undone and counted.
    LiveProcess& dead = slab_[slot];
    dead.exit_time_ns = 0;
    dead.exit_code = 0;
    dead.exit_unseen = false;
    dead_leaves_.remove(slab_, slot);
    if (live_slot(e.pid) == kNone) current_.put(e.pid, slot);
    ++counters_.false_exits;
  }
  // exec from a non-leader thread (e.tid != e.pid): the kernel gives the
  // thread the leader's pid; the process keeps its identity. The other
  // threads are gone (de_thread).
  LiveProcess& p = slab_[slot];
  end_threads(p, e.time_ns);
  if (!e.comm.empty()) p.comm.set(e.time_ns, Comm::of(e.comm));
  if (!e.exe.empty() || !e.argv.empty()) set_image(p, e.time_ns, e);
  p.creds.set(e.time_ns, Creds{e.uid, e.gid});
  if (e.cgroup_id) p.cgroup_id.set(e.time_ns, e.cgroup_id);
}

// A thread's exit (e.thread), or the whole process's.
void LiveTree::apply_exit(const Event& e) {
  if (e.thread) {
    ++counters_.thread_exits;
    if (uint32_t t = live_threads_.find(e.tid); t != kNone && thread_slab_[t].process.pid == e.pid) {
      thread_exit(t, e.time_ns);
    }
    return;
  }
  ++counters_.exits;
  uint32_t slot = live_slot(e.pid);
  if (slot == kNone) {
    ++counters_.exit_without_fork;  // exit before (or without) its fork
    return;
  }
  // The source may name the current parent at exit: a re-parenting we
  // did not see (to a subreaper, by a source that cannot report it)
  // happened at the latest when the recorded parent exited.
  if (e.ppid > 0) {
    uint32_t now_parent = live_slot(e.ppid);
    const ProcessKey* cur = slab_[slot].parent.latest();
    if (now_parent != kNone && (cur == nullptr || *cur != slab_[now_parent].key)) {
      // An assumed parent (init) was recorded when the real one died:
      // the real adopter took over then. Otherwise the change happened
      // unseen, by now at the latest.
      const LiveProcess& p = slab_[slot];
      uint64_t when = p.parent_assumed ? p.parent.latest_time() : e.time_ns;
      if (slab_[now_parent].key.start_time_ns > when) when = e.time_ns;  // it was not born yet
      reparent(slot, now_parent, std::min(when, e.time_ns));
    }
  }
  uint32_t reaper = e.reaper_pid > 0 ? live_slot(e.reaper_pid) : kNone;
  if (reaper != kNone && e.reaper_start_time_ns &&
      !same_start(slab_[reaper].key.start_time_ns, e.reaper_start_time_ns, tick_ns_)) {
    reaper = kNone;
  }
  mark_exited(slot, e.time_ns, e.exit_code, reaper);
  evict_if_needed();
}

// ---- queries -------------------------------------------------------------

std::optional<ProcessAt> LiveTree::at(const ProcessKey& key, uint64_t time_ns) const {
  ProcessAt out;
  if (!at(key, time_ns, out)) return std::nullopt;
  return out;
}

bool LiveTree::at(const ProcessKey& key, uint64_t time_ns, ProcessAt& out) const {
  const LiveProcess* p = find(key);
  if (p == nullptr) return false;
  uint64_t born = std::min(p->fork_time_ns, p->key.start_time_ns);
  if (time_ns < born) return false;
  // Every member is set (the strings assigned: their buffers are reused).
  out.key = key;
  out.alive = p->alive() || time_ns < p->exit_time_ns;
  const ProcessKey* parent = p->parent.at(time_ns);
  out.parent = parent ? *parent : ProcessKey{};
  out.comm.assign(comm_at(*p, time_ns));
  const Image* image = image_at(*p, time_ns);
  out.exe.assign(image ? text(image->exe) : std::string_view());
  out.interpreter.assign(image ? text(image->interpreter) : std::string_view());
  size_t n = 0;
  if (image) {
    std::string_view argv = text(image->argv);
    for (size_t pos = 0; pos < argv.size(); ++n) {
      size_t end = argv.find('\0', pos);
      if (end == std::string_view::npos) end = argv.size();
      if (n == out.argv.size()) out.argv.emplace_back();
      out.argv[n].assign(argv.substr(pos, end - pos));
      pos = end + 1;
    }
  }
  out.argv.resize(n);
  out.exe_dev = image ? image->dev : 0;
  out.exe_ino = image ? image->ino : 0;
  out.exe_ctime_ns = image ? image->ctime_ns : 0;
  const Creds* c = p->creds.at(time_ns);
  out.uid = c ? c->uid : 0;
  out.gid = c ? c->gid : 0;
  return true;
}

std::vector<ProcessKey> LiveTree::lineage(const ProcessKey& key, uint64_t time_ns, size_t max_depth,
                                          bool fork_parents) const {
  std::vector<ProcessKey> chain;
  chain.reserve(std::min<size_t>(max_depth, 16));  // most chains are shorter: one allocation
  lineage(key, time_ns, max_depth, fork_parents, chain);
  return chain;
}

void LiveTree::lineage(const ProcessKey& key, uint64_t time_ns, size_t max_depth, bool fork_parents,
                       std::vector<ProcessKey>& chain) const {
  chain.clear();
  uint32_t s = slot_of(key);
  while (s != kNone && chain.size() < max_depth) {
    const LiveProcess& p = slab_[s];
    uint32_t next;
    if (fork_parents) {
      next = p.fork_parent_slot;
    } else {
      const ProcessKey* current = p.parent.at(time_ns);
      next = current && current->pid ? slot_of(*current) : kNone;
      if (next == kNone && current && current->pid) {
        chain.push_back(*current);  // known by key, no longer in the tree
        break;
      }
    }
    if (next == kNone) break;
    const ProcessKey& k = slab_[next].key;
    if (k == key || std::find(chain.begin(), chain.end(), k) != chain.end()) break;  // a loop
    chain.push_back(k);
    s = next;
  }
}

std::vector<ProcessKey> LiveTree::children(const ProcessKey& key) const {
  std::vector<ProcessKey> out;
  uint32_t s = slot_of(key);
  if (s == kNone) return out;
  for (uint32_t c = slab_[s].first_child; c != kNone; c = slab_[c].next_sibling) out.push_back(slab_[c].key);
  std::reverse(out.begin(), out.end());
  return out;
}

std::vector<ProcessKey> LiveTree::descendants(const ProcessKey& key, uint64_t time_ns, size_t max) const {
  std::vector<ProcessKey> out;
  uint32_t s = slot_of(key);
  if (s == kNone) return out;
  std::vector<uint32_t> queue{s};
  for (size_t head = 0; head < queue.size() && out.size() < max; ++head) {
    std::vector<uint32_t> kids;  // oldest first, like children()
    for (uint32_t c = slab_[queue[head]].first_child; c != kNone; c = slab_[c].next_sibling) kids.push_back(c);
    for (auto it = kids.rbegin(); it != kids.rend() && out.size() < max; ++it) {
      const LiveProcess& c = slab_[*it];
      if (std::min(c.fork_time_ns, c.key.start_time_ns) > time_ns) continue;  // not born yet (nor its own)
      out.push_back(c.key);
      queue.push_back(*it);
    }
  }
  return out;
}

}  // namespace lineage::core
