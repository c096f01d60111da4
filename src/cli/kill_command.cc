#include "cli/kill_command.h"

#include <sys/resource.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <unordered_set>

#include <fmt/format.h>

#include "act/kill_plan.h"
#include "act/killer.h"
#include "cli/cli11.h"
#include "core/clock.h"
#include "core/time_spec.h"
#include "output/columns.h"
#include "output/format.h"
#include "output/json_writer.h"
#include "output/sanitize.h"
#include "output/tree_writer.h"
#include "procfs/reader.h"
#include "procfs/users.h"
#include "resolve/targets.h"

namespace lineage::cli {

using act::Outcome;

namespace {

constexpr core::FieldMask kFields = core::kFieldStat | core::kFieldStatus | core::kFieldCmdline;

Result<act::Scope> pick_scope(const KillOptions& o) {
  int given = o.tree + o.children + o.group + o.session;
  if (given > 1) return usage_error("give one of --tree, --children, --group, --session");
  if (o.children) return act::Scope::kChildren;
  if (o.group) return act::Scope::kGroup;
  if (o.session) return act::Scope::kSession;
  return act::Scope::kTree;
}

Result<resolve::TargetSpec> pick_target(const KillOptions& o) {
  int given = !o.positional.empty() + !o.pid.empty() + !o.name.empty();
  if (given != 1) return usage_error("give one target: TARGET, --pid or --name");
  if (!o.pid.empty()) return resolve::TargetSpec{resolve::TargetKind::kPid, o.pid, o.exact};
  if (!o.name.empty()) return resolve::TargetSpec{resolve::TargetKind::kName, o.name, o.exact};
  return resolve::TargetSpec{resolve::TargetKind::kAuto, o.positional, o.exact};
}

const char* scope_words(act::Scope scope) {
  switch (scope) {
    case act::Scope::kTree: return "the tree of";
    case act::Scope::kChildren: return "the descendants of";
    case act::Scope::kGroup: return "the process group of";
    case act::Scope::kSession: return "the session of";
  }
  return "";
}

std::string describe_process(const core::Process& p) {
  return fmt::format("pid {} ({})", p.pid(), output::escape_text(p.stat.comm));
}

// One target: a name matching several processes is ambiguous here, since
// ending the wrong one cannot be undone.
Result<size_t> resolve_one(const core::ProcessTree& tree, const resolve::TargetSpec& spec) {
  auto found = resolve::resolve_target(tree, spec, static_cast<int32_t>(::getpid()));
  if (!found) return found.error();
  if (found->size() == 1) return found->front();
  std::string pids;
  for (size_t k = 0; k < found->size() && k < 10; ++k) pids += fmt::format("{}{}", k ? ", " : "", tree.at((*found)[k]).pid());
  if (found->size() > 10) pids += ", ...";
  return usage_error(fmt::format("'{}' matches {} processes ({}): name one by pid", output::escape_text(spec.text),
                                 found->size(), pids));
}

// More descriptors than the default 1024 for a big tree: one pidfd each.
void raise_fd_limit() {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &lim);
  }
}

std::string plan_text(const core::ProcessTree& tree, const core::SystemInfo& sys, const std::vector<size_t>& members,
                      const KillOptions& options, bool color) {
  std::vector<bool> in(tree.size(), false);
  for (size_t i : members) in[i] = true;
  output::ForestOptions forest_options;
  forest_options.visible = [&](const core::Process& p) { return in[tree.find(p.pid())]; };
  output::Forest forest = output::build_forest(tree, sys, forest_options);
  output::TextOptions text;
  text.columns = *output::parse_columns(output::kDefaultColumns);
  text.ascii = options.ascii;
  text.color = color;
  text.width = 0;
  return output::render_tree_text(forest, tree, sys, text);
}

// "y" or "yes" on the terminal; anything else (or end of input) is no.
bool confirm(const std::string& question) {
  std::fputs(question.c_str(), stderr);
  std::fflush(stderr);
  char line[64] = {};
  if (std::fgets(line, sizeof line, stdin) == nullptr) return false;
  std::string answer(line);
  while (!answer.empty() && (answer.back() == '\n' || answer.back() == '\r' || answer.back() == ' ')) answer.pop_back();
  std::transform(answer.begin(), answer.end(), answer.begin(), [](char c) { return static_cast<char>(c | 0x20); });
  return answer == "y" || answer == "yes";
}

