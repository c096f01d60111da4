#include "cli/tree_command.h"

#include <unistd.h>

#include <fmt/format.h>

#include "cli/history_command.h"
#include "output/json_writer.h"
#include "output/sanitize.h"
#include "output/tree_writer.h"
#include "procfs/reader.h"
#include "procfs/users.h"
#include "snapshot/snapshot.h"
#include "store/recall.h"

namespace lineage::cli {

using namespace core;

namespace {

// Processes can number in the millions over a history; a forest of one
// moment holds what was alive then.
constexpr size_t kMaxForestAt = 1'000'000;

// The processes alive at --at, as recorded, with each one's current parent
// at that moment (a re-parented process shows under its adopter); sys is
// moved to that moment so ages read as they were.
Result<std::vector<Process>> recorded_forest(const TreeOptions& options, core::SystemInfo& sys) {
  auto when = resolve_at(options.at, history_path(options.db));
  if (!when) return when.error();
  auto rows = when->history.alive_at(when->unix_ns, kMaxForestAt);
  if (!rows) return rows.error();
  std::unordered_map<int64_t, int32_t> pid_of;
  for (const auto& r : *rows) pid_of.emplace(r.row, r.key.pid);
  std::vector<Process> out;
  out.reserve(rows->size());
  procfs::UserNames users;
  for (const auto& r : *rows) {
    uint64_t t = static_cast<uint64_t>(when->unix_ns - r.realtime_offset_ns);
    Process p = store::to_process(r, t);
    auto parent = pid_of.find(r.parent_at(t));
    p.stat.ppid = parent != pid_of.end() ? parent->second : (r.key.pid == 1 ? 0 : 1);
    p.stat.start_ticks = r.key.start_time_ns / sys.tick_ns();
    users.fill(p);
    out.push_back(std::move(p));
  }
  if (!out.empty()) {
    sys.realtime_ns_now = when->unix_ns;
    sys.boot_ns_now = static_cast<uint64_t>(when->unix_ns - rows->front().realtime_offset_ns);
  }
  return out;
}

}  // namespace

Result<std::string> run_tree(const TreeOptions& options) {
  auto columns = output::parse_columns(options.columns.empty() ? output::kDefaultColumns
                                                               : std::string_view(options.columns));
  if (!columns) return columns.error();
  std::vector<output::SortKey> sort;
  if (!options.sort.empty()) {
    auto parsed = output::parse_sort(options.sort);
    if (!parsed) return parsed.error();
    sort = std::move(*parsed);
  }
  std::optional<uint32_t> user_filter;
  if (!options.user.empty()) {
    user_filter = procfs::UserNames::lookup(options.user);
    if (!user_filter) {
      return usage_error(fmt::format("unknown user '{}'", output::escape_text(options.user)));
    }
  }
  if (options.target && resolve::is_pid_target(*options.target)) {
    auto pid = resolve::parse_pid(options.target->text);  // reject a bad pid before scanning
    if (!pid) return pid.error();
  }

  // Read only what the output needs.
  FieldMask fields = kFieldStat;
  for (const auto* c : *columns) fields |= c->needs;
  for (const auto& k : sort) fields |= k.column->needs;
  if (user_filter) fields |= kFieldStatus;
  if (options.threads) fields |= kFieldThreads;
  if (options.compact) fields |= kFieldCmdline | kFieldStatus;
  if (options.common.json) fields |= kFieldStatus | kFieldCmdline;
  if (options.target && !resolve::is_pid_target(*options.target)) fields |= kFieldCmdline;

  auto reader = procfs::ProcReader::open(options.common.proc_root);
  if (!reader) return reader.error();
  core::SystemInfo sys = reader->system_info();
  std::vector<Process> processes;
  if (!options.at.empty()) {
    auto recorded = recorded_forest(options, sys);
    if (!recorded) return recorded.error();
    processes = std::move(*recorded);
  } else if (!options.from.empty()) {
    auto scene = snapshot::read_file(options.from);  // user names as they were there
    if (!scene) return scene.error();
    sys = scene->sys;
    processes = std::move(scene->processes);
  } else {
    processes = reader->scan(fields);
  }
  if ((fields & kFieldStatus) && options.from.empty()) {
    procfs::UserNames users;
    for (auto& p : processes) users.fill(p);
  }
  ProcessTree tree(std::move(processes));

  output::ForestOptions forest_options;
  forest_options.sort = std::move(sort);
  forest_options.threads = options.threads;
  forest_options.compact = options.compact;
  bool kernel = options.kernel;
  if (options.target) {
    auto targets = resolve::resolve_target(tree, *options.target, static_cast<int32_t>(::getpid()));
    if (!targets) return targets.error();
    for (size_t t : *targets) kernel |= tree.at(t).is_kernel_thread();
    forest_options.targets = std::move(*targets);
  }
  forest_options.visible = [&](const Process& p) {
    if (!kernel && p.is_kernel_thread()) return false;
    if (user_filter && (!p.status || p.status->uid.effective != *user_filter)) return false;
    return true;
  };
  output::Forest forest = output::build_forest(tree, sys, forest_options);

  if (options.common.json) {
    std::vector<std::string> names;
    for (const auto* c : *columns) names.emplace_back(c->name);
    return output::render_tree_json(forest, tree, sys, names);
  }
  Terminal term = detect_terminal(options.common);
  output::TextOptions text;
  text.columns = std::move(*columns);
  text.ascii = options.ascii;
  text.color = term.color;
  text.width = options.wide ? 0 : (options.width > 0 ? options.width : term.width);
  return output::render_tree_text(forest, tree, sys, text);
}

}  // namespace lineage::cli
