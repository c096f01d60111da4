// cron, anacron and at: an ancestor whose executable (never its comm) is the
// daemon, the job it started, and the crontab line that names that job.
//
//   cron (pid N, /usr/sbin/cron)          the daemon
//   └─ cron (per-job child)               forked, same executable
//      └─ /bin/sh -c CMD                  CMD: the crontab command up to '%'
//         └─ ...                          the target, at any depth
//
// A shell may also replace itself with a simple command (bash does), so
// the first process after the daemon can be CMD's own argv. Crontab files
// are read with caps on count and size, and parsed as hostile text.
//
// busybox crond is the busybox executable run as its crond applet (argv[0]
// crond, or "busybox crond"): the exe, not a name, says it is busybox, and
// busybox picks the applet from argv. It starts `sh -c CMD` itself (no
// per-job child) and reads only DIR/USER (-c DIR, default
// /var/spool/cron/crontabs), where '#' ends a command and '%' is literal.
// at jobs are found from the job file atd runs (explain/at_job.h).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "core/unique_fd.h"
#include "explain/at_job.h"
#include "explain/detectors.h"
#include "explain/file_read.h"

namespace lineage::explain {
namespace {

constexpr size_t kMaxCrontabBytes = 1u << 20;
constexpr size_t kMaxCrontabFiles = 1000;
constexpr size_t kMaxUserName = 64;

/// Names in dir, sorted, without hidden files and editor or package
/// manager leftovers (cron ignores those too). At most `cap` names.
FileStatus list_dir(const std::string& dir, size_t cap, std::vector<std::string>& names) {
  names.clear();
  // DIR may come from crond's argv (-c): a user's link is not listed.
  OpenedFile opened = open_safe(dir, OpenAs::kDirectory);
  if (!opened.ok()) return opened.status;
  UniqueDir d = UniqueDir::from_fd(std::move(opened.fd));
  if (!d) return status_from_errno(errno);
  while (dirent* e = ::readdir(d.get())) {
    std::string_view n = e->d_name;
    if (n.empty() || n.front() == '.' || n.back() == '~' || n.size() > 255) continue;
    if (n.find(".dpkg-") != std::string_view::npos || n.find(".rpm") != std::string_view::npos ||
        n.ends_with(".swp")) {
      continue;
    }
    if (e->d_type != DT_REG && e->d_type != DT_UNKNOWN && e->d_type != DT_LNK) continue;
    names.emplace_back(n);
    if (names.size() >= cap) break;
  }
  std::sort(names.begin(), names.end());
  return FileStatus::kOk;
}

// ---------------------------------------------------------------- crontabs

bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && (is_blank(s.front()) || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (is_blank(s.back()) || s.back() == '\r')) s.remove_suffix(1);
  return s;
}

/// Next blank-separated token of `rest`, consuming it and the blanks before.
std::string_view next_token(std::string_view& rest) {
  while (!rest.empty() && is_blank(rest.front())) rest.remove_prefix(1);
  size_t end = 0;
  while (end < rest.size() && !is_blank(rest[end])) ++end;
  std::string_view tok = rest.substr(0, end);
  rest.remove_prefix(end);
  return tok;
}

/// What cron hands to `sh -c`: the command up to its first unescaped '%'
/// (the rest is the job's stdin); "\%" is a literal '%', any other
/// backslash stays (as in cron's do_command.c).
std::string shell_command(std::string_view cmd) {
  std::string out;
  bool escaped = false;
  for (char ch : cmd) {
    if (escaped) {
      if (ch != '%') out += '\\';
      out += ch;
      escaped = false;
    } else if (ch == '\\') {
      escaped = true;
    } else if (ch == '%') {
      break;
    } else {
      out += ch;
    }
  }
  if (escaped) out += '\\';
  return out;
}

bool is_schedule_keyword(std::string_view k) {
  for (std::string_view w : {"@reboot", "@yearly", "@annually", "@monthly", "@weekly", "@daily",
                             "@midnight", "@hourly"}) {
    if (k == w) return true;
  }
  return false;
}

bool is_time_field(std::string_view f) {
  if (f.empty()) return false;
  for (char c : f) {
    bool ok = (c >= '0' && c <= '9') || c == '*' || c == ',' || c == '-' || c == '/' ||
              (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');  // jan, mon ...
    if (!ok) return false;
  }
  return true;
}

enum class Format { kSystem, kUser, kAnacron, kBusybox };

struct Entry {
  std::string file;
  size_t line = 0;       // 1-based
  std::string text;      // the line as written
  std::string user;      // USER field, or the crontab's owner
  std::string command;   // as cron passes it to the shell
};

/// One crontab line; nullopt for comments, environment settings and
/// anything that is not a well-formed entry.
std::optional<Entry> parse_line(std::string_view line, Format format) {
  std::string_view rest = line;
  while (!rest.empty() && is_blank(rest.front())) rest.remove_prefix(1);
  if (rest.empty() || rest.front() == '#') return std::nullopt;
  Entry e;
  if (format == Format::kAnacron) {
    // period delay job-identifier command
    std::string_view period = next_token(rest);
    if (period.empty() || !(period.front() == '@' || (period.front() >= '0' && period.front() <= '9'))) {
      return std::nullopt;
    }
    std::string_view delay = next_token(rest);
    if (delay.empty() || delay.find_first_not_of("0123456789") != std::string_view::npos) {
      return std::nullopt;
    }
    if (next_token(rest).empty()) return std::nullopt;
    e.command = std::string(trim(rest));
  } else {
    bool keyword = rest.front() == '@';
    if (keyword) {
      if (!is_schedule_keyword(next_token(rest))) return std::nullopt;
    } else if ((rest.front() >= '0' && rest.front() <= '9') || rest.front() == '*') {
      for (int i = 0; i < 5; ++i) {
        if (!is_time_field(next_token(rest))) return std::nullopt;
      }
    } else {
      return std::nullopt;  // NAME=value, or not cron syntax
    }
    if (format == Format::kSystem) {
      std::string_view user = next_token(rest);
      if (user.empty() || user.size() > kMaxUserName) return std::nullopt;
      e.user = std::string(user);
    }
    if (format == Format::kBusybox) {
      // After a time field, '#' starts a comment; after @word busybox
      // keeps the rest of the line as it is.
      if (!keyword) rest = rest.substr(0, rest.find('#'));
      e.command = std::string(trim(rest));
    } else {
      e.command = shell_command(trim(rest));
    }
  }
  if (trim(e.command).empty()) return std::nullopt;
  e.text = std::string(line);
  return e;
}

std::vector<Entry> parse_crontab(std::string_view text, const std::string& file, Format format,
                                 const std::string& owner) {
  std::vector<Entry> entries;
  size_t number = 0;
  auto next_line = [&text, &number] {
    ++number;
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    return line;
  };
  std::string joined;
  while (!text.empty()) {
    std::string_view line = next_line();
    size_t first = number;
    if (format == Format::kBusybox && line.ends_with('\\')) {  // busybox joins on '\'
      joined.clear();
      while (line.ends_with('\\') && !text.empty()) {
        joined.append(line.substr(0, line.size() - 1));
        line = next_line();
      }
      joined.append(line.ends_with('\\') ? line.substr(0, line.size() - 1) : line);
      line = joined;
    }
    if (auto e = parse_line(line, format)) {
      e->file = file;
      e->line = first;
      if (format == Format::kUser || format == Format::kBusybox) e->user = owner;
      entries.push_back(std::move(*e));
    }
  }
  return entries;
}

// -------------------------------------------------------------------- jobs

enum class Daemon { kNone, kCron, kAnacron, kAt, kBusyboxCron };

/// Index of the first argument of `applet` when p is the busybox
/// executable running it: busybox picks the applet from argv[0]'s base
/// name, or from argv[1] when argv[0] is busybox itself.
std::optional<size_t> busybox_applet(const core::Process& p, std::string_view applet) {
  if (!exe_name(p).starts_with("busybox") || !p.argv || p.argv->empty()) return std::nullopt;
  const auto& argv = *p.argv;
  std::string_view zero = base_name(argv[0]);
  if (zero == applet) return 1;
  if (zero.starts_with("busybox") && argv.size() > 1 && base_name(argv[1]) == applet) return 2;
  return std::nullopt;
}

Daemon daemon_of(const core::Process& p) {
  std::string_view exe = exe_name(p);
  if (exe == "cron" || exe == "crond") return Daemon::kCron;
  if (exe == "anacron") return Daemon::kAnacron;
  if (exe == "atd") return Daemon::kAt;
  if (busybox_applet(p, "crond")) return Daemon::kBusyboxCron;
  return Daemon::kNone;
}

/// One daemon on the chain: chain[first..last] run the same executable (the
/// daemon and its per-job children).
struct DaemonRun {
  Daemon daemon = Daemon::kNone;
  size_t first = 0, last = 0;
  std::string crontab_dir;  // busybox crond: the one directory it reads
};

bool is_shell(std::string_view name) {
  for (std::string_view s : {"sh", "dash", "bash", "ash", "ksh", "mksh", "zsh"}) {
    if (name == s) return true;
  }
  return false;
}

/// Splits a command as sh would if it were one simple command: blanks
/// separate words, quotes and backslashes only group. nullopt when the
/// command needs the shell (operators, expansions, globs, assignments),
/// because then no argv can equal it.
std::optional<std::vector<std::string>> simple_words(std::string_view cmd) {
  std::vector<std::string> words;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < cmd.size(); ++i) {
    char c = cmd[i];
    if (is_blank(c)) {
      if (in_word) words.push_back(std::move(cur));
      cur.clear();
      in_word = false;
      continue;
    }
    if ((c == '#' || c == '~') && !in_word) return std::nullopt;
    if (c == '=' && words.empty()) return std::nullopt;  // VAR=value cmd
    in_word = true;
    if (c == '\\') {
      if (i + 1 >= cmd.size()) return std::nullopt;
      cur += cmd[++i];
    } else if (c == '\'') {
      size_t end = cmd.find('\'', i + 1);
      if (end == std::string_view::npos) return std::nullopt;
      cur.append(cmd.substr(i + 1, end - i - 1));
      i = end;
    } else if (c == '"') {
      for (++i; i < cmd.size() && cmd[i] != '"'; ++i) {
        if (cmd[i] == '$' || cmd[i] == '`') return std::nullopt;
        if (cmd[i] == '\\' && i + 1 < cmd.size() && std::strchr("\"\\$`", cmd[i + 1]) != nullptr) ++i;
        cur += cmd[i];
      }
      if (i >= cmd.size()) return std::nullopt;
    } else if (std::strchr("|&;<>()$`*?[]{}!\n\r", c) != nullptr) {
      return std::nullopt;
    } else {
      cur += c;
    }
  }
  if (in_word) words.push_back(std::move(cur));
  if (words.empty()) return std::nullopt;
  return words;
}

/// The job a daemon started: the process right below it.
struct Job {
  size_t index = 0;
  std::string command;  // sh -c argument, or the argv the shell exec'd
  bool via_shell = false;
  std::string argv_text;
};

std::string join(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
  }
  return out;
}

