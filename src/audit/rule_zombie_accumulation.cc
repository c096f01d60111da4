// zombie-accumulation: 100 or more zombie children under one parent, which
// never wait()s for them. Grouped as `lineage zombies` groups them
// (core::group_zombies): a thread group leader that exited while its other
// threads run is not a zombie process. The finding is about the parent.
#include <fmt/format.h>

#include "audit/classify.h"
#include "audit/rules.h"
#include "core/time_spec.h"
#include "core/zombies.h"

namespace lineage::audit {

namespace {
constexpr size_t kMany = 100;     // a finding from here on (medium)
constexpr size_t kFlood = 1000;   // high: the pid space is being eaten
}  // namespace

void check_zombie_accumulation(const Scene& scene, std::vector<Finding>& out) {
  const core::ProcessTree& tree = scene.tree();
  for (const core::ZombieGroup& g : core::group_zombies(tree)) {
    if (g.zombies.size() < kMany) continue;
    Finding f;
    f.rule = "zombie-accumulation";
    f.severity = g.zombies.size() >= kFlood ? Severity::kHigh : Severity::kMedium;
    f.process = g.parent != core::ProcessTree::kNone ? tree.at(g.parent).key : core::ProcessKey{g.parent_pid, 0};
    f.title = fmt::format("{} zombie children that {} does not reap", g.zombies.size(),
                          g.reaper == core::Reaper::kInit ? "init (pid 1 of its namespace)" : "this parent");
    uint64_t now = scene.sys().boot_ns_now;
    if (now > g.oldest_start_ns && g.oldest_start_ns != 0) {
      f.evidence.push_back(fmt::format("oldest zombie started {} ago (pid {})", core::format_duration(now - g.oldest_start_ns),
                                       tree.at(g.zombies.front()).pid()));
    } else {
      f.evidence.push_back(fmt::format("oldest zombie pid {}", tree.at(g.zombies.front()).pid()));
    }
    if (g.parent != core::ProcessTree::kNone) {
      f.evidence.push_back("parent command " + tree.at(g.parent).command_line());
    } else {
      f.evidence.push_back(fmt::format("parent pid {} (not in the table)", g.parent_pid));
    }
    out.push_back(std::move(f));
  }
}

}  // namespace lineage::audit
