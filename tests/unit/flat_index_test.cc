// The live tree's open-addressing index against std::unordered_map, under
// random inserts, overwrites and erases over a small key range (long probe
// runs, wrap-around at the end of the table, backward-shift deletion).
#include "core/flat_index.h"

#include <random>
#include <unordered_map>

#include <gtest/gtest.h>

namespace lineage::core {
namespace {

struct BadHash {  // collides on purpose: every key in one of 4 homes
  size_t operator()(int32_t k) const { return static_cast<size_t>(k % 4) * 5 + 13; }
};

template <class Hash>
void check_against_map(unsigned seed) {
  FlatIndex<int32_t, Hash> index(4);
  std::unordered_map<int32_t, uint32_t> truth;
  std::mt19937 rng(seed);
  for (int step = 0; step < 20000; ++step) {
    int32_t key = static_cast<int32_t>(rng() % 200);
    switch (rng() % 3) {
      case 0:
      case 1: {
        uint32_t v = rng() % 1000;
        index.put(key, v);
        truth[key] = v;
        break;
      }
      default:
        EXPECT_EQ(index.erase(key), truth.erase(key) == 1);
        break;
    }
    if (step % 97 == 0) {
      ASSERT_EQ(index.size(), truth.size());
      for (int32_t k = 0; k < 200; ++k) {
        auto it = truth.find(k);
        uint32_t want = it == truth.end() ? FlatIndex<int32_t, Hash>::kNone : it->second;
        ASSERT_EQ(index.find(k), want) << k;
      }
    }
  }
}

TEST(FlatIndex, MatchesAMapUnderRandomOperations) { check_against_map<std::hash<int32_t>>(1); }
TEST(FlatIndex, MatchesAMapWhenEveryKeyCollides) { check_against_map<BadHash>(2); }

TEST(FlatIndex, ClearedIsEmptyAndUsableAgain) {
  FlatIndex<int32_t, BadHash> index(4);
  for (int32_t k = 0; k < 100; ++k) index.put(k, static_cast<uint32_t>(k));
  index.clear();
  EXPECT_EQ(index.size(), 0u);
  for (int32_t k = 0; k < 100; ++k) EXPECT_EQ(index.find(k), (FlatIndex<int32_t, BadHash>::kNone)) << k;
  index.put(7, 70);
  EXPECT_EQ(index.find(7), 70u);
  EXPECT_EQ(index.size(), 1u);
  index.clear();
  index.clear();  // empty: nothing to do
  EXPECT_EQ(index.find(7), (FlatIndex<int32_t, BadHash>::kNone));
}

}  // namespace
}  // namespace lineage::core
