// FlatIndexMap: a hash map from a small key to a 32-bit index, for the engine's order-id and
// position lookups. Open addressing with linear probing in one flat array, so a lookup usually
// touches one cache line; erasing shifts the following entries back instead of leaving
// tombstones, so lookups stay short under constant insert and erase.
//
// Not thread-safe. Values are plain indices into arrays the owner keeps.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace hft::engine {

// `Hash` returns a well-mixed 64-bit value; the map uses its high bits.
template <typename Key, typename Hash>
class FlatIndexMap {
 public:
  static constexpr std::uint32_t kNotFound = std::numeric_limits<std::uint32_t>::max();

  explicit FlatIndexMap(std::size_t expected_size = 16) { rehash(capacity_for(expected_size)); }

  [[nodiscard]] std::size_t size() const { return size_; }

  [[nodiscard]] std::uint32_t find(const Key& key) const {
    for (std::size_t slot = home(key);; slot = (slot + 1) & mask_) {
      const Entry& entry = entries_[slot];
      if (entry.value == kNotFound) return kNotFound;
      if (entry.key == key) return entry.value;
    }
  }

  // Inserts a key that is not in the map; `value` must not be kNotFound.
  void insert(const Key& key, std::uint32_t value) {
    if ((size_ + 1) * 2 > entries_.size()) rehash(entries_.size() * 2);
    place(key, value);
    ++size_;
  }

  // Removes `key`; returns false when it was not in the map.
  bool erase(const Key& key) {
    std::size_t slot = home(key);
    for (;; slot = (slot + 1) & mask_) {
      if (entries_[slot].value == kNotFound) return false;
      if (entries_[slot].key == key) break;
    }

    // Backward shift: move each following entry of the probe run into the hole when the hole
    // lies between its home slot and its current slot.
    std::size_t hole = slot;
    for (std::size_t next = (hole + 1) & mask_;; next = (next + 1) & mask_) {
      Entry& candidate = entries_[next];
      if (candidate.value == kNotFound) break;
      const std::size_t candidate_home = home(candidate.key);
      const std::size_t distance_to_hole = (hole - candidate_home) & mask_;
      const std::size_t distance_to_next = (next - candidate_home) & mask_;
      if (distance_to_hole < distance_to_next) {
        entries_[hole] = candidate;
        hole = next;
      }
    }
    entries_[hole].value = kNotFound;
    --size_;
    return true;
  }

 private:
  struct Entry {
    Key key{};
    std::uint32_t value = kNotFound;
  };

  static std::size_t capacity_for(std::size_t expected_size) {
    return std::bit_ceil(std::max<std::size_t>(16, expected_size * 2));
  }

  std::size_t home(const Key& key) const { return Hash{}(key) >> shift_; }

  void place(const Key& key, std::uint32_t value) {
    std::size_t slot = home(key);
    while (entries_[slot].value != kNotFound) slot = (slot + 1) & mask_;
    entries_[slot] = Entry{key, value};
  }

  void rehash(std::size_t capacity) {
    std::vector<Entry> old = std::move(entries_);
    entries_.assign(capacity, Entry{});
    mask_ = capacity - 1;
    shift_ = 64 - std::countr_zero(capacity);
    for (const Entry& entry : old) {
      if (entry.value != kNotFound) place(entry.key, entry.value);
    }
  }

  std::vector<Entry> entries_;
  std::size_t mask_ = 0;
  int shift_ = 64;
  std::size_t size_ = 0;
};

// Fibonacci hashing: multiplies by 2^64 / golden ratio, so consecutive ids spread evenly over
// the high bits.
[[nodiscard]] constexpr std::uint64_t mix_hash(std::uint64_t value) {
  return value * 0x9E3779B97F4A7C15ULL;
}

}  // namespace hft::engine
