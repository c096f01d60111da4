#pragma once
// `why` output: a readable block, one line (--short), or lineage.why/v1.
#include <string>
#include <vector>

#include "explain/report.h"
#include "output/json_writer.h"

namespace lineage::output {

struct WhyTextOptions {
  bool color = false;
  bool short_form = false;
  bool tree = false;  // also the target's children
  bool env = false;   // the environment, redacted
  size_t width = 0;   // 0: no limit
};

std::string render_why_text(const explain::Report& report, const core::SystemInfo& sys,
                            const WhyTextOptions& options);

/// A Source as lineage.why/v1 has it: kind, name, pid, verified, details, evidence.
Json source_json(const explain::Source& s);

/// One lineage.why/v1 document (without the "schema" key when nested).
Json why_json(const explain::Report& report, const core::SystemInfo& sys, bool with_env);
/// The keys of why_json after "chain" ("truncated" to "environment"), added
/// to j in that order (a snapshot names the chain by pids instead).
void add_why_fields(Json& j, const explain::Report& report, const core::SystemInfo& sys, bool with_env);

}  // namespace lineage::output
