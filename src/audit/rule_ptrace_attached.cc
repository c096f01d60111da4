// ptrace-attached: a process traced (TracerPid in /proc/PID/status) by a
// process of another user. Debugging one's own process (gdb, strace of a
// child) is normal and never a finding; root tracing a user's process is what
// debuggers run with sudo do (medium); a non-root tracer of another user's
// process had to get past the kernel's ptrace checks (high).
#include <fmt/format.h>

#include "audit/classify.h"
#include "audit/rules.h"

namespace lineage::audit {

void check_ptrace_attached(const Scene& scene, size_t index, std::vector<Finding>& out) {
  const core::ProcessTree& tree = scene.tree();
  const core::Process& p = tree.at(index);
  if (!p.status || p.status->tracer_pid <= 0) return;
  size_t t = tree.find(p.status->tracer_pid);
  // The tracer must be in the table with its ids: unknown is no finding.
  if (t == core::ProcessTree::kNone || t == index || !tree.at(t).status) return;
  const core::Process& tracer = tree.at(t);
  uint32_t tracer_euid = tracer.status->uid.effective;
  uint32_t tracee_euid = p.status->uid.effective;
  if (tracer_euid == tracee_euid) return;

  Finding f;
  f.rule = "ptrace-attached";
  f.process = p.key;
  f.related_pid = tracer.pid();
  std::string tracer_name(exe_name(tracer));
  if (tracer_euid == 0) {
    f.severity = Severity::kMedium;
    f.title = fmt::format("root traces it: {} (pid {}) is attached with ptrace", tracer_name, tracer.pid());
  } else {
    f.severity = Severity::kHigh;
    f.title = fmt::format("traced by {} (pid {}) of another user (euid {})", tracer_name, tracer.pid(), tracer_euid);
  }
  f.evidence.push_back(fmt::format("TracerPid {}", tracer.pid()));
  f.evidence.push_back(fmt::format("tracer uid {} euid {}: {}", tracer.status->uid.real, tracer_euid,
                                   tracer.command_line()));
  f.evidence.push_back(fmt::format("traced process uid {} euid {}", p.status->uid.real, tracee_euid));
  out.push_back(std::move(f));
}

}  // namespace lineage::audit
