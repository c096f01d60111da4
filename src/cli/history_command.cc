#include "cli/history_command.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/record_command.h"
#include "resolve/targets.h"
#include "core/clock.h"
#include "core/time_spec.h"
#include "output/json_writer.h"
#include "output/sanitize.h"
#include "output/trace_writer.h"
#include "procfs/reader.h"
#include "procfs/users.h"
#include "store/history.h"
#include "store/recall.h"
#include "store/schema.h"
#include "trace/recorded.h"

namespace lineage::cli {
namespace {

using store::RecordedProcess;

constexpr size_t kMaxDescendants = 100000;

std::string command_of(const RecordedProcess& p) {
  const store::RecordedExec* e = p.last_exec();
  if (e == nullptr) return "[" + p.fork_comm + "]";
  std::string cmd;
  for (const auto& a : e->argv) cmd += (cmd.empty() ? "" : " ") + a;
  if (cmd.empty()) cmd = e->exe.empty() ? "[" + e->comm + "]" : e->exe;
  return cmd;
}

uint32_t uid_of(const RecordedProcess& p) {
  const store::RecordedExec* e = p.last_exec();
  return e ? e->uid : p.uid;
}

// Whether a process the history saw no exit for runs now: the recorder may
// have stopped before it exited (same pid and start time in /proc).
// The history's row of the running boot: a pid and start time of another
// boot say nothing of what runs now.
int64_t g_this_boot = 0;

bool running_now(const RecordedProcess& p) {
  if (p.boot != g_this_boot) return false;
  static auto reader = procfs::ProcReader::open("/proc");
  if (!reader) return false;
  auto now = reader->read(p.key.pid, core::kFieldStat);
  return now && core::same_start(now->key.start_time_ns, p.key.start_time_ns, reader->tick_ns());
}

std::string end_text(const RecordedProcess& p) {
  if (!p.exit_ns) return running_now(p) ? "running" : "no exit recorded";
  if (p.flags & store::kFlagExitUnseen) return "gone (exit unseen)";
  return p.status ? store::describe_status(*p.status) : "exited";
}

nlohmann::ordered_json to_json(const RecordedProcess& p, procfs::UserNames& users) {
  nlohmann::ordered_json j;
  j["pid"] = p.key.pid;
  j["ppid"] = p.ppid;
  j["start_time"] = core::format_time(p.unix_ns(p.key.start_time_ns), true);
  j["alive"] = !p.exit_ns.has_value() && running_now(p);
  if (p.exit_ns) {
    j["exit_time"] = core::format_time(p.unix_ns(*p.exit_ns), true);
    j["duration_ns"] = *p.exit_ns - p.key.start_time_ns;
    if (p.status && !(p.flags & store::kFlagExitUnseen)) {
      int sig = *p.status & 0x7f;
      if (sig == 0) j["exit_code"] = (*p.status >> 8) & 0xff;
      else j["exit_signal"] = sig;
    }
  }
  uint32_t uid = uid_of(p);
  j["uid"] = uid;
  j["user"] = output::to_valid_utf8(users.name(uid));
  const store::RecordedExec* e = p.last_exec();
  j["comm"] = output::to_valid_utf8(e ? e->comm : p.fork_comm);
  if (e) {
    j["exe"] = output::to_valid_utf8(e->exe);
    nlohmann::ordered_json argv = nlohmann::ordered_json::array();
    for (const auto& a : e->argv) argv.push_back(output::to_valid_utf8(a));
    j["cmdline"] = std::move(argv);
  }
  j["backfilled"] = (p.flags & store::kFlagBackfilled) != 0;
  if (p.flags & store::kFlagExitUnseen) j["exit_unseen"] = true;
  return j;
}

std::string row_text(const RecordedProcess& p, procfs::UserNames& users, const std::string& indent) {
  std::string start = core::format_time(p.unix_ns(p.key.start_time_ns), false);
  std::string dur = p.exit_ns ? core::format_duration(*p.exit_ns - p.key.start_time_ns) : "-";
  return fmt::format("{:<19}  {:>8}  {:<18}  {:>7}  {:>7}  {:<8}  {}{}\n", start, dur, end_text(p), p.key.pid,
                     p.ppid, output::escape_text(users.name(uid_of(p))), indent,
                     output::escape_text(command_of(p)));
}

constexpr const char* kHeader = "{:<19}  {:>8}  {:<18}  {:>7}  {:>7}  {:<8}  {}\n";

Result<int> descendants(const store::History& h, const HistoryOptions& o, procfs::UserNames& users) {
  store::History::Snapshot snapshot(h);
  store::HistoryFilter f;
  f.pid = *o.descendants;
  f.limit = 100;
  auto roots = h.query(f);
  if (!roots) return roots.error();
  if (roots->empty()) return not_found(fmt::format("pid {} is not in the recorded history", *o.descendants));
  // A pid reused in the recorded window names several processes: the tree
  // drawn is the newest holder's (the query's order), and the user is told.
  if (roots->size() > 1) {
    std::fprintf(stderr,
                 "lineage history: pid %d was held by %s%zu processes in the recorded history; showing the "
                 "newest, started %s (`lineage history %d` lists them all)\n",
                 *o.descendants, roots->size() >= f.limit ? "at least " : "", roots->size(),
                 core::format_time(roots->front().unix_ns(roots->front().key.start_time_ns), false).c_str(),
                 *o.descendants);
  }
  // Depth first, children oldest first: the order `strace -f` would print.
  struct Item {
    int64_t row;
    size_t depth;
  };
  std::vector<Item> stack{{roots->front().row, 0}};
  nlohmann::ordered_json all = nlohmann::ordered_json::array();
  std::vector<nlohmann::ordered_json*> path;
  std::string out;
  const bool chrome = o.format == "chrome";
  if (!o.common.json && !chrome) out += fmt::format(kHeader, "START", "DURATION", "END", "PID", "PPID", "USER", "COMMAND");
  size_t seen = 0;
  std::vector<RecordedProcess> rows;  // --format chrome: the walk, for the trace writer
  while (!stack.empty() && seen < kMaxDescendants) {
    Item it = stack.back();
    stack.pop_back();
    auto p = h.by_row(it.row);
    if (!p) return p.error();
    if (!*p) continue;
    ++seen;
    auto kids = h.children(it.row);
    if (!kids) return kids.error();
    for (auto k = kids->rbegin(); k != kids->rend(); ++k) stack.push_back({*k, it.depth + 1});
    if (chrome) {
      rows.push_back(std::move(**p));
    } else if (o.common.json) {
      auto j = to_json(**p, users);
      j["depth"] = it.depth;
      all.push_back(std::move(j));
    } else {
      std::string indent;
      for (size_t d = 0; d < it.depth; ++d) indent += d + 1 == it.depth ? "└─ " : "   ";
      out += row_text(**p, users, indent);
    }
  }
  if (seen >= kMaxDescendants) std::fprintf(stderr, "lineage history: stopped after %zu processes\n", seen);
  if (chrome) {
    // The same Trace Event Format as `trace --format chrome`, from the record.
    auto traced = trace::from_recorded(rows, running_now, core::boot_now_ns());
    std::printf("%s\n", output::dump_json(output::trace_chrome_json(traced)).c_str());
  } else if (o.common.json) {
    nlohmann::ordered_json doc;
    doc["schema"] = "lineage.history/v1";
    doc["descendants_of"] = *o.descendants;
    doc["processes"] = std::move(all);
    std::printf("%s\n", output::dump_json(doc).c_str());
  } else {
    std::fputs(out.c_str(), stdout);
  }
  return 0;
}

}  // namespace

std::string history_path(const std::string& option) { return option.empty() ? kDefaultDb : option; }

Result<store::History> open_history(const std::string& path) {
  auto h = store::History::open(path);
  if (!h && h.error().kind == ErrorKind::kNotFound) {
    return not_found(fmt::format("no history at {}: start recording with `lineage record` "
                                 "(or `systemctl enable --now lineage-record`)",
                                 output::escape_text(path)));
  }
  return h;
}

Result<AtTime> resolve_at(const std::string& time, const std::string& path) {
  int64_t now = core::realtime_now_ns();
  auto t = core::parse_time(time, now, core::system_local_time());
  if (!t) return t.error();
  if (*t > now) return usage_error(fmt::format("--at {} is in the future", output::escape_text(time)));
  auto h = open_history(path);
  if (!h) return h.error();
  int64_t first = h->first_unix_ns();
  if (first == 0 || *t < first) {
    return not_found(fmt::format("{} is before the recorded history{}", core::format_time(*t, false),
                                 first ? " (it begins " + core::format_time(first, false) + ")" : " (it is empty)"));
  }
  return AtTime{std::move(*h), *t};
}

Result<int> run_history(const HistoryOptions& options) {
  HistoryOptions o = options;
  if (o.format == "chrome" && !o.descendants) {
    return usage_error("--format chrome needs --descendants PID (a tree to draw as a timeline)");
  }
  if (o.common.json && o.format == "chrome") return usage_error("--json and --format chrome disagree");
  if (o.format == "json") o.common.json = true;
  std::string path = history_path(o.db);
  auto h = open_history(path);
  if (!h) return h.error();
  g_this_boot = h->boot_of(store::read_boot_id("/proc"));
  procfs::UserNames users;
  if (o.descendants) return descendants(*h, o, users);
  store::HistoryFilter f;
  f.limit = o.limit;
  int64_t now = core::realtime_now_ns();
  if (!o.target.empty()) {
    if (resolve::looks_like_pid(o.target)) f.pid = std::stoi(o.target);
    else f.name = o.target;
  }
  // Recorded executables are full paths (as the kernel names them): a
  // name here would match nothing, and say only that.
  if (!o.exe.empty() && o.exe.front() != '/') {
    return usage_error(fmt::format("--exe takes the executable's full path (such as /usr/bin/{0}); "
                                   "to match by name: lineage history {0}",
                                   output::escape_text(o.exe)));
  }
  f.exe = o.exe;
  if (!o.user.empty()) {
    f.uid = procfs::UserNames::lookup(o.user);
    if (!f.uid) return usage_error(fmt::format("unknown user '{}'", output::escape_text(o.user)));
  }
  for (auto [text, field] : {std::pair{&o.since, &f.since_unix_ns}, std::pair{&o.until, &f.until_unix_ns}}) {
    if (text->empty()) continue;
    auto t = core::parse_time(*text, now, core::system_local_time());
    if (!t) return t.error();
    *field = *t;
  }
  // As --at: history knows nothing after now. (A --since after --until is
  // a question: what started by --until and was still alive at --since.)
  if (f.since_unix_ns && *f.since_unix_ns > now) {
    return usage_error(fmt::format("--since {} is in the future", output::escape_text(o.since)));
  }
  auto rows = h->query(f);
  if (!rows) return rows.error();
  if (o.common.json) {
    nlohmann::ordered_json doc;
    doc["schema"] = "lineage.history/v1";
    nlohmann::ordered_json all = nlohmann::ordered_json::array();
    for (const auto& p : *rows) all.push_back(to_json(p, users));
    doc["processes"] = std::move(all);
    std::printf("%s\n", output::dump_json(doc).c_str());
  } else {
    std::string out;
    if (!rows->empty()) out = fmt::format(kHeader, "START", "DURATION", "END", "PID", "PPID", "USER", "COMMAND");
    for (const auto& p : *rows) out += row_text(p, users, "");
    std::fputs(out.c_str(), stdout);
  }
  if (rows->empty()) {
    return not_found(o.target.empty() ? std::string("no recorded process matches")
                                      : fmt::format("no recorded process matches '{}'", output::escape_text(o.target)));
  }
  return 0;
}

}  // namespace lineage::cli
