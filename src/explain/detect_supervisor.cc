// Process supervisors: supervisord, pm2, runit, s6, daemontools, and the
// gunicorn/uwsgi masters. Decided by executables and the environment the
// supervisor gives its children, which count as facts only below a verified
// supervisor executable.
#include <fmt/format.h>

#include "explain/detectors.h"

namespace lineage::explain {
namespace {

bool is_python(std::string_view exe) { return exe.starts_with("python"); }

struct Found {
  std::string manager;
  size_t index;
};

// The supervisor nearest the target above chain[below], if any.
std::optional<Found> find_supervisor(const std::vector<core::Process>& chain, size_t below) {
  for (size_t k = below; k-- > 0;) {
    const core::Process& p = chain[k];
    std::string_view exe = exe_name(p);
    // An interpreter runs the script named by argv[1] (argv[0] is free text).
    if (exe == "supervisord" || (is_python(exe) && p.argv && p.argv->size() > 1 &&
                                 base_name((*p.argv)[1]) == "supervisord")) {
      return Found{"supervisord", k};
    }
    if (exe == "runsv") return Found{"runit", k};
    if (exe == "s6-supervise") return Found{"s6", k};
    if (exe == "supervise") return Found{"daemontools", k};
    if (exe.starts_with("node") && p.argv && !p.argv->empty() && (*p.argv)[0].starts_with("PM2 v")) {
      return Found{"pm2", k};
    }
    if (k + 1 < chain.size() && p.argv && !p.argv->empty()) {
      const std::string& title = (*p.argv)[0];
      if (title.starts_with("gunicorn: master")) return Found{"gunicorn", k};
      if (exe == "uwsgi" || exe.starts_with("uwsgi")) return Found{"uwsgi", k};
    }
  }
  return std::nullopt;
}



// The source for the supervisor at found.index.
Source supervisor_source(const Context& ctx, const Found& f) {
  const auto& chain = ctx.chain;
  const Found* found = &f;
  const core::Process& sup = chain[found->index];
  Source s;
  s.kind = "supervisor";
  s.pid = sup.pid();
  s.anchor = found->index + 1;
  s.detail("manager", found->manager);
  verify_root_launcher(ctx, found->index, s);
  // An interpreter runs supervisord's script: the script must be trusted too.
  if (s.verified && found->manager == "supervisord" && exe_name(sup) != "supervisord") {
    const std::string& script = (*sup.argv)[1];  // find_supervisor saw it there
    Verification v = ctx.exe_verifier().check_file(sup, script);
    s.verified = v.verified;
    if (!v.verified) s.unverified_reason = v.text;
    s.evidence.push_back(fmt::format("script {} ({}: {})", script, v.verified ? "verified" : "unverified", v.text));
  }
  s.evidence.push_back(fmt::format("pid {} command: {}", sup.pid(), sup.command_line()));

  std::string program;
  auto from_env = [&](const char* var) {
    for (size_t i = found->index + 1; i < chain.size() && program.empty(); ++i) {
      if (auto v = chain[i].env(var)) {
        program = *v;
        s.evidence.push_back(env_evidence(s, var, *v, chain[i].pid()));
      }
    }
  };
  if (found->manager == "supervisord") {
    from_env("SUPERVISOR_PROCESS_NAME");
    for (size_t i = found->index + 1; i < chain.size(); ++i) {
      if (auto g = chain[i].env("SUPERVISOR_GROUP_NAME")) {
        s.detail("group", *g);
        break;
      }
    }
  } else if (found->manager == "pm2") {
    from_env("name");
    for (size_t i = found->index + 1; i < chain.size(); ++i) {
      if (auto id = chain[i].env("pm_id")) {
        s.detail("pm_id", *id);
        break;
      }
    }
  } else if (found->manager == "runit" || found->manager == "s6" || found->manager == "daemontools") {
    if (sup.argv && sup.argv->size() > 1) {
      program = std::string(base_name((*sup.argv)[1]));
      s.evidence.push_back(fmt::format("service directory {} in the argv of pid {}", (*sup.argv)[1], sup.pid()));
    }
  } else if (sup.argv && !sup.argv->empty()) {  // gunicorn: master [app]
    const std::string& title = (*sup.argv)[0];
    size_t open = title.find('['), close = title.rfind(']');
    if (open != std::string::npos && close != std::string::npos && close > open) {
      program = title.substr(open + 1, close - open - 1);
    }
  }
  s.name = program.empty() ? found->manager : program;
  if (!program.empty()) s.detail("program", program);
  return s;
}

}  // namespace

// The nearest supervisor makes the source; one that fails verification is
// reported as a claim and the nearest verified one above it is reported too.
void detect_supervisor(const Context& ctx, std::vector<Source>& out) {
  const auto& chain = ctx.chain;
  bool claimed = false;
  for (auto found = find_supervisor(chain, chain.size()); found; found = find_supervisor(chain, found->index)) {
    if (found->index + 1 >= chain.size()) continue;  // the target itself
    Source s = supervisor_source(ctx, *found);
    if (s.verified) {
      out.push_back(std::move(s));
      return;
    }
    if (!claimed) out.push_back(std::move(s));
    claimed = true;
  }
}

}  // namespace lineage::explain
