#pragma once
// A recorded descendants tree (store/) as a trace (spawn_tree.h), so
// `lineage history --descendants PID --format chrome` writes the same
// Trace Event Format as `lineage trace --format chrome`, through the same
// writer. Pure: what is alive now is the caller's question.
#include <cstdint>
#include <functional>
#include <vector>

#include "store/history.h"
#include "trace/spawn_tree.h"

namespace lineage::trace {

/// rows: the root first, every other process after its fork parent (a
/// depth-first walk); a row whose parent is not among them is put under
/// the root. running(p): whether a process with no recorded exit runs now
/// (else its end is unknown). now_ns (boot clock): where the tracks of the
/// running end. The result's source is "history"; CPU time is unknown.
TraceResult from_recorded(const std::vector<store::RecordedProcess>& rows,
                          const std::function<bool(const store::RecordedProcess&)>& running, uint64_t now_ns);

}  // namespace lineage::trace
