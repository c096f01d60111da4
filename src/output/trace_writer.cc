#include "output/trace_writer.h"

#include <fcntl.h>

#include <fmt/format.h>

#include "output/format.h"
#include "output/sanitize.h"

namespace lineage::output {
namespace {

using trace::Ending;
using trace::TracedProcess;

double seconds(uint64_t ns) { return static_cast<double>(ns) / 1e9; }
uint64_t since(uint64_t t, uint64_t start) { return t > start ? t - start : 0; }

// What it ran: the last exec's argv (else its exe), or its name when it
// never exec'd (a shell's subshell, make's fork before exec).
std::string command_line(const TracedProcess& p) {
  if (p.execs.empty()) return fmt::format("({})", p.comm);
  const trace::Exec& last = p.execs.back();
  std::string line;
  for (const auto& a : last.argv) line += (line.empty() ? "" : " ") + a;
  return line.empty() ? last.exe : line;
}

std::string status_of(const TracedProcess& p) {
  switch (p.ending) {
    case Ending::kRunning: return "running";
    case Ending::kVanished: return "unknown";
    case Ending::kExited: break;
  }
  return trace::describe_wait_status(p.wait_status);
}

// The end of a process for durations: its exit, or the trace's end.
uint64_t end_of(const TracedProcess& p, const trace::TraceResult& r) {
  return p.ending == Ending::kExited && p.exit_ns ? p.exit_ns : r.end_ns;
}

std::string cpu_text(const TracedProcess& p) {
  if (!p.cpu_known) return "unknown";
  return fmt::format("{:.3f}s", seconds(p.cpu_ns));
}

Json argv_json(const std::vector<std::string>& argv) {
  Json a = Json::array();
  for (const auto& s : argv) a.push_back(to_valid_utf8(s));
  return a;
}

// -e file,net: one call as a line: `open "/etc/hostname" O_RDONLY = 3`,
// `connect fd 3 to 127.0.0.1:8080 = -ECONNREFUSED`. Paths and addresses
// are the process's bytes: escaped.
std::string result_text(int64_t result) {
  return result < 0 ? "-" + events::errno_name(result) : std::to_string(result);
}
std::string call_text(const events::IoCall& c) {
  using events::IoKind;
  if (c.kind == IoKind::kOpen) {
    std::string dir = c.fd != AT_FDCWD && (c.path.empty() || c.path[0] != '/') ? fmt::format("(dirfd {}) ", c.fd) : "";
    std::string mode = (c.flags & O_CREAT) || (c.flags & O_TMPFILE) == O_TMPFILE ? fmt::format(" {:#o}", c.mode) : "";
    return fmt::format("open {}\"{}\"{} {}{} = {}", dir, escape_text(c.path), c.path_cut ? "..." : "",
                       events::open_flags_text(c.flags), mode, result_text(c.result));
  }
  std::string where = c.address.empty() ? (c.family.empty() ? "?" : c.family) : escape_text(c.address);
  const char* prep = c.kind == IoKind::kListen ? "on" : c.kind == IoKind::kAccept ? "from" : "to";
  return fmt::format("{} fd {} {} {} = {}", events::io_kind_name(c.kind), c.fd, prep, where, result_text(c.result));
}

Json io_json(const events::IoCall& c, uint64_t start_ns) {
  Json o;
  o["offset_seconds"] = seconds(since(c.time_ns, start_ns));
  if (c.kind == events::IoKind::kOpen) {
    o["path"] = to_valid_utf8(c.path);
    o["path_truncated"] = c.path_cut;
    o["flags"] = events::open_flags_text(c.flags);
    o["dirfd"] = c.fd == AT_FDCWD ? Json(nullptr) : Json(c.fd);
    o["mode"] = (c.flags & O_CREAT) || (c.flags & O_TMPFILE) == O_TMPFILE ? Json(c.mode) : Json(nullptr);
  } else {
    o["call"] = std::string(events::io_kind_name(c.kind));
    o["fd"] = c.fd;
    o["family"] = c.family.empty() ? Json(nullptr) : Json(c.family);
    o["address"] = c.address.empty() ? Json(nullptr) : Json(to_valid_utf8(c.address));
  }
  o["result"] = c.result;
  o["error"] = c.result < 0 ? Json(events::errno_name(c.result)) : Json(nullptr);
  return o;
}

bool asked(const trace::TraceResult& r, std::string_view category) {
  for (const auto& e : r.io_events) {
    if (e == category) return true;
  }
  return false;
}

// Fork order, depth first: each process followed by its descendants, with
// the tree-drawing prefix of its line and the one its children continue.
struct TraceRow {
  size_t index;
  std::string prefix;
  std::string lead;
};
std::vector<TraceRow> rows_of(const std::vector<TracedProcess>& ps) {
  std::vector<TraceRow> rows;
  struct Item {
    size_t index;
    std::string lead;  // the prefix its children continue
    std::string self;  // its own branch
  };
  std::vector<Item> stack{{0, "", ""}};
  while (!stack.empty()) {
    Item it = std::move(stack.back());
    stack.pop_back();
    rows.push_back({it.index, it.self, it.lead});
    const auto& kids = ps[it.index].children;
    for (size_t k = kids.size(); k-- > 0;) {
      bool last = k + 1 == kids.size();
      stack.push_back({kids[k], it.lead + (last ? "   " : "│  "), it.lead + (last ? "└─ " : "├─ ")});
    }
  }
  return rows;
}

}  // namespace

std::string render_trace_text(const trace::TraceResult& r, size_t width) {
  const auto& ps = r.processes;
  std::string out;
  std::string cmd;
  for (const auto& a : r.command) cmd += (cmd.empty() ? "" : " ") + a;
  size_t exited = 0;
  uint64_t cpu = 0;
  bool cpu_partial = false;
  std::vector<size_t> left;
  for (size_t i = 0; i < ps.size(); ++i) {
    if (ps[i].ending == Ending::kExited) ++exited;
    if (ps[i].ending == Ending::kRunning) left.push_back(i);
    if (ps[i].cpu_known) cpu += ps[i].cpu_ns;
    else cpu_partial = true;
  }
  out += fmt::format("lineage trace: {}\n", escape_text(cmd));
  out += fmt::format("{} after {:.3f}s; {} process{} ({} left running); CPU {:.3f}s{}; source {}\n",
                     trace::describe_wait_status(r.wait_status), seconds(since(end_of(ps.front(), r), r.start_ns)),
                     ps.size(), ps.size() == 1 ? "" : "es", left.size(), seconds(cpu),
                     cpu_partial ? " (some unknown)" : "", r.source);
  if (r.lost) {
    out += fmt::format("warning: the event source lost {} events: processes may be missing\n", r.lost);
  }
  if (!r.io_events.empty()) {
    size_t opens = 0, net = 0;
    for (const auto& p : ps) {
      for (const auto& c : p.io) (c.kind == events::IoKind::kOpen ? opens : net) += 1;
    }
    std::string what;
    if (asked(r, "file")) what = fmt::format("{} open{}", opens, opens == 1 ? "" : "s");
    if (asked(r, "net")) what += fmt::format("{}{} network call{}", what.empty() ? "" : ", ", net, net == 1 ? "" : "s");
    out += what + (r.io_lost ? fmt::format(" ({} more lost)", r.io_lost) : "") + "\n";
  }
  out += fmt::format("\n{:>9} {:>9} {:>9} {:<14} {:>7}  {}\n", "START", "DURATION", "CPU", "STATUS", "PID", "COMMAND");
  for (const TraceRow& row : rows_of(ps)) {
    const TracedProcess& p = ps[row.index];
    std::string duration = p.ending == Ending::kVanished ? "?"
                           : p.ending == Ending::kRunning ? "-"
                                                          : fmt::format("{:.3f}s", seconds(since(end_of(p, r), p.fork_ns)));
    std::string line = fmt::format("{:>9} {:>9} {:>9} {:<14} {:>7}  {}{}",
                                   fmt::format("+{:.3f}s", seconds(since(p.fork_ns, r.start_ns))), duration,
                                   cpu_text(p), status_of(p), p.pid, row.prefix, escape_text(command_line(p)));
    if (p.backfilled) line += "  [fork not seen: found in /proc]";
    out += width ? std::string(cut_to_width(line, width)) : line;
    out += '\n';
    // Its calls below it, in the column its children continue.
    std::string under = row.lead + (p.children.empty() ? "   " : "│  ");
    for (const auto& c : p.io) {
      std::string call = fmt::format("{:>9} {:>9} {:>9} {:<14} {:>7}  {}{}", fmt::format("+{:.3f}s", seconds(since(c.time_ns, r.start_ns))),
                                     "", "", "", "", under, call_text(c));
      out += width ? std::string(cut_to_width(call, width)) : call;
      out += '\n';
    }
  }
  if (!left.empty()) {
    out += fmt::format("\nLeft running (not waited for): {} process{}\n", left.size(), left.size() == 1 ? "" : "es");
    for (size_t i : left) {
      out += fmt::format("  pid {:<7} {}\n", ps[i].pid, escape_text(command_line(ps[i])));
    }
  }
  return out;
}

Json trace_json(const trace::TraceResult& r) {
  Json j;
  j["schema"] = "lineage.trace/v1";
  j["command"] = argv_json(r.command);
  j["source"] = r.source;
  j["started_at"] = format_rfc3339(r.realtime_offset_ns + static_cast<int64_t>(r.start_ns));
  j["duration_seconds"] = seconds(since(end_of(r.processes.front(), r), r.start_ns));
  j["status"] = trace::describe_wait_status(r.wait_status);
  j["exit_status"] = trace::shell_exit_status(r.wait_status);
  j["wait_status"] = r.wait_status;
  j["events_lost"] = r.lost;
  j["process_count"] = r.processes.size();
  Json left = Json::array();
  Json procs = Json::array();
  for (const TracedProcess& p : r.processes) {
    if (p.ending == Ending::kRunning) left.push_back(p.pid);
    Json o;
    o["pid"] = p.pid;
    o["ppid"] = p.ppid;
    o["comm"] = to_valid_utf8(p.comm);
    o["exe"] = p.execs.empty() ? Json(nullptr) : Json(to_valid_utf8(p.execs.back().exe));
    o["argv"] = p.execs.empty() ? Json::array() : argv_json(p.execs.back().argv);
    o["start_offset_seconds"] = seconds(since(p.fork_ns, r.start_ns));
    o["exec_offset_seconds"] = p.execs.empty() ? Json(nullptr) : Json(seconds(since(p.exec_ns(), r.start_ns)));
    o["state"] = p.ending == Ending::kRunning ? "running" : p.ending == Ending::kExited ? "exited" : "unknown";
    o["duration_seconds"] = p.ending == Ending::kExited ? Json(seconds(since(end_of(p, r), p.fork_ns))) : Json(nullptr);
    o["status"] = status_of(p);
    bool known = p.ending == Ending::kExited && p.wait_status >= 0;
    o["exit_code"] = known && (p.wait_status & 0x7f) == 0 ? Json((p.wait_status >> 8) & 0xff) : Json(nullptr);
    o["signal"] = known && (p.wait_status & 0x7f) != 0 ? Json(trace::signal_name(p.wait_status & 0x7f)) : Json(nullptr);
    o["cpu_seconds"] = p.cpu_known ? Json(seconds(p.cpu_ns)) : Json(nullptr);
    o["cpu_from"] = !p.cpu_known ? Json(nullptr) : p.cpu_final ? Json("exit") : Json("last sighting");
    o["backfilled"] = p.backfilled;  // its fork was not seen (lost events): found in /proc
    Json execs = Json::array();
    for (const auto& e : p.execs) {
      execs.push_back({{"offset_seconds", seconds(since(e.time_ns, r.start_ns))},
                       {"exe", to_valid_utf8(e.exe)},
                       {"argv", argv_json(e.argv)}});
    }
    o["execs"] = std::move(execs);
    if (!r.io_events.empty()) {
      Json files = Json::array(), network = Json::array();
      for (const auto& c : p.io) (c.kind == events::IoKind::kOpen ? files : network).push_back(io_json(c, r.start_ns));
      if (asked(r, "file")) o["files"] = std::move(files);
      if (asked(r, "net")) o["network"] = std::move(network);
    }
    procs.push_back(std::move(o));
  }
  j["left_running"] = std::move(left);
  if (!r.io_events.empty()) {
    j["events"] = r.io_events;
    j["io_lost"] = r.io_lost;
  }
  j["processes"] = std::move(procs);
  return j;
}

Json trace_chrome_json(const trace::TraceResult& r) {
  Json trace_events = Json::array();
  auto us = [&](uint64_t t) { return static_cast<double>(since(t, r.start_ns)) / 1e3; };
  const auto rows = rows_of(r.processes);
  for (size_t order = 0; order < rows.size(); ++order) {
    const TracedProcess& p = r.processes[rows[order].index];
    std::string name = to_valid_utf8(command_line(p));
    uint64_t begin = p.exec_ns();
    uint64_t end = end_of(p, r);
    Json args;
    args["ppid"] = p.ppid;
    args["argv"] = p.execs.empty() ? Json::array() : argv_json(p.execs.back().argv);
    args["status"] = status_of(p);
    args["cpu_ms"] = p.cpu_known ? Json(static_cast<double>(p.cpu_ns) / 1e6) : Json(nullptr);
    trace_events.push_back({{"name", name},
                      {"cat", "process"},
                      {"ph", "X"},
                      {"ts", us(begin)},
                      {"dur", static_cast<double>(since(end, begin)) / 1e3},
                      {"pid", p.pid},
                      {"tid", p.pid},
                      {"args", std::move(args)}});
    // The track's title and its place: parents above their children.
    trace_events.push_back({{"name", "process_name"}, {"ph", "M"}, {"pid", p.pid}, {"args", {{"name", name}}}});
    trace_events.push_back({{"name", "process_sort_index"}, {"ph", "M"}, {"pid", p.pid}, {"args", {{"sort_index", order}}}});
    // -e file,net: each call an instant on the process's track.
    for (const auto& c : p.io) {
      trace_events.push_back({{"name", to_valid_utf8(call_text(c))},
                        {"cat", std::string(events::io_category(c.kind))},
                        {"ph", "i"},
                        {"s", "t"},
                        {"ts", us(c.time_ns)},
                        {"pid", p.pid},
                        {"tid", p.pid},
                        {"args", io_json(c, r.start_ns)}});
    }
  }
  Json j;
  j["traceEvents"] = std::move(trace_events);
  j["displayTimeUnit"] = "ms";
  j["otherData"] = {{"schema", "lineage.trace/v1"},
                    {"command", argv_json(r.command)},
                    {"source", r.source},
                    {"status", trace::describe_wait_status(r.wait_status)}};
  if (!r.io_events.empty()) {
    j["otherData"]["events"] = r.io_events;
    j["otherData"]["io_lost"] = r.io_lost;
  }
  return j;
}

std::string render_trace_live_io(const events::IoCall& c, uint64_t start_ns) {
  return fmt::format("{:>9} {:<4} {:>7} {}\n", fmt::format("+{:.3f}s", seconds(since(c.time_ns, start_ns))),
                     events::io_category(c.kind), c.pid, call_text(c));
}

std::string render_trace_live(const TracedProcess& p, const core::Event& e, uint64_t start_ns) {
  std::string when = fmt::format("+{:.3f}s", seconds(since(e.time_ns, start_ns)));
  if (e.kind == core::EventKind::kExec) {
    return fmt::format("{:>9} exec {:>7} {}\n", when, p.pid, escape_text(command_line(p)));
  }
  if (e.kind == core::EventKind::kExit) {
    return fmt::format("{:>9} exit {:>7} {} after {:.3f}s, CPU {}: {}\n", when, p.pid, status_of(p),
                       seconds(since(p.exit_ns, p.fork_ns)), cpu_text(p), escape_text(command_line(p)));
  }
  return {};
}

}  // namespace lineage::output