std::string outcome_text(const act::Member& m, const std::string& signal, const std::string& timeout) {
  switch (m.outcome) {
    case Outcome::kSignalled: return fmt::format("ended by {}", signal);
    case Outcome::kKilled: return fmt::format("KILL after {}", timeout);
    case Outcome::kGone: return "already gone";
    case Outcome::kSkipped: return "skipped: " + m.reason;
    case Outcome::kDenied: return "denied: " + m.reason;
    case Outcome::kSurvived: return "survived KILL";
    case Outcome::kPending: return "pending";
  }
  return "?";
}

struct Counts {
  size_t signalled = 0, killed = 0, gone = 0, skipped = 0, denied = 0, survived = 0, joined = 0;
};
Counts count(const std::vector<act::Member>& members) {
  Counts c;
  for (const auto& m : members) {
    c.joined += m.joined;
    switch (m.outcome) {
      case Outcome::kSignalled: ++c.signalled; break;
      case Outcome::kKilled: ++c.killed; break;
      case Outcome::kGone: ++c.gone; break;
      case Outcome::kSkipped: ++c.skipped; break;
      case Outcome::kDenied: ++c.denied; break;
      case Outcome::kSurvived: ++c.survived; break;
      case Outcome::kPending: break;
    }
  }
  return c;
}

std::string report_text(const act::KillReport& report, const std::string& signal, const std::string& timeout) {
  Counts c = count(report.members);
  std::string out = fmt::format("ended {} of {} processes: {} by {}, {} by KILL after {}", c.signalled + c.killed + c.gone,
                                report.members.size(), c.signalled, signal, c.killed, timeout);
  if (c.gone) out += fmt::format(", {} already gone", c.gone);
  if (c.skipped) out += fmt::format("; {} skipped", c.skipped);
  if (c.denied) out += fmt::format("; {} denied", c.denied);
  if (c.survived) out += fmt::format("; {} survived", c.survived);
  if (c.joined) out += fmt::format(" ({} forked during the kill, caught)", c.joined);
  out += report.frozen ? fmt::format("; stopped by freezing cgroup {}", output::escape_text(report.cgroup))
                       : std::string("; stopped by SIGSTOP");
  if (!report.frozen && !report.freezer_note.empty()) {
    out += fmt::format(" (freezing cgroup {} failed: {})", output::escape_text(report.cgroup),
                       output::escape_text(report.freezer_note));
  }
  out += fmt::format("\n{:>7}  {:<28}  {}\n", "PID", "OUTCOME", "COMMAND");
  for (const auto& m : report.members) {
    std::string cmd = output::escape_text(m.process.command_line());
    if (m.joined) cmd += "  (forked during the kill)";
    out += fmt::format("{:>7}  {:<28}  {}\n", m.process.pid(), output::escape_text(outcome_text(m, signal, timeout)), cmd);
  }
  return out;
}

// How the set is (or would be) stopped before the signal.
struct StopPlan {
  std::optional<act::FreezableCgroup> cgroup;  // the whole cgroup: frozen
  std::string why_not;                         // why SIGSTOP (empty: --no-freeze)
};

output::Json stop_json(const StopPlan& stop, const act::KillReport* report) {
  output::Json j;
  bool frozen = report != nullptr ? report->frozen : stop.cgroup.has_value();
  j["method"] = frozen ? "freezer" : "sigstop";
  std::string cgroup = report != nullptr ? report->cgroup : stop.cgroup ? stop.cgroup->path : "";
  j["cgroup"] = cgroup.empty() ? output::Json() : output::Json(output::to_valid_utf8(cgroup));
  std::string why = report != nullptr && !report->freezer_note.empty() ? "freezing failed: " + report->freezer_note
                                                                       : (frozen ? "" : stop.why_not);
  j["why_not_freezer"] = why.empty() ? output::Json() : output::Json(output::to_valid_utf8(why));
  return j;
}

