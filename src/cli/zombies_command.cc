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
#include "snapshot/snapshot.h"
#include "store/recall.h"

namespace lineage::cli {
namespace {

Result<int> present(const ZombiesOptions& o, const std::vector<explain::ZombieFactory>& factories,
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
                          [&](const explain::ZombieFactory& f) { return f.group.zombies.size() >= o.min; });
  return over ? 1 : 0;
}

}  // namespace

// The zombies of a snapshot, their parents explained as it has them.
Result<int> run_zombies_from(const ZombiesOptions& o) {
  auto scene = snapshot::read_file(o.from);
  if (!scene) return scene.error();
  core::ProcessTree tree(std::move(scene->processes));
  explain::ExplainParent explain = [&](int32_t pid) -> std::optional<explain::ParentWhy> {
    auto report = snapshot::report_of(*scene, tree, pid);
    if (!report) return std::nullopt;
    return explain::ParentWhy{report->target(), std::move(report->summary), std::move(report->sources)};
  };
  auto factories = explain::find_zombie_factories(tree, explain, nullptr);
  for (auto& f : factories) {
    auto sub = scene->subreapers.find(f.group.parent_pid);
    if (f.group.reaper != core::Reaper::kParent || sub == scene->subreapers.end()) continue;
    // Recorded history said so when the snapshot was taken.
    f.group.reaper = core::Reaper::kSubreaper;
    f.reaper_evidence = sub->second;
    f.advice = explain::zombie_advice(f.group, f.parent ? f.parent->stat.comm : "?", f.restart);
  }
  return present(o, factories, tree, scene->sys);
}

Result<int> run_zombies(const ZombiesOptions& o) {
  if (!o.from.empty()) return run_zombies_from(o);
  auto reader = procfs::ProcReader::open(o.common.proc_root);
  if (!reader) return reader.error();
  core::SystemInfo sys = reader->system_info();
  // Every pid's stat and nothing more: the state, the parent, the start.
  core::ProcessTree tree(reader->scan(core::kFieldStat));
  explain::ReportOptions ropts;
  ropts.want_git = false;
  store::LazyRecall recall(history_path(o.db), *reader);
  ropts.recall = &recall;
  explain::ExplainParent explain = [&](int32_t pid) -> std::optional<explain::ParentWhy> {
    auto report = explain::explain_pid(*reader, sys, o.paths, pid, ropts);
    if (!report) return std::nullopt;  // exited since the scan
    return explain::ParentWhy{report->target(), std::move(report->summary), std::move(report->sources)};
  };
  auto factories = explain::find_zombie_factories(tree, explain, &recall);
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
  cmd->add_option("--from", o->from, "The zombies of a snapshot file (lineage snapshot) instead of /proc");
  cmd->add_option("--db", o->db, fmt::format("History database, to tell adopted zombies (default {})", kDefaultDb));
  return {cmd, [o] { return finish(run_zombies(*o)); }};
}

}  // namespace lineage::cli
