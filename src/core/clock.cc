#include "core/clock.h"

#include <time.h>

namespace lineage::core {
namespace {

int64_t now_ns(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + static_cast<int64_t>(ts.tv_nsec);
}

}  // namespace

uint64_t boot_now_ns() { return static_cast<uint64_t>(now_ns(CLOCK_BOOTTIME)); }
uint64_t monotonic_now_ns() { return static_cast<uint64_t>(now_ns(CLOCK_MONOTONIC)); }
int64_t realtime_now_ns() { return now_ns(CLOCK_REALTIME); }

WallClock WallClock::sample() {
  // Boot time read on both sides of the wall clock: the midpoint pairs them
  // to within the reads' own cost.
  uint64_t before = boot_now_ns();
  int64_t real = realtime_now_ns();
  uint64_t after = boot_now_ns();
  return WallClock(real - static_cast<int64_t>(before + (after - before) / 2));
}

}  // namespace lineage::core
