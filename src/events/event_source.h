#pragma once
// The interface every event source (bpf, netlink, poll, replay) implements.
// The events themselves are the model's vocabulary: core/event.h.
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/result.h"

namespace lineage::events {

struct SourceStats {
  uint64_t forks = 0, execs = 0, exits = 0;
  uint64_t lost = 0;        // events the source knows it lost
};

/// A stream of process events.
class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual std::string_view name() const = 0;
  /// Waits up to timeout_ms for events and appends them to out (oldest
  /// first). Returns the number appended; an error is fatal for the source.
  virtual Result<size_t> poll(std::vector<core::Event>& out, int timeout_ms) = 0;
  virtual SourceStats stats() const = 0;
};

}  // namespace lineage::events
