#include "cli/app.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string_view>

#include <fmt/format.h>

#include "cli/cli11.h"
#include "lineage_version.h"
#include "cli/files_command.h"
#include "cli/history_command.h"
#include "cli/kill_command.h"
#include "cli/record_command.h"
#include "cli/top_command.h"
#include "cli/tree_command.h"
#include "cli/watch_command.h"
#include "cli/why_command.h"
#include "cli/who_command.h"
#include "cli/zombies_command.h"
#include "cli/snapshot_command.h"
#include "cli/audit_command.h"
#include "cli/doctor_command.h"
#include "cli/trace_command.h"
#include "output/columns.h"
#include "output/sanitize.h"
#include "resolve/targets.h"

namespace lineage::cli {
namespace {

constexpr const char* kVersion = "lineage " LINEAGE_VERSION " (commit " LINEAGE_COMMIT ")";

// The flags of `why`, for CLI11 and for the fast path below alike.
struct WhyFlag {
  const char* names;  // as CLI11 takes them: "-w,--wide"
  const char* help;
  bool& (*field)(WhyOptions&);
};
constexpr WhyFlag kWhyFlags[] = {
    {"--exact", "A name must equal comm or argv[0]'s base name", [](WhyOptions& o) -> bool& { return o.exact; }},
    {"--all", "Explain every process a name matches", [](WhyOptions& o) -> bool& { return o.all; }},
    {"--short", "One line per process", [](WhyOptions& o) -> bool& { return o.short_form; }},
    {"--tree", "Also show the target's children", [](WhyOptions& o) -> bool& { return o.tree; }},
    {"--env", "Show the environment (secret-looking values redacted)", [](WhyOptions& o) -> bool& { return o.env; }},
    {"-w,--wide", "Do not cut lines to the terminal width", [](WhyOptions& o) -> bool& { return o.wide; }},
};
constexpr const char* kJsonHelp = "Print one JSON document instead of text";
constexpr const char* kNoColorHelp = "No colors (also: NO_COLOR set, or output not a terminal)";

// Does `arg` spell one of the names in a CLI11 name list ("-w,--wide")?
bool names_match(std::string_view names, std::string_view arg) {
  for (size_t pos = 0; pos <= names.size();) {
    size_t comma = names.find(',', pos);
    if (comma == std::string_view::npos) comma = names.size();
    if (names.substr(pos, comma - pos) == arg) return true;
    pos = comma + 1;
  }
  return false;
}

// `[why] PID... [FLAG...] [--db PATH]`, the commonest command line, parsed
// without building the CLI11 parser of every command (a quarter of a
// millisecond of start-up here; with --db, which used to take CLI11's path,
// 2.6 of the 5.7 million instructions of `why ORPHAN --db`). Only pids,
// why's own boolean flags and --db with a value (`--db PATH` or
// `--db=PATH`, not starting with '-'), each at most once, are taken;
// anything else (names, ports, other options with values, --help, repeats,
// "--") returns false and goes through CLI11, which would read these
// arguments the same way.
bool parse_why_fast(const std::vector<std::string>& args, WhyOptions& why) {
  if (args.empty() || args[0] != "why") return false;
  unsigned seen = 0;  // one bit per flag
  auto take_flag = [&](unsigned bit, bool& field) {
    if (seen & (1u << bit)) return false;
    seen |= 1u << bit;
    field = true;
    return true;
  };
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (!a.empty() && a[0] != '-') {
      if (!resolve::looks_like_pid(a)) return false;
      why.targets.push_back(a);
      continue;
    }
    bool taken = false;
    if (a == "--db" || a.starts_with("--db=")) {
      std::string value;
      if (a == "--db") {
        if (i + 1 >= args.size()) return false;
        value = args[++i];
      } else {
        value = a.substr(5);
      }
      if (value.empty() || value[0] == '-' || !why.db.empty()) return false;
      why.db = std::move(value);
      continue;
    }
    if (a == "--json") taken = take_flag(0, why.common.json);
    else if (a == "--no-color") taken = take_flag(1, why.common.no_color);
    for (size_t f = 0; !taken && f < std::size(kWhyFlags); ++f) {
      if (names_match(kWhyFlags[f].names, a)) {
        taken = take_flag(static_cast<unsigned>(f + 2), kWhyFlags[f].field(why));
        if (!taken) return false;
        break;
      }
    }
    if (!taken) return false;
  }
  return !why.targets.empty();
}

void add_target_options(CLI::App& app, std::optional<resolve::TargetSpec>& target, bool& exact,
                        std::string& positional, std::string& pid, std::string& name) {
  app.add_option("TARGET", positional, "A pid or a name (substring of comm or command line)");
  app.add_option("--pid", pid, "Target by pid");
  app.add_option("--name", name, "Target by name");
  app.add_flag("--exact", exact, "A name must equal comm or argv[0]'s base name");
  (void)target;
}

Result<std::optional<resolve::TargetSpec>> pick_target(const std::string& positional, const std::string& pid,
                                              const std::string& name, bool exact) {
  int given = !positional.empty() + !pid.empty() + !name.empty();
  if (given > 1) return usage_error("give one target: TARGET, --pid or --name");
  if (given == 0) return std::optional<resolve::TargetSpec>{};
  if (!pid.empty()) return std::optional<resolve::TargetSpec>{resolve::TargetSpec{resolve::TargetKind::kPid, pid, exact}};
  if (!name.empty()) return std::optional<resolve::TargetSpec>{resolve::TargetSpec{resolve::TargetKind::kName, name, exact}};
  return std::optional<resolve::TargetSpec>{resolve::TargetSpec{resolve::TargetKind::kAuto, positional, exact}};
}

int run_why_command(const WhyOptions& why) {
  auto out = run_why(why);
  if (!out) return print_error(out.error());
  int rc = write_out(out->text);
  // After the reports, and on stderr: --short output stays one line a match.
  if (!out->notes.empty()) std::fputs(out->notes.c_str(), stderr);
  return rc != 0 ? rc : out->exit_code;
}

}  // namespace

