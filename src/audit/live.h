#pragma once
// The audit rules over the event stream (`watch --audit`): each exec is
// judged at once, in a scene made of its chain as the live tree knows it
// (so a web server's shell that lives 5 ms is still judged with the server
// above it, and a chain whose parent already exited is still whole), plus
// what /proc still holds of the process itself. And the one rule that
// needs rates: fork-storm, a subtree forking faster than a limit.
#include <cstdint>
#include <map>
#include <set>
#include <unordered_map>
#include <utility>
#include <vector>

#include "audit/audit_result.h"
#include "audit/rules.h"
#include "core/event.h"
#include "core/live_tree.h"
#include "core/process_tree.h"
#include "core/system_info.h"
#include "procfs/reader.h"

namespace lineage::audit {

struct LiveAuditOptions {
  std::vector<const Rule*> rules;  // fork-storm among them turns the rate check on
  Severity min_severity = Severity::kInfo;
  uint32_t storm_rate = 1000;      // forks per second in one subtree
};

class LiveAuditor {
 public:
  /// reader: null to judge from the tree alone (a replay).
  LiveAuditor(LiveAuditOptions options, const procfs::ProcReader* reader);

  /// Findings on event e, already applied to tree; p is its process (null
  /// when unknown). Each (rule, process) is reported once. `now`: what the
  /// caller already read of an exec'ing process from /proc with fields()
  /// (an empty optional: it was gone), so it is not read twice (it is
  /// moved from); null: the auditor reads it.
  std::vector<AuditEntry> on_event(const core::Event& e, const core::LiveTree& tree, const core::LiveProcess* p,
                                   std::optional<core::Process>* now = nullptr);
  /// The /proc field groups the rules read of an exec'ing process.
  core::FieldMask fields() const { return fields_; }

  /// The chain of key at time t as processes, root first, key last.
  static std::vector<core::Process> chain_of(const core::LiveTree& tree, const core::ProcessKey& key, uint64_t t);

 private:
  void judge_exec(const core::LiveTree& tree, const core::LiveProcess& p, const core::Event& e,
                  std::optional<core::Process>* now, std::vector<AuditEntry>& out);
  // The exec'ing process as its event shows it (eBPF's at_exec, the
  // environment's LD_PRELOAD), /proc read only for the rest.
  core::Process seen_at_exec(const core::LiveProcess& p, const core::Event& e) const;
  void count_fork(const core::LiveTree& tree, const core::LiveProcess& p, uint64_t t, std::vector<AuditEntry>& out);
  bool first_time(const std::string& rule, const core::ProcessKey& key);
  // Room fill_chain reuses from one exec to the next.
  struct ChainScratch {
    std::vector<core::ProcessKey> up;
    std::vector<core::ProcessAt> at;  // one per depth
  };
  // The chain of key at t, root first, in `chain` (its processes' buffers
  // reused).
  static void fill_chain(const core::LiveTree& tree, const core::ProcessKey& key, uint64_t t, ChainScratch& scratch,
                         std::vector<core::Process>& chain);

  LiveAuditOptions options_;
  const procfs::ProcReader* reader_;
  bool storms_ = false;
  core::FieldMask fields_ = 0;
  std::optional<core::Process> init_;  // pid 1 with its namespaces, read once
  core::SystemInfo sys_;  // read once; its clocks are brought to now per exec
  std::set<std::pair<std::string, core::ProcessKey>> reported_;
  struct Window {
    uint64_t start_ns = 0;
    uint32_t forks = 0;
    uint64_t reported_ns = 0;  // last fork-storm finding for this subtree
  };
  std::map<core::ProcessKey, Window> windows_;
  // The last exec's chain, its scene's tree and the scratch, kept for
  // their room.
  std::vector<core::Process> spare_;
  core::ProcessTree scene_tree_;
  ChainScratch scratch_;
  std::vector<std::pair<int32_t, std::string>> links_;
  std::vector<core::ProcessKey> storm_up_;  // count_fork's ancestors
  std::vector<std::pair<const core::ProcessKey*, uint32_t>> storm_counted_;  // and their counts
};

}  // namespace lineage::audit
