#include "engine/huge_page_allocator.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace hft::engine {
namespace {

TEST(HugePageAllocator, LargeBlockIsAlignedToHugePage) {
  std::vector<std::uint64_t, HugePageAllocator<std::uint64_t>> values(3 * kHugePageBytes / 8 + 1);

  const auto address = reinterpret_cast<std::uintptr_t>(values.data());
  EXPECT_EQ(address % kHugePageBytes, 0u);
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = i;
  EXPECT_EQ(values.back(), values.size() - 1);
}

TEST(HugePageAllocator, VectorGrowsPastHugePageSize) {
  std::vector<std::uint32_t, HugePageAllocator<std::uint32_t>> values;
  for (std::uint32_t i = 0; i < 1'000'000; ++i) values.push_back(i);

  ASSERT_EQ(values.size(), 1'000'000u);
  EXPECT_EQ(values.front(), 0u);
  EXPECT_EQ(values.back(), 999'999u);
}

}  // namespace
}  // namespace hft::engine
