// TokenCache: remembers recently verified bearer tokens on one I/O thread, so a client that
// sends the same token with every request costs one hash lookup instead of an HMAC.
//
// Not thread-safe: one cache per I/O thread. Entries keep their expiry, so an expired token
// fails here as it would in TokenSigner::verify.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>

namespace hft::gateway {

class TokenCache {
 public:
  static constexpr std::size_t kMaxEntries = 4096;

  struct Entry {
    std::uint64_t user_id = 0;
    std::int64_t expires_unix_s = 0;
  };

  // The cached claims of `token`, or nullptr. The caller checks the expiry.
  [[nodiscard]] const Entry* find(std::string_view token) const {
    auto position = entries_.find(token);
    return position == entries_.end() ? nullptr : &position->second;
  }

  // Adds a verified token; the cache starts over when it is full.
  void add(std::string_view token, Entry entry) {
    if (entries_.size() >= kMaxEntries) entries_.clear();
    entries_.emplace(std::string(token), entry);
  }

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const {
      return std::hash<std::string_view>{}(text);
    }
  };
  std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries_;
};

}  // namespace hft::gateway
