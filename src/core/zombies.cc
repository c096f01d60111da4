#include "core/zombies.h"

#include <algorithm>
#include <unordered_map>

namespace lineage::core {

bool is_zombie_process(const Process& p) {
  return p.stat.state == 'Z' && p.stat.num_threads <= 1 && !p.is_kernel_thread();
}

const char* reaper_name(Reaper r) {
  switch (r) {
    case Reaper::kInit: return "init";
    case Reaper::kSubreaper: return "subreaper";
    case Reaper::kParent: break;
  }
  return "parent";
}

bool is_namespace_init(const Process& p) {
  if (p.pid() == 1) return true;
  return p.status && p.status->ns_pids.size() > 1 && p.status->ns_pids.back() == 1;
}

std::vector<ZombieGroup> group_zombies(const ProcessTree& tree) {
  std::vector<ZombieGroup> groups;
  std::unordered_map<int32_t, size_t> group_of;  // parent pid -> index in groups
  for (size_t i = 0; i < tree.size(); ++i) {
    const Process& z = tree.at(i);
    if (!is_zombie_process(z)) continue;
    auto [it, added] = group_of.emplace(z.ppid(), groups.size());
    if (added) {
      ZombieGroup g;
      g.parent_pid = z.ppid();
      // A zombie's parent is alive (or a zombie itself) by definition; the
      // start-time check of the tree still guards a snapshot taken mid-reuse.
      g.parent = tree.parent(i);
      if (g.parent != ProcessTree::kNone && is_namespace_init(tree.at(g.parent))) g.reaper = Reaper::kInit;
      else if (g.parent == ProcessTree::kNone && z.ppid() == 1) g.reaper = Reaper::kInit;
      groups.push_back(std::move(g));
    }
    groups[it->second].zombies.push_back(i);
  }
  for (auto& g : groups) {
    std::sort(g.zombies.begin(), g.zombies.end(), [&](size_t a, size_t b) {
      const auto& ka = tree.at(a).key;
      const auto& kb = tree.at(b).key;
      return ka.start_time_ns != kb.start_time_ns ? ka.start_time_ns < kb.start_time_ns : ka.pid < kb.pid;
    });
    g.oldest_start_ns = tree.at(g.zombies.front()).key.start_time_ns;
    g.newest_start_ns = tree.at(g.zombies.back()).key.start_time_ns;
  }
  std::sort(groups.begin(), groups.end(), [](const ZombieGroup& a, const ZombieGroup& b) {
    return a.zombies.size() != b.zombies.size() ? a.zombies.size() > b.zombies.size() : a.parent_pid < b.parent_pid;
  });
  return groups;
}

}  // namespace lineage::core
