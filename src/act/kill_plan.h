#pragma once
// Which processes `lineage kill` ends, chosen from one snapshot: pure logic
// over a ProcessTree (tested on fake trees), no syscalls.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "act/pidfd.h"
#include "core/process_tree.h"

namespace lineage::act {

enum class Scope {
  kTree,      // the target and every descendant
  kChildren,  // every descendant, not the target
  kGroup,     // every process in the target's process group
  kSession,   // every process in the target's session
};
const char* to_string(Scope scope);

/// What a scope is anchored to, fixed when the plan is made, so a rescan
/// applies the same rule.
struct Anchor {
  Scope scope = Scope::kTree;
  Identity target;
  int32_t pgid = 0;  // the target's, for kGroup
  int32_t sid = 0;   // the target's, for kSession
};
Anchor make_anchor(const core::ProcessTree& tree, size_t target, Scope scope);

/// The members of the scope in this snapshot, top-down: every process after
/// its parent when both are members (breadth first from the topmost), pid
/// order among siblings. Lineage itself (self_pid) is never a member.
std::vector<size_t> select_members(const core::ProcessTree& tree, const Anchor& anchor, int32_t self_pid);

/// Processes of this (later) snapshot that a kill already under way must
/// catch: not in `held` (by identity), and either below a held process or
/// the anchor's target (tree, children), or in the anchor's group or session.
/// Top-down. A process reused from a held pid is new (different start).
std::vector<size_t> new_members(const core::ProcessTree& tree, const Anchor& anchor,
                                const std::vector<Identity>& held, int32_t self_pid);

enum class Refusal {
  kInit,          // pid 1
  kKernelThread,  // signals do not end kernel threads
  kSelf,          // lineage itself
  kAncestor,      // lineage's own ancestor (its shell, sudo, the terminal)
};
struct Refused {
  size_t index = 0;
  Refusal why = Refusal::kInit;
};
/// Members that may be ended only with --force (lineage itself never is),
/// in member order. Lineage's ancestors are those of self_pid in the tree.
std::vector<Refused> refusals(const core::ProcessTree& tree, const std::vector<size_t>& members,
                              size_t target, int32_t self_pid);
std::string describe(Refusal why);

/// A signal as typed: TERM, SIGTERM, term, 15, RTMIN+3. nullopt when unknown.
std::optional<int> parse_signal(std::string_view text);
/// "TERM" for 15; "RTMIN+3"; the number for an unnamed one.
std::string signal_name(int sig);

}  // namespace lineage::act
