#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "core/time_spec.h"

namespace {

using lineage::core::FixedOffsetTime;
using lineage::core::format_duration;
using lineage::core::format_time;
using lineage::core::parse_duration;
using lineage::core::parse_size;
using lineage::core::parse_time;

constexpr int64_t kNow = 1796306531'500'000'000;  // 2026-12-03T14:02:11.5Z
constexpr int64_t kSec = 1'000'000'000;

void check(bool ok) {
  if (!ok) __builtin_trap();
}

// Every error is one short printable line that the CLI can print as is.
template <class R>
void check_error(const R& r) {
  if (r) return;
  const std::string& m = r.error().message;
  check(!m.empty() && m.size() < 400);
  for (char c : m) check(static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) < 0x7f);
}

// What parse_time counts back from now: "-...", "... ago" and "now".
bool is_relative(std::string_view text) {
  std::string t;
  for (char c : text) {
    if (c != ' ' && c != '\t') t += c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return t.starts_with('-') || t.ends_with("ago") || t == "now";
}

int64_t floor_to(int64_t v, int64_t unit) { return v - ((v % unit) + unit) % unit; }

void time_round_trips(std::string_view text, const FixedOffsetTime& tz) {
  auto r = parse_time(text, kNow, tz);
  check_error(r);
  if (!r) return;
  int64_t v = *r;
  if (is_relative(text)) check(v <= kNow);
  // Near the ends of int64 ns the rounded-down text is out of range.
  if (v < std::numeric_limits<int64_t>::min() + 2 * kSec) return;
  auto utc = parse_time(format_time(v, true, tz), kNow, tz);
  check(utc && *utc == floor_to(v, 1'000'000));
  auto local = parse_time(format_time(v, false, tz), kNow, tz);
  check(local && *local == floor_to(v, kSec));
}

}  // namespace

// The three option parsers on arbitrary text: no crash, short one-line
// errors, relative times never after now, formatted results parse back.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  time_round_trips(text, FixedOffsetTime(2 * 3600));
  time_round_trips(text, FixedOffsetTime(-(9 * 3600 + 30 * 60)));

  auto d = parse_duration(text);
  check_error(d);
  if (d) {
    check(*d > 0);
    std::string shown = format_duration(*d);
    if (*d >= 60 * static_cast<uint64_t>(kSec)) {
      auto back = parse_duration(shown);
      check(back && *back <= *d);
    }
  }

  auto s = parse_size(text);
  check_error(s);
  if (s) check(*s > 0);
  return 0;
}
