#include "cli/audit_command.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>

#include "audit/allow.h"
#include "audit/audit_result.h"
#include "audit/rules.h"
#include "audit/scene.h"
#include "cli/cli11.h"
#include "cli/history_command.h"
#include "cli/record_command.h"
#include "core/clock.h"
#include "core/time_spec.h"
#include "core/unique_fd.h"
#include "explain/report.h"
#include "output/audit_writer.h"
#include "output/sanitize.h"
#include "procfs/reader.h"
#include "procfs/users.h"
#include "store/history.h"

namespace lineage::cli {
namespace {

struct AuditOptions {
  CommonOptions common;
  std::vector<std::string> rules;
  std::vector<std::string> skip;
  std::string min_severity = "info";
  std::string fail_on = "high";
  std::string allow;
  bool list_rules = false;
  bool wide = false;
  std::string since;  // findings `record` stored since then, instead of a scan now
  std::string db;     // history database (default kDefaultDb)
};

Error usage(std::string message) { return Error{ErrorKind::kUsage, std::move(message)}; }

// The allow-list file, bounded (1 MiB), a regular file, not through a
// symlink at its last component.
Result<std::vector<audit::AllowEntry>> load_allow(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (!fd.valid()) {
    int err = errno;
    std::string what = fmt::format("cannot read allow-list {}: {}", output::escape_text(path), std::strerror(err));
    return Error{err == ENOENT ? ErrorKind::kNotFound : err == EACCES ? ErrorKind::kPermission : ErrorKind::kUsage,
                 what};
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return usage(fmt::format("allow-list {} is not a regular file", output::escape_text(path)));
  }
  constexpr size_t kMax = 1 << 20;
  std::string text;
  char buf[65536];
  while (true) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMax) return usage(fmt::format("allow-list {} is over 1 MiB", output::escape_text(path)));
  }
  auto entries = audit::parse_allow(text);
  if (!entries) return Error{ErrorKind::kUsage, output::escape_text(path) + ": " + entries.error().message};
  return entries;
}

std::string list_rules_text() {
  std::string out;
  for (const audit::Rule& r : audit::all_rules()) {
    out += fmt::format("{:<26} {:<8} {}{}\n", r.id, audit::severity_name(r.severity), r.summary,
                       r.live_only ? "" : "");
  }
  return out;
}

bool suppressed_by(const std::vector<audit::AllowEntry>& allow, const audit::Finding& f,
                   const audit::AllowSubject& subject) {
  for (const auto& entry : allow) {
    if (audit::allows(entry, f, subject)) return true;
  }
  return false;
}

audit::AllowSubject subject_of(const audit::AuditEntry& e) {
  audit::AllowSubject s;
  for (const auto& link : e.chain) s.chain += (s.chain.empty() ? "" : " > ") + link.comm;
  if (e.process) {
    if (e.process->exe) s.exe = e.process->exe->path;
    s.user = e.process->user;
  }
  return s;
}

Result<int> present(const AuditOptions& o, const audit::AuditResult& result, const core::SystemInfo& sys) {
  std::string text;
  if (o.common.json) {
    text = output::dump_json(output::audit_json(result, sys)) + "\n";
  } else {
    Terminal term = detect_terminal(o.common);
    output::AuditTextOptions topts{term.color, o.wide ? 0 : term.width};
    text = output::render_audit_text(result, topts);
  }
  int rc = write_out(text);
  if (rc != 0) return rc;
  for (const auto& e : result.entries) {
    if (e.finding.severity >= result.fail_on) return 1;
  }
  return 0;
}

