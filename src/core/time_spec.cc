#include "core/time_spec.h"

#include <cerrno>
#include <cstdio>
#include <ctime>
#include <limits>

namespace lineage::core {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;
constexpr uint64_t kSec = 1'000'000'000;

constexpr std::string_view kTimeForms =
    "expected RFC 3339 (2026-12-03T14:02:11Z), YYYY-MM-DD [HH:MM[:SS]], HH:MM[:SS], "
    "-10m, 2h ago or now";
constexpr std::string_view kDurationForms = "expected a number and a unit: 90s, 30m, 12h, 14d, 2w";
constexpr std::string_view kSizeForms =
    "expected bytes or a number with K, M, G or T (binary: 1G = 1024M): 4096, 64K, 500M, 1G";

struct Unit {
  std::string_view name;
  uint64_t ns;
};
constexpr Unit kTimeUnits[] = {
    {"s", kSec},           {"sec", kSec},          {"secs", kSec},         {"second", kSec},
    {"seconds", kSec},     {"m", 60 * kSec},       {"min", 60 * kSec},     {"mins", 60 * kSec},
    {"minute", 60 * kSec}, {"minutes", 60 * kSec}, {"h", 3600 * kSec},     {"hour", 3600 * kSec},
    {"hours", 3600 * kSec}, {"d", 86400 * kSec},   {"day", 86400 * kSec},  {"days", 86400 * kSec},
    {"w", 604800 * kSec},  {"week", 604800 * kSec}, {"weeks", 604800 * kSec},
};
constexpr Unit kSizeUnits[] = {
    {"", 1},          {"b", 1},          {"k", 1ull << 10}, {"kb", 1ull << 10}, {"kib", 1ull << 10},
    {"m", 1ull << 20}, {"mb", 1ull << 20}, {"mib", 1ull << 20}, {"g", 1ull << 30}, {"gb", 1ull << 30},
    {"gib", 1ull << 30}, {"t", 1ull << 40}, {"tb", 1ull << 40}, {"tib", 1ull << 40},
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool is_space(char c) { return c == ' ' || c == '\t'; }
char lower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != b[i]) return false;
  }
  return true;
}

template <size_t N>
std::optional<uint64_t> find_unit(const Unit (&units)[N], std::string_view name) {
  for (const Unit& u : units) {
    if (iequals(name, u.name)) return u.ns;
  }
  return std::nullopt;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// The user's text in an error message: one line, printable, bounded.
std::string quoted(std::string_view text) {
  constexpr size_t kMax = 48;
  std::string out = "'";
  size_t i = 0;
  for (; i < text.size() && out.size() <= kMax; ++i) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c < 0x7f && c != '\\') {
      out += static_cast<char>(c);
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    }
  }
  if (i < text.size()) out += "...";
  return out + "'";
}