std::optional<Job> job_below(const Context& ctx, size_t daemon_end) {
  size_t i = daemon_end + 1;
  if (i >= ctx.chain.size()) return std::nullopt;
  const core::Process& p = ctx.chain[i];
  Job job;
  job.index = i;
  if (!p.argv || p.argv->empty()) return job;
  const auto& argv = *p.argv;
  job.argv_text = join(argv);
  if (argv.size() == 3 && argv[1] == "-c" && is_shell(base_name(argv[0]))) {
    job.command = argv[2];
    job.via_shell = true;
  } else {
    job.command = job.argv_text;
  }
  return job;
}

bool matches(const Entry& e, const Job& job, const std::vector<std::string>& argv) {
  if (job.via_shell) return trim(e.command) == trim(job.command);
  auto words = simple_words(trim(e.command));
  return words && *words == argv;
}

/// Where a job's line may be, in the order cron reads them.
struct Crontab {
  std::string path;
  Format format;
  std::string owner;  // user crontabs: the file name is the user
};

/// busybox crond: DIR/USER, skipping names with a dot (as crond does).
std::vector<Crontab> busybox_crontabs(const std::string& dir, const std::string& user,
                                      std::vector<std::string>& unreadable) {
  std::vector<Crontab> tabs;
  if (!user.empty()) {
    if (user.find('.') == std::string::npos) tabs.push_back({dir + "/" + user, Format::kBusybox, user});
    return tabs;
  }
  std::vector<std::string> names;
  if (FileStatus s = list_dir(dir, kMaxCrontabFiles, names); s != FileStatus::kOk) {
    unreadable.push_back(fmt::format("{} ({})", dir, describe(s)));
  }
  for (const auto& n : names) {
    if (n.size() <= kMaxUserName && n.find('.') == std::string::npos) {
      tabs.push_back({dir + "/" + n, Format::kBusybox, n});
    }
  }
  return tabs;
}

