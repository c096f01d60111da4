#pragma once
// Events as JSON lines, schema lineage.event/v1: what `watch --json`
// prints and what the replay source reads back.
#include <optional>
#include <string>
#include <string_view>

#include "core/event.h"

namespace lineage::events {

std::string_view kind_name(core::EventKind kind);
/// One line (no newline); strings made valid UTF-8.
std::string to_json_line(const core::Event& e);
/// nullopt on malformed input (never throws).
std::optional<core::Event> from_json_line(std::string_view line);

}  // namespace lineage::events