// Findings `lineage record` stored since a time (its live rules, fork-storm
// included), with the chain as it was when each was found.
Result<int> run_audit_since(const AuditOptions& o, audit::AuditResult result,
                            const std::vector<audit::AllowEntry>& allow) {
  core::SystemInfo sys;
  sys.realtime_ns_now = core::realtime_now_ns();
  int64_t now = sys.realtime_ns_now;
  if (auto span = core::parse_duration(o.since)) {
    result.since_unix_ns = now - static_cast<int64_t>(*span);
  } else {
    auto t = core::parse_time(o.since, now, core::system_local_time());
    if (!t) return t.error();
    result.since_unix_ns = *t;
  }
  result.db = history_path(o.db);
  auto h = store::History::open(result.db);
  if (!h) return h.error();
  if (h->version() < 3) {
    return Error{ErrorKind::kNotFound, fmt::format("{} holds no findings (written before lineage record stored them)",
                                                   output::escape_text(result.db))};
  }
  constexpr size_t kMaxFindings = 100'000;
  auto stored = h->findings_since(result.since_unix_ns, kMaxFindings);
  if (!stored) return stored.error();
  procfs::UserNames users;
  for (auto& f : *stored) {
    if (f.severity < 0 || f.severity > 4) continue;
    audit::AuditEntry e;
    e.finding.rule = std::move(f.rule);
    e.finding.severity = static_cast<audit::Severity>(f.severity);
    if (e.finding.severity < result.min_severity) continue;
    if (std::find(result.rules.begin(), result.rules.end(), e.finding.rule) == result.rules.end()) continue;
    e.finding.title = std::move(f.title);
    e.finding.process = f.key;
    e.finding.evidence = std::move(f.evidence);
    e.finding.related_pid = f.related_pid;
    e.unix_ns = f.unix_ns;
    for (auto& [pid, comm] : f.chain) e.chain.push_back({pid, std::move(comm)});
    if (f.key.pid != 0) {
      core::Process p;
      p.key = f.key;
      p.stat.pid = f.key.pid;
      p.stat.comm = e.chain.empty() ? std::string("?") : e.chain.back().comm;
      e.process = std::move(p);
      e.process_from_proc = false;
    }
    if (suppressed_by(allow, e.finding, subject_of(e))) {
      ++result.suppressed;
      continue;
    }
    result.entries.push_back(std::move(e));
  }
  std::stable_sort(result.entries.begin(), result.entries.end(), [](const auto& a, const auto& b) {
    return a.finding.severity > b.finding.severity;
  });
  return present(o, result, sys);
}

Result<int> run_audit(const AuditOptions& o) {
  if (o.list_rules) return write_out(list_rules_text());
  if (!o.db.empty() && o.since.empty()) return usage("--db needs --since (findings are read from history only then)");
  auto min = audit::parse_severity(o.min_severity);
  auto fail_on = audit::parse_severity(o.fail_on);
  if (!min || !fail_on) return usage("a severity is one of info, low, medium, high, critical");
  std::string unknown;
  auto rules = audit::select_rules(o.rules, o.skip, !o.since.empty(), &unknown);
  if (!rules) {
    return usage(fmt::format("unknown rule '{}' (lineage audit --list-rules lists them)", output::escape_text(unknown)));
  }
  std::vector<audit::AllowEntry> allow;
  if (!o.allow.empty()) {
    auto entries = load_allow(o.allow);
    if (!entries) return entries.error();
    allow = std::move(*entries);
  }
  audit::AuditResult result;
  for (const audit::Rule* r : *rules) result.rules.push_back(r->id);
  result.min_severity = *min;
  result.fail_on = *fail_on;
  result.allow_file = o.allow;
  if (!o.since.empty()) return run_audit_since(o, std::move(result), allow);

  auto reader = procfs::ProcReader::open(o.common.proc_root);
  if (!reader) return reader.error();
  core::SystemInfo sys = reader->system_info();
  core::ProcessTree tree(reader->scan(audit::fields_for(*rules), nullptr, {audit::asks_file_system, audit::env_wanted}));
  audit::Scene scene(tree, sys, &*reader);
  std::vector<audit::Finding> findings = audit::evaluate(scene, *rules);
  result.processes = tree.size();

  procfs::UserNames users;
  explain::ReportOptions ropts;
  ropts.want_git = false;
  std::unordered_map<int32_t, std::optional<explain::Report>> reports;  // one why per process
  for (auto& f : findings) {
    if (f.severity < *min) continue;
    audit::AuditEntry e;
    size_t index = f.process.pid != 0 ? tree.find(f.process.pid) : core::ProcessTree::kNone;
    if (index != core::ProcessTree::kNone) {
      core::Process p = tree.at(index);
      users.fill(p);
      std::vector<size_t> up = tree.ancestors(index);
      for (auto it = up.rbegin(); it != up.rend(); ++it) e.chain.push_back({tree.at(*it).pid(), tree.at(*it).stat.comm});
      e.chain.push_back({p.pid(), p.stat.comm});
      e.process = std::move(p);
    }
    if (suppressed_by(allow, f, subject_of(e))) {
      ++result.suppressed;
      continue;
    }
    if (e.process) {
      auto [it, fresh] = reports.try_emplace(f.process.pid);
      if (fresh) {
        auto report = explain::explain_pid(*reader, sys, explain::Paths{}, f.process.pid, ropts);
        if (report && core::same_start(report->target().key.start_time_ns, f.process.start_time_ns,
                                       reader->tick_ns())) {
          it->second = std::move(*report);
        }
      }
      if (it->second) {
        e.summary = it->second->summary;
        e.sources = it->second->sources;
      }
    }
    e.finding = std::move(f);
    result.entries.push_back(std::move(e));
  }
  return present(o, result, sys);
}

}  // namespace