void add_common(CLI::App& app, CommonOptions& common) {
  app.add_flag("--json", common.json, kJsonHelp);
  app.add_flag("--no-color", common.no_color, kNoColorHelp);
  app.add_option("--proc-root", common.proc_root, "Read processes from this proc tree (testing)")
      ->group("");  // hidden
}

int print_error(const Error& error) {
  std::fprintf(stderr, "lineage: %s\n", error.message.c_str());
  return static_cast<int>(error.kind);
}

int write_out(const std::string& text) {
  if (std::fwrite(text.data(), 1, text.size(), stdout) != text.size() || std::fflush(stdout) != 0) {
    if (errno == EPIPE) return 0;  // reader went away (| head): not our failure
    std::fprintf(stderr, "lineage: cannot write output: %s\n", std::strerror(errno));
    return static_cast<int>(ErrorKind::kInternal);
  }
  return 0;
}

int finish(const Result<int>& rc) {
  if (!rc) return print_error(rc.error());
  return *rc;
}

Terminal detect_terminal(const CommonOptions& common) {
  Terminal t;
  bool tty = ::isatty(STDOUT_FILENO) == 1;
  const char* no_color = std::getenv("NO_COLOR");
  const char* term = std::getenv("TERM");
  t.color = tty && !common.no_color && (no_color == nullptr || *no_color == '\0') &&
            !(term != nullptr && std::strcmp(term, "dumb") == 0);
  if (tty) {
    winsize ws{};
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) t.width = ws.ws_col;
  }
  return t;
}

