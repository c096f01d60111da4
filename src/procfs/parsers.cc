#include "procfs/parsers.h"

#include <algorithm>
#include <charconv>

namespace lineage::procfs {
namespace {

// Splits off the next space-separated token of `rest`.
std::string_view next_token(std::string_view& rest) {
  size_t start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  size_t end = rest.find(' ');
  std::string_view token = rest.substr(0, end);
  rest.remove_prefix(end == std::string_view::npos ? rest.size() : end);
  return token;
}

template <class T>
bool to_number(std::string_view s, T& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

// Reads up to four whitespace-separated ids ("Uid:\t0\t0\t0\t0").
bool parse_ids(std::string_view value, core::Ids& ids) {
  uint32_t v[4];
  for (auto& slot : v) {
    size_t start = value.find_first_not_of(" \t");
    if (start == std::string_view::npos) return false;
    value.remove_prefix(start);
    size_t end = value.find_first_of(" \t");
    if (!to_number(value.substr(0, end), slot)) return false;
    value.remove_prefix(end == std::string_view::npos ? value.size() : end);
  }
  ids = {v[0], v[1], v[2], v[3]};
  return true;
}

std::string_view trim(std::string_view s) {
  size_t start = s.find_first_not_of(" \t");
  if (start == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(" \t\n");
  return s.substr(start, end - start + 1);
}

}  // namespace

std::optional<core::StatInfo> parse_stat(std::string_view text) {
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  core::StatInfo s;
  if (!to_number(trim(text.substr(0, open)), s.pid)) return std::nullopt;
  s.comm.assign(text.substr(open + 1, close - open - 1));

  std::string_view rest = text.substr(close + 1);
  if (!rest.empty() && rest.back() == '\n') rest.remove_suffix(1);
  // Fields 3.. of proc(5), 1-based numbering as in the man page.
  std::string_view f[25];
  for (int i = 3; i <= 24; ++i) {
    f[i] = next_token(rest);
    if (f[i].empty()) return std::nullopt;
  }
  if (f[3].size() != 1) return std::nullopt;
  s.state = f[3][0];
  uint64_t ignored = 0;
  bool ok = to_number(f[4], s.ppid) && to_number(f[5], s.pgid) && to_number(f[6], s.sid) &&
            to_number(f[7], s.tty_nr) && to_number(f[8], s.tpgid) && to_number(f[9], s.flags) &&
            to_number(f[14], s.utime_ticks) && to_number(f[15], s.stime_ticks) &&
            to_number(f[18], s.priority) && to_number(f[19], s.nice) &&
            to_number(f[20], s.num_threads) && to_number(f[21], ignored) &&
            to_number(f[22], s.start_ticks) && to_number(f[23], s.vsize_bytes) &&
            to_number(f[24], s.rss_pages);
  if (!ok) return std::nullopt;
  // Fields 25 (rsslim) to 28 (startstack): in every kernel lineage runs
  // on, but a line without them is still a stat line.
  std::string_view rsslim = next_token(rest), start_code = next_token(rest), end_code = next_token(rest),
                   start_stack = next_token(rest);
  if (!rsslim.empty() && (!to_number(rsslim, ignored) || !to_number(start_code, s.start_code) ||
                          !to_number(end_code, s.end_code) || !to_number(start_stack, s.start_stack))) {
    s.start_code = s.end_code = s.start_stack = 0;
  }
  return s;
}

std::optional<core::StatusInfo> parse_status(std::string_view text) {
  core::StatusInfo info;
  bool have_uid = false, have_gid = false;
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    if (key == "Uid") {
      have_uid = parse_ids(value, info.uid);
    } else if (key == "Gid") {
      have_gid = parse_ids(value, info.gid);
    } else if (key == "CapEff") {
      std::string_view v = trim(value);
      auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), info.cap_effective, 16);
      if (ec != std::errc() || ptr != v.data() + v.size()) info.cap_effective = 0;
    } else if (key == "NSpid") {
      std::string_view rest = value;
      info.ns_pids.clear();
      while (true) {
        size_t start = rest.find_first_not_of(" \t");
        if (start == std::string_view::npos) break;
        rest.remove_prefix(start);
        size_t end = rest.find_first_of(" \t");
        int32_t pid = 0;
        if (!to_number(rest.substr(0, end), pid) || info.ns_pids.size() >= 32) break;
        info.ns_pids.push_back(pid);
        if (end == std::string_view::npos) break;
        rest.remove_prefix(end);
      }
    } else if (key == "TracerPid") {
      if (!to_number(trim(value), info.tracer_pid) || info.tracer_pid < 0) info.tracer_pid = 0;
    } else if (key == "VmLck") {
      std::string_view v = trim(value);
      to_number(v.substr(0, v.find(' ')), info.vm_locked_kb);
    }
  }
  if (!have_uid || !have_gid) return std::nullopt;
  return info;
}

