#include "explain/reaping.h"

#include <fmt/format.h>

namespace lineage::explain {
namespace {

// A unit name systemctl takes as it is; anything else is not suggested.
bool is_plain_name(const std::string& s) {
  if (s.empty() || s.size() > 256 || s[0] == '-') return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u == 0x7f || c == '\'' || c == '"' || c == '\\' || c == '$' || c == '`' || c == ';') {
      return false;
    }
  }
  return true;
}

std::string detail_or(const Source& s, const char* key, const std::string& fallback) {
  const std::string* v = s.find_detail(key);
  return v != nullptr && !v->empty() ? *v : fallback;
}

// Zombies asked of history per parent: enough to tell adopted ones apart,
// bounded for a parent with thousands.
constexpr size_t kMaxRecallPerParent = 64;

// A zombie of g adopted by its parent, as recorded history tells: the
// evidence line, or "" when history does not say (or there is none).
std::string adopted_evidence(const core::ZombieGroup& g, const core::ProcessTree& tree,
                             const Recall& recall) {
  for (size_t n = 0; n < g.zombies.size() && n < kMaxRecallPerParent; ++n) {
    const core::Process& z = tree.at(g.zombies[g.zombies.size() - 1 - n]);  // newest first
    Origin o = recall.origin(z);
    if (!o.covered) {
      if (n == 0 && o.note.empty()) return "";  // no history at all: ask no more
      continue;
    }
    if (!o.ancestors.empty()) {
      const core::Process& forked_by = o.ancestors.back();
      return fmt::format("recorded history: pid {} was forked by pid {} ({}), which exited", z.pid(),
                         forked_by.pid(), forked_by.stat.comm);
    }
    if (o.live_ancestor && o.live_ancestor->pid != g.parent_pid) {
      return fmt::format("recorded history: pid {} was forked by pid {}, not by its parent pid {}", z.pid(),
                         o.live_ancestor->pid, g.parent_pid);
    }
  }
  return "";
}

}  // namespace

Restart restart_of(const std::vector<Source>& sources) {
  for (const Source& s : sources) {
    if (!s.verified) continue;  // a claim is not something to restart
    if (s.kind == "systemd") {
      std::string unit = detail_or(s, "unit", s.name);
      // Scopes (login sessions, docker's own) are not restarted: they are
      // a group of processes started elsewhere.
      if (!unit.ends_with(".service") || !is_plain_name(unit)) continue;
      bool user = detail_or(s, "manager", "system") == "user";
      return {"systemd", unit, fmt::format("systemctl {}restart {}", user ? "--user " : "", unit)};
    }
    if (s.kind == "container") {
      std::string runtime = detail_or(s, "runtime", "");
      std::string name = detail_or(s, "name", detail_or(s, "id", s.name));
      if (!is_plain_name(name)) continue;
      if (const std::string* pod = s.find_detail("pod"); pod != nullptr && is_plain_name(*pod)) {
        std::string ns = detail_or(s, "namespace", "default");
        if (!is_plain_name(ns)) continue;
        return {"container", name, fmt::format("kubectl delete pod -n {} {}", ns, *pod)};
      }
      if (runtime == "docker" || runtime == "podman") {
        return {"container", name, fmt::format("{} restart {}", runtime, name)};
      }
      return {"container", name, fmt::format("restart container {} ({})", name, runtime)};
    }
    if (s.kind == "supervisor") {
      std::string manager = detail_or(s, "manager", "");
      std::string program = detail_or(s, "program", s.name);
      if (!is_plain_name(program)) continue;
      if (manager == "supervisord") return {"supervisor", program, "supervisorctl restart " + program};
      if (manager == "pm2") return {"supervisor", program, "pm2 restart " + program};
      if (manager == "runit") return {"supervisor", program, "sv restart " + program};
      return {"supervisor", program, fmt::format("restart {} under {}", program, manager)};
    }
  }
  return {};
}

std::string zombie_advice(const core::ZombieGroup& g, const std::string& comm, const Restart& restart) {
  std::string who = fmt::format("pid {} ({})", g.parent_pid, comm);
  std::string go_away;
  if (!restart.command.empty()) {
    go_away = fmt::format("; they go away when it exits or is restarted: {}", restart.command);
  } else {
    go_away = "; they go away when it exits or is restarted (nothing known supervises it: restart it by hand)";
  }
  switch (g.reaper) {
    case core::Reaper::kInit:
      return fmt::format("{} is init of its pid namespace and does not reap the orphans it adopted: "
                         "run a real init as pid 1 (tini, dumb-init, docker run --init) or make it wait() "
                         "for adopted children{}",
                         who, restart.command.empty() ? "" : "; restarting it clears them: " + restart.command);
    case core::Reaper::kSubreaper:
      return fmt::format("{} is a child subreaper (PR_SET_CHILD_SUBREAPER): it adopted them when their "
                         "parent exited and must wait() for them{}",
                         who, go_away);
    case core::Reaper::kParent:
      break;
  }
  return fmt::format("{} must wait() for its exited children (or ignore SIGCHLD){}", who, go_away);
}

std::vector<ZombieFactory> find_zombie_factories(const core::ProcessTree& tree, const ExplainParent& explain,
                                                 const Recall* recall) {
  std::vector<ZombieFactory> out;
  for (auto& g : core::group_zombies(tree)) {
    ZombieFactory f;
    f.group = std::move(g);
    if (auto why = explain(f.group.parent_pid)) {
      // Only the same process: the pid may have been reused since the scan.
      bool same = f.group.parent == core::ProcessTree::kNone
                      ? core::plausible_parent(why->process, tree.at(f.group.zombies.front()))
                      : tree.at(f.group.parent).key.start_time_ns == why->process.key.start_time_ns;
      if (same) {
        f.parent = std::move(why->process);
        f.summary = std::move(why->summary);
        f.sources = std::move(why->sources);
        if (core::is_namespace_init(*f.parent)) f.group.reaper = core::Reaper::kInit;
      }
    }
    if (f.group.reaper == core::Reaper::kParent && recall != nullptr) {
      f.reaper_evidence = adopted_evidence(f.group, tree, *recall);
      if (!f.reaper_evidence.empty()) f.group.reaper = core::Reaper::kSubreaper;
    }
    f.restart = restart_of(f.sources);
    std::string comm = f.parent ? f.parent->stat.comm
                       : f.group.parent != core::ProcessTree::kNone ? tree.at(f.group.parent).stat.comm
                                                                     : "?";
    f.advice = zombie_advice(f.group, comm, f.restart);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace lineage::explain
