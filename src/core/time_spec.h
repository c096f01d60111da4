#pragma once
// Parsers and formatters for the times, durations and sizes that history's
// options take (--at, --since, --until, --keep, --max-size). Pure: the caller
// passes "now" and the local time zone, so tests need no clock and no TZ.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.h"

namespace lineage::core {

/// A wall-clock time without a zone. Fields are as people write them:
/// month 1-12, day 1-31.
struct CivilTime {
  int64_t year = 1970;
  int month = 1;
  int day = 1;
  int hour = 0;
  int minute = 0;
  int second = 0;
  bool operator==(const CivilTime&) const = default;
};

/// The local time zone, as the parsers need it: local wall-clock time to Unix
/// seconds and back. Production uses system_local_time(); tests a fixed offset.
class LocalTime {
 public:
  virtual ~LocalTime() = default;
  /// Unix seconds of a local wall-clock time (fields already validated);
  /// nullopt when the zone cannot represent it.
  virtual std::optional<int64_t> to_unix(const CivilTime& local) const = 0;
  /// The local wall-clock time at a Unix time.
  virtual CivilTime to_local(int64_t unix_s) const = 0;
};

/// A zone without daylight saving time: UTC plus offset_s (UTC+2 is 7200).
class FixedOffsetTime final : public LocalTime {
 public:
  explicit FixedOffsetTime(int32_t offset_s) : offset_s_(offset_s) {}
  std::optional<int64_t> to_unix(const CivilTime& local) const override;
  CivilTime to_local(int64_t unix_s) const override;

 private:
  int32_t offset_s_;
};

/// The process's zone (TZ, /etc/localtime) through libc's localtime_r and
/// mktime (tm_isdst = -1, so libc decides whether DST applies).
const LocalTime& system_local_time();

/// Unix seconds of a UTC wall-clock time (proleptic Gregorian, no leap seconds).
int64_t civil_to_unix(const CivilTime& utc);
/// The UTC wall-clock time at a Unix time.
CivilTime unix_to_civil(int64_t unix_s);

/// A point in time as a user writes it, to Unix ns (UTC). Accepted:
///   RFC 3339        2026-12-03T14:02:11Z, 2026-12-03T14:02:11.250+01:00,
///                   a space for the T; without an offset the time is local
///   date            2026-12-03 (local midnight), 2026-12-03 14:02[:11] (local)
///   time of day     14:02, 14:02:11 (today, local; may be later than now)
///   relative        -10m, -2h, -1d, 30s ago, 2h ago, 1 hour ago, 1h30m ago, now
/// Units: s/sec/secs/second(s), m/min/mins/minute(s), h/hour(s), d/day(s),
/// w/week(s); a day is 86400 s. Relative times count back from now_unix_ns:
/// "+5m" or "in 5m" are errors. Seconds run 0-59 (no leap second). Errors are
/// usage errors with a one-line message naming the text and the forms.
Result<int64_t> parse_time(std::string_view text, int64_t now_unix_ns, const LocalTime& tz);

/// A positive length of time, to ns: 14d, 12h, 30m, 2w, 90s, 1h30m, "2 days".
/// The units are parse_time's; a bare number (no unit) is an error.
Result<uint64_t> parse_duration(std::string_view text);

/// A positive size, to bytes: 1G, 500M, 64K, 1GiB, 2MB, 4096, "10 MiB".
/// Multiples are binary whatever the spelling: K = KB = KiB = 1024,
/// M = 2^20, G = 2^30, T = 2^40 (as du and df -h count), B means bytes.
Result<uint64_t> parse_size(std::string_view text);

/// A time for people: utc=false gives local "2026-12-03 14:02:11" (text
/// output); utc=true gives RFC 3339 with milliseconds, "2026-12-03T12:02:11.250Z",
/// the same format as output::format_rfc3339 (JSON output).
std::string format_time(int64_t unix_ns, bool utc, const LocalTime& tz = system_local_time());

/// A length of time for history tables, two significant units at most,
/// truncated: 0.4s, 1.2s, 59.9s, 3m04s, 2h05m, 3d04h.
std::string format_duration(uint64_t ns);

}  // namespace lineage::core
