#include "core/clock.h"

#include <gtest/gtest.h>

namespace lineage::core {
namespace {

TEST(WallClock, ConvertsBootTimeToRealtimeAndBack) {
  // Booted at 2026-05-28T00:00:00Z: realtime - boottime is the boot instant.
  const int64_t booted = 1'779'926'400'000'000'000;
  WallClock wall(booted);
  EXPECT_EQ(wall.to_realtime_ns(0), booted);
  EXPECT_EQ(wall.to_realtime_ns(90'000'000'000), booted + 90'000'000'000);
  EXPECT_EQ(wall.to_boot_ns(booted + 90'000'000'000), 90'000'000'000u);
  EXPECT_EQ(wall.to_boot_ns(wall.to_realtime_ns(123'456'789)), 123'456'789u);
}

TEST(WallClock, ARealtimeBeforeBootHasNoBootTime) {
  WallClock wall(1'000'000'000'000'000'000);
  EXPECT_EQ(wall.to_boot_ns(999'999'999'999'999'999), 0u);
  EXPECT_EQ(wall.to_boot_ns(0), 0u);
}

TEST(WallClock, SampledOffsetMatchesTheClocks) {
  WallClock wall = WallClock::sample();
  int64_t real = realtime_now_ns();
  uint64_t boot = boot_now_ns();
  // Two reads apart: far closer than a second unless the wall clock was stepped.
  EXPECT_NEAR(static_cast<double>(wall.to_realtime_ns(boot)), static_cast<double>(real), 1e9);
  EXPECT_GE(boot_now_ns(), boot);
  EXPECT_GE(boot, monotonic_now_ns() - 1'000'000'000) << "boot time counts suspend; it is never behind";
}

}  // namespace
}  // namespace lineage::core
