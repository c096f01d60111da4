#pragma once
// at jobs: which job atd runs, from the spool file the job has open.
//
//   atd (pid N, /usr/sbin/atd)        the daemon
//   └─ atd (per-job child)            holds the output file atspool/NAME open
//      └─ sh                          fd 0: the job file atjobs/NAME
//         └─ ...                      the target, at any depth
//
// NAME is the queue letter, the job number (5 hex digits) and the run time
// (8 hex digits, minutes since the epoch): a0001201a3b4c5 is job 18 of
// queue a. While the job runs, atd links its file to '=' + the rest and
// unlinks NAME, so fd 0 reads "atjobs/NAME (deleted)" though the file
// is still there.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "explain/context.h"

namespace lineage::explain {

/// A spool file name as atd writes it.
struct AtJobName {
  char queue = 'a';          // a-z, A-Z; '=' while the job runs
  uint32_t number = 0;
  uint64_t run_minutes = 0;  // minutes since the epoch
};

/// Parses "a0001201a3b4c5" (and "=0001201a3b4c5"); nullopt otherwise.
std::optional<AtJobName> parse_at_job_name(std::string_view name);

struct AtJob {
  AtJobName name;          // queue as queued (not '=') when atd's open file says it
  std::string spool_file;  // the job file as it is on disk now
  std::string owner;       // owner of the job file: who queued the job
};

/// The job that atd chain[daemon_first..daemon_last] runs: from fd 0 of the
/// processes below it (nearest atd first), else from any fd of atd's
/// per-job children, into atd's spool directories under ctx.paths. Every
/// /proc read goes through a pid directory checked against the process's
/// start time. Appends what was read, or what was missing, to evidence.
std::optional<AtJob> find_at_job(const Context& ctx, size_t daemon_first, size_t daemon_last,
                                 std::vector<std::string>& evidence);

}  // namespace lineage::explain