std::vector<Crontab> crontabs_for(const Context& ctx, const DaemonRun& run, const std::string& user,
                                  std::vector<std::string>& unreadable) {
  if (run.daemon == Daemon::kBusyboxCron) return busybox_crontabs(run.crontab_dir, user, unreadable);
  std::vector<Crontab> tabs;
  if (run.daemon == Daemon::kAnacron) {
    tabs.push_back({ctx.paths.etc + "/anacrontab", Format::kAnacron, ""});
    return tabs;
  }
  tabs.push_back({ctx.paths.etc + "/crontab", Format::kSystem, ""});
  std::vector<std::string> names;
  std::string cron_d = ctx.paths.etc + "/cron.d";
  if (FileStatus s = list_dir(cron_d, kMaxCrontabFiles, names);
      s != FileStatus::kOk && s != FileStatus::kNotFound) {
    unreadable.push_back(fmt::format("{} ({})", cron_d, describe(s)));
  }
  for (const auto& n : names) tabs.push_back({cron_d + "/" + n, Format::kSystem, ""});
  // Debian and Vixie cron: crontabs/USER; cronie: USER directly in the spool.
  for (std::string dir : {ctx.paths.var_spool_cron + "/crontabs", ctx.paths.var_spool_cron}) {
    if (!user.empty()) {
      tabs.push_back({dir + "/" + user, Format::kUser, user});
      continue;
    }
    FileStatus s = list_dir(dir, kMaxCrontabFiles, names);
    if (s != FileStatus::kOk && s != FileStatus::kNotFound) {
      unreadable.push_back(fmt::format("{} ({})", dir, describe(s)));
    }
    for (const auto& n : names) {
      if (n.size() <= kMaxUserName) tabs.push_back({dir + "/" + n, Format::kUser, n});
    }
  }
  if (tabs.size() > kMaxCrontabFiles) tabs.resize(kMaxCrontabFiles);
  return tabs;
}

