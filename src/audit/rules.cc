#include "audit/rules.h"

#include <algorithm>
#include <array>
#include <tuple>

namespace lineage::audit {
namespace {

using core::kFieldCgroup;
using core::kFieldCmdline;
using core::kFieldEnviron;
using core::kFieldExe;
using core::kFieldStat;
using core::kFieldStatus;

const std::array kRules = {
    Rule{"web-server-spawned-shell", Severity::kHigh,
         "a shell, one-liner or recon tool below a web, application or database server",
         kFieldStat | kFieldCmdline | kFieldExe, check_web_server_spawned_shell},
    Rule{"exec-from-writable-dir", Severity::kMedium,
         "runs a file from /tmp, /dev/shm, a world-writable or hidden directory, or a deleted file or memfd",
         kFieldStat | kFieldCmdline | kFieldExe | core::kFieldExeFile, check_exec_from_writable_dir},
    Rule{"cron-runs-writable-script", Severity::kHigh,
         "a cron or at job runs a file that others than the crontab's owner can change",
         kFieldStat | kFieldStatus | kFieldCmdline | kFieldExe, check_cron_runs_writable_script},
    Rule{"reverse-shell", Severity::kCritical, "a shell or interpreter whose stdin, stdout or stderr is a network socket",
         kFieldStat | kFieldCmdline | kFieldExe, check_reverse_shell},
    Rule{"unexpected-listener", Severity::kHigh, "a shell, interpreter or netcat-like tool listens on a port",
         kFieldStat | kFieldCmdline | kFieldExe, check_unexpected_listener},
    Rule{"outside-container", Severity::kCritical,
         "a process below a container runtime that runs in the host's namespaces (a container escape)",
         kFieldStat | kFieldExe | kFieldCgroup, check_outside_container},
    Rule{"privilege-gain", Severity::kHigh,
         "runs as root (or with added capabilities) below a non-root parent, not through a known setuid helper",
         kFieldStat | kFieldStatus | kFieldExe | kFieldCmdline, check_privilege_gain},
    Rule{"masquerade", Severity::kHigh,
         "a user-space process named like a kernel thread, or whose argv[0] names another program",
         kFieldStat | kFieldCmdline | kFieldExe, check_masquerade},
    Rule{"ld-preload", Severity::kMedium, "LD_PRELOAD in a process's environment, or /etc/ld.so.preload, injects code",
         kFieldStat | kFieldEnviron, check_ld_preload, check_ld_so_preload},
    Rule{"ptrace-attached", Severity::kHigh, "a process is traced (ptrace) by a process of another user",
         kFieldStat | kFieldStatus, check_ptrace_attached},
    Rule{"zombie-accumulation", Severity::kMedium, "100 or more zombies under one parent that does not reap them",
         kFieldStat, nullptr, check_zombie_accumulation},
    Rule{"fork-storm", Severity::kHigh, "a subtree forks above a rate (watch --audit and record only)", kFieldStat,
         nullptr, nullptr, true},
};

void sort_findings(std::vector<Finding>& out) {
  std::stable_sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    return std::tuple(b.severity, a.process.pid, a.rule) < std::tuple(a.severity, b.process.pid, b.rule);
  });
}

}  // namespace

std::span<const Rule> all_rules() { return kRules; }

const Rule* find_rule(std::string_view id) {
  for (const Rule& r : kRules) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

std::optional<std::vector<const Rule*>> select_rules(const std::vector<std::string>& only,
                                                     const std::vector<std::string>& skip, bool live_too,
                                                     std::string* unknown) {
  for (const auto* list : {&only, &skip}) {
    for (const std::string& id : *list) {
      if (!find_rule(id)) {
        if (unknown) *unknown = id;
        return std::nullopt;
      }
    }
  }
  std::vector<const Rule*> out;
  for (const Rule& r : kRules) {
    bool asked = only.empty() || std::find(only.begin(), only.end(), r.id) != only.end();
    bool skipped = std::find(skip.begin(), skip.end(), r.id) != skip.end();
    if (asked && !skipped && (live_too || !r.live_only)) out.push_back(&r);
  }
  return out;
}

core::FieldMask fields_for(std::span<const Rule* const> rules) {
  core::FieldMask mask = kFieldStat;
  for (const Rule* r : rules) mask |= r->fields;
  return mask;
}

std::vector<Finding> evaluate(const Scene& scene, std::span<const Rule* const> rules) {
  std::vector<Finding> out;
  const core::ProcessTree& tree = scene.tree();
  for (size_t i = 0; i < tree.size(); ++i) {
    if (tree.at(i).is_kernel_thread()) continue;
    for (const Rule* r : rules) {
      if (r->check_process && !r->live_only) r->check_process(scene, i, out);
    }
  }
  for (const Rule* r : rules) {
    if (r->check_scene && !r->live_only) r->check_scene(scene, out);
  }
  sort_findings(out);
  return out;
}

std::vector<Finding> evaluate_process(const Scene& scene, size_t index, std::span<const Rule* const> rules) {
  std::vector<Finding> out;
  if (index >= scene.tree().size() || scene.tree().at(index).is_kernel_thread()) return out;
  for (const Rule* r : rules) {
    if (r->check_process) r->check_process(scene, index, out);
  }
  sort_findings(out);
  return out;
}

}  // namespace lineage::audit
