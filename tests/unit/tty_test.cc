#include "core/tty.h"

#include <gtest/gtest.h>

namespace lineage::core {
namespace {

TEST(TtyName, KnownDevices) {
  EXPECT_EQ(tty_name(0), "?");
  EXPECT_EQ(tty_name(34816), "pts/0");       // 136:0
  EXPECT_EQ(tty_name(34816 + 3), "pts/3");
  EXPECT_EQ(tty_name((137 << 8) | 1), "pts/257");
  EXPECT_EQ(tty_name((4 << 8) | 1), "tty1");
  EXPECT_EQ(tty_name((4 << 8) | 64), "ttyS0");
  EXPECT_EQ(tty_name((5 << 8) | 1), "console");
  EXPECT_EQ(tty_name((7 << 8) | 3), "7:3");
}

}  // namespace
}  // namespace lineage::core
