#include "cli/watch_command.h"

#include <signal.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "core/clock.h"
#include "core/live_tree.h"
#include "events/event_json.h"
#include "events/sources.h"
#include "output/format.h"
#include "output/json_writer.h"
#include "output/sanitize.h"
#include "procfs/reader.h"
#include "procfs/users.h"
#include "resolve/targets_ext.h"

namespace lineage::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

struct Filter {
  bool fork = true, exec = true, exit = true;
  std::vector<core::ProcessKey> subtrees;
  std::vector<core::ProcessKey> container_roots;  // the container's init(s)
  std::vector<uint64_t> container_cgroups;        // its cgroup v2 ids, when it has its own
  std::vector<std::string> container_paths;       // and their paths, for sources without ids
  const procfs::ProcReader* reader = nullptr;
  bool container = false;
  std::vector<std::string> comms;
  std::optional<uint32_t> uid;
};

// The cgroup v2 directory of pid, as its id (the directory's inode, which
// is what the kernel reports as the cgroup id), when it is the process's
// own: a cgroup it shares with its parent (the runtime's shim) says nothing.
std::string cgroup_v2_path(const procfs::ProcReader& reader, int32_t pid, int32_t* ppid = nullptr) {
  auto proc = reader.read(pid, core::kFieldStat | core::kFieldCgroup);
  if (!proc || !proc->cgroups) return {};
  if (ppid) *ppid = proc->ppid();
  for (const auto& c : *proc->cgroups) {
    if (c.hierarchy == 0 && c.controllers.empty()) return c.path;
  }
  return {};
}

struct OwnCgroup {
  std::string path;  // empty: none of its own
  uint64_t id = 0;   // 0: the directory was not found
};

