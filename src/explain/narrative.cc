#include "explain/narrative.h"

#include <fmt/format.h>

#include "explain/session.h"

namespace lineage::explain {
namespace {

std::string get(const Source& s, const char* key) {
  const std::string* v = s.find_detail(key);
  return v ? *v : std::string();
}

// "ssh session of alice from 10.0.0.7 started bash, which started sleep":
// the source and the chain from the process it is anchored at.
std::string story(const std::vector<core::Process>& chain, const Source& s) {
  std::vector<std::string> names;
  for (size_t i = std::min(s.anchor, chain.size() - 1); i < chain.size(); ++i) names.push_back(chain[i].stat.comm);
  if (names.size() > 5) names.erase(names.begin() + 2, names.end() - 2), names.insert(names.begin() + 2, "...");
  std::string text = describe(s) + " started " + names.front();
  for (size_t i = 1; i < names.size(); ++i) text += ", which started " + names[i];
  return text;
}

// What an orphan's session says: the story of the leader's chain from its
// nearest verified source, else the claim it makes. Empty without one.
std::string session_story(const std::vector<core::Process>& session_chain, const std::vector<Source>& sources) {
  if (session_chain.empty()) return {};
  const Source* claim = nullptr;
  for (const auto& s : sources) {
    if (!via_session(s)) continue;
    if (s.verified) return ": " + story(session_chain, s);
    if (!claim) claim = &s;
  }
  return claim ? "; in its session, " + claim_text(*claim) : std::string();
}

}  // namespace

std::string launcher_name(const Source& s) {
  const std::string& k = s.kind;
  if (k == "ssh") return "sshd";
  if (k == "at") return "atd";
  if (k == "cron") return get(s, "daemon").empty() ? "cron" : get(s, "daemon");
  if (k == "supervisor") return get(s, "manager");
  if (k == "container") return get(s, "runtime").empty() ? "a container runtime" : get(s, "runtime");
  return k;  // tmux, screen, systemd
}

std::string claim_text(const Source& s) {
  std::string text = fmt::format("pid {} claims to be {}", s.pid, launcher_name(s));
  if (s.kind == "ssh" || s.kind == "supervisor" || s.kind == "cron") text += fmt::format(" ({})", describe(s));
  return text + fmt::format(" (unverified: {})", s.unverified_reason);
}

std::string describe(const Source& s) {
  const std::string& k = s.kind;
  if (k == "systemd") return fmt::format("systemd {} unit {}", get(s, "manager"), s.name);
  if (k == "container") {
    std::string image = get(s, "image");
    std::string pod = get(s, "pod");
    std::string text = fmt::format("{} container {}", get(s, "runtime"), s.name);
    if (!image.empty()) text += fmt::format(" (image {})", image);
    if (!pod.empty()) text += fmt::format(" of pod {}/{}", get(s, "namespace"), pod);
    return text;
  }
  if (k == "cron") {
    std::string line = get(s, "line");
    return line.empty() ? "a cron job" : fmt::format("cron job {}:{}", get(s, "crontab"), line);
  }
  if (k == "at") {
    std::string job = get(s, "job"), queue = get(s, "queue"), user = get(s, "user");
    if (job.empty()) return "an at job";
    std::string text = fmt::format("at job {}", job);
    if (!queue.empty()) text += fmt::format(" (queue {})", queue);
    if (!user.empty()) text += " of " + user;
    return text;
  }
  if (k == "ssh") {
    std::string text = "ssh session";
    if (!get(s, "user").empty()) text += " of " + get(s, "user");
    if (!get(s, "client").empty()) text += " from " + get(s, "client");
    return text;
  }
  if (k == "tmux" || k == "screen") return fmt::format("{} session '{}'", k, s.name);
  if (k == "terminal") return fmt::format("an interactive shell on {}", s.name);
  if (k == "shell") {
    std::string script = get(s, "script");
    return script.empty() ? "a shell command" : "shell script " + script;
  }
  if (k == "supervisor") {
    std::string program = get(s, "program");
    return program.empty() ? get(s, "manager") : fmt::format("{} program {}", get(s, "manager"), program);
  }
  if (k == "orphan") {
    if (std::string parent = get(s, "original_parent_command"); !parent.empty()) {
      return fmt::format("an orphan of {} (pid {}), which has exited", parent, get(s, "original_parent"));
    }
    std::string leader = get(s, "session_leader");
    if (!leader.empty()) {
      return fmt::format("an orphan re-parented to init, from the session of {} (pid {})",
                         get(s, "session_leader_command"), leader);
    }
    if (!get(s, "session_leader_exited").empty()) {
      return fmt::format("an orphan re-parented to init, from session {}, whose leader has exited", get(s, "session"));
    }
    if (!get(s, "login_user").empty()) {
      return fmt::format("a daemon detached from a login session of {}", get(s, "login_user"));
    }
    return "an orphan re-parented to init";
  }
  if (k == "init") return fmt::format("init ({})", s.name);
  if (k == "kernel") return "the kernel";
  return k;
}

std::string summarize(const std::vector<core::Process>& chain, const std::vector<Source>& sources,
                      const std::vector<core::Process>& session_chain) {
  if (chain.empty()) return {};
  const core::Process& target = chain.back();
  if (target.is_kernel_thread()) return fmt::format("{} is a kernel thread, started by the kernel", target.stat.comm);
  if (target.pid() == 1 && chain.size() == 1) {
    return fmt::format("{} is init (pid 1), started by the kernel at boot", target.stat.comm);
  }
  if (sources.empty()) return fmt::format("{} is running; no launch context was found", target.stat.comm);
  // The nearest verified source tells the story; an unverified one (a
  // process that only claims to be sshd, cron ...) is named as a claim.
  const Source* told = nullptr;
  const Source* claim = nullptr;
  for (const auto& s : sources) {
    if (via_session(s)) continue;  // told with the orphan they explain
    if (s.verified) {
      told = &s;
      break;
    }
    if (!claim) claim = &s;
  }
  if (!told) {
    return fmt::format("{} is running; no verified launch context: {}", target.stat.comm, claim_text(*claim));
  }
  const Source& s = *told;
  std::string text;
  if (s.kind == "orphan") {
    text = fmt::format("{} is {}", target.stat.comm, describe(s)) + session_story(session_chain, sources);
  } else {
    text = story(chain, s);
  }
  for (const auto& o : sources) {
    // History put the exited parent back in the chain: say it is gone.
    if (&o == told || o.kind != "orphan" || get(o, "original_parent_command").empty()) continue;
    text += fmt::format("; pid {} ({}) has exited since, and pid {} adopted it", get(o, "original_parent"),
                        get(o, "original_parent_command"), get(o, "current_parent"));
    break;
  }
  if (claim) text += "; " + claim_text(*claim);
  return text;
}

}  // namespace lineage::explain
