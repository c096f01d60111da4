#include "core/time_spec.h"

#include <gtest/gtest.h>

#include "output/format.h"

namespace lineage::core {
namespace {

constexpr int64_t kSecNs = 1'000'000'000;
constexpr int64_t kMinNs = 60 * kSecNs;
constexpr int64_t kHourNs = 60 * kMinNs;
constexpr int64_t kDayNs = 24 * kHourNs;

// 2026-12-03T14:02:11Z (date -u -d ... +%s), and half a second after it:
// 16:02:11.5 in the test zone, UTC+02:00 without daylight saving time.
constexpr int64_t kRef = 1796306531 * kSecNs;
constexpr int64_t kNow = kRef + 500'000'000;
const FixedOffsetTime kPlusTwo(2 * 3600);

Result<int64_t> at(std::string_view text) { return parse_time(text, kNow, kPlusTwo); }

int64_t ok_at(std::string_view text) {
  auto r = at(text);
  EXPECT_TRUE(r) << text << ": " << (r ? "" : r.error().message);
  return r ? *r : 0;
}

// A bad time is a usage error (exit 4) whose one-line message names the
// text and says what is wrong.
void expect_time_error(std::string_view text, std::string_view says) {
  auto r = at(text);
  ASSERT_FALSE(r) << text << " parsed as " << *r;
  EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
  EXPECT_NE(r.error().message.find(says), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find('\n'), std::string::npos) << r.error().message;
}

TEST(CivilTime, KnownDatesAndBack) {
  EXPECT_EQ(civil_to_unix({2026, 12, 3, 14, 2, 11}), 1796306531);
  EXPECT_EQ(civil_to_unix({2024, 2, 29, 0, 0, 0}), 1709164800);
  EXPECT_EQ(civil_to_unix({1969, 12, 31, 23, 59, 59}), -1);
  EXPECT_EQ(unix_to_civil(-1), (CivilTime{1969, 12, 31, 23, 59, 59}));
  EXPECT_EQ(unix_to_civil(951868800), (CivilTime{2000, 3, 1, 0, 0, 0}));
  for (int64_t s = -9'000'000'000; s < 9'000'000'000; s += 86'399 * 997) {
    EXPECT_EQ(civil_to_unix(unix_to_civil(s)), s);
  }
}

TEST(ParseTime, Rfc3339InUtc) {
  EXPECT_EQ(ok_at("2026-12-03T14:02:11Z"), kRef);
  EXPECT_EQ(ok_at("2026-12-03t14:02:11z"), kRef);
  EXPECT_EQ(ok_at("2026-12-03 14:02:11Z"), kRef);
}

TEST(ParseTime, Rfc3339WithFractionAndOffsets) {
  EXPECT_EQ(ok_at("2026-12-03T14:02:11.25Z"), kRef + 250'000'000);
  EXPECT_EQ(ok_at("2026-12-03T15:02:11.000000001+01:00"), kRef + 1);
  EXPECT_EQ(ok_at("2026-12-03T09:32:11-04:30"), kRef);
  EXPECT_EQ(ok_at("2026-12-03T14:02:11-00:00"), kRef);
  // Digits past the nanosecond are dropped, not rounded.
  EXPECT_EQ(ok_at("2026-12-03T14:02:11.1234567899Z"), kRef + 123'456'789);
}

TEST(ParseTime, WithoutOffsetIsLocal) {
  EXPECT_EQ(ok_at("2026-12-03 16:02:11"), kRef);
  EXPECT_EQ(ok_at("2026-12-03T16:02:11"), kRef);
  EXPECT_EQ(ok_at("2026-12-03 16:02"), kRef - 11 * kSecNs);
  EXPECT_EQ(ok_at("2026-12-03 16:02:11.5"), kNow);
}

TEST(ParseTime, DateIsLocalMidnight) {
  // 2026-12-03T00:00+02:00 is 2026-12-02T22:00Z.
  EXPECT_EQ(ok_at("2026-12-03"), ok_at("2026-12-02T22:00:00Z"));
  EXPECT_EQ(ok_at("2026-12-03"), kRef - (14 * kHourNs + 2 * kMinNs + 11 * kSecNs) - 2 * kHourNs);
}

TEST(ParseTime, TimeOfDayIsTodayInLocalTime) {
  EXPECT_EQ(ok_at("15:30"), ok_at("2026-12-03T13:30:00Z"));
  EXPECT_EQ(ok_at("09:00:05"), ok_at("2026-12-03T07:00:05Z"));
  // Later today is still today: the caller decides what a future time means.
  EXPECT_EQ(ok_at("23:59:59"), ok_at("2026-12-03T21:59:59Z"));
  // At 23:30Z it is already 01:30 on the 4th in UTC+2: "today" is the 4th.
  int64_t late = ok_at("2026-12-03T23:30:00Z");
  auto r = parse_time("00:10", late, kPlusTwo);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, ok_at("2026-12-03T22:10:00Z"));
}

TEST(ParseTime, LeapYearFebruary29) {
  EXPECT_EQ(ok_at("2024-02-29T00:00:00Z"), 1709164800 * kSecNs);
  EXPECT_EQ(ok_at("2024-02-29T12:00:00Z") - ok_at("2024-02-28T12:00:00Z"), kDayNs);
  EXPECT_EQ(ok_at("2024-03-01T00:00:00Z") - ok_at("2024-02-29T00:00:00Z"), kDayNs);
  EXPECT_TRUE(at("2000-02-29"));  // divisible by 400
  expect_time_error("2023-02-29", "day 29 is out of range for 2023-02");
  expect_time_error("2100-02-29", "day 29 is out of range for 2100-02");
}

TEST(ParseTime, RelativeCountsBackFromNow) {
  EXPECT_EQ(ok_at("now"), kNow);
  EXPECT_EQ(ok_at("NOW"), kNow);
  EXPECT_EQ(ok_at("-10m"), kNow - 10 * kMinNs);
  EXPECT_EQ(ok_at("-2h"), kNow - 2 * kHourNs);
  EXPECT_EQ(ok_at("-1d"), kNow - kDayNs);
  EXPECT_EQ(ok_at("-30s"), kNow - 30 * kSecNs);
  EXPECT_EQ(ok_at("-2w"), kNow - 14 * kDayNs);
  EXPECT_EQ(ok_at("-0s"), kNow);
  EXPECT_EQ(ok_at("10m ago"), kNow - 10 * kMinNs);
  EXPECT_EQ(ok_at("2h ago"), kNow - 2 * kHourNs);
  EXPECT_EQ(ok_at("1 hour ago"), kNow - kHourNs);
  EXPECT_EQ(ok_at("90 minutes ago"), kNow - 90 * kMinNs);
  EXPECT_EQ(ok_at("1h30m ago"), kNow - 90 * kMinNs);
  EXPECT_EQ(ok_at("1 hour 30 min ago"), kNow - 90 * kMinNs);
  EXPECT_EQ(ok_at("5 secs ago"), kNow - 5 * kSecNs);
  EXPECT_EQ(ok_at("1 second ago"), kNow - kSecNs);
  EXPECT_EQ(ok_at("3 days ago"), kNow - 3 * kDayNs);
  EXPECT_EQ(ok_at("1 week ago"), kNow - 7 * kDayNs);
  EXPECT_EQ(ok_at("10M AGO"), kNow - 10 * kMinNs);
  EXPECT_EQ(ok_at("  -10m\t"), kNow - 10 * kMinNs);
}

TEST(ParseTime, RejectsEmptyInput) {
  expect_time_error("", "empty time: expected RFC 3339");
  expect_time_error("  \t", "empty time");
}

TEST(ParseTime, RejectsOutOfRangeFields) {
  expect_time_error("2026-13-01", "month 13 is out of range (01-12)");
  expect_time_error("2026-00-10", "month 0 is out of range");
  expect_time_error("2026-02-30", "day 30 is out of range for 2026-02");
  expect_time_error("2026-04-31T00:00:00Z", "day 31 is out of range for 2026-04");
  expect_time_error("2026-01-00", "day 0 is out of range");
  expect_time_error("25:00", "'25:00': hour 25 is out of range (00-23)");
  expect_time_error("24:00", "hour 24");
  expect_time_error("14:60", "minute 60 is out of range");
  expect_time_error("14:00:60", "second 60 is out of range");
  expect_time_error("2026-12-03T14:02:11+24:00", "UTC offset out of range");
  expect_time_error("2026-12-03T14:02:11+01:60", "UTC offset out of range");
}

TEST(ParseTime, RejectsMalformedText) {
  expect_time_error("yesterday", "'yesterday': expected RFC 3339 (2026-12-03T14:02:11Z), YYYY-MM-DD");
  expect_time_error("9:05", "expected RFC 3339");
  expect_time_error("2026-1-3", "expected RFC 3339");
  expect_time_error("2026-12-03T", "expected RFC 3339");
  expect_time_error("2026-12-03T14:02:11.Z", "expected RFC 3339");
  expect_time_error("2026-12-03T14:02:11+0100", "bad UTC offset: expected Z, +HH:MM or -HH:MM");
  expect_time_error("-", "expected RFC 3339");
  expect_time_error("-10", "missing unit");
  expect_time_error("-10y", "unknown unit 'y'");
  expect_time_error("-1.5h", "missing unit");
  // Control characters in the text are shown escaped, on one line.
  expect_time_error("\x1b[2J\n", "'\\x1b[2J\\x0a'");
  // A long text is cut in the message.
  std::string long_text(500, '7');
  auto r = at(long_text);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("7...'"), std::string::npos) << r.error().message;
  EXPECT_LT(r.error().message.size(), 200u) << r.error().message;
}

