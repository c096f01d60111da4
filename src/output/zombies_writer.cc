#include "output/zombies_writer.h"

#include <fmt/format.h>

#include "output/columns.h"
#include "output/format.h"
#include "output/sanitize.h"
#include "output/why_writer.h"

namespace lineage::output {
namespace {

constexpr const char* kBold = "\x1b[1m";
constexpr const char* kYellow = "\x1b[33m";
constexpr const char* kReset = "\x1b[0m";

const core::Process* parent_of(const ZombieFactory& f, const core::ProcessTree& tree) {
  if (f.parent) return &*f.parent;
  return f.group.parent != core::ProcessTree::kNone ? &tree.at(f.group.parent) : nullptr;
}

uint64_t age_ns(uint64_t start_ns, const core::SystemInfo& sys) {
  return sys.boot_ns_now > start_ns ? sys.boot_ns_now - start_ns : 0;
}

std::string cut(std::string text, size_t width) {
  if (width == 0) return text;
  return std::string(cut_to_width(text, width));
}

}  // namespace

std::string render_zombies_text(const std::vector<ZombieFactory>& factories, const core::ProcessTree& tree,
                                const core::SystemInfo& sys, const ZombiesTextOptions& o) {
  if (factories.empty()) return "no zombies\n";
  std::string out;
  auto line = [&](std::string text, const char* color = nullptr) {
    text = cut(std::move(text), o.width);
    if (o.color && color != nullptr) out += color + text + kReset;
    else out += text;
    out += '\n';
  };
  size_t total = 0;
  for (const auto& f : factories) total += f.group.zombies.size();
  line(fmt::format("{} zombie{} under {} parent{}", total, total == 1 ? "" : "s", factories.size(),
                   factories.size() == 1 ? "" : "s"));
  for (const auto& f : factories) {
    const core::ZombieGroup& g = f.group;
    const core::Process* p = parent_of(f, tree);
    out += '\n';
    std::string comm = p != nullptr ? escape_text(p->stat.comm) : "?";
    std::string head = fmt::format("{} zombie{} of pid {} ({})", g.zombies.size(), g.zombies.size() == 1 ? "" : "s",
                                   g.parent_pid, comm);
    if (p != nullptr) head += fmt::format("  state {}  up {}", format_stat(*p), format_etime(elapsed_ns(*p, sys)));
    line(head, kBold);
    line(fmt::format("  ages     oldest {}, newest {} (since each started; the exit time is not kept)",
                     format_etime(age_ns(g.oldest_start_ns, sys)), format_etime(age_ns(g.newest_start_ns, sys))));
    if (p != nullptr) line("  command  " + escape_text(p->command_line()));
    if (!f.summary.empty()) line("  why      " + escape_text(f.summary));
    if (g.reaper != core::Reaper::kParent) {
      std::string flag = g.reaper == core::Reaper::kInit ? "parent is init (pid 1 of its pid namespace)"
                                                         : "parent is a subreaper that adopted them";
      if (!f.reaper_evidence.empty()) flag += " (" + escape_text(f.reaper_evidence) + ")";
      line("  flag     " + flag, kYellow);
    }
    if (!f.restart.command.empty()) line("  restart  " + escape_text(f.restart.command));
    line("  advice   " + escape_text(f.advice));
    std::string pids;
    for (size_t i = 0; i < g.zombies.size() && i < o.max_pids; ++i) {
      pids += (i ? " " : "") + std::to_string(tree.at(g.zombies[i]).pid());
    }
    if (g.zombies.size() > o.max_pids) pids += fmt::format(" (+{} more; --json lists all)", g.zombies.size() - o.max_pids);
    line("  zombies  " + pids);
  }
  return out;
}

Json zombies_json(const std::vector<ZombieFactory>& factories, const core::ProcessTree& tree,
                  const core::SystemInfo& sys, size_t min) {
  Json doc;
  doc["schema"] = "lineage.zombies/v1";
  doc["generated_at"] = format_rfc3339(sys.realtime_ns_now);
  doc["min"] = min;
  size_t total = 0;
  for (const auto& f : factories) total += f.group.zombies.size();
  doc["total"] = total;
  Json groups = Json::array();
  for (const auto& f : factories) {
    const core::ZombieGroup& g = f.group;
    const core::Process* p = parent_of(f, tree);
    Json j;
    j["parent_pid"] = g.parent_pid;
    j["parent"] = p != nullptr ? process_json(*p, sys) : Json(nullptr);
    j["reaper"] = core::reaper_name(g.reaper);
    if (!f.reaper_evidence.empty()) j["reaper_evidence"] = f.reaper_evidence;
    j["count"] = g.zombies.size();
    j["oldest_age_seconds"] = age_ns(g.oldest_start_ns, sys) / 1'000'000'000;
    j["newest_age_seconds"] = age_ns(g.newest_start_ns, sys) / 1'000'000'000;
    j["summary"] = f.summary;
    Json sources = Json::array();
    for (const auto& s : f.sources) sources.push_back(source_json(s));
    j["sources"] = std::move(sources);
    if (f.restart.command.empty()) j["restart"] = nullptr;
    else j["restart"] = {{"kind", f.restart.kind}, {"name", f.restart.name}, {"command", f.restart.command}};
    j["advice"] = f.advice;
    Json zombies = Json::array();
    for (size_t i : g.zombies) {
      const core::Process& z = tree.at(i);
      zombies.push_back({{"pid", z.pid()},
                         {"comm", z.stat.comm},
                         {"start_time", format_rfc3339(sys.realtime_ns_now - static_cast<int64_t>(elapsed_ns(z, sys)))},
                         {"age_seconds", elapsed_ns(z, sys) / 1'000'000'000}});
    }
    j["zombies"] = std::move(zombies);
    groups.push_back(std::move(j));
  }
  doc["groups"] = std::move(groups);
  return doc;
}

}  // namespace lineage::output
