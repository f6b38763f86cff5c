// OrderRequest: a new order as the API received it, validated and converted to the engine's
// exact units, before the gateway gives it an id. Plain values, no allocation, safe to copy
// between threads.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

#include "engine/types.h"

namespace hft::gateway {

// The caller's own reference for an order, up to 64 bytes, stored inline.
class ClientOrderId {
 public:
  static constexpr std::size_t kMaxLength = 64;

  // False when `text` is longer than kMaxLength.
  [[nodiscard]] bool assign(std::string_view text) {
    if (text.size() > kMaxLength) return false;
    std::memcpy(chars_, text.data(), text.size());
    size_ = static_cast<std::uint8_t>(text.size());
    return true;
  }

  [[nodiscard]] std::string_view view() const { return {chars_, size_}; }
  [[nodiscard]] bool empty() const { return size_ == 0; }

 private:
  char chars_[kMaxLength] = {};
  std::uint8_t size_ = 0;
};

struct OrderRequest {
  engine::Symbol symbol;
  engine::Side side = engine::Side::kBuy;
  engine::OrderType type = engine::OrderType::kLimit;
  // Zero when the order carries no price (only a market order may omit it).
  engine::Price price;
  engine::Quantity quantity;
  bool post_only = false;
  ClientOrderId client_order_id;
};

}  // namespace hft::gateway
