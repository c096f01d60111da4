#include "cli/watch_command.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>

#include <fmt/format.h>

#include "core/live_tree.h"
#include "events/event_json.h"
#include "events/sources.h"
#include "output/format.h"
#include "output/json_writer.h"
#include "output/sanitize.h"
#include "procfs/reader.h"
#include "procfs/users.h"

namespace lineage::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

uint64_t boot_now_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

struct Filter {
  bool fork = true, exec = true, exit = true;
  std::vector<core::ProcessKey> subtrees;
  std::vector<std::string> comms;
  std::optional<uint32_t> uid;
};

Result<Filter> make_filter(const WatchOptions& o, const core::LiveTree& tree) {
  Filter f;
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
  f.comms = o.comms;
  if (!o.user.empty()) {
    f.uid = procfs::UserNames::lookup(o.user);
    if (!f.uid) return usage_error(fmt::format("unknown user '{}'", output::escape_text(o.user)));
  }
  return f;
}

bool wanted(const Filter& f, const events::Event& e, const core::LiveTree& tree, const core::LiveProcess* p) {
  using events::EventKind;
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
  if (!f.subtrees.empty()) {
    if (p == nullptr) return false;
    bool inside = false;
    for (const auto& root : f.subtrees) {
      if (p->key == root) inside = true;
      for (const auto& a : tree.lineage(p->key, e.time_ns)) inside |= a == root;
    }
    if (!inside) return false;
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
  auto opened = events::open_source(o.source, *reader, o.poll_interval_ms);
  if (!opened) return opened.error();
  auto& source = opened->source;

  // Bootstrap from /proc after the source is open, so nothing falls between.
  core::LiveTree tree;
  tree.bootstrap(reader->scan(core::kFieldStat | core::kFieldStatus | core::kFieldCmdline | core::kFieldExe),
                 boot_now_ns());
  auto filter = make_filter(o, tree);
  if (!filter) return filter.error();

  std::fprintf(stderr, "lineage watch: source %s (%s); Ctrl-C to stop\n", std::string(source->name()).c_str(),
               opened->why.c_str());
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  procfs::UserNames users;
  timespec rt{};
  ::clock_gettime(CLOCK_REALTIME, &rt);
  const int64_t realtime_minus_boot = (static_cast<int64_t>(rt.tv_sec) * 1'000'000'000 + rt.tv_nsec) -
                                      static_cast<int64_t>(boot_now_ns());
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.duration * 1000));
  std::vector<events::Event> batch;
  uint64_t shown = 0;
  while (!g_stop) {
    if (o.duration > 0 && std::chrono::steady_clock::now() >= deadline) break;
    batch.clear();
    auto got = source->poll(batch, 200);
    if (!got) return got.error();
    std::string out;
    for (const auto& e : batch) {
      // Look the process up before an exit removes it from the pid map.
      const core::LiveProcess* before = tree.find_pid(e.pid);
      tree.apply(e);
      const core::LiveProcess* p = e.kind == events::EventKind::kExit ? before : tree.find_pid(e.pid);
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
      std::string when = output::format_rfc3339(realtime_minus_boot + static_cast<int64_t>(e.time_ns)).substr(11, 12);
      std::string what;
      switch (e.kind) {
        case events::EventKind::kFork: what = fmt::format("ppid {}", e.ppid); break;
        case events::EventKind::kExec: {
          std::string argv;
          for (const auto& a : e.argv) argv += (argv.empty() ? "" : " ") + a;
          what = output::escape_text(argv.empty() ? e.exe : argv);
          break;
        }
        case events::EventKind::kExit: {
          uint64_t life = p && e.time_ns > p->key.start_time_ns ? e.time_ns - p->key.start_time_ns : 0;
          std::string how = e.exit_code < 0                ? "exit status unknown"
                            : (e.exit_code & 0x7f) == 0 ? fmt::format("code {}", (e.exit_code >> 8) & 0xff)
                                                         : fmt::format("killed by signal {}", e.exit_code & 0x7f);
          what = fmt::format("{} after {:.3f}s", how, static_cast<double>(life) / 1e9);
          break;
        }
        case events::EventKind::kLost: what = fmt::format("{} events lost", e.lost); break;
      }
      std::string chain;
      for (const auto& n : names) chain += (chain.empty() ? "" : " > ") + output::escape_text(n);
      out += fmt::format("{} {:<5} {:>7} {:<8} {}  [{}]\n", when, events::kind_name(e.kind), e.pid,
                         e.kind == events::EventKind::kLost ? "" : users.name(e.uid), what, chain);
    }
    if (!out.empty()) {
      std::fwrite(out.data(), 1, out.size(), stdout);
      std::fflush(stdout);
    }
  }
  auto st = source->stats();
  const auto& c = tree.counters();
  std::fprintf(stderr,
               "lineage watch: %llu events shown; seen fork %llu, exec %llu, exit %llu; lost %llu; "
               "exec without fork %llu, exit without fork %llu; %zu processes tracked\n",
               static_cast<unsigned long long>(shown), static_cast<unsigned long long>(st.forks),
               static_cast<unsigned long long>(st.execs), static_cast<unsigned long long>(st.exits),
               static_cast<unsigned long long>(st.lost), static_cast<unsigned long long>(c.exec_without_fork),
               static_cast<unsigned long long>(c.exit_without_fork), tree.size());
  return 0;
}

}  // namespace lineage::cli