output::Json report_json(const core::ProcessTree& tree, const core::SystemInfo& sys, size_t target, act::Scope scope,
                         int sig, uint64_t timeout_ns, bool dry_run, const std::vector<size_t>& members,
                         const act::KillReport* report, const StopPlan& stop) {
  output::Json j;
  j["schema"] = "lineage.kill/v1";
  j["target"] = output::process_json(tree.at(target), sys);
  j["scope"] = act::to_string(scope);
  j["signal"] = act::signal_name(sig);
  j["signal_number"] = sig;
  j["timeout_ms"] = timeout_ns / 1'000'000;
  j["dry_run"] = dry_run;
  output::Json plan = output::Json::array();
  for (size_t i : members) plan.push_back(tree.at(i).pid());
  j["plan"] = std::move(plan);
  output::Json list = output::Json::array();
  if (report == nullptr) {
    for (size_t i : members) {
      output::Json p = output::process_json(tree.at(i), sys);
      p["joined"] = false;
      p["outcome"] = "planned";
      list.push_back(std::move(p));
    }
  } else {
    for (const auto& m : report->members) {
      output::Json p = output::process_json(m.process, sys);
      p["joined"] = m.joined;
      p["outcome"] = act::to_string(m.outcome);
      if (!m.reason.empty()) p["reason"] = m.reason;
      list.push_back(std::move(p));
    }
  }
  j["processes"] = std::move(list);
  if (report != nullptr) {
    Counts c = count(report->members);
    j["summary"] = {{"signal", c.signalled}, {"killed", c.killed},   {"gone", c.gone},     {"skipped", c.skipped},
                    {"denied", c.denied},    {"survived", c.survived}, {"joined", c.joined}};
  }
  // --dry-run: nothing was signalled, so nothing was rescanned.
  j["rescans"] = report != nullptr ? report->rescans : 0;
  j["stop"] = stop_json(stop, report);
  return j;
}

int exit_code(const act::KillReport& report) {
  Counts c = count(report.members);
  if (c.denied) return static_cast<int>(ErrorKind::kPermission);
  return c.skipped || c.survived ? 1 : 0;
}

struct Shown {
  core::ProcessTree tree;        // the target and the members, all fields read
  std::vector<size_t> members;   // into tree, in plan order
  size_t target = 0;
};

Shown read_shown(const procfs::ProcReader& reader, const core::ProcessTree& tree, const std::vector<size_t>& members,
                 size_t target, bool read_fields, procfs::UserNames& users) {
  std::vector<core::Process> list;
  list.reserve(members.size() + 1);
  auto add = [&](size_t i) {
    core::Process p = tree.at(i);
    if (read_fields) {
      auto full = reader.read(p.pid(), kFields);
      if (full && full->stat.start_ticks == p.stat.start_ticks) p = std::move(*full);  // else: exited, as scanned
    }
    users.fill(p);
    list.push_back(std::move(p));
  };
  if (std::find(members.begin(), members.end(), target) == members.end()) add(target);
  for (size_t i : members) add(i);
  core::ProcessTree shown(std::move(list));
  std::vector<size_t> index;
  index.reserve(members.size());
  for (size_t i : members) index.push_back(shown.find(tree.at(i).pid()));
  size_t shown_target = shown.find(tree.at(target).pid());
  return Shown{std::move(shown), std::move(index), shown_target};
}

}  // namespace

