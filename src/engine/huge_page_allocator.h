// HugePageAllocator: the allocator of the engine's large arrays (the order pool and the id map).
// A block of 2 MiB or more is aligned to 2 MiB and marked with madvise(MADV_HUGEPAGE), so that
// when transparent huge pages are enabled ("madvise" or "always" in
// /sys/kernel/mm/transparent_hugepage/enabled) the kernel can back it with 2 MiB pages. Random
// lookups into a table of several MiB then miss the TLB far less often. Smaller blocks come from
// operator new. The advice is only a hint: when the kernel ignores it, the memory works the same.
//
// Stateless and thread-safe, like std::allocator. Throws std::bad_alloc when memory runs out.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <new>

namespace hft::engine {

inline constexpr std::size_t kHugePageBytes = std::size_t{2} << 20;

template <typename T>
class HugePageAllocator {
 public:
  using value_type = T;

  HugePageAllocator() = default;
  template <typename U>
  HugePageAllocator(const HugePageAllocator<U>&) {}  // NOLINT: rebinding is implicit by design

  [[nodiscard]] T* allocate(std::size_t count) {
    if (count > std::size_t(-1) / sizeof(T)) throw std::bad_alloc();
    const std::size_t bytes = count * sizeof(T);
    if (bytes < kHugePageBytes) return static_cast<T*>(::operator new(bytes));

    const std::size_t rounded = (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
    void* block = std::aligned_alloc(kHugePageBytes, rounded);
    if (block == nullptr) throw std::bad_alloc();
    // The advice can fail, for example on a kernel without transparent huge pages, and the block
    // then keeps ordinary pages.
    (void)::madvise(block, rounded, MADV_HUGEPAGE);
    return static_cast<T*>(block);
  }

  void deallocate(T* block, std::size_t count) {
    if (count * sizeof(T) < kHugePageBytes) {
      ::operator delete(block);
    } else {
      std::free(block);
    }
  }

  friend bool operator==(const HugePageAllocator&, const HugePageAllocator&) { return true; }
};

}  // namespace hft::engine
