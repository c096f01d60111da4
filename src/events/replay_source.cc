#include "events/replay_source.h"

#include <string>

#include "events/event_json.h"

namespace lineage::events {

Result<size_t> ReplayEventSource::poll(std::vector<core::Event>& out, int) {
  size_t added = 0;
  std::string line;
  while (std::getline(in_, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto e = from_json_line(line);
    if (!e) {
      ++malformed_;
      continue;
    }
    switch (e->kind) {
      case core::EventKind::kFork: ++stats_.forks; break;
      case core::EventKind::kExec: ++stats_.execs; break;
      case core::EventKind::kExit: ++stats_.exits; break;
      case core::EventKind::kLost: stats_.lost += e->lost; break;
    }
    out.push_back(std::move(*e));
    ++added;
  }
  return added;
}

}  // namespace lineage::events