/// Every line that would start this job, in cron's reading order.
std::vector<Entry> find_entries(const Context& ctx, const DaemonRun& run, const Job& job,
                                const std::string& user, std::vector<std::string>& unreadable) {
  std::vector<Entry> found;
  std::vector<std::string> argv;
  if (!job.via_shell) argv = *ctx.chain[job.index].argv;
  std::string text;
  for (const auto& tab : crontabs_for(ctx, run, user, unreadable)) {
    FileStatus s = read_bounded(tab.path, kMaxCrontabBytes, text);
    if (s == FileStatus::kNotFound || s == FileStatus::kNotRegular) continue;
    if (s != FileStatus::kOk) {
      unreadable.push_back(fmt::format("{} ({})", tab.path, describe(s)));
      continue;
    }
    for (auto& e : parse_crontab(text, tab.path, tab.format, tab.owner)) {
      if (tab.format == Format::kSystem && !user.empty() && e.user != user) continue;
      if (matches(e, job, argv)) found.push_back(std::move(e));
    }
  }
  return found;
}

std::string searched_places(const Context& ctx, const DaemonRun& run) {
  if (run.daemon == Daemon::kAnacron) return ctx.paths.etc + "/anacrontab";
  if (run.daemon == Daemon::kBusyboxCron) return run.crontab_dir + "/*";
  return fmt::format("{0}/crontab, {0}/cron.d/*, {1}/crontabs/*", ctx.paths.etc,
                     ctx.paths.var_spool_cron);
}

