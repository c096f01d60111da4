#include "cli/why_command.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>

#include <fmt/format.h>

#include "cli/targets.h"
#include "explain/report.h"
#include "output/sanitize.h"
#include "output/why_writer.h"
#include "procfs/reader.h"
#include "cli/targets_ext.h"

namespace lineage::cli {
namespace {

// A name matching several processes is ambiguous unless --all.
Result<std::vector<int32_t>> resolve_name(const procfs::ProcReader& reader, const std::string& name,
                                          bool exact, bool all) {
  core::ProcessTree tree(reader.scan(core::kFieldStat | core::kFieldCmdline));
  auto found = resolve_target(tree, {TargetKind::kName, name, exact}, static_cast<int32_t>(::getpid()));
  if (!found) return found.error();
  std::vector<int32_t> pids;
  for (size_t i : *found) pids.push_back(tree.at(i).pid());
  if (pids.size() > 1 && !all) {
    std::string list;
    for (size_t k = 0; k < found->size() && k < 20; ++k) {
      const auto& p = tree.at((*found)[k]);
      list += fmt::format("\n  {:>2}. {:>7}  {}", k + 1, p.pid(), output::escape_text(p.command_line()));
    }
    if (found->size() > 20) list += fmt::format("\n  ... and {} more", found->size() - 20);
    return Error{ErrorKind::kUsage,
                 fmt::format("'{}' matches {} processes; give a pid, --exact, or --all:{}",
                             output::escape_text(name), pids.size(), list)};
  }
  return pids;
}

Result<std::vector<int32_t>> resolve_one(const procfs::ProcReader& reader, const WhyOptions& o,
                                         TargetKind kind, const std::string& text) {
  if (kind == TargetKind::kPid) {
    auto pid = parse_pid(text);
    if (!pid) return pid.error();
    return std::vector<int32_t>{*pid};
  }
  return resolve_name(reader, text, o.exact, o.all);
}

}  // namespace

Result<CommandOutput> run_why(const WhyOptions& o) {
  auto reader = procfs::ProcReader::open(o.common.proc_root);
  if (!reader) return reader.error();
  procfs::SystemInfo sys = reader->system_info();

  // Every target, in the order given, each becoming one or more pids.
  std::vector<std::pair<std::string, std::vector<int32_t>>> resolved;
  auto add = [&](Result<std::vector<int32_t>> pids, const std::string& label) -> std::optional<Error> {
    if (!pids) return pids.error();
    resolved.emplace_back(label, std::move(*pids));
    return std::nullopt;
  };
  std::optional<Error> failure;
  for (const auto& t : o.targets) {
    if (failure) break;
    if (t.starts_with(":")) failure = add(resolve_port(*reader, t.substr(1)), t);
    else if (looks_like_pid(t)) failure = add(resolve_one(*reader, o, TargetKind::kPid, t), t);
    else if (t.find('/') != std::string::npos) failure = add(resolve_file(*reader, t), t);
    else failure = add(resolve_one(*reader, o, TargetKind::kName, t), t);
  }
  for (const auto& t : o.pids) if (!failure) failure = add(resolve_one(*reader, o, TargetKind::kPid, t), t);
  for (const auto& t : o.names) if (!failure) failure = add(resolve_one(*reader, o, TargetKind::kName, t), t);
  for (const auto& t : o.ports) if (!failure) failure = add(resolve_port(*reader, t), ":" + t);
  for (const auto& t : o.files) if (!failure) failure = add(resolve_file(*reader, t), t);
  for (const auto& t : o.containers) if (!failure) failure = add(resolve_container(*reader, o.paths, t), t);
  if (failure) return *failure;
  if (resolved.empty()) return usage_error("no target: give a PID, NAME, :PORT or PATH (see lineage why --help)");

  explain::ReportOptions ropts;
  ropts.want_children = o.tree;
  ropts.want_environment = o.env;
  ropts.want_git = o.common.json || !o.short_form;
  Terminal term = detect_terminal(o.common);
  output::WhyTextOptions topts{term.color, o.short_form, o.tree, o.env, o.wide ? 0 : term.width};

  CommandOutput result;
  std::vector<output::Json> docs;
  size_t sections = 0;
  for (const auto& [label, pids] : resolved) {
    for (int32_t pid : pids) {
      auto report = explain::explain_pid(*reader, sys, o.paths, pid, ropts);
      if (!report) return report.error();
      if (!report->warnings.empty()) result.exit_code = 1;
      if (o.common.json) {
        docs.push_back(output::why_json(*report, sys, o.env));
      } else {
        if (sections++ > 0 && !o.short_form) result.text += "\n";
        result.text += output::render_why_text(*report, sys, topts);
      }
    }
  }
  if (o.common.json) {
    if (docs.size() == 1) {
      result.text = output::dump_json(docs.front()) + "\n";
    } else {
      for (auto& d : docs) d.erase("schema");
      output::Json all;
      all["schema"] = "lineage.why/v1";
      all["results"] = std::move(docs);
      result.text = output::dump_json(all) + "\n";
    }
  }
  return result;
}

}  // namespace lineage::cli