OwnCgroup own_cgroup(const procfs::ProcReader& reader, int32_t pid) {
  int32_t ppid = 0;
  std::string path = cgroup_v2_path(reader, pid, &ppid);
  if (path.empty() || path == "/" || path.find("..") != std::string::npos) return {};
  if (ppid > 0 && cgroup_v2_path(reader, ppid) == path) return {};
  OwnCgroup own{path, 0};
  for (const char* mount : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    struct stat st {};
    if (::stat((std::string(mount) + path).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      own.id = static_cast<uint64_t>(st.st_ino);
      break;
    }
  }
  return own;
}

bool in_subtree(const core::LiveTree& tree, const core::LiveProcess& p, const std::vector<core::ProcessKey>& roots,
                uint64_t t) {
  for (const auto& root : roots) {
    if (p.key == root) return true;
  }
  for (const auto& a : tree.lineage(p.key, t)) {
    for (const auto& root : roots) {
      if (a == root) return true;
    }
  }
  return false;
}

Result<Filter> make_filter(const WatchOptions& o, const core::LiveTree& tree, const procfs::ProcReader& reader) {
  Filter f;
  f.reader = &reader;
  if (!o.events.empty()) {
    f.fork = f.exec = f.exit = false;
    size_t pos = 0;
    while (pos <= o.events.size()) {
      size_t comma = o.events.find(',', pos);
      std::string name = o.events.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      if (name == "fork") f.fork = true;
      else if (name == "exec") f.exec = true;
      else if (name == "exit") f.exit = true;
      else return usage_error(fmt::format("unknown event '{}' (known: fork, exec, exit)", output::escape_text(name)));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  for (int32_t pid : o.pids) {
    const core::LiveProcess* p = tree.find_pid(pid);
    if (p == nullptr) return not_found(fmt::format("no process with pid {}", pid));
    f.subtrees.push_back(p->key);
  }
  if (!o.container.empty()) {
    auto inits = resolve::resolve_container(*f.reader, explain::Paths{}, o.container);
    if (!inits) return inits.error();
    f.container = true;
    for (int32_t pid : *inits) {
      const core::LiveProcess* p = tree.find_pid(pid);
      if (p == nullptr) continue;
      f.container_roots.push_back(p->key);
      // `docker exec` starts processes beside init (under the shim), not
      // below it: the cgroup says they are the container's.
      OwnCgroup own = own_cgroup(*f.reader, pid);
      if (own.id) f.container_cgroups.push_back(own.id);
      if (!own.path.empty()) f.container_paths.push_back(own.path);
    }
  }
  f.comms = o.comms;
  if (!o.user.empty()) {
    f.uid = procfs::UserNames::lookup(o.user);
    if (!f.uid) return usage_error(fmt::format("unknown user '{}'", output::escape_text(o.user)));
  }
  return f;
}

bool wanted(const Filter& f, const core::Event& e, const core::LiveTree& tree, const core::LiveProcess* p) {
  using core::EventKind;
  if ((e.kind == EventKind::kFork && !f.fork) || (e.kind == EventKind::kExec && !f.exec) ||
      (e.kind == EventKind::kExit && !f.exit)) {
    return false;
  }
  if (e.kind == EventKind::kLost) return true;  // losses are always shown
  if (f.uid && e.kind != EventKind::kExit && e.uid != *f.uid) return false;
  if (!f.comms.empty()) {
    std::string comm = p ? std::string(tree.comm_at(*p, e.time_ns)) : e.comm;
    bool any = false;
    for (const auto& c : f.comms) any |= comm.find(c) != std::string::npos;
    if (!any) return false;
  }
  if (!f.subtrees.empty() && (p == nullptr || !in_subtree(tree, *p, f.subtrees, e.time_ns))) return false;
  if (f.container) {
    if (p == nullptr) return false;
    const uint64_t* cg = p->cgroup_id.latest();
    uint64_t cgroup = e.cgroup_id ? e.cgroup_id : cg ? *cg : 0;
    bool by_cgroup = cgroup != 0 && std::find(f.container_cgroups.begin(), f.container_cgroups.end(), cgroup) !=
                                        f.container_cgroups.end();
    if (!by_cgroup && cgroup == 0 && e.kind == core::EventKind::kExec && !f.container_paths.empty()) {
      // A source without cgroup ids (netlink, poll): ask /proc.
      std::string path = cgroup_v2_path(*f.reader, e.pid);
      by_cgroup = std::find(f.container_paths.begin(), f.container_paths.end(), path) != f.container_paths.end();
    }
    if (!by_cgroup && !in_subtree(tree, *p, f.container_roots, e.time_ns)) return false;
  }
  return true;
}

std::vector<std::string> lineage_names(const core::LiveTree& tree, const core::LiveProcess* p, uint64_t t) {
  std::vector<std::string> names;
  if (p == nullptr) return names;
  for (const auto& k : tree.lineage(p->key, t, 8)) {
    const core::LiveProcess* a = tree.find(k);
    std::string_view comm = a ? tree.comm_at(*a, t) : std::string_view();
    names.insert(names.begin(), comm.empty() ? std::to_string(k.pid) : std::string(comm));
  }
  std::string_view comm = tree.comm_at(*p, t);
  names.push_back(comm.empty() ? std::to_string(p->key.pid) : std::string(comm));
  return names;
}

}  // namespace

Result<int> run_watch(const WatchOptions& o) {
  if (o.duration < 0) return usage_error("--duration must be positive");
  auto reader = procfs::ProcReader::open(o.common.proc_root);
  if (!reader) return reader.error();
  if (o.max_processes < 16) return usage_error("--max-processes must be at least 16");
  auto opened = events::open_source(o.source, *reader, o.poll_interval_ms, o.threads);
  if (!opened) return opened.error();
  auto& source = opened->source;

  // Bootstrap from /proc after the source is open, so nothing falls between.
  constexpr core::FieldMask kSnapshotFields = core::kFieldStat | core::kFieldStatus | core::kFieldCmdline | core::kFieldExe;
  core::LiveTree tree(o.max_processes, reader->tick_ns(), o.max_threads);
  tree.bootstrap(reader->scan(kSnapshotFields), core::boot_now_ns());
  auto filter = make_filter(o, tree, *reader);
  if (!filter) return filter.error();

  std::fprintf(stderr, "lineage watch: source %s (%s); Ctrl-C to stop\n", std::string(source->name()).c_str(),
               opened->why.c_str());
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  procfs::UserNames users;
  const core::WallClock wall = core::WallClock::sample();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.duration * 1000));
  std::vector<core::Event> batch;
  uint64_t shown = 0;
  auto last_reconcile = std::chrono::steady_clock::now() - std::chrono::seconds(2);
  bool reconcile_due = false;  // events were lost since the last reconcile
  // Events are taken in batches: after a batch, the loop lets the next one
  // gather for kCoalesce before waking again (the sources buffer far more
  // than that: 16 MiB of ring, an 8 MiB socket), so a steady stream costs a
  // few wake-ups a second instead of one per event; the delay is invisible
  // on a terminal.
  constexpr auto kCoalesce = std::chrono::milliseconds(20);
  while (!g_stop) {
    if (o.duration > 0 && std::chrono::steady_clock::now() >= deadline) break;
    batch.clear();
    auto got = source->poll(batch, 200);
    if (!got) return got.error();
    if (!batch.empty()) {
      auto resume = std::chrono::steady_clock::now() + kCoalesce;
      if (o.duration > 0) resume = std::min(resume, deadline);
      timespec ts{0, static_cast<long>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                           resume - std::chrono::steady_clock::now())
                                           .count())};
      if (ts.tv_nsec > 0) ::nanosleep(&ts, nullptr);  // a signal ends it early: fine
    }
    std::string out;
    for (const auto& e : batch) {
      reconcile_due |= e.kind == core::EventKind::kLost;
      // Look the process up before an exit removes it from the pid map (by
      // key: pointers into the tree do not survive apply()).
      std::optional<core::ProcessKey> before;
      if (const core::LiveProcess* b = tree.find_pid(e.pid)) before = b->key;
      tree.apply(e);
      const core::LiveProcess* p = e.kind == core::EventKind::kExit && !e.thread
                                       ? (before ? tree.find(*before) : nullptr)
                                       : tree.find_pid(e.pid);
      if (!wanted(*filter, e, tree, p)) continue;
      ++shown;
      auto names = lineage_names(tree, p, e.time_ns);
      if (o.common.json) {
        std::string line = events::to_json_line(e);
        line.pop_back();  // add the lineage to the object
        output::Json chain = names;
        line += ",\"lineage\":" + output::dump_json(chain) + "}\n";
        out += line;
        continue;
      }
      std::string when = output::format_rfc3339(wall.to_realtime_ns(e.time_ns)).substr(11, 12);
      std::string what;
      switch (e.kind) {
        case core::EventKind::kFork:
          what = e.thread ? fmt::format("thread {} started", e.tid) : fmt::format("ppid {}", e.ppid);
          break;
        case core::EventKind::kExec: {
          std::string argv;
          for (const auto& a : e.argv) argv += (argv.empty() ? "" : " ") + a;
          what = output::escape_text(argv.empty() ? e.exe : argv);
          break;
        }
        case core::EventKind::kExit: {
          if (e.thread) {
            what = fmt::format("thread {} ended", e.tid);
            break;
          }
          uint64_t life = p && e.time_ns > p->key.start_time_ns ? e.time_ns - p->key.start_time_ns : 0;
          std::string how = e.exit_code < 0                ? "exit status unknown"
                            : (e.exit_code & 0x7f) == 0 ? fmt::format("code {}", (e.exit_code >> 8) & 0xff)
                                                         : fmt::format("killed by signal {}", e.exit_code & 0x7f);
          what = fmt::format("{} after {:.3f}s", how, static_cast<double>(life) / 1e9);
          break;
        }
        case core::EventKind::kLost: what = fmt::format("{} events lost", e.lost); break;
      }
      std::string chain;
      for (const auto& n : names) chain += (chain.empty() ? "" : " > ") + output::escape_text(n);
      out += fmt::format("{} {:<5} {:>7} {:<8} {}  [{}]\n", when, events::kind_name(e.kind), e.pid,
                         e.kind == core::EventKind::kLost ? "" : users.name(e.uid), what, chain);
    }
    if (!out.empty()) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      std::fflush(stdout);
    }
    // Events were lost: bring the tree in line with /proc (what it missed
    // is added as backfilled, what vanished is closed), at most once a second.
    auto now = std::chrono::steady_clock::now();
    if (reconcile_due && now - last_reconcile >= std::chrono::seconds(1)) {
      reconcile_due = false;  // only once it ran: losses within the second wait for it
      last_reconcile = now;
      size_t changed = tree.reconcile(reader->scan(kSnapshotFields), core::boot_now_ns());
      if (!o.common.json) {
        std::fprintf(stderr, "lineage watch: events lost; %zu processes brought up to date from /proc\n", changed);
      }
    }
  }
  auto st = source->stats();
  const auto& c = tree.counters();
  std::fprintf(stderr,
               "lineage watch: %llu events shown; seen fork %llu, exec %llu, exit %llu; lost %llu; "
               "exec without fork %llu, exit without fork %llu; re-parented %llu; backfilled %llu, "
               "vanished %llu; %zu processes tracked (%llu evicted)%s\n",
               static_cast<unsigned long long>(shown), static_cast<unsigned long long>(st.forks),
               static_cast<unsigned long long>(st.execs), static_cast<unsigned long long>(st.exits),
               static_cast<unsigned long long>(st.lost), static_cast<unsigned long long>(c.exec_without_fork),
               static_cast<unsigned long long>(c.exit_without_fork), static_cast<unsigned long long>(c.reparented),
               static_cast<unsigned long long>(c.backfilled), static_cast<unsigned long long>(c.vanished),
               tree.size(), static_cast<unsigned long long>(c.evicted),
               o.threads ? fmt::format(", {} threads ({} evicted, {} not tracked: budget)", tree.thread_count(),
                                       c.threads_evicted, c.threads_dropped)
                               .c_str()
                         : "");
  return 0;
}

}  // namespace lineage::cli
