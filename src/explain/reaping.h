#pragma once
// What to do about zombies: who can reap them, and what to restart when the
// parent will not. Pure functions of a zombie group and its parent's sources.
#include <string>
#include <vector>

#include "core/zombies.h"
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

}  // namespace lineage::explain
