#pragma once
// Replays a recorded event stream (JSON lines, lineage.event/v1), so the
// tree logic is tested without a kernel. Malformed lines are counted.
#include <istream>

#include "events/event_source.h"

namespace lineage::events {

class ReplayEventSource : public EventSource {
 public:
  explicit ReplayEventSource(std::istream& in) : in_(in) {}
  std::string_view name() const override { return "replay"; }
  /// Returns every remaining event (timeout ignored); 0 at the end.
  Result<size_t> poll(std::vector<core::Event>& out, int timeout_ms) override;
  SourceStats stats() const override { return stats_; }
  size_t malformed() const { return malformed_; }

 private:
  std::istream& in_;
  SourceStats stats_;
  size_t malformed_ = 0;
};

}  // namespace lineage::events
