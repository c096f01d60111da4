#pragma once
// The launch-context detectors, one file each. All that apply are reported.
#include <vector>

#include "explain/chain.h"
#include "explain/context.h"

namespace lineage::explain {

void detect_kernel(const Context& ctx, std::vector<Source>& out);      // detect_init.cc
void detect_init(const Context& ctx, std::vector<Source>& out);        // detect_init.cc
void detect_systemd(const Context& ctx, std::vector<Source>& out);     // detect_systemd.cc
void detect_container(const Context& ctx, std::vector<Source>& out);   // detect_container.cc
void detect_cron(const Context& ctx, std::vector<Source>& out);        // detect_cron.cc (cron, anacron, at)
void detect_ssh(const Context& ctx, std::vector<Source>& out);         // detect_ssh.cc
void detect_multiplexer(const Context& ctx, std::vector<Source>& out); // detect_multiplexer.cc (tmux, screen)
void detect_shell(const Context& ctx, std::vector<Source>& out);       // detect_shell.cc (terminal, shell)
void detect_supervisor(const Context& ctx, std::vector<Source>& out);  // detect_supervisor.cc
void detect_orphan(const Context& ctx, std::vector<Source>& out);      // detect_orphan.cc

/// True for processes whose descendants carry their context in the
/// environment (sshd, tmux, screen, supervisord, pm2): the chain below one
/// needs its environment read.
bool passes_context_in_environment(const core::Process& p);

/// Reads what the detectors look at but build_chain left out: the
/// environment of every process below the first that passes context in it
/// (the target's is read already).
void complete_chain(const procfs::ProcReader& reader, Chain& chain);

/// Runs every detector; sources nearest the target first.
std::vector<Source> detect_all(const Context& ctx);

}  // namespace lineage::explain