// ----------------------------------------------------------------- sources

std::vector<DaemonRun> daemon_runs(const Context& ctx) {
  std::vector<DaemonRun> runs;
  for (size_t i = 0; i < ctx.chain.size(); ++i) {
    Daemon d = daemon_of(ctx.chain[i]);
    if (d == Daemon::kNone) continue;
    if (!runs.empty() && runs.back().last + 1 == i && runs.back().daemon == d &&
        exe_path(ctx.chain[runs.back().last]) == exe_path(ctx.chain[i])) {
      runs.back().last = i;
    } else {
      runs.push_back({d, i, i, {}});
    }
  }
  // The target alone is the daemon itself, not something it started.
  if (!runs.empty() && runs.back().first + 1 == ctx.chain.size()) runs.pop_back();
  return runs;
}

/// The crontab line that starts this job, with what was matched (or where
/// it was looked for) in evidence.
std::optional<Entry> job_line(const Context& ctx, const DaemonRun& run, const Job& job,
                              const std::string& user, std::vector<std::string>& evidence) {
  int32_t pid = ctx.chain[job.index].pid();
  evidence.push_back(
      job.via_shell
          ? fmt::format("job command from argv of pid {}: {}", pid, job.argv_text)
          : fmt::format("job command from argv of pid {} (the shell exec'd it): {}", pid,
                        job.argv_text));
  std::vector<std::string> unreadable;
  auto entries = find_entries(ctx, run, job, user, unreadable);
  if (entries.empty()) {
    evidence.push_back(fmt::format("no line in {} matches this command{}",
                                   searched_places(ctx, run),
                                   user.empty() ? "" : fmt::format(" for user {}", user)));
    for (const auto& u : unreadable) evidence.push_back(fmt::format("could not read {}", u));
    return std::nullopt;
  }
  const Entry& e = entries.front();
  evidence.push_back(entries.size() == 1
                         ? fmt::format("matches {} line {}", e.file, e.line)
                         : fmt::format("matches {} line {} (and {} more lines with the same "
                                       "command)",
                                       e.file, e.line, entries.size() - 1));
  return e;
}

/// busybox crond's crontab directory: the last -c DIR among its options
/// (-c DIR, -cDIR, or in a cluster such as -fc DIR), else the default.
/// crond chdir()s into it, so a relative DIR is crond's working directory.
std::string busybox_crontab_dir(const Context& ctx, const core::Process& daemon, size_t first_arg,
                                std::vector<std::string>& evidence) {
  const auto& argv = *daemon.argv;
  std::optional<std::string> dir;
  for (size_t i = first_arg; i < argv.size(); ++i) {
    std::string_view a = argv[i];
    if (a == "--") break;
    if (a.size() < 2 || a[0] != '-') continue;
    for (size_t j = 1; j < a.size(); ++j) {
      if (std::strchr("cdlL", a[j]) == nullptr) continue;  // -f -b -S take no value
      std::string value(a.substr(j + 1));
      if (value.empty() && i + 1 < argv.size()) value = argv[++i];
      if (a[j] == 'c') dir = std::move(value);
      break;
    }
  }
  if (!dir) {
    std::string def = ctx.paths.var_spool_cron + "/crontabs";
    evidence.push_back(fmt::format("crond has no -c option: it reads {}", def));
    return def;
  }
  if (dir->starts_with('/')) {
    evidence.push_back(fmt::format("crond -c {}: it reads that directory", *dir));
    return *dir;
  }
  auto again = daemon.recorded ? std::nullopt : ctx.reader.read(daemon.pid(), core::kFieldStat | core::kFieldCwd);
  if (daemon.recorded && daemon.cwd) again = daemon;
  if (again && again->key == daemon.key && again->cwd) {
    evidence.push_back(fmt::format("crond -c {} is relative: crond works in it, {}", *dir, *again->cwd));
    return *again->cwd;
  }
  evidence.push_back(fmt::format("crond -c {} is relative and its working directory is unreadable", *dir));
  return {};
}

