#include "output/top_writer.h"

#include <fmt/format.h>

#include "core/time_spec.h"
#include "output/format.h"
#include "output/sanitize.h"

namespace lineage::output {
namespace {

constexpr const char* kBold = "\x1b[1m";
constexpr const char* kDim = "\x1b[2m";
constexpr const char* kReset = "\x1b[0m";
constexpr size_t kCommandColumns = 160;

std::string fit(std::string text, size_t width) {
  if (width == 0) return text;
  return std::string(cut_to_width(text, width));
}

std::string start_time(const core::Process& p, const core::SystemInfo& sys) {
  return format_rfc3339(sys.realtime_ns_now - static_cast<int64_t>(sys.boot_ns_now) +
                        static_cast<int64_t>(p.key.start_time_ns));
}

double round1(double v) { return static_cast<double>(static_cast<int64_t>(v * 10 + 0.5)) / 10; }

const explain::LaunchContext* context_of(const TopView& v, const core::GroupLoad& g) {
  if (v.by != "context" || g.first_index >= v.contexts.size() || v.contexts[g.first_index] == nullptr) return nullptr;
  return v.contexts[g.first_index]->context.get();
}

}  // namespace

std::string format_bytes(uint64_t bytes) {
  constexpr const char* kUnits[] = {"K", "M", "G", "T"};
  double v = static_cast<double>(bytes) / 1024;
  size_t u = 0;
  while (v >= 1024 && u + 1 < std::size(kUnits)) v /= 1024, ++u;
  if (v < 10 && u > 0) return fmt::format("{:.1f}{}", v, kUnits[u]);
  return fmt::format("{:.0f}{}", v, kUnits[u]);
}

std::string render_top_text(const TopView& v, const TopTextOptions& o) {
  const core::LoadReport& r = v.report;
  std::string out;
  auto line = [&](const char* color, std::string text) {
    text = fit(std::move(text), o.width);
    if (o.color && color != nullptr) out += color + text + kReset;
    else out += text;
    out += '\n';
  };
  line(kBold, fmt::format("{}  over {:.1f} s  {} processes ({} started)  CPU {:.1f}% of {} cores  by {}",
                          core::format_time(v.sys.realtime_ns_now, false), r.interval_s, r.processes, r.started,
                          r.cpu_percent, v.cores, v.by));
  line(kDim, fmt::format("{:>7} {:>7} {:>6} {:>7}  {}", "CPU%", "RSS", "PROCS", "START/s",
                         v.by == "context" ? "LAUNCH CONTEXT" : "GROUP"));
  for (const auto& g : r.groups) {
    line(nullptr, fmt::format("{:>7.1f} {:>7} {:>6} {:>7.1f}  {}", g.cpu_percent, format_bytes(g.rss_bytes),
                              g.processes, g.started_per_s, escape_text(g.label)));
    for (const auto& p : g.top) {
      const core::Process& proc = v.after[p.index];
      std::string cmd = escape_text(v.command ? v.command(p.index) : proc.stat.comm);
      // Without a width (not a terminal), a command line still gets a bound
      // unless --wide: argv can be megabytes.
      if (o.width == 0 && !o.wide) cmd = std::string(cut_to_width(cmd, kCommandColumns));
      line(kDim, fmt::format("{:>7.1f} {:>7} {:>6} {:>7}    {} {}{}", p.cpu_percent, format_bytes(p.rss_bytes), "",
                             "", proc.pid(), cmd, p.started ? "  (new)" : ""));
    }
  }
  if (r.groups_total > r.groups.size()) {
    line(kDim, fmt::format("({} more groups, less busy: --limit 0 shows all)", r.groups_total - r.groups.size()));
  }
  if (r.exited > 0) {
    line(kDim, fmt::format("({} process{} exited during the interval: {} last CPU time is not counted)", r.exited,
                           r.exited == 1 ? "" : "es", r.exited == 1 ? "its" : "their"));
  }
  return out;
}

Json top_json(const TopView& v) {
  const core::LoadReport& r = v.report;
  Json doc;
  doc["schema"] = "lineage.top/v1";
  doc["generated_at"] = format_rfc3339(v.sys.realtime_ns_now);
  doc["interval_s"] = r.interval_s;
  doc["by"] = v.by;
  doc["sampler"] = v.sampler;
  doc["cores"] = v.cores;
  doc["processes"] = r.processes;
  doc["started"] = r.started;
  doc["exited"] = r.exited;
  doc["cpu_percent"] = round1(r.cpu_percent);
  doc["groups_total"] = r.groups_total;
  Json groups = Json::array();
  for (const auto& g : r.groups) {
    Json j;
    j["key"] = to_valid_utf8(g.key);
    j["kind"] = g.kind;
    j["label"] = to_valid_utf8(g.label);
    j["cpu_percent"] = round1(g.cpu_percent);
    j["cpu_ticks"] = g.cpu_ticks;
    j["rss_bytes"] = g.rss_bytes;
    j["processes"] = g.processes;
    j["started"] = g.started;
    j["started_per_s"] = round1(g.started_per_s);
    if (const explain::LaunchContext* c = context_of(v, g)) {
      Json root;
      root["pid"] = c->root.pid;
      root["start_time_ns"] = c->root.start_time_ns;
      root["comm"] = to_valid_utf8(c->root_comm);
      j["root"] = std::move(root);
      if (c->launcher_pid != 0) j["launcher_pid"] = c->launcher_pid;
      j["verified"] = c->verified;
      Json details = Json::object();
      for (const auto& [k, val] : c->details) details[k] = to_valid_utf8(val);
      j["details"] = std::move(details);
    }
    Json top = Json::array();
    for (const auto& p : g.top) {
      const core::Process& proc = v.after[p.index];
      Json pj;
      pj["pid"] = proc.pid();
      pj["ppid"] = proc.ppid();
      pj["start_time"] = start_time(proc, v.sys);
      pj["start_time_ns"] = proc.key.start_time_ns;
      pj["comm"] = to_valid_utf8(proc.stat.comm);
      if (v.command) pj["command"] = to_valid_utf8(v.command(p.index));
      pj["cpu_percent"] = round1(p.cpu_percent);
      pj["cpu_ticks"] = p.cpu_ticks;
      pj["rss_bytes"] = p.rss_bytes;
      pj["started"] = p.started;
      top.push_back(std::move(pj));
    }
    j["top"] = std::move(top);
    groups.push_back(std::move(j));
  }
  doc["groups"] = std::move(groups);
  return doc;
}

}  // namespace lineage::output
