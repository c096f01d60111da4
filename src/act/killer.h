#pragma once
// Ends a set of processes without the races of `pstree -p | xargs kill`:
// each process is held by a pidfd checked against its start time before any
// signal (a reused pid is never signalled), the set is stopped top-down and
// rescanned until a scan finds no process forked meanwhile, and only then is
// the signal sent; what outlives the timeout is stopped, rescanned and killed.
// When the set is exactly one cgroup (cgroup_freezer.h), the cgroup is frozen
// instead of each process stopped: the same sequence, without a SIGSTOP.
#include <signal.h>

#include <cstdint>
#include <string>
#include <vector>

#include "act/cgroup_freezer.h"
#include "act/kill_plan.h"
#include "act/pidfd.h"
#include "core/process.h"
#include "procfs/reader.h"

namespace lineage::act {

enum class Outcome {
  kPending,    // held, not ended yet
  kSignalled,  // ended after the signal
  kKilled,     // ended by KILL after the timeout
  kGone,       // exited before lineage signalled it (a zombie counts)
  kSkipped,    // never signalled: pid reused, stat not readable, no pidfd
  kDenied,     // the kernel refused the signal (EPERM)
  kSurvived,   // alive after KILL (uninterruptible sleep, or init)
};
/// "signal", "killed", "gone", "skipped", "denied", "survived" (JSON values).
const char* to_string(Outcome outcome);

struct Member {
  core::Process process;  // as the scan that found it saw it
  bool joined = false;    // found by a rescan during the kill, not in the plan
  Outcome outcome = Outcome::kPending;
  std::string reason;     // why skipped or denied
  bool stopped = false;   // SIGSTOP sent (continued after the signal)
  PidFd fd;
};

struct KillSettings {
  int signal = SIGTERM;
  uint64_t timeout_ns = 5'000'000'000;      // after the signal, before KILL
  uint64_t kill_wait_ns = 2'000'000'000;    // after KILL, before "survived"
  int32_t self_pid = 0;                     // never a member
  size_t max_rounds = 1000;                 // rescans per stop phase
  /// --children: stop the target while its descendants are ended (so it
  /// forks no new ones), continue it at the end. Off for a target that is
  /// init, a kernel thread or lineage's ancestor.
  bool stop_anchor = true;
  core::FieldMask fields = core::kFieldStat | core::kFieldStatus | core::kFieldCmdline;
  /// The cgroup the plan is exactly (find_whole_cgroup): frozen instead of
  /// SIGSTOP. Null, or when freezing fails: SIGSTOP top-down.
  const FreezableCgroup* cgroup = nullptr;
  uint64_t freeze_timeout_ns = 2'000'000'000;
  /// Boot-relative ns when the plan was scanned: a process found in the
  /// frozen cgroup that is no member's descendant joins only when it
  /// started after this (forked meanwhile, its parent gone); an older one
  /// was put there by someone else, and the freezer is given up.
  uint64_t plan_scanned_ns = 0;
};

struct KillReport {
  std::vector<Member> members;  // plan order, then joiners in the order found
  size_t rescans = 0;           // scans after the first stop
  bool anchor_held = false;     // --children: the target was stopped and continued
  bool frozen = false;          // stopped by freezing `cgroup`, not by SIGSTOP
  std::string cgroup;           // the cgroup frozen (or tried)
  std::string freezer_note;     // why the freezer was tried and given up for SIGSTOP
};

/// Runs the whole sequence on `plan` (top-down, from select_members).
/// Every process is signalled only through a pidfd held and checked first.
KillReport kill_processes(const procfs::ProcReader& reader, const Anchor& anchor,
                          std::vector<core::Process> plan, const KillSettings& settings);

}  // namespace lineage::act
