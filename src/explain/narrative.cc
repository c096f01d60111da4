#include "explain/narrative.h"

#include <fmt/format.h>

namespace lineage::explain {
namespace {

std::string get(const Source& s, const char* key) {
  const std::string* v = s.find_detail(key);
  return v ? *v : std::string();
}

}  // namespace

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
    std::string leader = get(s, "session_leader");
    if (!leader.empty()) return fmt::format("an orphan re-parented to init, from the session of {}", leader);
    if (!get(s, "login_user").empty()) {
      return fmt::format("a daemon detached from a login session of {}", get(s, "login_user"));
    }
    return "an orphan re-parented to init";
  }
  if (k == "init") return fmt::format("init ({})", s.name);
  if (k == "kernel") return "the kernel";
  return k;
}

std::string summarize(const std::vector<core::Process>& chain, const std::vector<Source>& sources) {
  if (chain.empty()) return {};
  const core::Process& target = chain.back();
  if (target.is_kernel_thread()) return fmt::format("{} is a kernel thread, started by the kernel", target.stat.comm);
  if (target.pid() == 1 && chain.size() == 1) {
    return fmt::format("{} is init (pid 1), started by the kernel at boot", target.stat.comm);
  }
  if (sources.empty()) return fmt::format("{} is running; no launch context was found", target.stat.comm);
  const Source& s = sources.front();
  if (s.kind == "orphan") return fmt::format("{} is {}", target.stat.comm, describe(s));
  std::vector<std::string> names;
  for (size_t i = std::min(s.anchor, chain.size() - 1); i < chain.size(); ++i) names.push_back(chain[i].stat.comm);
  if (names.size() > 5) names.erase(names.begin() + 2, names.end() - 2), names.insert(names.begin() + 2, "...");
  std::string text = describe(s) + " started " + names.front();
  for (size_t i = 1; i < names.size(); ++i) text += ", which started " + names[i];
  return text;
}

}  // namespace lineage::explain
