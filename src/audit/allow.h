#pragma once
// The audit allow-list (`--allow FILE`): known-good findings to suppress.
//
// One entry per line; '#' starts a comment; blank lines are ignored:
//
//   RULE [chain=GLOB] [exe=GLOB] [user=NAME]
//   RULE GLOB                      (a bare GLOB is chain=GLOB)
//
// RULE is a rule id or '*' (any rule). GLOB is a shell pattern (fnmatch,
// '*' also matches '/'): chain= is matched against the finding's chain as
// "comm > comm > ... > comm", root first (e.g. "*nginx > sh"), exe= against
// the process's executable path. Every condition given must hold. A finding
// about the system (no process) matches only entries without conditions.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "audit/finding.h"
#include "core/result.h"

namespace lineage::audit {

struct AllowEntry {
  std::string rule;   // id or "*"
  std::string chain;  // glob, empty: any
  std::string exe;    // glob, empty: any
  std::string user;   // exact, empty: any
  size_t line = 0;    // in the file, for messages
};

/// Parses an allow-list; a malformed line is an error naming its number.
/// Rule ids are checked by the caller (they may name rules of a newer lineage).
Result<std::vector<AllowEntry>> parse_allow(std::string_view text);

/// What an entry is matched against.
struct AllowSubject {
  std::string chain;  // "systemd > nginx > sh", empty for a system finding
  std::string exe;
  std::string user;
};

bool allows(const AllowEntry& entry, const Finding& finding, const AllowSubject& subject);

}  // namespace lineage::audit
