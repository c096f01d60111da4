#pragma once
// ps-compatible formatting of times and states.
#include <cstdint>
#include <string>

#include "core/process.h"

namespace lineage::output {

/// Elapsed time as ps's etime: [[DD-]hh:]mm:ss.
std::string format_etime(uint64_t ns);
/// Cumulative cpu time as ps's time: [DD-]hh:mm:ss.
std::string format_cputime(uint64_t seconds);
/// Wall-clock time in UTC, RFC 3339 with milliseconds: 2026-11-23T15:12:53.120Z
std::string format_rfc3339(int64_t realtime_ns);
/// ps's STAT: state letter plus <, N, L, s, l, + flags.
std::string format_stat(const core::Process& p);

}  // namespace lineage::output
