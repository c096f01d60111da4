#include "cli/watch_command.h"

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <optional>

#include <fmt/format.h>

#include "audit/live.h"
#include "audit/rules.h"
#include "core/clock.h"
#include "core/live_tree.h"
#include "events/sources.h"
#include "output/format.h"
#include "output/audit_writer.h"
#include "output/event_writer.h"
#include "output/json_writer.h"
#include "output/sanitize.h"
#include "procfs/reader.h"
#include "procfs/users.h"
#include "resolve/event_filter.h"

namespace lineage::cli {
namespace {

std::atomic<bool> g_stop{false};
void on_signal(int) { g_stop = true; }

// A finding as watch --audit prints it: one line, or a lineage.finding/v1 JSON line.
std::string finding_line(const audit::AuditEntry& e, bool json, const core::SystemInfo& sys, int64_t realtime_ns) {
  if (json) {
    output::Json j = output::finding_json(e, sys);
    j["schema"] = "lineage.finding/v1";
    j["time"] = output::format_rfc3339(realtime_ns);
    return output::dump_json(j) + "\n";
  }
  std::string chain;
  for (const auto& link : e.chain) chain += (chain.empty() ? "" : " > ") + output::escape_text(link.comm);
  std::string who = e.process ? fmt::format("{} (pid {})", output::escape_text(e.process->stat.comm), e.finding.process.pid)
                              : std::string("system");
  std::string out = fmt::format("{} {:<8} {:<26} {}: {}  [{}]\n", output::format_rfc3339(realtime_ns).substr(11, 12),
                                audit::severity_name(e.finding.severity), e.finding.rule, who,
                                output::escape_text(e.finding.title), chain);
  for (const auto& ev : e.finding.evidence) out += "    evidence  " + output::escape_text(ev) + "\n";
  return out;
}

}  // namespace

Result<int> run_watch(const WatchOptions& o) {
  if (o.duration < 0) return usage_error("--duration must be positive");
  if (!o.audit && (!o.rules.empty() || !o.skip.empty())) return usage_error("--rule and --skip need --audit");
  std::optional<audit::LiveAuditor> auditor;
  auto reader = procfs::ProcReader::open(o.common.proc_root);
  if (!reader) return reader.error();
  if (o.audit) {
    std::string unknown;
    auto rules = audit::select_rules(o.rules, o.skip, true, &unknown);
    if (!rules) {
      return usage_error(fmt::format("unknown rule '{}' (lineage audit --list-rules lists them)",
                                     output::escape_text(unknown)));
    }
    auto min = audit::parse_severity(o.min_severity);
    if (!min) return usage_error("a severity is one of info, low, medium, high, critical");
    auditor.emplace(audit::LiveAuditOptions{std::move(*rules), *min, o.storm_rate}, &*reader);
  }
  if (o.max_processes < 16) return usage_error("--max-processes must be at least 16");
  // With --audit the exec events carry the environment (eBPF): the rules
  // judge LD_PRELOAD as execve gave it, of a process gone by now too. It is
  // neither printed nor kept.
  auto opened = events::open_source(o.source, *reader, o.poll_interval_ms, o.threads, o.audit, audit::env_wanted);
  if (!opened) return opened.error();
  auto& source = opened->source;

  // Bootstrap from /proc after the source is open, so nothing falls between.
  constexpr core::FieldMask kSnapshotFields = core::kFieldStat | core::kFieldStatus | core::kFieldCmdline | core::kFieldExe;
  core::LiveTree tree(o.max_processes, reader->tick_ns(), o.max_threads);
  tree.bootstrap(reader->scan(kSnapshotFields), core::boot_now_ns());
  resolve::EventFilterSpec spec{o.events, o.pids, o.container, o.comms, o.user};
  auto filter = resolve::make_event_filter(spec, tree, *reader);
  if (!filter) return filter.error();

  std::fprintf(stderr, "lineage watch: source %s (%s)%s; Ctrl-C to stop\n", std::string(source->name()).c_str(),
               opened->why.c_str(), o.audit ? ", auditing every exec" : "");
  struct sigaction sa {};
  sa.sa_handler = on_signal;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);

  procfs::UserNames users;
  const core::WallClock wall = core::WallClock::sample();
  const core::SystemInfo sys = reader->system_info();
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<int64_t>(o.duration * 1000));
  std::vector<core::Event> batch;
  uint64_t shown = 0, findings = 0;
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
      if (!resolve::wanted(*filter, e, tree, p)) continue;
      if (auditor) {
        for (const auto& f : auditor->on_event(e, tree, p)) {
          ++findings;
          out += finding_line(f, o.common.json, sys, wall.to_realtime_ns(e.time_ns));
        }
        continue;
      }
      ++shown;
      auto names = resolve::chain_names(tree, p, e.time_ns);
      if (o.common.json) {
        out += output::render_event_json(e, names);
        continue;
      }
      uint64_t life = e.kind == core::EventKind::kExit && p && e.time_ns > p->key.start_time_ns
                          ? e.time_ns - p->key.start_time_ns
                          : 0;
      out += output::render_event_text(e, names, users.name(e.uid), wall.to_realtime_ns(e.time_ns), life);
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
  if (auditor) std::fprintf(stderr, "lineage watch: %llu findings\n", static_cast<unsigned long long>(findings));
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
