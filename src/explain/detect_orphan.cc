// Orphans and daemons: a process whose parent is init but whose session,
// process group or login uid says it was started elsewhere (double fork,
// nohup ... &, setsid). Without recorded history the original parent is
// gone; what is still known is said plainly. When the session's leader is
// alive, its own chain is explained too (explain/session.h): this detector
// judges only whether that leader can be asked.
#include <fmt/format.h>

#include "core/process_tree.h"
#include "core/time_spec.h"
#include "core/tty.h"
#include "explain/detectors.h"
#include "procfs/users.h"

namespace lineage::explain {
namespace {

// What the session id says, into s: the leader when it is alive and is the
// one that made the session (it started before the orphan: pid reuse);
// otherwise why there is no leader to ask.
void judge_session(const Context& ctx, const core::Process& t, Source& s) {
  const int32_t sid = t.stat.sid;
  if (sid == t.pid()) {
    s.detail("daemonized", "true");
    s.evidence.push_back(fmt::format("pid {} leads its own session (setsid or double fork): no session evidence",
                                     t.pid()));
    return;
  }
  if (sid == 0) {
    s.evidence.push_back("its session leader is outside this pid namespace (sid 0): no session evidence");
    return;
  }
  s.detail("session", std::to_string(sid));
  if (sid == 1) {
    s.evidence.push_back("session 1 is init's: no session evidence");
    return;
  }
  auto leader = ctx.reader.read(sid, core::kFieldStat | core::kFieldCmdline);
  if (!leader) {
    s.detail("session_leader_exited", "true");
    s.evidence.push_back(fmt::format("session {}: its leader has exited (only recorded history knows it)", sid));
    return;
  }
  if (!core::plausible_parent(*leader, t)) {
    s.detail("session_leader_exited", "true");
    s.evidence.push_back(fmt::format("session {}: pid {} now names a process started after pid {} ({}): the "
                                     "leader exited and its pid was reused",
                                     sid, sid, t.pid(), leader->command_line()));
    return;
  }
  s.name = leader->stat.comm;
  if (leader->is_kernel_thread()) {
    s.evidence.push_back(fmt::format("session {} is led by kernel thread {}: no session evidence", sid,
                                     leader->stat.comm));
    return;
  }
  s.detail("session_leader", std::to_string(sid));
  s.detail("session_leader_command", leader->command_line());
  s.evidence.push_back(fmt::format("session {} is led by pid {} ({}), still running and started before pid {}",
                                   sid, sid, leader->command_line(), t.pid()));
}

// The chain holds the original parent from recorded history (report.cc put
// it there): the target was re-parented when it exited.
Source recorded_orphan(const core::Process& t, const core::Process& parent) {
  Source s;
  s.kind = "orphan";
  s.name = "re-parented";
  s.detail("original_parent", std::to_string(parent.pid()));
  s.detail("original_parent_command", parent.command_line());
  s.detail("current_parent", std::to_string(t.ppid()));
  std::string gone;
  if (parent.recorded && parent.recorded->exited) {
    int64_t when = parent.recorded->realtime_offset_ns + static_cast<int64_t>(parent.recorded->exit_time_ns);
    s.detail("original_parent_exit_time", core::format_time(when, true));
    gone = fmt::format(", which exited at {}", core::format_time(when, false));
  }
  s.evidence.push_back(fmt::format("recorded history: forked by pid {} ({}){}; now a child of pid {}",
                                   parent.pid(), parent.command_line(), gone, t.ppid()));
  return s;
}

}  // namespace

void detect_orphan(const Context& ctx, std::vector<Source>& out) {
  const auto& chain = ctx.chain;
  const core::Process& t = ctx.target();
  if (chain.size() < 2 || t.is_kernel_thread()) return;
  const core::Process& parent = chain[chain.size() - 2];
  if (parent.pid() != t.ppid() && t.ppid() != 0) {
    out.push_back(recorded_orphan(t, parent));
    out.back().anchor = chain.size() - 1;
    return;
  }
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
  judge_session(ctx, t, s);
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