TEST(ParseTime, RejectsTrailingGarbage) {
  expect_time_error("14:02:11x", "unexpected 'x' at the end");
  expect_time_error("2026-12-03x", "unexpected 'x' at the end");
  expect_time_error("2026-12-03T14:02:11Zx", "unexpected 'x' at the end");
  expect_time_error("2026-12-03 14:02 Z", "unexpected 'Z' at the end");
  expect_time_error("-10m ago", "unexpected 'ago' at the end");
  expect_time_error("10m ago now", "unexpected 'now' at the end");
  expect_time_error("-10mx", "unknown unit 'mx'");
  expect_time_error("nowx", "expected RFC 3339");
}

TEST(ParseTime, RejectsFutureAndUnsignedRelativeTimes) {
  expect_time_error("+5m", "in the future");
  expect_time_error("in 5m", "in the future");
  expect_time_error("10m", "counts back from now: write -10m or 10m ago");
  expect_time_error("10m later", "counts back from now");
}

TEST(ParseTime, RejectsOverflow) {
  expect_time_error("-99999999999999999999m", "too large");
  expect_time_error("-99999999999w", "too large");
  expect_time_error("-18446744073s18446744073s", "too large");
  // 20000 weeks fit in uint64 ns but not before now in int64 ns.
  expect_time_error("-20000w", "too far in the past");
  expect_time_error("2263-01-01T00:00:00Z", "out of range");
  expect_time_error("1677-01-01", "out of range");
  expect_time_error("0000-01-01T00:00:00Z", "out of range");
}

