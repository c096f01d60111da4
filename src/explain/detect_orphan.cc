// Orphans and daemons: a process whose parent is init but whose session,
// process group or login uid says it was started elsewhere (double fork,
// nohup ... &, setsid). Without recorded history the original parent is
// gone; what is still known is said plainly.
#include <fmt/format.h>

#include "core/tty.h"
#include "explain/detectors.h"
#include "procfs/users.h"

namespace lineage::explain {

void detect_orphan(const Context& ctx, std::vector<Source>& out) {
  const auto& chain = ctx.chain;
  const core::Process& t = ctx.target();
  if (chain.size() < 2 || t.is_kernel_thread()) return;
  const core::Process& parent = chain[chain.size() - 2];
  if (parent.pid() != 1) return;

  constexpr uint32_t kUnset = 4294967295u;
  bool other_session = t.stat.sid != t.pid() && t.stat.sid > 1;
  bool other_group = t.stat.pgid != t.pid() && t.stat.pgid > 1;
  bool login = t.login_uid && *t.login_uid != kUnset;
  if (!other_session && !other_group && !login) return;  // looks started by init itself

  Source s;
  s.kind = "orphan";
  s.pid = 0;
  s.anchor = chain.size() - 1;
  s.evidence.push_back(fmt::format("parent is pid 1 ({})", parent.exe ? parent.exe->path : parent.stat.comm));
  if (other_session) {
    s.detail("session", std::to_string(t.stat.sid));
    auto leader = ctx.reader.read(t.stat.sid, core::kFieldStat | core::kFieldCmdline);
    if (leader && leader->key.start_time_ns <= t.key.start_time_ns) {
      s.detail("session_leader", leader->command_line());
      s.name = leader->stat.comm;
      s.evidence.push_back(fmt::format("session {} is led by pid {} ({}), still running", t.stat.sid,
                                       leader->pid(), leader->command_line()));
    } else {
      s.evidence.push_back(fmt::format("session {} leader has exited", t.stat.sid));
    }
  } else {
    s.detail("daemonized", "true");
    s.evidence.push_back(fmt::format("pid {} leads its own session (setsid or double fork)", t.pid()));
  }
  if (other_group) s.detail("process_group", std::to_string(t.stat.pgid));
  if (t.stat.tty_nr != 0) s.detail("tty", core::tty_name(t.stat.tty_nr));
  if (login) {
    procfs::UserNames users;
    s.detail("login_user", users.name(*t.login_uid));
    s.evidence.push_back(fmt::format("loginuid {} ({}): started from a login session", *t.login_uid,
                                     users.name(*t.login_uid)));
  }
  s.detail("original_parent", "unknown (no recorded history)");
  if (s.name.empty()) s.name = "re-parented to init";
  out.push_back(std::move(s));
}

}  // namespace lineage::explain