namespace {

int run_cli11(std::vector<std::string> args) {
  CLI::App app{"lineage: why is this process running, and who started it?", "lineage"};
  app.set_version_flag("--version", kVersion);
  app.require_subcommand(0, 1);
  app.footer(
      "Exit codes: 0 ok, 1 ok with warnings, 2 target not found, 3 permission denied,\n"
      "4 usage error or ambiguous target, 5 internal error.\n"
      "Run 'lineage COMMAND --help' for the options of a command.");

  TreeOptions tree;
  std::string tree_positional, tree_pid, tree_name;
  bool tree_exact = false;
  CLI::App* tree_cmd = app.add_subcommand("tree", "Process forest, like ps --forest / pstree");
  tree_cmd->footer(
      "Examples:\n"
      "  lineage tree                      whole system (kernel threads hidden)\n"
      "  lineage tree sshd                 subtrees of every sshd, with their ancestors\n"
      "  lineage tree -o pid,user,rss,cmd --sort -rss\n"
      "  lineage tree --user www-data --compact\n"
      "Columns: pid ppid pgid sid user uid stat s etime etimes time %cpu %mem rss vsz\n"
      "  tty nlwp ni lstart comm cmd exe cwd cgroup pidns mntns netns");
  add_common(*tree_cmd, tree.common);
  add_target_options(*tree_cmd, tree.target, tree_exact, tree_positional, tree_pid, tree_name);
  tree_cmd->add_option("-o,--columns", tree.columns,
                       fmt::format("Columns, comma separated (default {})", output::kDefaultColumns));
  tree_cmd->add_option("--sort", tree.sort, "Sort siblings by columns; '-' for descending (e.g. -rss)");
  tree_cmd->add_option("-u,--user", tree.user, "Only processes of this user (name or uid)");
  tree_cmd->add_flag("--threads", tree.threads, "Show threads as {name} children");
  tree_cmd->add_flag("--kernel", tree.kernel, "Show kernel threads");
  tree_cmd->add_flag("--compact", tree.compact, "Fold identical leaf siblings: 4*[nginx: worker]");
  tree_cmd->add_flag("--ascii", tree.ascii, "ASCII line art instead of Unicode");
  tree_cmd->add_flag("-w,--wide", tree.wide, "Do not cut lines to the terminal width");
  tree_cmd->add_option("--width", tree.width, "Cut lines to this many columns")
      ->check(CLI::Range(size_t{1}, size_t{1} << 20));
  tree_cmd->add_option("--at", tree.at, "The forest as recorded at TIME (RFC 3339, HH:MM[:SS], -10m, 2h ago)");
  tree_cmd->add_option("--db", tree.db, fmt::format("History database for --at (default {})", kDefaultDb));
  tree_cmd->add_option("--from", tree.from, "The forest from a snapshot file (lineage snapshot) instead of /proc");

  WhyOptions why;
  CLI::App* why_cmd = app.add_subcommand("why", "Why is this process running, and who started it? (default command)");
  why_cmd->footer(
      "TARGET is a pid, a name (substring of comm or command line), :PORT, or a file path.\n"
      "Examples:\n"
      "  lineage why 1234                  the chain from pid 1234 back to its origin\n"
      "  lineage 1234                      the same: why is the default command\n"
      "  lineage why nginx --all           every process matching nginx\n"
      "  lineage why :8080                 whoever holds port 8080 (tcp/udp, IPv4/IPv6)\n"
      "  lineage why /var/log/app.log      processes holding the file open\n"
      "  lineage why --container web --json\n"
      "  lineage why 4242 --at 14:02          pid 4242 as recorded at 14:02 today (needs lineage record)\n"
      "With a history database (lineage record), an orphan's exited ancestors continue its chain.\n"
      "Exit: 0 ok, 1 warnings found, 2 not found, 3 permission denied, 4 usage or ambiguous name.");
  add_common(*why_cmd, why.common);
  why_cmd->add_option("TARGET", why.targets, "PID, NAME, :PORT or PATH (several allowed)");
  why_cmd->add_option("--pid", why.pids, "Target by pid");
  why_cmd->add_option("--name", why.names, "Target by name");
  why_cmd->add_option("--port", why.ports, "Target by local port (tcp or udp)");
  why_cmd->add_option("--file", why.files, "Target the processes holding this file");
  why_cmd->add_option("--container", why.containers, "Target a container (name or id)");
  for (const WhyFlag& f : kWhyFlags) why_cmd->add_flag(f.names, f.field(why), f.help);
  why_cmd->add_option("--at", why.at, "The process and its chain as recorded at TIME (needs lineage record)");
  why_cmd->add_option("--db", why.db, fmt::format("History database (default {}, read when it exists)", kDefaultDb));
  why_cmd->add_option("--from", why.from, "Explain from a snapshot file (lineage snapshot) instead of /proc");

  WatchOptions watch;
  CLI::App* watch_cmd = app.add_subcommand("watch", "Live fork/exec/exit stream with lineage context");
  watch_cmd->footer(
      "Examples:\n"
      "  lineage watch                         every fork, exec and exit, with each process's lineage\n"
      "  lineage watch --pid 1234 --event exec  execs in the subtree of 1234\n"
      "  lineage watch --json --duration 10     JSON lines (lineage.event/v1) for 10 s\n"
      "  lineage watch --audit                  audit findings as they happen (lineage.finding/v1 with --json)\n"
      "Sources: bpf (eBPF tracepoints, root), netlink (proc connector, root), poll (/proc scans:\n"
      "misses processes shorter than the interval). auto tries them in that order.");
  add_common(*watch_cmd, watch.common);
  watch_cmd->add_option("--source", watch.source, "auto, bpf, netlink or poll")
      ->check(CLI::IsMember({"auto", "bpf", "netlink", "poll"}));
  watch_cmd->add_option("--pid", watch.pids, "Only the subtree of this pid");
  watch_cmd->add_option("--comm", watch.comms, "Only processes whose comm contains this");
  watch_cmd->add_option("-u,--user", watch.user, "Only this user's processes");
  watch_cmd->add_option("--event", watch.events, "Only these events: fork,exec,exit");
  watch_cmd->add_option("--duration", watch.duration, "Stop after this many seconds");
  watch_cmd->add_option("--interval", watch.poll_interval_ms, "Poll source: milliseconds between scans")
      ->check(CLI::Range(10, 60000));
  watch_cmd->add_option("--container", watch.container, "Only this container's processes (name or id)");
  watch_cmd->add_flag("--threads", watch.threads, "Also show threads starting and ending (bpf, netlink)");
  watch_cmd->add_option("--max-processes", watch.max_processes,
                        "Processes the tree keeps, live and exited (exited leaves evicted first)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{16}, size_t{1} << 26));
  watch_cmd->add_option("--max-threads", watch.max_threads, "Threads the tree keeps (with --threads)")
      ->capture_default_str()
      ->check(CLI::Range(size_t{0}, size_t{1} << 26));
  watch_cmd->add_flag("--audit", watch.audit, "Judge every exec with the audit rules; print findings, not events");
  watch_cmd->add_option("--rule", watch.rules, "With --audit: only this rule (repeatable)");
  watch_cmd->add_option("--skip", watch.skip, "With --audit: not this rule (repeatable)");
  watch_cmd->add_option("--min-severity", watch.min_severity, "With --audit: findings at or above this severity")
      ->capture_default_str();
  watch_cmd->add_option("--storm-rate", watch.storm_rate, "With --audit: forks per second in one subtree that make a fork-storm")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{10}, uint32_t{1} << 24));

