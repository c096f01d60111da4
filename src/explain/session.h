#pragma once
// The session of an orphan. Every process of a session descends from the
// process that made it (setsid: a process can only start a session, never
// join another's), so while the orphan's session leader lives, the leader's
// own chain is live evidence of where the orphan came from: the tmux pane,
// the ssh login, the unit. The link is the kernel's (the sid in
// /proc/PID/stat), but a process can make itself a session leader, so what
// the leader's chain says counts only as far as the detectors verify it.
#include <optional>
#include <vector>

#include "explain/chain.h"
#include "explain/context.h"
#include "explain/source.h"

namespace lineage::explain {

struct SessionEvidence {
  Chain chain;                  // the leader's chain: root first, leader last
  std::vector<Source> sources;  // found on it, each with details via=session
};

/// For the orphan source (detect_orphan set its "session_leader" detail) of
/// the chain in ctx: builds the leader's chain, start-time checked (the
/// leader must have started before the orphan, else the sid names a reused
/// pid) and runs the detectors over it. Its sources get details "via":
/// "session" and "session_leader": pid, and the evidence line "same session
/// as pid N (leader, alive)". Left out: init, orphan and kernel sources of
/// the leader's chain, and any context `own` (the orphan's own sources)
/// already names (same kind and name: a systemd unit both cgroups show).
/// nullopt, with a line of evidence in `orphan`, when there is no leader
/// to ask.
std::optional<SessionEvidence> explain_session(const Context& ctx, Source& orphan, const std::vector<Source>& own);

/// True for a source found through the orphan's session, not its parents.
bool via_session(const Source& s);

}  // namespace lineage::explain
