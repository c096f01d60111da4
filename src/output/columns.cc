#include "output/columns.h"

#include <fmt/format.h>

#include "output/format.h"
#include "output/sanitize.h"
#include "core/system_info.h"
#include "core/tty.h"

namespace lineage::output {
namespace {

using core::Process;
using core::SystemInfo;
using namespace core;

std::string unknown() { return "?"; }

uint64_t cpu_ticks(const Process& p) { return p.stat.utime_ticks + p.stat.stime_ticks; }

// Per-mille of one cpu over the process's lifetime, as ps computes %cpu.
int64_t cpu_permille(const Process& p, const SystemInfo& sys) {
  uint64_t elapsed = elapsed_ns(p, sys);
  if (elapsed == 0) return 0;
  long double cpu_ns = static_cast<long double>(cpu_ticks(p)) * sys.tick_ns();
  return static_cast<int64_t>(cpu_ns * 1000 / elapsed);
}

int64_t mem_permille(const Process& p, const SystemInfo& sys) {
  if (sys.mem_total_kb == 0 || p.stat.rss_pages <= 0) return 0;
  uint64_t rss_kb = static_cast<uint64_t>(p.stat.rss_pages) * sys.page_size / 1024;
  return static_cast<int64_t>(rss_kb * 1000 / sys.mem_total_kb);
}

int64_t rss_kb(const Process& p, const SystemInfo& sys) {
  return p.stat.rss_pages * static_cast<int64_t>(sys.page_size) / 1024;
}

std::string permille_text(int64_t v) { return fmt::format("{}.{}", v / 10, v % 10); }

std::string cgroup_text(const Process& p) {
  if (!p.cgroups || p.cgroups->empty()) return unknown();
  for (const auto& e : *p.cgroups) {
    if (e.hierarchy == 0 && e.controllers.empty()) return e.path;  // cgroup v2
  }
  for (const auto& e : *p.cgroups) {
    if (e.controllers == "name=systemd") return e.path;
  }
  return p.cgroups->front().path;
}

std::string ns_text(const std::optional<uint64_t>& v) {
  return v ? std::to_string(*v) : unknown();
}

// Two kinds of columns: numbers (sorted numerically) and text.
#define NUM(expr) \
  [](const Process& p, const SystemInfo& sys) -> SortValue { (void)sys; return static_cast<int64_t>(expr); }
#define STR(expr) \
  [](const Process& p, const SystemInfo& sys) -> SortValue { (void)sys; return std::string(expr); }
#define TEXT(expr) \
  [](const Process& p, const SystemInfo& sys) -> std::string { (void)p; (void)sys; return expr; }

const Column kColumns[] = {
    {"pid", "", "PID", kFieldStat, true, false, TEXT(std::to_string(p.pid())), NUM(p.pid())},
    {"ppid", "", "PPID", kFieldStat, true, false, TEXT(std::to_string(p.ppid())), NUM(p.ppid())},
    {"pgid", "pgrp", "PGID", kFieldStat, true, false, TEXT(std::to_string(p.stat.pgid)),
     NUM(p.stat.pgid)},
    {"sid", "sess session", "SID", kFieldStat, true, false, TEXT(std::to_string(p.stat.sid)),
     NUM(p.stat.sid)},
    {"user", "euser uname", "USER", kFieldStatus, false, false,
     TEXT(p.status ? p.user : unknown()), STR(p.status ? p.user : unknown())},
    {"uid", "euid", "UID", kFieldStatus, true, false,
     TEXT(p.status ? std::to_string(p.status->uid.effective) : unknown()),
     NUM(p.status ? p.status->uid.effective : -1)},
    {"stat", "", "STAT", kFieldStat, false, false, TEXT(format_stat(p)), STR(format_stat(p))},
    {"s", "state", "S", kFieldStat, false, false, TEXT(std::string(1, p.stat.state)),
     STR(std::string(1, p.stat.state))},
    {"etime", "", "ELAPSED", kFieldStat, true, false, TEXT(format_etime(elapsed_ns(p, sys))),
     NUM(elapsed_ns(p, sys))},
    {"etimes", "", "ELAPSED", kFieldStat, true, false,
     TEXT(std::to_string(elapsed_ns(p, sys) / 1'000'000'000)), NUM(elapsed_ns(p, sys))},
    {"time", "cputime", "TIME", kFieldStat, true, false,
     TEXT(format_cputime(cpu_ticks(p) / sys.ticks_per_second)), NUM(cpu_ticks(p))},
    {"%cpu", "pcpu", "%CPU", kFieldStat, true, false, TEXT(permille_text(cpu_permille(p, sys))),
     NUM(cpu_permille(p, sys))},
    {"%mem", "pmem", "%MEM", kFieldStat, true, false, TEXT(permille_text(mem_permille(p, sys))),
     NUM(mem_permille(p, sys))},
    {"rss", "rssize rsz", "RSS", kFieldStat, true, false, TEXT(std::to_string(rss_kb(p, sys))),
     NUM(rss_kb(p, sys))},
    {"vsz", "vsize", "VSZ", kFieldStat, true, false,
     TEXT(std::to_string(p.stat.vsize_bytes / 1024)), NUM(p.stat.vsize_bytes)},
    {"tty", "tt tname", "TT", kFieldStat, false, false, TEXT(core::tty_name(p.stat.tty_nr)),
     STR(core::tty_name(p.stat.tty_nr))},
    {"nlwp", "thcount", "NLWP", kFieldStat, true, false, TEXT(std::to_string(p.stat.num_threads)),
     NUM(p.stat.num_threads)},
    {"ni", "nice", "NI", kFieldStat, true, false, TEXT(std::to_string(p.stat.nice)),
     NUM(p.stat.nice)},
    {"lstart", "start started", "STARTED", kFieldStat, false, false,
     TEXT(format_rfc3339(sys.realtime_ns_now - static_cast<int64_t>(elapsed_ns(p, sys)))),
     NUM(p.key.start_time_ns)},
    {"comm", "ucomm", "COMMAND", kFieldStat, false, true, TEXT(p.stat.comm), STR(p.stat.comm)},
    {"cmd", "args command", "COMMAND", kFieldCmdline, false, true, TEXT(p.command_line()),
     STR(p.command_line())},
    {"exe", "", "EXE", kFieldExe, false, false,
     TEXT(p.exe ? p.exe->path + (p.exe->deleted ? " (deleted)" : "") : unknown()),
     STR(p.exe ? p.exe->path : unknown())},
    {"cwd", "", "CWD", kFieldCwd, false, false, TEXT(p.cwd ? *p.cwd : unknown()),
     STR(p.cwd ? *p.cwd : unknown())},
    {"cgroup", "", "CGROUP", kFieldCgroup, false, false, TEXT(cgroup_text(p)), STR(cgroup_text(p))},
    {"pidns", "", "PIDNS", kFieldNamespaces, true, false, TEXT(ns_text(p.ns.pid)),
     NUM(p.ns.pid.value_or(0))},
    {"mntns", "", "MNTNS", kFieldNamespaces, true, false, TEXT(ns_text(p.ns.mnt)),
     NUM(p.ns.mnt.value_or(0))},
    {"netns", "", "NETNS", kFieldNamespaces, true, false, TEXT(ns_text(p.ns.net)),
     NUM(p.ns.net.value_or(0))},
};

#undef NUM
#undef STR
#undef TEXT

bool has_alias(std::string_view aliases, std::string_view name) {
  while (!aliases.empty()) {
    size_t space = aliases.find(' ');
    if (aliases.substr(0, space) == name) return true;
    if (space == std::string_view::npos) break;
    aliases.remove_prefix(space + 1);
  }
  return false;
}

std::string column_names() {
  std::string names;
  for (const auto& c : kColumns) names += (names.empty() ? "" : ",") + std::string(c.name);
  return names;
}

}  // namespace

uint64_t elapsed_ns(const Process& p, const SystemInfo& sys) {
  return sys.boot_ns_now > p.key.start_time_ns ? sys.boot_ns_now - p.key.start_time_ns : 0;
}

std::span<const Column> all_columns() { return kColumns; }

const Column* find_column(std::string_view name) {
  for (const auto& c : kColumns) {
    if (c.name == name || has_alias(c.aliases, name)) return &c;
  }
  return nullptr;
}

Result<std::vector<const Column*>> parse_columns(std::string_view spec) {
  std::vector<const Column*> out;
  while (!spec.empty()) {
    size_t sep = spec.find_first_of(", ");
    std::string_view name = spec.substr(0, sep);
    spec.remove_prefix(sep == std::string_view::npos ? spec.size() : sep + 1);
    if (name.empty()) continue;
    const Column* c = find_column(name);
    if (c == nullptr) {
      return usage_error(fmt::format("unknown column '{}' (known: {})", escape_text(name), column_names()));
    }
    out.push_back(c);
  }
  if (out.empty()) return usage_error("no columns given (known: " + column_names() + ")");
  return out;
}

Result<std::vector<SortKey>> parse_sort(std::string_view spec) {
  std::vector<SortKey> keys;
  while (!spec.empty()) {
    size_t sep = spec.find(',');
    std::string_view name = spec.substr(0, sep);
    spec.remove_prefix(sep == std::string_view::npos ? spec.size() : sep + 1);
    if (name.empty()) continue;
    bool descending = name.front() == '-';
    if (name.front() == '-' || name.front() == '+') name.remove_prefix(1);
    const Column* c = find_column(name);
    if (c == nullptr) {
      return usage_error(fmt::format("unknown sort key '{}' (known: {})", escape_text(name), column_names()));
    }
    keys.push_back({c, descending});
  }
  if (keys.empty()) return usage_error("empty sort key");
  return keys;
}

}  // namespace lineage::output
