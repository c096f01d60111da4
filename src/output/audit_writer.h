#pragma once
// `audit` output: findings grouped by severity, each with its process's
// chain and why, or lineage.audit/v1.
#include <string>

#include "audit/audit_result.h"
#include "core/system_info.h"
#include "output/json_writer.h"

namespace lineage::output {

struct AuditTextOptions {
  bool color = false;
  size_t width = 0;  // 0: no limit
};

std::string render_audit_text(const audit::AuditResult& result, const AuditTextOptions& options);

/// {"schema": "lineage.audit/v1", "generated_at", "processes", "rules",
///  "min_severity", "fail_on", "counts": {"critical": N, ...}, "suppressed",
///  "allow_file", "findings": [{"rule", "severity", "title", "evidence",
///  "pid", "related_pid", "process", "chain": [{"pid", "comm"}], "summary",
///  "sources"}]}
Json audit_json(const audit::AuditResult& result, const core::SystemInfo& sys);

/// One finding as a JSON line of `watch --audit` (lineage.finding/v1).
Json finding_json(const audit::AuditEntry& entry, const core::SystemInfo& sys);

}  // namespace lineage::output
