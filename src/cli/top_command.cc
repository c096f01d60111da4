#include "cli/top_command.h"

#include <malloc.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "cli/cli11.h"
#include "core/process_tree.h"
#include "core/time_spec.h"
#include "core/top_load.h"
#include "explain/contexts.h"
#include "output/sanitize.h"
#include "output/top_writer.h"
#include "procfs/reader.h"
#include "procfs/stat_sampler.h"
#ifdef LINEAGE_HAVE_BPF
#include "events/task_stats_bpf.h"
#endif

namespace lineage::cli {
namespace {

struct TopOptions {
  CommonOptions common;
  std::string interval = "1s";
  size_t limit = 10;
  size_t processes = 3;
  std::string by = "context";
  bool watch = false;
  size_t count = 0;  // refreshes; 0: until interrupted (with --watch)
  bool wide = false;
  std::string sampler = "auto";  // auto, bpf, proc
};

// Where a refresh's stat of every process comes from: the BPF task
// iterator (one read for the whole table) when it loads, else /proc (one
// stat file per process). A BPF read that fails mid-run falls back for good.
class Sampler {
 public:
  static Result<Sampler> open(const TopOptions& o, uint64_t tick_ns) {
    Sampler s;
    s.tick_ns_ = tick_ns;
    auto proc = procfs::StatSampler::open(o.common.proc_root);
    if (!proc) return proc.error();
    s.proc_.emplace(std::move(*proc));
    if (o.sampler == "proc") return s;
    if (o.common.proc_root != "/proc") {
      if (o.sampler == "bpf") return usage_error("--sampler bpf reads the running kernel, not --proc-root");
      return s;
    }
#ifdef LINEAGE_HAVE_BPF
    auto bpf = events::TaskStatsBpf::open();
    if (bpf) s.bpf_ = std::move(*bpf);
    else if (o.sampler == "bpf") return bpf.error();
#else
    if (o.sampler == "bpf") return usage_error("--sampler bpf: this lineage was built without BPF");
#endif
    return s;
  }
  std::vector<core::Process> sample() {
#ifdef LINEAGE_HAVE_BPF
    if (bpf_) {
      auto all = bpf_->sample(tick_ns_);
      if (all) return std::move(*all);
      bpf_.reset();
    }
#endif
    return proc_->sample();
  }
  const char* name() const {
#ifdef LINEAGE_HAVE_BPF
    if (bpf_) return "bpf";
#endif
    return "proc";
  }

