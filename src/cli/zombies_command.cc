#include "cli/zombies_command.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>

#include <fmt/format.h>

#include "cli/cli11.h"
#include "cli/history_command.h"
#include "cli/record_command.h"
#include "core/zombies.h"
#include "explain/reaping.h"
#include "explain/report.h"
#include "output/zombies_writer.h"
#include "procfs/reader.h"
#include "procfs/users.h"
#include "store/recall.h"

namespace lineage::cli {
namespace {

// Zombies asked of history per parent: enough to tell adopted ones apart,
// bounded for a parent with thousands.
constexpr size_t kMaxRecallPerParent = 64;

// What `why` says of a parent: the process as read, summary and sources.
struct ParentWhy {
  core::Process process;
  std::string summary;
  std::vector<explain::Source> sources;
};
using ExplainParent = std::function<std::optional<ParentWhy>(int32_t pid)>;

// A zombie of g adopted by its parent, as recorded history tells: the
// evidence line, or "" when history does not say (or there is none).
std::string adopted_evidence(const core::ZombieGroup& g, const core::ProcessTree& tree,
                             const explain::Recall& recall) {
  for (size_t n = 0; n < g.zombies.size() && n < kMaxRecallPerParent; ++n) {
    const core::Process& z = tree.at(g.zombies[g.zombies.size() - 1 - n]);  // newest first
    explain::Origin o = recall.origin(z);
    if (!o.covered) {
      if (n == 0 && o.note.empty()) return "";  // no history at all: ask no more
      continue;
    }
    if (!o.ancestors.empty()) {
      const core::Process& forked_by = o.ancestors.back();
      return fmt::format("recorded history: pid {} was forked by pid {} ({}), which exited", z.pid(),
                         forked_by.pid(), forked_by.stat.comm);
    }
    if (o.live_ancestor && o.live_ancestor->pid != g.parent_pid) {
      return fmt::format("recorded history: pid {} was forked by pid {}, not by its parent pid {}", z.pid(),
                         o.live_ancestor->pid, g.parent_pid);
    }
  }
  return "";
}

std::vector<output::ZombieFactory> build_factories(const core::ProcessTree& tree, const ExplainParent& explain,
                                                   const explain::Recall* recall) {
  std::vector<output::ZombieFactory> out;
  for (auto& g : core::group_zombies(tree)) {
    output::ZombieFactory f;
    f.group = std::move(g);
    if (auto why = explain(f.group.parent_pid)) {
      // Only the same process: the pid may have been reused since the scan.
      bool same = f.group.parent == core::ProcessTree::kNone ||
                  tree.at(f.group.parent).key.start_time_ns == why->process.key.start_time_ns ||
                  core::plausible_parent(why->process, tree.at(f.group.zombies.front()));
      if (same) {
        f.parent = std::move(why->process);
        f.summary = std::move(why->summary);
        f.sources = std::move(why->sources);
        if (core::is_namespace_init(*f.parent)) f.group.reaper = core::Reaper::kInit;
      }
    }
    if (f.group.reaper == core::Reaper::kParent && recall != nullptr) {
      f.reaper_evidence = adopted_evidence(f.group, tree, *recall);
      if (!f.reaper_evidence.empty()) f.group.reaper = core::Reaper::kSubreaper;
    }
    f.restart = explain::restart_of(f.sources);
    std::string comm = f.parent ? f.parent->stat.comm
                       : f.group.parent != core::ProcessTree::kNone ? tree.at(f.group.parent).stat.comm
                                                                     : "?";
    f.advice = explain::zombie_advice(f.group, comm, f.restart);
    out.push_back(std::move(f));
  }
  return out;
}

Result<int> present(const ZombiesOptions& o, const std::vector<output::ZombieFactory>& factories,
                    const core::ProcessTree& tree, const core::SystemInfo& sys) {
  std::string text;
  if (o.common.json) {
    text = output::dump_json(output::zombies_json(factories, tree, sys, o.min)) + "\n";
  } else {
    Terminal term = detect_terminal(o.common);
    output::ZombiesTextOptions topts;
    topts.color = term.color;
    topts.width = o.wide ? 0 : term.width;
    text = output::render_zombies_text(factories, tree, sys, topts);
  }
  int rc = write_out(text);
  if (rc != 0) return rc;
  bool over = std::any_of(factories.begin(), factories.end(),
                          [&](const output::ZombieFactory& f) { return f.group.zombies.size() >= o.min; });
  return over ? 1 : 0;
}

}  // namespace

Result<int> run_zombies(const ZombiesOptions& o) {
  auto reader = procfs::ProcReader::open(o.common.proc_root);
  if (!reader) return reader.error();
  core::SystemInfo sys = reader->system_info();
  // Every pid's stat and nothing more: the state, the parent, the start.
  core::ProcessTree tree(reader->scan(core::kFieldStat));
  explain::ReportOptions ropts;
  ropts.want_git = false;
  store::LazyRecall recall(history_path(o.db), *reader);
  ropts.recall = &recall;
  ExplainParent explain = [&](int32_t pid) -> std::optional<ParentWhy> {
    auto report = explain::explain_pid(*reader, sys, o.paths, pid, ropts);
    if (!report) return std::nullopt;  // exited since the scan
    return ParentWhy{report->target(), std::move(report->summary), std::move(report->sources)};
  };
  auto factories = build_factories(tree, explain, &recall);
  return present(o, factories, tree, sys);
}

Command add_zombies_command(CLI::App& app) {
  auto o = std::make_shared<ZombiesOptions>();
  CLI::App* cmd = app.add_subcommand("zombies", "Zombies grouped by the parent that fails to reap them");
  cmd->footer(
      "Examples:\n"
      "  lineage zombies                     every parent with zombies, its launcher and what to restart\n"
      "  lineage zombies --min 50            exit 1 only when a parent has 50 or more (monitoring)\n"
      "  lineage zombies --json              lineage.zombies/v1\n"
      "A zombie has exited; only its parent's wait() removes it. A parent that is pid 1 of its pid\n"
      "namespace, or a subreaper that adopted them (known from recorded history), is flagged.\n"
      "Exit: 0 no parent has --min zombies, 1 one has (default --min 1), 4 usage.");
  add_common(*cmd, o->common);
  cmd->add_option("--min", o->min, "Exit 1 when a parent has at least N zombies")
      ->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 30));
  cmd->add_flag("-w,--wide", o->wide, "Do not cut lines to the terminal width");
  cmd->add_option("--db", o->db, fmt::format("History database, to tell adopted zombies (default {})", kDefaultDb));
  return {cmd, [o] { return finish(run_zombies(*o)); }};
}

}  // namespace lineage::cli
