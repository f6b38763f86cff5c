// The binary encoding of an OrderRequest inside journal records and state stream entries: symbol,
// side, type, post-only flag, price ticks, quantity lots and client order id, in that order.
//
// Free functions on a writer or reader owned by the caller: thread-safe as their arguments are.
#pragma once

#include <cstdint>
#include <string_view>

#include "engine/types.h"
#include "gateway/byte_codec.h"
#include "gateway/order_request.h"

namespace hft::gateway {

template <typename Buffer>
void encode_order_request(ByteWriter<Buffer>& writer, const OrderRequest& request) {
  writer.text(request.symbol.view());
  writer.integer(static_cast<std::uint8_t>(request.side));
  writer.integer(static_cast<std::uint8_t>(request.type));
  writer.integer(static_cast<std::uint8_t>(request.post_only ? 1 : 0));
  writer.integer(request.price.ticks);
  writer.integer(request.quantity.lots);
  writer.text(request.client_order_id.view());
}

// Reads what encode_order_request() wrote. Returns false for a short payload, an invalid symbol,
// an enumerator or flag out of range, or a client order id that is too long.
[[nodiscard]] inline bool decode_order_request(ByteReader& reader, OrderRequest& request) {
  std::string_view symbol;
  std::string_view client_order_id;
  std::uint8_t post_only = 0;
  bool ok = reader.text(symbol) && reader.enumeration(request.side, engine::Side::kSell) &&
            reader.enumeration(request.type, engine::OrderType::kFok) &&
            reader.integer(post_only) && post_only <= 1 && reader.integer(request.price.ticks) &&
            reader.integer(request.quantity.lots) && reader.text(client_order_id);
  if (!ok) return false;

  auto parsed_symbol = engine::Symbol::parse(symbol);
  if (!parsed_symbol.ok()) return false;
  request.symbol = parsed_symbol.value();
  request.post_only = post_only == 1;
  return request.client_order_id.assign(client_order_id);
}

}  // namespace hft::gateway
