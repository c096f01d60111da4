#pragma once
// Choosing an event source: auto tries bpf, then netlink, then poll, and
// says which it got and why.
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "events/event_source.h"
#include "procfs/reader.h"

namespace lineage::events {

struct OpenedSource {
  std::unique_ptr<EventSource> source;
  std::string why;  // "bpf: ...; netlink: ..." what was tried and what happened
};

/// which: auto | bpf | netlink | poll. poll_interval_ms for the poll source.
/// exec_evidence: exec events carry what /proc would show of the process
/// at that moment where the source can (bpf): the environment
/// (Event::has_environ) and Event::at_exec. For the consumers that judge
/// or keep an exec's evidence (record, watch --audit); the others save the
/// kernel the work. keep_environ: which KEY=VALUE entries of that
/// environment they read (the rest is not copied out of the kernel's
/// record); empty: all.
Result<OpenedSource> open_source(const std::string& which, const procfs::ProcReader& reader,
                                 int poll_interval_ms = 1000, bool include_threads = false,
                                 bool exec_evidence = false,
                                 std::function<bool(std::string_view)> keep_environ = {});

}  // namespace lineage::events
