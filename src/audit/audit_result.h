#pragma once
// One `lineage audit` run as presented: the findings kept (after
// --min-severity, --rule/--skip and the allow-list), each with the why of
// its process. Plain data; cli/audit_command fills it, output/ prints it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "audit/finding.h"
#include "core/process.h"
#include "explain/source.h"

namespace lineage::audit {

struct ChainLink {
  int32_t pid = 0;
  std::string comm;
};

struct AuditEntry {
  Finding finding;
  std::optional<core::Process> process;  // as scanned; none for a system finding
  std::vector<ChainLink> chain;          // root first, the process last
  std::string summary;                   // why, in one sentence (as why --short)
  std::vector<explain::Source> sources;  // why's sources, most specific first
  int64_t unix_ns = 0;                   // when it was found, if not now (audit --since)
};

struct AuditResult {
  std::vector<AuditEntry> entries;  // most severe first
  size_t processes = 0;             // processes looked at
  std::vector<std::string_view> rules;  // rule ids evaluated
  Severity min_severity = Severity::kInfo;
  Severity fail_on = Severity::kHigh;
  size_t suppressed = 0;            // findings the allow-list hid
  std::string allow_file;           // empty: no allow-list
  int64_t since_unix_ns = 0;        // non-zero: findings recorded since then, not a scan now
  std::string db;                   // the history database they were read from
};

}  // namespace lineage::audit
