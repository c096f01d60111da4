#include "output/format.h"

#include <ctime>

#include <fmt/format.h>

namespace lineage::output {

std::string format_etime(uint64_t ns) {
  uint64_t s = ns / 1'000'000'000ull;
  uint64_t days = s / 86400, hours = (s / 3600) % 24, minutes = (s / 60) % 60, secs = s % 60;
  if (days > 0) return fmt::format("{}-{:02}:{:02}:{:02}", days, hours, minutes, secs);
  if (hours > 0) return fmt::format("{:02}:{:02}:{:02}", hours, minutes, secs);
  return fmt::format("{:02}:{:02}", minutes, secs);
}

std::string format_cputime(uint64_t s) {
  uint64_t days = s / 86400, hours = (s / 3600) % 24, minutes = (s / 60) % 60, secs = s % 60;
  if (days > 0) return fmt::format("{}-{:02}:{:02}:{:02}", days, hours, minutes, secs);
  return fmt::format("{:02}:{:02}:{:02}", hours, minutes, secs);
}

std::string format_rfc3339(int64_t realtime_ns) {
  int64_t secs = realtime_ns / 1'000'000'000;
  int64_t millis = (realtime_ns % 1'000'000'000) / 1'000'000;
  if (millis < 0) {
    secs -= 1;
    millis += 1000;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "1970-01-01T00:00:00.000Z";
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, millis);
}

std::string format_stat(const core::Process& p) {
  const core::StatInfo& s = p.stat;
  std::string out(1, s.state);
  if (s.nice < 0) out += '<';
  if (s.nice > 0) out += 'N';
  if (p.status && p.status->vm_locked_kb > 0) out += 'L';
  if (s.sid == p.pid()) out += 's';
  if (s.num_threads > 1) out += 'l';
  if (s.tpgid >= 0 && s.tpgid == s.pgid) out += '+';
  return out;
}

}  // namespace lineage::output