Command add_audit_command(CLI::App& app) {
  auto o = std::make_shared<AuditOptions>();
  CLI::App* cmd = app.add_subcommand("audit", "Security and health findings over every process, with their chains");
  cmd->footer(
      "Examples:\n"
      "  lineage audit                         every finding, grouped by severity, each with its chain\n"
      "  lineage audit --min-severity high     only high and critical\n"
      "  lineage audit --rule reverse-shell    one rule (repeatable); --skip ID leaves one out\n"
      "  lineage audit --allow /etc/lineage/audit.allow   suppress known-good findings\n"
      "  lineage audit --json                  lineage.audit/v1\n"
      "  lineage audit --list-rules            every rule, its usual severity and what it means\n"
      "  lineage audit --since 1h              what lineage record found in the last hour (fork-storm too)\n"
      "Allow-list lines: RULE [chain=GLOB] [exe=GLOB] [user=NAME]; RULE is an id or '*', the chain is\n"
      "\"comm > comm > ...\" root first, e.g.  web-server-spawned-shell chain=\"*nginx > sh\"  ('#' comments).\n"
      "Exit: 0 nothing at or above --fail-on (default high), 1 something is, 2 allow-list not found,\n"
      "4 usage (unknown rule or severity, malformed allow-list).");
  add_common(*cmd, o->common);
  cmd->add_option("--rule", o->rules, "Run only this rule (repeatable)");
  cmd->add_option("--skip", o->skip, "Do not run this rule (repeatable)");
  cmd->add_option("--min-severity", o->min_severity, "Report findings at or above: info, low, medium, high, critical")
      ->capture_default_str();
  cmd->add_option("--fail-on", o->fail_on, "Exit 1 when a finding is at or above this severity")->capture_default_str();
  cmd->add_option("--allow", o->allow, "Allow-list file of known-good findings to suppress");
  cmd->add_flag("--list-rules", o->list_rules, "List the rules and exit");
  cmd->add_option("--since", o->since,
                  "Findings lineage record stored since TIME (1h, -30m, 14:02, RFC 3339) instead of a scan now");
  cmd->add_option("--db", o->db, fmt::format("History database for --since (default {})", kDefaultDb));
  cmd->add_flag("-w,--wide", o->wide, "Do not cut lines to the terminal width");
  return {cmd, [o] { return finish(run_audit(*o)); }};
}

}  // namespace lineage::cli
