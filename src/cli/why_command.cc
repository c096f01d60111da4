#include "cli/why_command.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>

#include <fmt/format.h>

#include "cli/history_command.h"
#include "cli/record_command.h"
#include "core/time_spec.h"
#include "explain/report.h"
#include "output/sanitize.h"
#include "output/why_writer.h"
#include "procfs/reader.h"
#include "resolve/targets.h"
#include "resolve/targets_ext.h"
#include "snapshot/snapshot.h"
#include "store/recall.h"

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

// The reports of a run as one lineage.why/v1 document: a single report as
// it is, several as "results".
output::Json one_document(std::vector<output::Json> docs) {
  if (docs.size() == 1) return std::move(docs.front());
  output::Json doc;
  for (auto& d : docs) d.erase("schema");
  doc["schema"] = "lineage.why/v1";
  doc["results"] = std::move(docs);
  return doc;
}

// The recorded processes a target names at --at: a pid's holder then, or
// the processes alive then whose name matches.
Result<std::vector<store::RecordedProcess>> recorded_targets(const store::History& h, const WhyOptions& o,
                                                             int64_t t) {
  std::vector<store::RecordedProcess> out;
  std::vector<std::pair<std::string, bool>> wanted;  // text, is a pid
  for (const auto& x : o.targets) wanted.emplace_back(x, resolve::looks_like_pid(x));
  for (const auto& x : o.pids) wanted.emplace_back(x, true);
  for (const auto& x : o.names) wanted.emplace_back(x, false);
  if (!o.ports.empty() || !o.files.empty() || !o.containers.empty() ||
      std::any_of(o.targets.begin(), o.targets.end(), [](const std::string& x) {
        return x.starts_with(":") || x.find('/') != std::string::npos;
      })) {
    return usage_error("--at takes pids and names (ports, files and containers are not recorded)");
  }
  if (wanted.empty()) return usage_error("no target: give a PID or NAME with --at");
  for (const auto& [text, is_pid] : wanted) {
    if (is_pid) {
      auto pid = resolve::parse_pid(text);
      if (!pid) return pid.error();
      auto r = h.holder_at(*pid, t);
      if (!r) return r.error();
      if (!*r) {
        return not_found(fmt::format("no recorded process held pid {} at {}", *pid, core::format_time(t, false)));
      }
      out.push_back(std::move(**r));
      continue;
    }
    store::HistoryFilter f;
    f.name = text;
    f.since_unix_ns = f.until_unix_ns = t;
    f.limit = 1000;
    auto rows = h.query(f);
    if (!rows) return rows.error();
    if (rows->empty()) {
      return not_found(fmt::format("no recorded process matching '{}' was alive at {}", output::escape_text(text),
                                   core::format_time(t, false)));
    }
    if (rows->size() > 1 && !o.all) {
      return usage_error(fmt::format("'{}' matched {} processes at {}; give a pid, or --all",
                                     output::escape_text(text), rows->size(), core::format_time(t, false)));
    }
    for (auto& r : *rows) out.push_back(std::move(r));
  }
  return out;
}

// The chain of r at Unix time t through fork parents, root first, every
// process as recorded (nothing read from /proc: the moment is past).
Result<std::vector<core::Process>> recorded_chain(const store::History& h, const store::RecordedProcess& r,
                                                  int64_t t) {
  constexpr size_t kMaxDepth = 256;
  store::History::Snapshot snapshot(h);
  uint64_t boot_t = static_cast<uint64_t>(t - r.realtime_offset_ns);
  store::RecordedProcess target = r;
  store::inherit_image(h, target);
  std::vector<core::Process> chain{store::to_process(target, boot_t)};
  int64_t up = r.parent_row;
  while (up != 0 && chain.size() < kMaxDepth) {
    auto p = h.by_row(up);
    if (!p) return p.error();
    if (!*p) break;
    store::inherit_image(h, **p);
    chain.push_back(store::to_process(**p, boot_t));
    up = (*p)->parent_row;
  }
  std::reverse(chain.begin(), chain.end());
  return chain;
}

