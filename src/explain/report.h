#pragma once
// Everything `why` says about one process.
#include <optional>
#include <string>
#include <vector>

#include "explain/chain.h"
#include "explain/context.h"
#include "explain/recall.h"
#include "explain/source.h"

namespace lineage::explain {

struct Listener {
  std::string protocol;  // tcp, tcp6, udp, udp6
  std::string address;
  uint16_t port = 0;
  bool all_interfaces = false;
};

struct GitInfo {
  std::string repository;  // the directory holding .git
  std::string branch;      // or a short commit id when detached
};

struct Report {
  Chain chain;
  std::vector<Source> sources;
  /// For an orphan whose session leader is alive: the leader's chain (root
  /// first, leader last), where the sources marked via=session were found.
  std::vector<core::Process> session_chain;
  /// Recorded history was asked about this re-parented process: whether it
  /// covers it (the chain then runs through its exited ancestors) and, when
  /// not, why, in a sentence. Empty: no history was asked.
  std::optional<bool> history_covered;
  std::string history_note;
  std::vector<Warning> warnings;
  std::string summary;
  std::vector<core::Process> children;  // with want_children
  std::vector<Listener> listeners;
  std::optional<GitInfo> git;
  const core::Process& target() const { return chain.processes.back(); }
};

struct ReportOptions {
  bool want_children = false;
  bool want_environment = false;  // keep environ for --env output
  bool want_git = true;           // the cwd's git repository (not in --short text)
  /// Who judges launcher executables; null: the real check (unit tests give a fake).
  const ExeVerifier* verifier = nullptr;
  /// Recorded history, asked only when the target was re-parented (an
  /// orphan): its exited ancestors then continue the chain. Null: /proc only.
  const Recall* recall = nullptr;
};

/// The report of a chain from recorded history (`why --at`): every process
/// as recorded, nothing read from /proc for them.
Report explain_recorded(const procfs::ProcReader& reader, const core::SystemInfo& sys, const Paths& paths,
                        std::vector<core::Process> chain, const ReportOptions& options);

/// What a read of the whole process table already knows of a chain.
struct ChainFacts {
  int32_t reused_parent_pid = 0;  // the root's parent pid names a younger process
  bool truncated = false;
  size_t zombie_children = 0;     // children of the target in state Z
  std::vector<Listener> listeners;  // listening sockets the target holds
};

/// The report of a process whose chain (root first, target last) was read
/// with the whole table (`snapshot`): nothing of the chain is read again;
/// only the session leader of an orphan and the git repository are looked up.
Report explain_chain(const procfs::ProcReader& reader, const core::SystemInfo& sys, const Paths& paths,
                     std::vector<core::Process> chain, const ChainFacts& facts, const ReportOptions& options);

/// Builds the report of one pid; kNotFound when it does not exist.
Result<Report> explain_pid(const procfs::ProcReader& reader, const core::SystemInfo& sys,
                           const Paths& paths, int32_t pid, const ReportOptions& options);

/// The git repository and branch a directory sits in (bounded walk up),
/// read through open_safe (no symlink a non-root user could have made). As
/// git's safe.directory rule: the first .git found (and the directory a
/// "gitdir:" file names) counts only when owned by `owner_uid` (the
/// process's effective uid) or by root; anyone else's ends the search. The
/// branch is reported only when HEAD has the form of a ref or a commit id.
std::optional<GitInfo> find_git(const std::string& dir, uint32_t owner_uid);

}  // namespace lineage::explain
