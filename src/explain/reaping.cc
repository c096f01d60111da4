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

}  // namespace lineage::explain