Result<CommandOutput> run_why_at(const WhyOptions& o, const procfs::ProcReader& reader, core::SystemInfo sys) {
  auto when = resolve_at(o.at, history_path(o.db));
  if (!when) return when.error();
  auto targets = recorded_targets(when->history, o, when->unix_ns);
  if (!targets) return targets.error();
  explain::ReportOptions ropts;
  ropts.want_environment = o.env;
  ropts.want_git = false;  // the working tree now says nothing of then
  Terminal term = detect_terminal(o.common);
  output::WhyTextOptions topts{term.color, o.short_form, false, o.env, o.wide ? 0 : term.width};
  CommandOutput result;
  std::vector<output::Json> docs;
  for (const auto& r : *targets) {
    auto chain = recorded_chain(when->history, r, when->unix_ns);
    if (!chain) return chain.error();
    sys.realtime_ns_now = when->unix_ns;
    sys.boot_ns_now = static_cast<uint64_t>(when->unix_ns - r.realtime_offset_ns);
    explain::Report report = explain::explain_recorded(reader, sys, o.paths, std::move(*chain), ropts);
    if (!report.warnings.empty()) result.exit_code = 1;
    if (o.common.json) {
      docs.push_back(output::why_json(report, sys, o.env));
    } else {
      if (!result.text.empty() && !o.short_form) result.text += "\n";
      if (!o.short_form) result.text += fmt::format("As recorded at {}\n\n", core::format_time(when->unix_ns, false));
      result.text += output::render_why_text(report, sys, topts);
    }
  }
  if (o.common.json) {
    output::Json doc = one_document(std::move(docs));
    doc["at"] = core::format_time(when->unix_ns, true);
    result.text = output::dump_json(doc) + "\n";
  }
  return result;
}

// why PID... --from FILE: the reports the snapshot holds.
Result<CommandOutput> run_why_from(const WhyOptions& o) {
  if (!o.names.empty() || !o.ports.empty() || !o.files.empty() || !o.containers.empty() || !o.at.empty()) {
    return usage_error("--from takes pids");
  }
  std::vector<int32_t> pids;
  for (const auto& list : {o.targets, o.pids}) {
    for (const auto& t : list) {
      if (!resolve::looks_like_pid(t)) return usage_error("--from takes pids");
      auto pid = resolve::parse_pid(t);
      if (!pid) return pid.error();
      pids.push_back(*pid);
    }
  }
  if (pids.empty()) return usage_error("no target: give a PID with --from");
  auto scene = snapshot::read_file(o.from);
  if (!scene) return scene.error();
  core::ProcessTree tree(std::move(scene->processes));
  Terminal term = detect_terminal(o.common);
  output::WhyTextOptions topts{term.color, o.short_form, false, false, o.wide ? 0 : term.width};
  CommandOutput result;
  std::vector<output::Json> docs;
  for (int32_t pid : pids) {
    auto report = snapshot::report_of(*scene, tree, pid);
    if (!report) return report.error();
    if (!report->warnings.empty()) result.exit_code = 1;
    if (o.common.json) {
      docs.push_back(output::why_json(*report, scene->sys, false));
    } else {
      if (!result.text.empty() && !o.short_form) result.text += "\n";
      result.text += output::render_why_text(*report, scene->sys, topts);
    }
  }
  if (o.common.json) result.text = output::dump_json(one_document(std::move(docs))) + "\n";
  return result;
}

}  // namespace

Result<CommandOutput> run_why(const WhyOptions& o) {
  if (!o.from.empty()) return run_why_from(o);
  auto reader = procfs::ProcReader::open(o.common.proc_root);
  if (!reader) return reader.error();
  core::SystemInfo sys = reader->system_info();
  if (!o.at.empty()) return run_why_at(o, *reader, sys);

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
  store::LazyRecall recall(history_path(o.db), *reader);
  ropts.recall = &recall;
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
    output::Json doc = one_document(std::move(docs));
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
