#pragma once
// What to do about zombies: who can reap them, and what to restart when the
// parent will not. Pure functions of a zombie group and its parent's sources.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/zombies.h"
#include "explain/recall.h"
#include "explain/source.h"

namespace lineage::explain {

/// The launch context to restart so that a process starts afresh: the most
/// specific systemd service, container or supervisor program the sources
/// name. Empty kind when none is known (a scope, a shell, init alone).
struct Restart {
  std::string kind;     // systemd, container, supervisor
  std::string name;     // unit, container or program
  std::string command;  // the command an operator runs
};
Restart restart_of(const std::vector<Source>& sources);

/// One or two sentences: who must wait() for the zombies, and how they go
/// away. parent_pid and parent_comm name the parent (comm unescaped; the
/// writer escapes).
std::string zombie_advice(const core::ZombieGroup& group, const std::string& parent_comm,
                          const Restart& restart);

/// A parent with its zombies and what `why` says of it.
struct ZombieFactory {
  core::ZombieGroup group;
  /// The parent as read for its report (status, cmdline, exe); nullopt when
  /// it could not be read (the tree's copy is used then, if any).
  std::optional<core::Process> parent;
  std::string summary;  // why --short of the parent; empty: not explained
  std::vector<Source> sources;
  Restart restart;
  std::string advice;
  /// How the reaper kind was known ("recorded history: pid N was forked by ...").
  std::string reaper_evidence;
};

/// What `why` says of a parent: the process as read, summary and sources.
struct ParentWhy {
  core::Process process;
  std::string summary;
  std::vector<Source> sources;
};
using ExplainParent = std::function<std::optional<ParentWhy>(int32_t pid)>;

/// Groups the zombies of the tree (core::group_zombies), explains each
/// parent once, flags init and, when recall knows a zombie was forked by
/// another process, subreaper parents, and words the advice.
std::vector<ZombieFactory> find_zombie_factories(const core::ProcessTree& tree, const ExplainParent& explain,
                                                 const Recall* recall);

}  // namespace lineage::explain
