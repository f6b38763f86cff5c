// FlatIndexMap: a hash map from a small key to a 32-bit index, for the engine's order-id and
// position lookups. It uses open addressing in one flat array with Robin Hood linear probing, and
// each entry stores its distance from its home slot. An insert displaces entries closer to home
// than itself. A lookup stops at the first entry closer to home than the key would be, so a missing
// key costs about as much as a present one. An erase shifts the displaced entries after it back by
// one slot, so no tombstones build up.
//
// Not thread-safe. Values are plain indices into arrays the owner keeps.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "engine/huge_page_allocator.h"

namespace hft::engine {

// `Hash` returns a 64-bit value whose low bits pick the home slot, so they must vary between keys.
template <typename Key, typename Hash>
class FlatIndexMap {
 public:
  static constexpr std::uint32_t kNotFound = std::numeric_limits<std::uint32_t>::max();

  explicit FlatIndexMap(std::size_t expected_size = 16) { rehash(capacity_for(expected_size)); }

  [[nodiscard]] std::size_t size() const { return size_; }

  [[nodiscard]] std::uint32_t find(const Key& key) const {
    std::size_t slot = home(key);
    for (std::uint32_t distance = 0;; ++distance, slot = (slot + 1) & mask_) {
      const Entry& entry = entries_[slot];
      if (entry.value == kNotFound || entry.distance < distance) return kNotFound;
      if (entry.key == key) return entry.value;
    }
  }

  // Inserts a key that is not in the map; `value` must not be kNotFound.
  void insert(const Key& key, std::uint32_t value) {
    if ((size_ + 1) * 2 > entries_.size()) rehash(entries_.size() * 2);
    place(Entry{key, value, 0});
    ++size_;
  }

  // Removes `key`; returns false when it was not in the map.
  bool erase(const Key& key) {
    std::size_t slot = home(key);
    for (std::uint32_t distance = 0;; ++distance, slot = (slot + 1) & mask_) {
      const Entry& entry = entries_[slot];
      if (entry.value == kNotFound || entry.distance < distance) return false;
      if (entry.key == key) break;
    }

    for (std::size_t next = (slot + 1) & mask_;; next = (next + 1) & mask_) {
      Entry& follower = entries_[next];
      if (follower.value == kNotFound || follower.distance == 0) break;
      entries_[slot] = follower;
      --entries_[slot].distance;
      slot = next;
    }
    entries_[slot].value = kNotFound;
    --size_;
    return true;
  }

 private:
  struct Entry {
    Key key{};
    std::uint32_t value = kNotFound;
    std::uint32_t distance = 0;  // slots from the key's home slot
  };

  static std::size_t capacity_for(std::size_t expected_size) {
    return std::bit_ceil(std::max<std::size_t>(16, expected_size * 2));
  }

  std::size_t home(const Key& key) const { return Hash{}(key)&mask_; }

  void place(Entry entry) {
    for (std::size_t slot = home(entry.key);; slot = (slot + 1) & mask_, ++entry.distance) {
      Entry& resident = entries_[slot];
      if (resident.value == kNotFound) {
        resident = entry;
        return;
      }
      if (resident.distance < entry.distance) std::swap(resident, entry);
    }
  }

  void rehash(std::size_t capacity) {
    std::vector<Entry, HugePageAllocator<Entry>> old = std::move(entries_);
    entries_.assign(capacity, Entry{});
    mask_ = capacity - 1;
    for (const Entry& entry : old) {
      if (entry.value != kNotFound) place(Entry{entry.key, entry.value, 0});
    }
  }

  // On huge pages once large: lookups land at random slots across the whole table.
  std::vector<Entry, HugePageAllocator<Entry>> entries_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

// The SplitMix64 finalizer: every input bit affects every output bit.
[[nodiscard]] constexpr std::uint64_t mix_hash(std::uint64_t value) {
  value = (value ^ (value >> 30)) * 0xBF58476D1CE4E5B9ULL;
  value = (value ^ (value >> 27)) * 0x94D049BB133111EBULL;
  return value ^ (value >> 31);
}

// A hash for ids that callers mostly assign in sequence. Ids that differ only in their low
// `kBlockBits` bits land in one aligned run of 16 slots (four cache lines), so a burst of new ids
// touches few cache lines. `mix_hash` scatters the blocks themselves over the table.
struct SequentialIdHash {
  static constexpr int kBlockBits = 4;

  std::uint64_t operator()(std::uint64_t id) const { return id ^ mix_hash(id >> kBlockBits); }
};

}  // namespace hft::engine