TEST(ParseTime, LocalTimeTheZoneCannotRepresent) {
  class NoZone final : public LocalTime {
   public:
    std::optional<int64_t> to_unix(const CivilTime&) const override { return std::nullopt; }
    CivilTime to_local(int64_t unix_s) const override { return unix_to_civil(unix_s); }
  } zone;
  auto r = parse_time("2026-12-03 10:00", kNow, zone);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("local time zone"), std::string::npos) << r.error().message;
  EXPECT_TRUE(parse_time("2026-12-03T10:00:00Z", kNow, zone));
}

TEST(ParseDuration, UnitsAndCompounds) {
  EXPECT_EQ(*parse_duration("14d"), 14ull * kDayNs);
  EXPECT_EQ(*parse_duration("12h"), 12ull * kHourNs);
  EXPECT_EQ(*parse_duration("30m"), 30ull * kMinNs);
  EXPECT_EQ(*parse_duration("2w"), 14ull * kDayNs);
  EXPECT_EQ(*parse_duration("90s"), 90ull * kSecNs);
  EXPECT_EQ(*parse_duration("2 days"), 2ull * kDayNs);
  EXPECT_EQ(*parse_duration("1h30m"), 90ull * kMinNs);
  EXPECT_EQ(*parse_duration("3m04s"), 184ull * kSecNs);
  EXPECT_EQ(*parse_duration(" 1 Week "), 7ull * kDayNs);
}