Result<int> run_kill(const KillOptions& options) {
  auto scope = pick_scope(options);
  if (!scope) return scope.error();
  auto spec = pick_target(options);
  if (!spec) return spec.error();
  auto sig = act::parse_signal(options.signal);
  if (!sig) {
    return usage_error(fmt::format("unknown signal '{}' (a name such as TERM, INT, KILL, or a number 1-{})",
                                   output::escape_text(options.signal), SIGRTMAX));
  }
  auto timeout = core::parse_duration(options.timeout);
  if (!timeout) return timeout.error();
  if (resolve::is_pid_target(*spec)) {
    auto pid = resolve::parse_pid(spec->text);
    if (!pid) return pid.error();
  }

  auto reader = procfs::ProcReader::open(options.common.proc_root);
  if (!reader) return reader.error();
  core::SystemInfo sys = reader->system_info();
  // A name needs command lines to match; a pid, stat alone (ppid, pgid,
  // sid, start, flags): on a big machine most of the scan's cost.
  const bool by_pid = resolve::is_pid_target(*spec);
  const uint64_t scanned_ns = core::boot_now_ns();
  std::vector<core::Process> processes = reader->scan(by_pid ? core::kFieldStat : kFields);
  procfs::UserNames users;
  core::ProcessTree tree(std::move(processes));
  auto target = resolve_one(tree, *spec);
  if (!target) return target.error();

  const int32_t self = static_cast<int32_t>(::getpid());
  act::Anchor anchor = act::make_anchor(tree, *target, *scope);
  std::vector<size_t> members = act::select_members(tree, anchor, self);
  auto refused = act::refusals(tree, members, *target, self);
  bool target_refused = false;
  for (const auto& r : refused) {
    target_refused |= r.index == *target;
    if (options.force && r.why != act::Refusal::kSelf) continue;
    std::string more = refused.size() > 1 ? fmt::format(" (and {} more refused)", refused.size() - 1) : "";
    return usage_error(fmt::format("refusing to end {}: it is {}{}{}", describe_process(tree.at(r.index)),
                                   act::describe(r.why), more,
                                   r.why == act::Refusal::kSelf ? "" : "; --force to end it anyway"));
  }

  // A pid target was chosen from stat alone; what is shown (command line,
  // user) is read now, for the chosen processes only.
  Shown shown = read_shown(*reader, tree, members, *target, by_pid, users);

  std::string signal = act::signal_name(*sig);
  std::vector<core::Process> planned;
  planned.reserve(shown.members.size());
  for (size_t i : shown.members) planned.push_back(shown.tree.at(i));
  StopPlan stop;
  if (options.no_freeze) stop.why_not = "--no-freeze";
  else if (!planned.empty()) stop.cgroup = act::find_whole_cgroup(*reader, planned, scanned_ns, &stop.why_not);
  if (shown.members.empty()) {
    if (options.common.json) {
      return write_out(output::dump_json(report_json(shown.tree, sys, shown.target, *scope, *sig, *timeout, options.dry_run, shown.members, nullptr, stop)) + "\n");
    }
    return write_out(fmt::format("nothing to end: {} has no {} to end\n", describe_process(shown.tree.at(shown.target)),
                                 *scope == act::Scope::kChildren ? "descendants" : "processes"));
  }

  Terminal term = detect_terminal(options.common);
  std::string header = fmt::format("{} {} {}, {} {}, with {}{}:\n", options.dry_run ? "would end" : "ending",
                                   shown.members.size(), shown.members.size() == 1 ? "process" : "processes", scope_words(*scope),
                                   describe_process(shown.tree.at(shown.target)), signal,
                                   *sig == SIGKILL ? "" : fmt::format(" (KILL after {})", options.timeout));
  if (stop.cgroup) {
    header += fmt::format("(they are all of cgroup {}: it is frozen instead of each stopped by SIGSTOP)\n",
                          output::escape_text(stop.cgroup->path));
  }
  std::string plan = header + plan_text(shown.tree, sys, shown.members, options, term.color);

  if (options.dry_run) {
    if (options.common.json) {
      return write_out(output::dump_json(report_json(shown.tree, sys, shown.target, *scope, *sig, *timeout, true, shown.members, nullptr, stop)) + "\n");
    }
    return write_out(plan);
  }
  if (!options.yes) {
    if (::isatty(STDIN_FILENO) != 1) {
      return usage_error(fmt::format("not asking for confirmation: standard input is not a terminal; pass --yes to end "
                                     "these {} processes (--dry-run shows them)", shown.members.size()));
    }
    if (options.common.json) std::fputs(plan.c_str(), stderr);
    else if (int rc = write_out(plan); rc != 0) return rc;
    if (!confirm(fmt::format("End these {} processes? [y/N] ", shown.members.size()))) {
      std::fputs("lineage: nothing was signalled\n", stderr);
      return 1;
    }
  } else if (!options.common.json) {
    if (int rc = write_out(plan); rc != 0) return rc;
  }

  if (options.expect_start) {
    // Test hook: as if the scan had seen the target start then.
    anchor.target.start_ticks = *options.expect_start;
    for (auto& p : planned) {
      if (p.pid() == anchor.target.pid) p.stat.start_ticks = *options.expect_start;
    }
  }
  raise_fd_limit();
  act::KillSettings settings;
  settings.signal = *sig;
  settings.timeout_ns = *timeout;
  settings.self_pid = self;
  // --children stops the target while its descendants end: never lineage's
  // own shell or session (it would be left stopped under the operator).
  bool target_is_ancestor = false;
  if (size_t me = tree.find(self); me != core::ProcessTree::kNone) {
    for (size_t a : tree.ancestors(me)) target_is_ancestor |= a == *target;
  }
  settings.stop_anchor = !target_refused && !target_is_ancestor && shown.tree.at(shown.target).pid() != 1;
  settings.fields = kFields;
  settings.cgroup = stop.cgroup ? &*stop.cgroup : nullptr;
  settings.plan_scanned_ns = scanned_ns;
  // Ctrl-C, a hang-up or a TERM now would leave stopped processes behind:
  // they wait until the sequence has continued what it stopped.
  sigset_t deferred, previous;
  sigemptyset(&deferred);
  for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGTSTP}) sigaddset(&deferred, s);
  ::sigprocmask(SIG_BLOCK, &deferred, &previous);
  act::KillReport report = act::kill_processes(*reader, anchor, std::move(planned), settings);
  for (auto& m : report.members) users.fill(m.process);

  // Still deferred while the report is written: what was signalled must be
  // told, even when the kill itself brings a hang-up (the shell lineage runs
  // in, ended with --force) or Ctrl-C came meanwhile. They act after it.
  int rc = 0;
  if (options.common.json) {
    rc = write_out(output::dump_json(report_json(shown.tree, sys, shown.target, *scope, *sig, *timeout, false, shown.members, &report, stop)) + "\n");
  } else {
    rc = write_out(report_text(report, signal, options.timeout));
  }
  ::sigprocmask(SIG_SETMASK, &previous, nullptr);
  return rc != 0 ? rc : exit_code(report);
}

