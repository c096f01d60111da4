#pragma once
// Pure parsers of /proc text. Each takes the raw bytes of one file and never
// trusts them: any malformed input yields nullopt or an empty result.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/process.h"

namespace lineage::procfs {

/// /proc/PID/stat. comm may hold spaces and parentheses, so it ends at the
/// *last* ')'.
std::optional<core::StatInfo> parse_stat(std::string_view text);

/// /proc/PID/status: Uid, Gid, CapEff, NSpid, VmLck lines.
std::optional<core::StatusInfo> parse_status(std::string_view text);

/// /proc/PID/cmdline: NUL-separated arguments (a trailing NUL is optional).
std::vector<std::string> parse_cmdline(std::string_view text);
/// The entries `keep` says yes to (an environment: "NAME=value"); all when
/// keep is null.
std::vector<std::string> parse_cmdline(std::string_view text, bool (*keep)(std::string_view entry));

/// A file holding one decimal number (loginuid, sessionid).
std::optional<uint32_t> parse_decimal_u32(std::string_view text);

/// /proc/PID/cgroup: "hierarchy:controllers:path" lines.
std::vector<core::CgroupEntry> parse_cgroup(std::string_view text);

/// A namespace link target such as "pid:[4026531836]".
std::optional<uint64_t> parse_ns_link(std::string_view text);

/// An exe link target; the kernel marks an unlinked file with " (deleted)".
core::ExeInfo parse_exe_link(std::string_view text);

/// /proc/meminfo: MemTotal in KiB.
std::optional<uint64_t> parse_meminfo_total_kb(std::string_view text);

/// /proc/uptime: seconds since boot, as nanoseconds.
std::optional<uint64_t> parse_uptime_ns(std::string_view text);

}  // namespace lineage::procfs