  RecordOptions record;
  CLI::App* record_cmd = app.add_subcommand("record", "Record process history to a database (long-running, root)");
  record_cmd->footer(
      "Examples:\n"
      "  lineage record                              record until SIGTERM (as the lineage-record service does)\n"
      "  lineage record --keep 14d --max-size 1G     with retention (oldest exited processes go first)\n"
      "  lineage record --export /var/log/lineage/events.jsonl   also JSON lines for a log shipper\n"
      "  lineage record --status                     is a recorder running; events/s, size, oldest record\n"
      "One recorder per database (a second exits 4 naming the first). History is what `why`, `why --at`,\n"
      "`tree --at` and `history` read.");
  add_common(*record_cmd, record.common);
  record_cmd->add_option("--db", record.db, "History database")->capture_default_str();
  record_cmd->add_option("--source", record.source, "auto, bpf, netlink or poll")
      ->check(CLI::IsMember({"auto", "bpf", "netlink", "poll"}));
  record_cmd->add_option("--keep", record.keep, "Delete exited processes older than this (14d, 12h)");
  record_cmd->add_option("--max-size", record.max_size, "Keep the database under this size (1G, 500M)");
  record_cmd->add_option("--export", record.export_to, "Also write events as JSON lines to FILE, or - for stdout");
  record_cmd->add_flag("--no-audit", record.no_audit, "Do not judge execs with the audit rules (findings for audit --since)");
  record_cmd->add_option("--storm-rate", record.storm_rate, "Forks per second in one subtree that make a fork-storm finding")
      ->capture_default_str()
      ->check(CLI::Range(uint32_t{10}, uint32_t{1} << 24));
  record_cmd->add_flag("--status", record.status, "Show whether a recorder runs, its rate, and the database");
  record_cmd->add_option("--duration", record.duration, "Stop after this many seconds");
  record_cmd->add_option("--interval", record.poll_interval_ms, "Poll source: milliseconds between scans")
      ->check(CLI::Range(10, 60000));
  record_cmd->add_option("--max-processes", record.max_processes, "Processes the live tree keeps")
      ->capture_default_str()
      ->check(CLI::Range(size_t{16}, size_t{1} << 26));

