#include "explain/session.h"

#include <charconv>

#include <fmt/format.h>

#include "core/process_tree.h"
#include "explain/detectors.h"
#include "procfs/users.h"

namespace lineage::explain {
namespace {

bool already_reported(const std::vector<Source>& own, const Source& s) {
  for (const auto& o : own) {
    if (o.kind == s.kind && o.name == s.name) return true;
  }
  return false;
}

// The evidence of the link itself, first in every source found through it.
std::string link_evidence(const core::Process& orphan, const core::Process& leader) {
  std::string text = fmt::format("same session as pid {} (leader, alive): sid {} in /proc/{}/stat, and pid {} "
                                 "started before it; found on the leader's chain, not pid {}'s parents",
                                 leader.pid(), leader.pid(), orphan.pid(), leader.pid(), orphan.pid());
  if (leader.ns.pid && orphan.ns.pid && *leader.ns.pid != *orphan.ns.pid) {
    text += fmt::format("; the leader is in another pid namespace (pid:[{}], pid {}'s is pid:[{}])",
                        *leader.ns.pid, orphan.pid(), *orphan.ns.pid);
  }
  return text;
}

}  // namespace

bool via_session(const Source& s) {
  const std::string* via = s.find_detail("via");
  return via && *via == "session";
}

std::optional<SessionEvidence> explain_session(const Context& ctx, Source& orphan, const std::vector<Source>& own) {
  const std::string* detail = orphan.find_detail("session_leader");
  int32_t sid = 0;
  if (!detail || std::from_chars(detail->data(), detail->data() + detail->size(), sid).ec != std::errc() || sid <= 1) {
    return std::nullopt;
  }
  const core::Process& t = ctx.target();
  if (sid == t.pid()) return std::nullopt;
  auto built = build_chain(ctx.reader, sid);
  // Read again since detect_orphan looked: the leader may have exited since.
  if (!built || !core::plausible_parent(built->processes.back(), t) || built->processes.back().is_kernel_thread()) {
    orphan.evidence.push_back(fmt::format("session {}: its leader exited before its chain could be read", sid));
    return std::nullopt;
  }
  SessionEvidence ev;
  ev.chain = std::move(*built);
  complete_chain(ctx.reader, ev.chain);
  procfs::UserNames users;
  for (auto& p : ev.chain.processes) users.fill(p);
  const core::Process& leader = ev.chain.processes.back();
  const std::string link = link_evidence(t, leader);

  Context session_ctx{ev.chain.processes, ctx.reader, ctx.sys, ctx.paths, ctx.verifier};
  for (Source& s : detect_all(session_ctx)) {
    if (s.kind == "init" || s.kind == "orphan" || s.kind == "kernel") continue;
    if (already_reported(own, s)) {
      orphan.evidence.push_back(fmt::format("the leader's chain is in {} {} too (reported once)", s.kind, s.name));
      continue;
    }
    s.details.insert(s.details.begin(), {{"via", "session"}, {"session_leader", std::to_string(sid)}});
    s.evidence.insert(s.evidence.begin(), link);
    ev.sources.push_back(std::move(s));
  }
  std::string names;
  for (const auto& p : ev.chain.processes) names += (names.empty() ? "" : " > ") + fmt::format("{} {}", p.stat.comm, p.pid());
  if (ev.chain.reused_parent_pid != 0) names += fmt::format(" (its parent pid {} was reused)", ev.chain.reused_parent_pid);
  orphan.evidence.push_back(fmt::format("the leader's chain: {}{}", names,
                                        ev.sources.empty() ? " (no launch context found on it)" : ""));
  ev.chain.dirfds.clear();
  return ev;
}

}  // namespace lineage::explain
