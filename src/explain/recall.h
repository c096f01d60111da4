#pragma once
// What recorded history knows of where a process came from, once the
// processes that started it have exited. explain asks; the history
// database (src/store) answers. Without a recorder there is no Recall and
// `why` works from /proc alone.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/process.h"

namespace lineage::explain {

struct Origin {
  /// The recorded fork ancestors that are gone, root first (as the chain
  /// is), each with `recorded` set and the evidence kept when it ran.
  std::vector<core::Process> ancestors;
  /// The nearest fork ancestor still alive, where the live chain resumes
  /// (checked by start time); nullopt when history ends before one.
  std::optional<core::ProcessKey> live_ancestor;
  /// False when history does not cover the process (it started before
  /// recording, or was never recorded); `note` says so plainly.
  bool covered = false;
  std::string note;
};

class Recall {
 public:
  virtual ~Recall() = default;
  /// The origin of p, a live process that was re-parented.
  virtual Origin origin(const core::Process& p) const = 0;
};

}  // namespace lineage::explain