  HistoryOptions history;
  std::optional<int32_t> history_descendants;
  CLI::App* history_cmd = app.add_subcommand("history", "Recorded processes, newest first");
  history_cmd->footer(
      "TARGET is a pid (every process that held it, with its time span) or a name (substring of comm).\n"
      "TIME is RFC 3339, HH:MM[:SS] (today), YYYY-MM-DD [HH:MM], or relative: -10m, 2h ago.\n"
      "Examples:\n"
      "  lineage history 4242                  every process that held pid 4242\n"
      "  lineage history python --since 1h ago\n"
      "  lineage history --descendants 1234    everything ever forked below 1234, with exit codes\n"
      "  lineage history --descendants 1234 --format chrome > t.json   the same as a timeline (Perfetto)\n"
      "Exit: 0 ok, 2 nothing matched or no history (start `lineage record`), 3 unreadable database.");
  add_common(*history_cmd, history.common);
  history_cmd->add_option("TARGET", history.target, "PID or NAME");
  history_cmd->add_option("--db", history.db, fmt::format("History database (default {})", kDefaultDb));
  history_cmd->add_option("--since", history.since, "Only processes alive at or after TIME");
  history_cmd->add_option("--until", history.until, "Only processes started at or before TIME");
  history_cmd->add_option("--exe", history.exe, "Only processes that ran this executable (its full path)");
  history_cmd->add_option("-u,--user", history.user, "Only this user's processes (name or uid)");
  history_cmd->add_option("--limit", history.limit, "At most this many")->capture_default_str()
      ->check(CLI::Range(size_t{1}, size_t{1} << 24));
  history_cmd->add_option("--descendants", history_descendants, "Everything forked below PID, as a tree");
  history_cmd->add_option("--format", history.format, "text, json (as --json) or chrome (with --descendants: Trace Event Format, as trace --format chrome)")
      ->check(CLI::IsMember({"text", "json", "chrome"}));

  // The commands that add themselves (one file each), listed by --help in
  // this order.
  std::vector<Command> added;
  added.push_back(add_files_command(app));
  added.push_back(add_who_command(app));
  added.push_back(add_kill_command(app));
  added.push_back(add_top_command(app));
  added.push_back(add_zombies_command(app));
  added.push_back(add_snapshot_command(app));
  added.push_back(add_audit_command(app));
  added.push_back(add_doctor_command(app));
  added.push_back(add_trace_command(app));

  std::reverse(args.begin(), args.end());  // CLI11 takes them reversed

  try {
    app.parse(args);
  } catch (const CLI::CallForHelp& e) {
    return cli11_exit(app, e);
  } catch (const CLI::CallForAllHelp& e) {
    return cli11_exit(app, e);
  } catch (const CLI::CallForVersion& e) {
    return cli11_exit(app, e);
  } catch (const CLI::ParseError& e) {
    // CLI11 quotes the arguments it rejects: they are the user's, escaped.
    std::fprintf(stderr, "lineage: %s\nTry 'lineage --help'.\n", output::escape_text(e.what()).c_str());
    return static_cast<int>(ErrorKind::kUsage);
  }

  if (tree_cmd->parsed()) {
    auto target = pick_target(tree_positional, tree_pid, tree_name, tree_exact);
    if (!target) return print_error(target.error());
    tree.target = std::move(*target);
    auto out = run_tree(tree);
    if (!out) return print_error(out.error());
    return write_out(*out);
  }
  if (why_cmd->parsed()) return run_why_command(why);
  if (watch_cmd->parsed()) {
    auto rc = run_watch(watch);
    if (!rc) return print_error(rc.error());
    return *rc;
  }
  if (record_cmd->parsed()) {
    auto rc = run_record(record);
    if (!rc) return print_error(rc.error());
    return *rc;
  }
  if (history_cmd->parsed()) {
    history.descendants = history_descendants;
    auto rc = run_history(history);
    if (!rc) return print_error(rc.error());
    return *rc;
  }
  for (const Command& command : added) {
    if (command.app->parsed()) return command.run();
  }
  std::fputs(app.help().c_str(), stdout);
  return 0;
}

}  // namespace

int run(int argc, char** argv) {
  // `lineage PID` means `lineage why PID`.
  std::vector<std::string> args(argv + 1, argv + argc);
  static constexpr std::string_view kCommands[] = {
      "tree", "why", "watch", "record", "history",
      "files",
      "who",
      "kill",
      "top",
      "zombies",
      "snapshot",
      "audit",
      "doctor",
      "trace",
  };
  if (!args.empty() && std::find(std::begin(kCommands), std::end(kCommands), args[0]) == std::end(kCommands) &&
      !args[0].starts_with("-")) {
    args.insert(args.begin(), "why");
  }
  if (WhyOptions why; parse_why_fast(args, why)) return run_why_command(why);
  return run_cli11(std::move(args));
}

}  // namespace lineage::cli