 private:
  std::optional<procfs::StatSampler> proc_;
#ifdef LINEAGE_HAVE_BPF
  std::unique_ptr<events::TaskStatsBpf> bpf_;
#endif
  uint64_t tick_ns_ = 10'000'000;
};

uint64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

void sleep_until(uint64_t deadline_ns) {
  timespec ts{static_cast<time_t>(deadline_ns / 1'000'000'000ull), static_cast<long>(deadline_ns % 1'000'000'000ull)};
  while (::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

// Writes one refresh; false when stdout is gone (a closed pipe ends --watch).
bool emit(const std::string& text, int& rc) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) == text.size() && std::fflush(stdout) == 0) return true;
  if (errno != EPIPE) {
    std::fprintf(stderr, "lineage: cannot write output: %s\n", std::strerror(errno));
    rc = static_cast<int>(ErrorKind::kInternal);
  }
  return false;
}

// The strings each process's group is made of, for one refresh: the
// GroupRefs handed to rank_load point into these.
struct Groups {
  std::vector<std::string> storage;  // reserved up front: never reallocated
  std::vector<core::GroupRef> refs;
};

Groups group_processes(const TopOptions& o, const core::ProcessTree& tree,
                       const std::vector<const explain::ProcessContext*>& contexts) {
  Groups g;
  g.refs.resize(tree.size());
  if (o.by == "context") {
    for (size_t i = 0; i < tree.size(); ++i) {
      const auto& c = *contexts[i]->context;
      g.refs[i] = {c.key, c.kind, c.label};
    }
    return g;
  }
  g.storage.reserve(2 * tree.size());
  auto keep = [&](std::string s) -> std::string_view { return g.storage.emplace_back(std::move(s)); };
  for (size_t i = 0; i < tree.size(); ++i) {
    const explain::ProcessContext& pc = *contexts[i];
    if (o.by == "unit") {
      std::string_view k = keep(pc.unit.empty() ? "(no systemd unit)" : pc.unit);
      g.refs[i] = {k, "unit", k};
    } else if (o.by == "container") {
      std::string_view k = keep(pc.container.empty() ? "(host: no container)" : "container " + pc.container);
      g.refs[i] = {k, "container", k};
    } else if (o.by == "user") {
      std::string_view k = keep(pc.user.empty() ? "(user not readable)" : "user " + pc.user);
      g.refs[i] = {k, "user", k};
    } else {  // parent
      size_t up = tree.parent(i);
      if (up == core::ProcessTree::kNone) {
        g.refs[i] = {"(no parent)", "parent", "(no parent: a root of the forest)"};
        continue;
      }
      const core::Process& parent = tree.at(up);
      std::string_view k = keep(fmt::format("parent:{}@{}", parent.pid(), parent.key.start_time_ns));
      std::string_view label = keep(fmt::format("children of {} (pid {})", parent.stat.comm, parent.pid()));
      g.refs[i] = {k, "parent", label};
    }
  }
  return g;
}

// Command lines of the processes shown, read once per process (and pid
// reuse checked by start time); forgotten when the table grows large.
class Commands {
 public:
  explicit Commands(const procfs::ProcReader& reader) : reader_(reader) {}
  const std::string& of(const core::Process& p) {
    if (cache_.size() > 4096) cache_.clear();
    auto it = cache_.find(p.key);
    if (it != cache_.end()) return it->second;
    std::string text = p.stat.comm.empty() ? "?" : "[" + p.stat.comm + "]";
    auto full = reader_.read(p.pid(), core::kFieldStat | core::kFieldCmdline);
    if (full && full->key == p.key && full->argv && !full->argv->empty()) text = full->command_line();
    return cache_.emplace(p.key, std::move(text)).first->second;
  }

