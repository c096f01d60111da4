#include "cli/tree_command.h"

#include <unistd.h>

#include <fmt/format.h>

#include "output/json_writer.h"
#include "output/sanitize.h"
#include "output/tree_writer.h"
#include "procfs/reader.h"
#include "procfs/users.h"

namespace lineage::cli {

using namespace core;

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
  std::vector<Process> processes = reader->scan(fields);
  if (fields & kFieldStatus) {
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
