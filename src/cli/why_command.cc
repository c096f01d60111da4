#include "cli/why_command.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>

#include <fmt/format.h>

#include "explain/report.h"
#include "output/sanitize.h"
#include "output/why_writer.h"
#include "procfs/reader.h"
#include "resolve/targets.h"
#include "resolve/targets_ext.h"

namespace lineage::cli {
namespace {

Result<std::vector<int32_t>> resolve_one(const procfs::ProcReader& reader, const WhyOptions& o,
                                         resolve::TargetKind kind, const std::string& text) {
  if (kind == resolve::TargetKind::kPid) {
    auto pid = resolve::parse_pid(text);
    if (!pid) return pid.error();
    return std::vector<int32_t>{*pid};
  }
  return resolve::resolve_name(reader, text, o.exact, o.all);
}

struct Resolved {
  std::string label;  // the target as typed
  std::vector<int32_t> pids;
  bool given_pid = false;  // a pid typed by the user, not a match
};

struct Skipped {
  int32_t pid;
  std::string label;
};

constexpr const char* kExitedReason = "exited before it could be explained";

output::Json skipped_json(const std::vector<Skipped>& skipped) {
  output::Json list = output::Json::array();
  for (const auto& s : skipped) {
    output::Json entry;
    entry["pid"] = s.pid;
    entry["target"] = s.label;
    entry["reason"] = kExitedReason;
    list.push_back(std::move(entry));
  }
  return list;
}

// Every match of every target exited between the scan and its report.
Error all_vanished(const std::vector<Skipped>& skipped) {
  std::string labels;
  for (const auto& s : skipped) {
    std::string label = "'" + output::escape_text(s.label) + "'";
    if (labels.find(label) == std::string::npos) labels += (labels.empty() ? "" : ", ") + label;
  }
  return not_found(fmt::format("every process matching {} {}", labels, kExitedReason));
}

}  // namespace

Result<CommandOutput> run_why(const WhyOptions& o) {
  auto reader = procfs::ProcReader::open(o.common.proc_root);
  if (!reader) return reader.error();
  core::SystemInfo sys = reader->system_info();

  // Every target, in the order given, each becoming one or more pids.
  std::vector<Resolved> resolved;
  auto add = [&](Result<std::vector<int32_t>> pids, const std::string& label,
                 bool given_pid = false) -> std::optional<Error> {
    if (!pids) return pids.error();
    resolved.push_back({label, std::move(*pids), given_pid});
    return std::nullopt;
  };
  std::optional<Error> failure;
  for (const auto& t : o.targets) {
    if (failure) break;
    if (t.starts_with(":")) failure = add(resolve::resolve_port(*reader, t.substr(1)), t);
    else if (resolve::looks_like_pid(t)) failure = add(resolve_one(*reader, o, resolve::TargetKind::kPid, t), t, true);
    else if (t.find('/') != std::string::npos) failure = add(resolve::resolve_file(*reader, t), t);
    else failure = add(resolve_one(*reader, o, resolve::TargetKind::kName, t), t);
  }
  for (const auto& t : o.pids) if (!failure) failure = add(resolve_one(*reader, o, resolve::TargetKind::kPid, t), t, true);
  for (const auto& t : o.names) if (!failure) failure = add(resolve_one(*reader, o, resolve::TargetKind::kName, t), t);
  for (const auto& t : o.ports) if (!failure) failure = add(resolve::resolve_port(*reader, t), ":" + t);
  for (const auto& t : o.files) if (!failure) failure = add(resolve::resolve_file(*reader, t), t);
  for (const auto& t : o.containers) if (!failure) failure = add(resolve::resolve_container(*reader, o.paths, t), t);
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
  std::vector<Skipped> skipped;
  size_t sections = 0;
  for (const auto& target : resolved) {
    for (int32_t pid : target.pids) {
      auto report = explain::explain_pid(*reader, sys, o.paths, pid, ropts);
      if (!report) {
        // A match found by the scan that exited before its report: churn,
        // not a failure. A pid the user typed that does not exist is one.
        if (report.error().kind != ErrorKind::kNotFound || target.given_pid) return report.error();
        skipped.push_back({pid, target.label});
        continue;
      }
      if (!report->warnings.empty()) result.exit_code = 1;
      if (o.common.json) {
        docs.push_back(output::why_json(*report, sys, o.env));
      } else {
        if (sections++ > 0 && !o.short_form) result.text += "\n";
        result.text += output::render_why_text(*report, sys, topts);
      }
    }
  }
  if (docs.empty() && sections == 0) return all_vanished(skipped);
  if (o.common.json) {
    output::Json doc;
    if (docs.size() == 1) {
      doc = std::move(docs.front());
    } else {
      for (auto& d : docs) d.erase("schema");
      doc["schema"] = "lineage.why/v1";
      doc["results"] = std::move(docs);
    }
    if (!skipped.empty()) doc["skipped"] = skipped_json(skipped);
    result.text = output::dump_json(doc) + "\n";
  } else {
    for (const auto& s : skipped) {
      result.notes += fmt::format("lineage: note: pid {} (matching {}) exited before it could be explained\n",
                                  s.pid, output::escape_text(s.label));
    }
  }
  return result;
}

}  // namespace lineage::cli