 private:
  struct KeyHash {
    size_t operator()(const core::ProcessKey& k) const {
      return std::hash<uint64_t>()(k.start_time_ns * 31 + static_cast<uint32_t>(k.pid));
    }
  };
  const procfs::ProcReader& reader_;
  std::unordered_map<core::ProcessKey, std::string, KeyHash> cache_;
};

Result<int> run_top(const TopOptions& o) {
  // Each refresh allocates a snapshot of every process (megabytes at
  // 10,000) and frees the one before: kept in the heap rather than given
  // back with munmap, it is reused without a page fault per page.
  ::mallopt(M_MMAP_THRESHOLD, 256 << 20);
  ::mallopt(M_TRIM_THRESHOLD, 512 << 20);
  auto interval = core::parse_duration(o.interval);
  if (!interval) return interval.error();
  if (*interval < 100'000'000ull) return usage_error("--interval must be at least 0.1 s");
  if (o.count > 0 && !o.watch) return usage_error("--count needs --watch");
  auto reader = procfs::ProcReader::open(o.common.proc_root);
  if (!reader) return reader.error();
  auto sampler = Sampler::open(o, reader->tick_ns());
  if (!sampler) return sampler.error();
  core::SystemInfo sys = reader->system_info();
  explain::ContextCache cache(*reader, sys, explain::Paths{});
  Commands commands(*reader);
  Terminal term = detect_terminal(o.common);
  const bool redraw = o.watch && !o.common.json && ::isatty(STDOUT_FILENO) == 1;
  size_t cores = std::max(1u, std::thread::hardware_concurrency());

  core::LoadOptions lo;
  lo.limit = o.limit;
  lo.processes = o.processes;
  lo.tick_ns = reader->tick_ns();
  lo.page_size = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));

  // A sample is stamped at the middle of its read: a /proc scan of a large
  // table on a starved machine can take seconds, and its processes are
  // read all along it.
  uint64_t t_start = monotonic_ns();
  auto before = std::make_unique<core::ProcessTree>(sampler->sample());
  uint64_t t_before = t_start + (monotonic_ns() - t_start) / 2;
  uint64_t next = monotonic_ns();
  int rc = 0;
  for (size_t n = 0;; ++n) {
    next += *interval;
    sleep_until(next);
    t_start = monotonic_ns();
    auto after = std::make_unique<core::ProcessTree>(sampler->sample());
    uint64_t t_after = t_start + (monotonic_ns() - t_start) / 2;
    sys = reader->system_info();
    auto contexts = cache.resolve(*after);
    Groups groups = group_processes(o, *after, contexts);
    lo.interval_ns = t_after - t_before;
    core::LoadReport report = core::rank_load(before->processes(), after->processes(), groups.refs, lo);
    output::TopView view{report, after->processes(), contexts, o.by, {}, sys, cores, sampler->name()};
    view.command = [&](size_t i) { return commands.of(after->at(i)); };
    std::string text;
    if (o.common.json) {
      text = output::dump_json(output::top_json(view)) + "\n";
    } else {
      output::TopTextOptions to{term.color, o.wide ? 0 : term.width, o.wide};
      text = output::render_top_text(view, to);
      if (redraw) text = "\x1b[H\x1b[2J" + text;
      else if (o.watch && n > 0) text = "\n" + text;
    }
    if (!emit(text, rc)) return rc;
    if (!o.watch || (o.count > 0 && n + 1 >= o.count)) break;
    // A refresh that took longer than the interval is not made up for.
    if (monotonic_ns() > next + *interval) next = monotonic_ns();
    before = std::move(after);
    t_before = t_after;
  }
  return 0;
}

}  // namespace

Command add_top_command(CLI::App& app) {
  auto o = std::make_shared<TopOptions>();
  CLI::App* cmd = app.add_subcommand("top", "Where the load comes from, grouped by launch context");
  cmd->footer(
      "CPU is measured over the interval (two snapshots, utime+stime of each process matched by pid and\n"
      "start time), not averaged over each process's life as ps's %CPU is.\n"
      "Examples:\n"
      "  lineage top                          the 10 busiest launch contexts over 1 s\n"
      "  lineage top --interval 5s --limit 0  every context, over 5 s\n"
      "  lineage top --by user                grouped by user (or unit, container, parent)\n"
      "  lineage top --watch                  refresh every interval (Ctrl-C ends)\n"
      "  lineage top --watch --count 3 --json three lineage.top/v1 documents, one a line\n"
      "Exit: 0 ok, 4 usage error, 5 internal error.");
  add_common(*cmd, o->common);
  cmd->add_option("--interval", o->interval, "Time between the two snapshots (1s, 2s, 1m)")->capture_default_str();
  cmd->add_option("--limit", o->limit, "Groups shown, busiest first (0: all)")->capture_default_str()
      ->check(CLI::Range(size_t{0}, size_t{1} << 24));
  cmd->add_option("--processes", o->processes, "Busiest processes shown in each group")->capture_default_str()
      ->check(CLI::Range(size_t{0}, size_t{1} << 24));
  cmd->add_option("--by", o->by, "Group by context, unit, container, user or parent")->capture_default_str()
      ->check(CLI::IsMember({"context", "unit", "container", "user", "parent"}));
  cmd->add_flag("--watch", o->watch, "Refresh every interval (redrawn on a terminal, blocks otherwise)");
  cmd->add_option("--count", o->count, "With --watch: stop after this many refreshes")
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  cmd->add_flag("-w,--wide", o->wide, "Do not cut lines to the terminal width");
  cmd->add_option("--sampler", o->sampler, "How each refresh reads every process: bpf (one read, root), proc, or auto")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "bpf", "proc"}));
  return {cmd, [o] { return finish(run_top(*o)); }};
}

}  // namespace lineage::cli
