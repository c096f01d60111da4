#pragma once
// What `lineage audit` reports: a finding of one rule about one process (or
// about the system, pid 0), with the evidence that was read. Plain data.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/process.h"

namespace lineage::audit {

enum class Severity : uint8_t { kInfo, kLow, kMedium, kHigh, kCritical };

/// "info", "low", "medium", "high", "critical".
std::string_view severity_name(Severity s);
std::optional<Severity> parse_severity(std::string_view name);

struct Finding {
  std::string rule;       // stable id: "reverse-shell", ...
  Severity severity = Severity::kInfo;
  std::string title;      // one line for people (raw text: escape it on output)
  core::ProcessKey process;  // pid 0: about the system, not one process
  /// What was read, so a person can check it: "exe /tmp/x (deleted)",
  /// "fd 0 socket tcp 127.0.0.1:41000 -> 127.0.0.1:4444", "uid 1001 -> euid 0".
  std::vector<std::string> evidence;
  /// Another process the finding is about (the web server above the shell,
  /// the tracer, the parent that gained nothing): pid 0 when none.
  int32_t related_pid = 0;
};

}  // namespace lineage::audit
