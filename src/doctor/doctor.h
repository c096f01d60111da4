#pragma once
// `lineage doctor`: what this machine gives lineage, and what each missing
// piece costs. Each check reads the machine (never changes it), says what
// it found, and, when something is missing, which commands degrade and how.
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace lineage::doctor {

struct Check {
  std::string id;       // stable: kernel, btf, bpf, netlink, proc-mount, capabilities, cgroup, ...
  std::string title;    // "eBPF programs load"
  bool ok = false;
  /// Counted for the exit status: something lineage uses that is missing.
  /// Informational checks (no container runtime, no history yet) are not.
  bool required = true;
  std::string detail;   // what was found ("libbpf: Operation not permitted")
  std::string effect;   // when not ok: what degrades ("watch uses netlink: ...")
};

struct Options {
  std::string proc_root = "/proc";
  std::string db;       // history database to look at
  bool probe_events = true;  // try loading the eBPF programs and the proc connector
};

std::vector<Check> run_checks(const Options& options);

/// Pure parts, tested on literal text.
/// The options of the mount at `mount_point` in a mountinfo text (its
/// superblock options, field after " - fstype source "), or "" when absent.
std::string mount_options(std::string_view mountinfo, std::string_view mount_point);
/// hidepid / subset=pid as they limit what lineage sees; "" when neither.
std::string proc_restrictions(std::string_view options);
/// Names of the capabilities lineage uses that a CapEff mask lacks.
std::vector<std::string> missing_capabilities(unsigned long long cap_effective);

std::string render_text(const std::vector<Check>& checks, bool color);
std::string render_json(const std::vector<Check>& checks);

}  // namespace lineage::doctor
