#pragma once
// Runs a command under the event engine and builds its SpawnTree: the
// source is opened (bpf, else netlink) before the command is forked, and
// the command waits on a pipe until lineage knows its pid, so no process
// it starts is missed. The command runs as the invoking user, with
// lineage's environment, stdio and process group, through execvp (no shell).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "trace/spawn_tree.h"

namespace lineage::trace {

struct RunOptions {
  std::vector<std::string> argv;  // the command
  std::string source = "auto";    // auto (bpf, else netlink) | bpf | netlink
  std::string proc_root = "/proc";
  bool trace_files = false;  // -e file: every open of every traced process (bpf only)
  bool trace_net = false;    // -e net: connect, bind, listen, accept (bpf only)
};

/// Called for every event about a traced process, after it was applied.
using LiveSink = std::function<void(const TracedProcess& p, const core::Event& e, uint64_t start_ns)>;

/// Called for each -e call of a traced process as it arrives (--live).
using IoLiveSink = std::function<void(const events::IoCall& call, uint64_t start_ns)>;

/// Runs options.argv to its end. Errors: kPermission when no event source
/// can start (bpf and netlink both need root); kNotFound (exit 127 by the
/// caller) when the command cannot be executed. With trace_files or
/// trace_net the source must be bpf: kPermission when it cannot load,
/// kUsage with --source netlink.
Result<TraceResult> run_traced(const RunOptions& options, const LiveSink& live, const IoLiveSink& live_io = {});

}  // namespace lineage::trace
