#pragma once
// Choosing an event source: auto tries bpf, then netlink, then poll, and
// says which it got and why.
#include <memory>
#include <string>

#include "events/event_source.h"
#include "procfs/reader.h"

namespace lineage::events {

struct OpenedSource {
  std::unique_ptr<EventSource> source;
  std::string why;  // "bpf: ...; netlink: ..." what was tried and what happened
};

/// which: auto | bpf | netlink | poll. poll_interval_ms for the poll source.
/// include_environ: exec events carry the environment where the source can
/// (bpf; Event::has_environ says which did).
Result<OpenedSource> open_source(const std::string& which, const procfs::ProcReader& reader,
                                 int poll_interval_ms = 1000, bool include_threads = false,
                                 bool include_environ = false);

}  // namespace lineage::events