/// The job's user, if it is a name that cannot leave the spool directory.
std::string safe_user(const std::string& user) {
  if (user.size() > kMaxUserName || user.find('/') != std::string::npos || user.starts_with('.')) {
    return {};
  }
  return user;
}

Source make_source(const Context& ctx, DaemonRun run) {
  const core::Process& daemon = ctx.chain[run.first];
  Source s;
  s.kind = run.daemon == Daemon::kAt ? "at" : "cron";
  s.pid = daemon.pid();
  s.anchor = run.last;
  std::string daemon_name(exe_name(daemon));
  verify_root_launcher(ctx, run.first, s);
  if (run.daemon == Daemon::kBusyboxCron) {
    daemon_name = "busybox crond";
    size_t first_arg = *busybox_applet(daemon, "crond");
    s.evidence.back() += fmt::format(" as its crond applet (argv: {})", join(*daemon.argv));
    run.crontab_dir = busybox_crontab_dir(ctx, daemon, first_arg, s.evidence);
  }
  s.name = daemon_name;

  std::string user, command;
  std::optional<Entry> entry;
  std::optional<AtJob> at_job;
  if (auto job = job_below(ctx, run.last); !job) {
    s.evidence.push_back(fmt::format("no job process below pid {} in the chain",
                                     ctx.chain[run.last].pid()));
  } else {
    const core::Process& job_proc = ctx.chain[job->index];
    s.anchor = job->index;
    user = safe_user(job_proc.user);  // the job runs as its crontab's user
    if (run.daemon == Daemon::kAt) {
      s.evidence.push_back(fmt::format("job shell pid {} ({})", job_proc.pid(),
                                       job->argv_text.empty() ? "argv unreadable" : job->argv_text));
      at_job = find_at_job(ctx, run.first, run.last, s.evidence);
    } else if (job->argv_text.empty()) {
      s.evidence.push_back(fmt::format("argv of job pid {} is not readable", job_proc.pid()));
    } else {
      command = job->command;
      // busybox crond with an unknown directory: no line can be named.
      if (run.daemon != Daemon::kBusyboxCron || !run.crontab_dir.empty()) {
        entry = job_line(ctx, run, *job, user, s.evidence);
      }
    }
  }

  if (entry) {
    s.name = entry->file;
    s.detail("crontab", entry->file);
    s.detail("line", std::to_string(entry->line));
    s.detail("entry", entry->text);
    if (!entry->user.empty()) user = entry->user;
  }
  if (at_job) {
    s.name = fmt::format("job {}", at_job->name.number);
    s.detail("job", std::to_string(at_job->name.number));
    s.detail("queue", std::string(1, at_job->name.queue));
    if (!at_job->spool_file.empty()) s.detail("spool_file", at_job->spool_file);
    if (!at_job->owner.empty()) user = at_job->owner;  // who queued it
  }
  if (!user.empty()) s.detail("user", user);
  if (!command.empty()) s.detail("command", command);
  s.detail("daemon", daemon_name);
  return s;
}

}  // namespace

void detect_cron(const Context& ctx, std::vector<Source>& out) {
  auto runs = daemon_runs(ctx);
  // Innermost first: anacron started by cron is the more specific answer.
  for (size_t i = runs.size(); i-- > 0;) out.push_back(make_source(ctx, runs[i]));
}

}  // namespace lineage::explain
