#pragma once
// `watch` output: one line per event with its chain, or a lineage.event/v1
// JSON line with the chain added ("lineage": [comm, ...], root first).
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"

namespace lineage::output {

/// "10:02:11.123 exec     4242 root     sleep 1000  [systemd > sshd > bash > sleep]\n".
/// realtime_ns: the event's wall-clock time; life_ns: for an exit, how long
/// the process lived (0 when unknown); user: the event's uid as a name.
std::string render_event_text(const core::Event& e, const std::vector<std::string>& chain, std::string_view user,
                              int64_t realtime_ns, uint64_t life_ns);

/// The event's lineage.event/v1 JSON line with "lineage" added; ends in '\n'.
std::string render_event_json(const core::Event& e, const std::vector<std::string>& chain);

}  // namespace lineage::output
