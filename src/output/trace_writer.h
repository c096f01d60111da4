#pragma once
// `lineage trace` output: the spawn tree as text, as lineage.trace/v1, or
// as Trace Event Format JSON (chrome://tracing, Perfetto); and the lines
// --live prints as events arrive.
#include <string>

#include "core/event.h"
#include "output/json_writer.h"
#include "trace/spawn_tree.h"

namespace lineage::output {

/// The spawn tree, one line per process, indented under its fork parent:
/// start offset, duration, CPU time, how it ended, pid, argv; then the
/// processes left running. width: cut the tree's lines to it (0: never).
std::string render_trace_text(const trace::TraceResult& r, size_t width = 0);

/// {"schema": "lineage.trace/v1", "command", "source", "started_at",
///  "duration_seconds", "status", "exit_status", "wait_status", "events_lost",
///  "process_count", "left_running": [pid...], "processes": [{"pid", "ppid",
///  "comm", "exe", "argv", "start_offset_seconds", "exec_offset_seconds",
///  "duration_seconds", "state", "status", "exit_code", "signal",
///  "cpu_seconds", "cpu_from", "execs": [{"offset_seconds", "exe", "argv"}]}]}
Json trace_json(const trace::TraceResult& r);

/// Trace Event Format: one complete event ("ph": "X") per process, on its
/// own track (pid, tid = its pid), from its exec (or fork) to its exit,
/// named by its argv, args.ppid its fork parent; metadata events name each
/// track and order the tracks by fork.
Json trace_chrome_json(const trace::TraceResult& r);

/// One --live line for a -e call: `+0.020s file   4102 open "/etc/hostname" O_RDONLY = 3`.
std::string render_trace_live_io(const events::IoCall& c, uint64_t start_ns);

/// One --live line for an exec or exit of a traced process; empty for
/// other events.
std::string render_trace_live(const trace::TracedProcess& p, const core::Event& e, uint64_t start_ns);

}  // namespace lineage::output
