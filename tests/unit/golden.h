#pragma once
// Golden files for output tests: compared byte for byte, rewritten instead
// when LINEAGE_UPDATE_GOLDEN is set (then review the diff of tests/golden).
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

namespace lineage::testing {

inline std::string golden_path(const std::string& name) { return std::string(LINEAGE_GOLDEN_DIR) + "/" + name; }

inline void expect_golden(const std::string& name, const std::string& actual) {
  if (std::getenv("LINEAGE_UPDATE_GOLDEN") != nullptr) {
    std::ofstream(golden_path(name), std::ios::binary) << actual;
    return;
  }
  std::ifstream in(golden_path(name), std::ios::binary);
  ASSERT_TRUE(in) << "missing golden file " << name;
  std::stringstream expected;
  expected << in.rdbuf();
  EXPECT_EQ(actual, expected.str()) << "golden " << name << " differs";
}

}  // namespace lineage::testing