std::vector<std::string> parse_cmdline(std::string_view text) {
  std::vector<std::string> argv;
  // One allocation for the vector (an environment has dozens of entries,
  // and every regrowth moved them all), counted before parsing.
  argv.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\0')) + 1);
  while (!text.empty()) {
    size_t nul = text.find('\0');
    argv.emplace_back(text.substr(0, nul));
    if (nul == std::string_view::npos) break;
    text.remove_prefix(nul + 1);
  }
  return argv;
}

std::vector<std::string> parse_cmdline(std::string_view text, bool (*keep)(std::string_view entry)) {
  if (keep == nullptr) return parse_cmdline(text);
  std::vector<std::string> kept;
  while (!text.empty()) {
    size_t nul = text.find('\0');
    std::string_view entry = text.substr(0, nul);
    if (keep(entry)) kept.emplace_back(entry);
    if (nul == std::string_view::npos) break;
    text.remove_prefix(nul + 1);
  }
  return kept;
}

std::optional<uint32_t> parse_decimal_u32(std::string_view text) {
  text = trim(text);
  uint32_t v = 0;
  if (!to_number(text, v)) return std::nullopt;
  return v;
}

std::vector<core::CgroupEntry> parse_cgroup(std::string_view text) {
  std::vector<core::CgroupEntry> entries;
  entries.reserve(static_cast<size_t>(std::count(text.begin(), text.end(), '\n')) + 1);
  while (!text.empty()) {
    size_t eol = text.find('\n');
    std::string_view line = text.substr(0, eol);
    text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);
    size_t first = line.find(':');
    if (first == std::string_view::npos) continue;
    size_t second = line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    core::CgroupEntry e;
    if (!to_number(line.substr(0, first), e.hierarchy)) continue;
    e.controllers.assign(line.substr(first + 1, second - first - 1));
    e.path.assign(line.substr(second + 1));  // a path may itself hold ':'
    entries.push_back(std::move(e));
  }
  return entries;
}

std::optional<uint64_t> parse_ns_link(std::string_view text) {
  size_t open = text.find(":[");
  if (open == std::string_view::npos || text.empty() || text.back() != ']') return std::nullopt;
  uint64_t inode = 0;
  if (!to_number(text.substr(open + 2, text.size() - open - 3), inode)) return std::nullopt;
  return inode;
}

core::ExeInfo parse_exe_link(std::string_view text) {
  constexpr std::string_view kDeleted = " (deleted)";
  core::ExeInfo info;
  if (text.size() > kDeleted.size() && text.ends_with(kDeleted)) {
    info.deleted = true;
    text.remove_suffix(kDeleted.size());
  }
  info.path.assign(text);
  return info;
}

std::optional<uint64_t> parse_meminfo_total_kb(std::string_view text) {
  constexpr std::string_view kKey = "MemTotal:";
  size_t at = text.find(kKey);
  if (at == std::string_view::npos || (at != 0 && text[at - 1] != '\n')) return std::nullopt;
  std::string_view rest = text.substr(at + kKey.size());
  rest = rest.substr(0, rest.find('\n'));
  rest = trim(rest);
  uint64_t kb = 0;
  if (!to_number(rest.substr(0, rest.find(' ')), kb)) return std::nullopt;
  return kb;
}

std::optional<uint64_t> parse_uptime_ns(std::string_view text) {
  std::string_view first = text.substr(0, text.find_first_of(" \n"));
  size_t dot = first.find('.');
  uint64_t seconds = 0, fraction = 0;
  if (!to_number(first.substr(0, dot), seconds)) return std::nullopt;
  if (seconds > UINT64_MAX / 1'000'000'000ull - 1) return std::nullopt;
  uint64_t ns = seconds * 1'000'000'000ull;
  if (dot != std::string_view::npos) {
    std::string_view digits = first.substr(dot + 1);
    if (digits.empty() || digits.size() > 9 || !to_number(digits, fraction)) return std::nullopt;
    for (size_t i = digits.size(); i < 9; ++i) fraction *= 10;
    ns += fraction;
  }
  return ns;
}

}  // namespace lineage::procfs
