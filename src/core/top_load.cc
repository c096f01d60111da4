#include "core/top_load.h"

#include <algorithm>
#include <unordered_map>

namespace lineage::core {
namespace {

uint64_t cpu_of(const Process& p) { return p.stat.utime_ticks + p.stat.stime_ticks; }

bool busier(const ProcessLoad& a, const ProcessLoad& b, std::span<const Process> after) {
  if (a.cpu_ticks != b.cpu_ticks) return a.cpu_ticks > b.cpu_ticks;
  if (a.rss_bytes != b.rss_bytes) return a.rss_bytes > b.rss_bytes;
  return after[a.index].pid() < after[b.index].pid();
}

}  // namespace

LoadReport rank_load(std::span<const Process> before, std::span<const Process> after,
                     std::span<const GroupRef> group_of, const LoadOptions& o) {
  LoadReport r;
  r.interval_s = static_cast<double>(o.interval_ns) / 1e9;
  const double interval_ns = static_cast<double>(std::max<uint64_t>(o.interval_ns, 1));
  auto percent = [&](uint64_t ticks) { return static_cast<double>(ticks * o.tick_ns) * 100.0 / interval_ns; };

  std::unordered_map<int32_t, const Process*> earlier;
  earlier.reserve(before.size());
  for (const auto& p : before) earlier.emplace(p.pid(), &p);

  std::unordered_map<std::string_view, size_t> group_index;
  std::vector<std::vector<ProcessLoad>> members;
  size_t matched = 0;
  for (size_t i = 0; i < after.size() && i < group_of.size(); ++i) {
    const Process& p = after[i];
    ProcessLoad pl;
    pl.index = i;
    pl.rss_bytes = static_cast<uint64_t>(std::max<int64_t>(p.stat.rss_pages, 0)) * o.page_size;
    auto e = earlier.find(p.pid());
    if (e != earlier.end() && e->second->key == p.key) {
      ++matched;
      uint64_t was = cpu_of(*e->second), now = cpu_of(p);
      pl.cpu_ticks = now >= was ? now - was : 0;  // never negative, whatever the input
    } else {
      pl.started = true;  // a new process, or a reused pid: counted from zero
      pl.cpu_ticks = cpu_of(p);
    }
    pl.cpu_percent = percent(pl.cpu_ticks);
    const GroupRef& g = group_of[i];
    auto [it, added] = group_index.try_emplace(g.key, r.groups.size());
    if (added) {
      GroupLoad gl;
      gl.key = g.key;
      gl.kind = g.kind;
      gl.label = g.label;
      gl.first_index = i;
      r.groups.push_back(std::move(gl));
      members.emplace_back();
    }
    GroupLoad& gl = r.groups[it->second];
    gl.cpu_ticks += pl.cpu_ticks;
    gl.rss_bytes += pl.rss_bytes;
    ++gl.processes;
    gl.started += pl.started;
    r.started += pl.started;
    members[it->second].push_back(pl);
  }
  r.processes = std::min(after.size(), group_of.size());
  r.exited = before.size() - matched;

  uint64_t total = 0;
  for (size_t g = 0; g < r.groups.size(); ++g) {
    GroupLoad& gl = r.groups[g];
    total += gl.cpu_ticks;
    gl.cpu_percent = percent(gl.cpu_ticks);
    gl.started_per_s = static_cast<double>(gl.started) / std::max(r.interval_s, 1e-9);
    auto& m = members[g];
    size_t keep = std::min(o.processes, m.size());
    std::partial_sort(m.begin(), m.begin() + static_cast<ptrdiff_t>(keep), m.end(),
                      [&](const ProcessLoad& a, const ProcessLoad& b) { return busier(a, b, after); });
    m.resize(keep);
    gl.top = std::move(m);
  }
  r.cpu_percent = percent(total);
  std::sort(r.groups.begin(), r.groups.end(), [](const GroupLoad& a, const GroupLoad& b) {
    if (a.cpu_ticks != b.cpu_ticks) return a.cpu_ticks > b.cpu_ticks;
    if (a.rss_bytes != b.rss_bytes) return a.rss_bytes > b.rss_bytes;
    if (a.processes != b.processes) return a.processes > b.processes;
    return a.key < b.key;
  });
  r.groups_total = r.groups.size();
  if (o.limit > 0 && r.groups.size() > o.limit) r.groups.resize(o.limit);
  return r;
}

}  // namespace lineage::core