Command add_kill_command(CLI::App& app) {
  auto options = std::make_shared<KillOptions>();
  CLI::App* cmd = app.add_subcommand("kill", "End a process tree, group or session safely (pidfds, stop first, confirm)");
  cmd->footer(
      "TARGET is a pid or a name (one process; a name matching several is refused).\n"
      "Examples:\n"
      "  lineage kill 4242                   end 4242 and every descendant (asks first)\n"
      "  lineage kill 4242 --dry-run         show what would be ended\n"
      "  lineage kill --children 4242 --yes  its descendants only, no question\n"
      "  lineage kill --group 4242 --signal INT --timeout 10s\n"
      "  lineage kill --session 4242 --json --yes\n"
      "Every process is held by a pidfd checked against its start time, the set is stopped\n"
      "(SIGSTOP, top down) and rescanned until nothing new was forked, then signalled; what is\n"
      "left after --timeout gets KILL. When the set is exactly the processes of one cgroup (a\n"
      "service, a container), the cgroup is frozen instead of each process stopped (cgroup v2\n"
      "cgroup.freeze or the v1 freezer; --no-freeze: SIGSTOP anyway). Refuses pid 1, kernel\n"
      "threads and lineage's own ancestors unless --force.\n"
      "Exit: 0 all ended, 1 something survived or was skipped (or the answer was no), 2 not found,\n"
      "3 permission denied, 4 usage (unknown signal, refused target, no terminal without --yes).");
  add_common(*cmd, options->common);
  cmd->add_option("TARGET", options->positional, "A pid or a name");
  cmd->add_option("--pid", options->pid, "Target by pid");
  cmd->add_option("--name", options->name, "Target by name");
  cmd->add_flag("--exact", options->exact, "A name must equal comm or argv[0]'s base name");
  cmd->add_flag("--tree", options->tree, "The target and every descendant (default)");
  cmd->add_flag("--children", options->children, "Every descendant, not the target (stopped meanwhile)");
  cmd->add_flag("--group", options->group, "Every process in the target's process group");
  cmd->add_flag("--session", options->session, "Every process in the target's session");
  cmd->add_option("-s,--signal", options->signal, "Signal to send first: a name (TERM, INT, HUP) or number")
      ->capture_default_str();
  cmd->add_option("--timeout", options->timeout, "Wait this long for them to end, then KILL (1s, 30s, 2m)")
      ->capture_default_str();
  cmd->add_flag("-y,--yes", options->yes, "Do not ask for confirmation");
  cmd->add_flag("-n,--dry-run", options->dry_run, "Show what would be ended, signal nothing");
  cmd->add_flag("--force", options->force, "Also end init, kernel threads or lineage's own ancestors");
  cmd->add_flag("--ascii", options->ascii, "ASCII line art instead of Unicode");
  cmd->add_flag("--no-freeze", options->no_freeze, "Stop with SIGSTOP even when the set is one whole cgroup");
  cmd->add_option("--expect-start", options->expect_start, "Take the target to have started at TICKS (testing)")
      ->group("");  // hidden
  return Command{cmd, [options] { return finish(run_kill(*options)); }};
}

}  // namespace lineage::cli
