#pragma once
// Events as JSON lines, schema lineage.event/v1: what `watch --json`
// prints and what the replay source reads back.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/event.h"

namespace lineage::events {

std::string_view kind_name(core::EventKind kind);
/// Where a line of `lineage record --export` comes from: the boot, and its
/// boot clock's offset to Unix time (the history's, so both agree).
struct ExportStamp {
  std::string boot_id;
  int64_t realtime_offset_ns = 0;  // Unix ns = time_ns + this
};

/// One line (no newline); strings made valid UTF-8. With a stamp, the
/// line also carries "time" (RFC 3339 UTC, ms) and "boot_id" after
/// "time_ns": a log shipper's store compares times across machines and
/// tells reboots apart (a pid and start time repeat after one).
std::string to_json_line(const core::Event& e, const ExportStamp* stamp = nullptr);
/// nullopt on malformed input (never throws).
std::optional<core::Event> from_json_line(std::string_view line);

}  // namespace lineage::events