int64_t floor_div(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

bool is_leap(int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }
int days_in_month(int64_t y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

// Left to right over the text; every read checks the end.
class Cursor {
 public:
  explicit Cursor(std::string_view s) : s_(s) {}
  bool done() const { return i_ == s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  std::string_view rest() const { return s_.substr(i_); }
  size_t pos() const { return i_; }
  void seek(size_t i) { i_ = i; }
  bool eat(char c) {
    if (done() || lower(s_[i_]) != c) return false;
    ++i_;
    return true;
  }
  void skip_spaces() {
    while (!done() && is_space(s_[i_])) ++i_;
  }
  std::string_view letters() {
    size_t start = i_;
    while (!done() && is_alpha(s_[i_])) ++i_;
    return s_.substr(start, i_ - start);
  }
  /// Exactly n digits.
  std::optional<int> fixed(size_t n) {
    int v = 0;
    for (size_t k = 0; k < n; ++k) {
      if (!is_digit(peek())) return std::nullopt;
      v = v * 10 + (s_[i_++] - '0');
    }
    return v;
  }
  /// One or more digits; nullopt when there are none, overflow set when too many.
  std::optional<uint64_t> number(bool& overflow) {
    if (!is_digit(peek())) return std::nullopt;
    uint64_t v = 0;
    overflow = false;
    while (is_digit(peek())) {
      auto digit = static_cast<unsigned>(s_[i_++] - '0');
      overflow |= __builtin_mul_overflow(v, 10u, &v) || __builtin_add_overflow(v, digit, &v);
    }
    return v;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

// Internal steps fail with the reason only; the public functions add the text.
Error reason(std::string message) { return usage_error(std::move(message)); }

Error unexpected(const Cursor& c) { return reason("unexpected " + quoted(trim(c.rest())) + " at the end"); }

// One or more "<number>[ ]<unit>" (1h30m, "1 hour 30 minutes"). Stops before
// whatever follows the last unit, spaces included.
Result<uint64_t> parse_span(Cursor& c) {
  uint64_t total = 0;
  bool overflow = false;
  while (true) {
    auto n = c.number(overflow);
    if (!n) return reason(std::string(kDurationForms));
    if (overflow) return reason("too large");
    c.skip_spaces();
    std::string_view name = c.letters();
    if (name.empty()) return reason("missing unit (s, m, h, d or w)");
    auto unit = find_unit(kTimeUnits, name);
    if (!unit) return reason("unknown unit " + quoted(name) + " (s, m, h, d or w)");
    uint64_t part = 0;
    if (__builtin_mul_overflow(*n, *unit, &part) || __builtin_add_overflow(total, part, &total)) {
      return reason("too large");
    }
    size_t after_unit = c.pos();
    c.skip_spaces();
    if (!is_digit(c.peek())) {
      c.seek(after_unit);
      return total;
    }
  }
}

Result<int64_t> before(int64_t now_ns, uint64_t span_ns) {
  // now - span without leaving int64 (modular arithmetic on uint64 is defined).
  uint64_t room = static_cast<uint64_t>(now_ns) - static_cast<uint64_t>(std::numeric_limits<int64_t>::min());
  if (span_ns > room) return reason("too far in the past");
  return static_cast<int64_t>(static_cast<uint64_t>(now_ns) - span_ns);
}

Result<int64_t> seconds_to_ns(int64_t secs, int64_t frac_ns) {
  int64_t ns = 0;
  if (__builtin_mul_overflow(secs, kNsPerSec, &ns) || __builtin_add_overflow(ns, frac_ns, &ns)) {
    return reason("out of range (years 1678 to 2261)");
  }
  return ns;
}

Result<int64_t> parse_relative(Cursor& c, int64_t now_ns, bool minus) {
  auto span = parse_span(c);
  if (!span) return span.error();
  c.skip_spaces();
  if (!minus) {
    if (!iequals(c.letters(), "ago")) {
      return reason("a relative time counts back from now: write -10m or 10m ago");
    }
  }
  if (!c.done()) return unexpected(c);
  return before(now_ns, *span);
}

// HH:MM[:SS[.fraction]] into t; the fraction (ns) into frac_ns.
std::optional<Error> parse_clock(Cursor& c, CivilTime& t, int64_t& frac_ns) {
  auto h = c.fixed(2);
  if (!h || !c.eat(':')) return reason(std::string(kTimeForms));
  auto m = c.fixed(2);
  if (!m) return reason(std::string(kTimeForms));
  std::optional<int> s = 0;
  frac_ns = 0;
  if (c.eat(':')) {
    s = c.fixed(2);
    if (!s) return reason(std::string(kTimeForms));
    if (c.eat('.')) {
      if (!is_digit(c.peek())) return reason(std::string(kTimeForms));
      // Nanoseconds are the resolution; further digits are dropped.
      int64_t scale = kNsPerSec;
      while (is_digit(c.peek())) {
        int digit = c.fixed(1).value();
        if (scale > 1) {
          scale /= 10;
          frac_ns += digit * scale;
        }
      }
    }
  }
  if (*h > 23) return reason("hour " + std::to_string(*h) + " is out of range (00-23)");
  if (*m > 59) return reason("minute " + std::to_string(*m) + " is out of range (00-59)");
  if (*s > 59) return reason("second " + std::to_string(*s) + " is out of range (00-59)");
  t.hour = *h;
  t.minute = *m;
  t.second = *s;
  return std::nullopt;
}

Result<int64_t> local_to_ns(const CivilTime& t, int64_t frac_ns, const LocalTime& tz) {
  auto secs = tz.to_unix(t);
  if (!secs) return reason("not a time the local time zone can represent");
  return seconds_to_ns(*secs, frac_ns);
}

Result<int64_t> parse_time_of_day(Cursor& c, int64_t now_ns, const LocalTime& tz) {
  CivilTime t = tz.to_local(floor_div(now_ns, kNsPerSec));
  int64_t frac_ns = 0;
  if (auto e = parse_clock(c, t, frac_ns)) return *e;
  if (!c.done()) return unexpected(c);
  return local_to_ns(t, frac_ns, tz);
}

// YYYY-MM-DD[(T| )HH:MM[:SS[.frac]][Z|±HH:MM]]
Result<int64_t> parse_date_time(Cursor& c, const LocalTime& tz) {
  CivilTime t;
  auto y = c.fixed(4);
  if (!y || !c.eat('-')) return reason(std::string(kTimeForms));
  auto mo = c.fixed(2);
  if (!mo || !c.eat('-')) return reason(std::string(kTimeForms));
  auto d = c.fixed(2);
  if (!d) return reason(std::string(kTimeForms));
  if (*mo < 1 || *mo > 12) return reason("month " + std::to_string(*mo) + " is out of range (01-12)");
  if (*d < 1 || *d > days_in_month(*y, *mo)) {
    char ym[16];
    std::snprintf(ym, sizeof ym, "%04d-%02d", *y, *mo);
    return reason("day " + std::to_string(*d) + " is out of range for " + ym);
  }
  t.year = *y;
  t.month = *mo;
  t.day = *d;
  if (c.done()) return local_to_ns(t, 0, tz);
  if (!c.eat('t') && !c.eat(' ')) return unexpected(c);
  int64_t frac_ns = 0;
  if (auto e = parse_clock(c, t, frac_ns)) return *e;
  if (c.done()) return local_to_ns(t, frac_ns, tz);

  int offset_s = 0;
  if (!c.eat('z')) {
    bool west = c.peek() == '-';
    if (!c.eat('+') && !c.eat('-')) return unexpected(c);
    auto oh = c.fixed(2);
    if (!oh || !c.eat(':')) return reason("bad UTC offset: expected Z, +HH:MM or -HH:MM");
    auto om = c.fixed(2);
    if (!om) return reason("bad UTC offset: expected Z, +HH:MM or -HH:MM");
    if (*oh > 23 || *om > 59) return reason("UTC offset out of range (-23:59 to +23:59)");
    offset_s = (*oh * 3600 + *om * 60) * (west ? -1 : 1);
  }
  if (!c.done()) return unexpected(c);
  return seconds_to_ns(civil_to_unix(t) - offset_s, frac_ns);
}

Result<int64_t> parse_time_reason(std::string_view text, int64_t now_ns, const LocalTime& tz) {
  if (iequals(text, "now")) return now_ns;
  if (text.front() == '+' || (text.size() > 3 && iequals(text.substr(0, 3), "in "))) {
    return reason("in the future; relative times count back from now (-5m or 5m ago)");
  }
  Cursor c(text);
  if (c.eat('-')) {
    if (!is_digit(c.peek())) return reason(std::string(kTimeForms));
    return parse_relative(c, now_ns, true);
  }
  size_t digits = 0;
  while (digits < text.size() && is_digit(text[digits])) ++digits;
  if (digits == 0) return reason(std::string(kTimeForms));
  char next = digits < text.size() ? text[digits] : '\0';
  if (next == '-') return parse_date_time(c, tz);
  if (next == ':') return parse_time_of_day(c, now_ns, tz);
  return parse_relative(c, now_ns, false);
}

// The zone libc knows (TZ, else /etc/localtime), daylight saving time included.
class SystemLocalTime final : public LocalTime {
 public:
  std::optional<int64_t> to_unix(const CivilTime& local) const override {
    std::tm tm{};
    tm.tm_year = static_cast<int>(local.year - 1900);
    tm.tm_mon = local.month - 1;
    tm.tm_mday = local.day;
    tm.tm_hour = local.hour;
    tm.tm_min = local.minute;
    tm.tm_sec = local.second;
    tm.tm_isdst = -1;
    errno = 0;
    std::time_t t = std::mktime(&tm);
    // -1 is also 1969-12-31T23:59:59Z; mktime sets errno only on failure.
    if (t == static_cast<std::time_t>(-1) && errno != 0) return std::nullopt;
    return static_cast<int64_t>(t);
  }
  CivilTime to_local(int64_t unix_s) const override {
    std::time_t t = static_cast<std::time_t>(unix_s);
    std::tm tm{};
    if (localtime_r(&t, &tm) == nullptr) return unix_to_civil(unix_s);
    return {tm.tm_year + int64_t{1900}, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec};
  }
};

}  // namespace

std::optional<int64_t> FixedOffsetTime::to_unix(const CivilTime& local) const {
  return civil_to_unix(local) - offset_s_;
}

CivilTime FixedOffsetTime::to_local(int64_t unix_s) const { return unix_to_civil(unix_s + offset_s_); }

const LocalTime& system_local_time() {
  static const SystemLocalTime zone;
  return zone;
}

// Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian).
int64_t civil_to_unix(const CivilTime& t) {
  int64_t y = t.year - (t.month <= 2);
  int64_t era = floor_div(y, 400);
  int64_t yoe = y - era * 400;
  int64_t mp = (t.month + 9) % 12;
  int64_t doy = (153 * mp + 2) / 5 + t.day - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  return days * 86400 + t.hour * 3600 + t.minute * 60 + t.second;
}

CivilTime unix_to_civil(int64_t unix_s) {
  int64_t days = floor_div(unix_s, 86400);
  int64_t sod = unix_s - days * 86400;
  int64_t z = days + 719468;
  int64_t era = floor_div(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  int day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  int month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  CivilTime t;
  t.year = yoe + era * 400 + (month <= 2);
  t.month = month;
  t.day = day;
  t.hour = static_cast<int>(sod / 3600);
  t.minute = static_cast<int>(sod / 60 % 60);
  t.second = static_cast<int>(sod % 60);
  return t;
}

Result<int64_t> parse_time(std::string_view text, int64_t now_unix_ns, const LocalTime& tz) {
  std::string_view t = trim(text);
  if (t.empty()) return usage_error("empty time: " + std::string(kTimeForms));
  auto r = parse_time_reason(t, now_unix_ns, tz);
  if (!r) return usage_error("bad time " + quoted(t) + ": " + r.error().message);
  return r;
}

Result<uint64_t> parse_duration(std::string_view text) {
  std::string_view t = trim(text);
  if (t.empty()) return usage_error("empty duration: " + std::string(kDurationForms));
  Cursor c(t);
  auto r = parse_span(c);
  if (r && !c.done()) r = unexpected(c);
  if (r && *r == 0) r = reason("must be more than zero");
  if (!r) return usage_error("bad duration " + quoted(t) + ": " + r.error().message);
  return r;
}

Result<uint64_t> parse_size(std::string_view text) {
  std::string_view t = trim(text);
  auto fail = [&](const std::string& why) { return usage_error("bad size " + quoted(t) + ": " + why); };
  if (t.empty()) return usage_error("empty size: " + std::string(kSizeForms));
  Cursor c(t);
  bool overflow = false;
  auto n = c.number(overflow);
  if (!n) return fail(std::string(kSizeForms));
  if (overflow) return fail("too large");
  c.skip_spaces();
  std::string_view name = c.letters();
  auto unit = find_unit(kSizeUnits, name);
  if (!unit) return fail("unknown unit " + quoted(name) + " (B, K, M, G or T)");
  if (!c.done()) return fail(unexpected(c).message);
  uint64_t bytes = 0;
  if (__builtin_mul_overflow(*n, *unit, &bytes)) return fail("too large");
  if (bytes == 0) return fail("must be more than zero");
  return bytes;
}

std::string format_time(int64_t unix_ns, bool utc, const LocalTime& tz) {
  int64_t secs = floor_div(unix_ns, kNsPerSec);
  char buf[48];
  if (utc) {
    CivilTime t = unix_to_civil(secs);
    auto millis = static_cast<int>((unix_ns - secs * kNsPerSec) / 1'000'000);
    std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02d.%03dZ", static_cast<long long>(t.year),
                  t.month, t.day, t.hour, t.minute, t.second, millis);
  } else {
    CivilTime t = tz.to_local(secs);
    std::snprintf(buf, sizeof buf, "%04lld-%02d-%02d %02d:%02d:%02d", static_cast<long long>(t.year), t.month,
                  t.day, t.hour, t.minute, t.second);
  }
  return buf;
}

std::string format_duration(uint64_t ns) {
  uint64_t s = ns / kSec;
  char buf[48];
  auto u = [](uint64_t v) { return static_cast<unsigned long long>(v); };
  if (s < 60) {
    uint64_t tenths = ns / (kSec / 10);
    std::snprintf(buf, sizeof buf, "%llu.%llus", u(tenths / 10), u(tenths % 10));
  } else if (s < 3600) {
    std::snprintf(buf, sizeof buf, "%llum%02llus", u(s / 60), u(s % 60));
  } else if (s < 86400) {
    std::snprintf(buf, sizeof buf, "%lluh%02llum", u(s / 3600), u(s / 60 % 60));
  } else {
    std::snprintf(buf, sizeof buf, "%llud%02lluh", u(s / 86400), u(s / 3600 % 24));
  }
  return buf;
}

}  // namespace lineage::core