TEST(ParseDuration, Errors) {
  auto says = [](std::string_view text, std::string_view what) {
    auto r = parse_duration(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
    EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
  };
  says("", "empty duration: expected a number and a unit");
  says("14", "bad duration '14': missing unit");
  says("14x", "unknown unit 'x'");
  says("14d!", "unexpected '!' at the end");
  says("14d ago", "unexpected 'ago' at the end");
  says("-5m", "expected a number and a unit");
  says("0d", "must be more than zero");
  says("99999999999999999999s", "too large");
  says("18446744074s", "too large");
  says("18446744073s18446744073s", "too large");
}

TEST(ParseSize, BinaryMultiplesWhateverTheSpelling) {
  EXPECT_EQ(*parse_size("4096"), 4096u);
  EXPECT_EQ(*parse_size("4096B"), 4096u);
  EXPECT_EQ(*parse_size("64K"), 64u << 10);
  EXPECT_EQ(*parse_size("64kb"), 64u << 10);
  EXPECT_EQ(*parse_size("500M"), 500ull << 20);
  EXPECT_EQ(*parse_size("2MB"), 2ull << 20);
  EXPECT_EQ(*parse_size("1G"), 1ull << 30);
  EXPECT_EQ(*parse_size("1GiB"), 1ull << 30);
  EXPECT_EQ(*parse_size("1 gib"), 1ull << 30);
  EXPECT_EQ(*parse_size("2T"), 2ull << 40);
  EXPECT_EQ(*parse_size("16777215T"), 16777215ull << 40);
}

TEST(ParseSize, Errors) {
  auto says = [](std::string_view text, std::string_view what) {
    auto r = parse_size(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().kind, ErrorKind::kUsage);
    EXPECT_NE(r.error().message.find(what), std::string::npos) << r.error().message;
  };
  says("", "empty size: expected bytes or a number with K, M, G or T");
  says("G", "bad size 'G': expected bytes");
  says("-1G", "expected bytes");
  says("1X", "unknown unit 'X'");
  says("1GiBs", "unknown unit 'GiBs'");
  says("1.5G", "unexpected '.5G' at the end");
  says("0", "must be more than zero");
  says("0G", "must be more than zero");
  says("16777216T", "too large");
  says("99999999999999999999", "too large");
}

TEST(FormatTime, LocalTextAndUtcJson) {
  EXPECT_EQ(format_time(kRef + 250'000'000, true, kPlusTwo), "2026-12-03T14:02:11.250Z");
  EXPECT_EQ(format_time(kRef + 999'999'999, false, kPlusTwo), "2026-12-03 16:02:11");
  EXPECT_EQ(format_time(ok_at("2026-12-03T22:10:00Z"), false, kPlusTwo), "2026-12-04 00:10:00");
  EXPECT_EQ(format_time(-1, true, kPlusTwo), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(format_time(ok_at("2024-02-29T23:59:59.5Z"), true, kPlusTwo), "2024-02-29T23:59:59.500Z");
}

TEST(FormatTime, UtcIsTheJsonWritersFormat) {
  for (int64_t ns : {int64_t{0}, kRef, kNow + 123'456'789, int64_t{1709164800} * kSecNs + 1}) {
    EXPECT_EQ(format_time(ns, true), output::format_rfc3339(ns));
  }
}

TEST(FormatTime, RoundTripsThroughParseTime) {
  for (int64_t ns : {kNow, kRef + 1, ok_at("2024-02-29T23:59:59.999Z"), ok_at("1970-01-01T00:00:00Z"),
                     ok_at("2000-02-29 01:02:03")}) {
    int64_t to_ms = ns - ns % 1'000'000;
    int64_t to_s = ns - ns % kSecNs;
    EXPECT_EQ(ok_at(format_time(ns, true, kPlusTwo)), to_ms) << ns;
    EXPECT_EQ(ok_at(format_time(ns, false, kPlusTwo)), to_s) << ns;
  }
}

TEST(FormatTime, SystemZoneRoundTrips) {
  // Mid-July noon UTC is no zone's DST change, so the local text is unambiguous.
  int64_t ns = ok_at("2026-07-01T12:00:00Z");
  std::string text = format_time(ns, false);
  auto back = parse_time(text, kNow, system_local_time());
  ASSERT_TRUE(back) << text;
  EXPECT_EQ(*back, ns) << text;
}

TEST(FormatDuration, TwoUnitsTruncated) {
  EXPECT_EQ(format_duration(0), "0.0s");
  EXPECT_EQ(format_duration(400'000'000), "0.4s");
  EXPECT_EQ(format_duration(1'250'000'000), "1.2s");
  EXPECT_EQ(format_duration(59'999'999'999), "59.9s");
  EXPECT_EQ(format_duration(60 * kSecNs), "1m00s");
  EXPECT_EQ(format_duration(184 * kSecNs + 900'000'000), "3m04s");
  EXPECT_EQ(format_duration(kHourNs - 1), "59m59s");
  EXPECT_EQ(format_duration(kHourNs), "1h00m");
  EXPECT_EQ(format_duration(2 * kHourNs + 5 * kMinNs + 59 * kSecNs), "2h05m");
  EXPECT_EQ(format_duration(3 * kDayNs + 4 * kHourNs + 59 * kMinNs), "3d04h");
  EXPECT_EQ(format_duration(400 * kDayNs), "400d00h");
  EXPECT_EQ(format_duration(UINT64_MAX), "213503d23h");
}

TEST(FormatDuration, WholeUnitsParseBack) {
  for (uint64_t ns : {184ull * kSecNs, 7500ull * kSecNs, 3ull * kDayNs + 4 * kHourNs, 60ull * kSecNs}) {
    auto back = parse_duration(format_duration(ns));
    ASSERT_TRUE(back) << format_duration(ns);
    EXPECT_EQ(*back, ns);
  }
}

}  // namespace
}  // namespace lineage::core
