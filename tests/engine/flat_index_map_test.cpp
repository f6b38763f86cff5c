#include "engine/flat_index_map.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <unordered_map>

namespace hft::engine {
namespace {

struct IdHash {
  std::uint64_t operator()(std::uint64_t key) const { return mix_hash(key); }
};

// Keys that all land in the same home slot, to exercise long probe runs and backward shifts.
struct CollidingHash {
  std::uint64_t operator()(std::uint64_t) const { return 0; }
};

TEST(FlatIndexMap, FindsInsertedAndMissesErased) {
  FlatIndexMap<std::uint64_t, IdHash> map;
  map.insert(7, 70);
  map.insert(8, 80);

  EXPECT_EQ(map.find(7), 70u);
  EXPECT_EQ(map.find(8), 80u);
  EXPECT_EQ(map.find(9), (FlatIndexMap<std::uint64_t, IdHash>::kNotFound));
  EXPECT_TRUE(map.erase(7));
  EXPECT_FALSE(map.erase(7));
  EXPECT_EQ(map.find(7), (FlatIndexMap<std::uint64_t, IdHash>::kNotFound));
  EXPECT_EQ(map.find(8), 80u);
  EXPECT_EQ(map.size(), 1u);
}

TEST(FlatIndexMap, EraseInsideCollisionRunKeepsOthersReachable) {
  FlatIndexMap<std::uint64_t, CollidingHash> map;
  for (std::uint64_t key = 1; key <= 6; ++key) map.insert(key, static_cast<std::uint32_t>(key));

  ASSERT_TRUE(map.erase(3));

  for (std::uint64_t key = 1; key <= 6; ++key) {
    if (key == 3) continue;
    EXPECT_EQ(map.find(key), key) << "key " << key;
  }
}

TEST(FlatIndexMap, MatchesStandardMapUnderRandomChurn) {
  FlatIndexMap<std::uint64_t, IdHash> map(4);
  std::unordered_map<std::uint64_t, std::uint32_t> reference;
  std::mt19937_64 random(7);

  for (int step = 0; step < 200'000; ++step) {
    const std::uint64_t key = random() % 5000;
    if (random() % 2 == 0) {
      if (reference.count(key) == 0) {
        const auto value = static_cast<std::uint32_t>(step);
        map.insert(key, value);
        reference[key] = value;
      }
    } else {
      ASSERT_EQ(map.erase(key), reference.erase(key) == 1) << "step " << step;
    }
  }

  ASSERT_EQ(map.size(), reference.size());
  for (std::uint64_t key = 0; key < 5000; ++key) {
    const auto it = reference.find(key);
    const std::uint32_t expected =
        it == reference.end() ? FlatIndexMap<std::uint64_t, IdHash>::kNotFound : it->second;
    EXPECT_EQ(map.find(key), expected) << "key " << key;
  }
}

}  // namespace
}  // namespace hft::engine
