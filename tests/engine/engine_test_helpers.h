// Helpers for the engine tests: order builders and filters over a recorded event log.
#pragma once

#include <fmt/format.h>

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "engine/engine.h"
#include "engine/events.h"

namespace hft::engine::testing {

inline constexpr std::string_view kSymbol = "TEST";

inline NewOrder make_order(std::uint64_t id, Side side, std::int64_t price_ticks, std::int64_t lots,
                           std::uint64_t user = 0, OrderType type = OrderType::kLimit) {
  NewOrder order;
  order.id = OrderId{id};
  // Each order gets its own user unless the test passes one, so self-trade prevention never
  // applies.
  order.user = UserId{user == 0 ? 1000 + id : user};
  order.symbol = kSymbol;
  order.side = side;
  order.type = type;
  order.price = Price{price_ticks};
  order.quantity = Quantity{lots};
  order.timestamp_ns = static_cast<std::int64_t>(id);
  return order;
}

template <typename T>
std::vector<T> events_of(const EventLog& log) {
  std::vector<T> out;
  for (const Event& event : log.events()) {
    if (const T* typed = std::get_if<T>(&event)) out.push_back(*typed);
  }
  return out;
}

// One line per event, for comparing whole event sequences.
inline std::string describe(const Event& event) {
  struct Visitor {
    std::string operator()(const OrderAccepted& e) const {
      return fmt::format("accepted {} user {} {} {} {} {}x{}", e.id.value, e.user.value, e.symbol,
                         to_string(e.side), to_string(e.type), e.price.ticks, e.quantity.lots);
    }
    std::string operator()(const OrderRejected& e) const {
      return fmt::format("rejected {} user {} request {} {}", e.id.value, e.user.value,
                         static_cast<int>(e.request), to_string(e.reason));
    }
    std::string operator()(const Trade& e) const {
      return fmt::format("trade #{} {} {}x{} maker {}/{} taker {}/{} {}", e.sequence, e.symbol,
                         e.price.ticks, e.quantity.lots, e.maker_id.value, e.maker_user.value,
                         e.taker_id.value, e.taker_user.value, to_string(e.aggressor));
    }
    std::string operator()(const OrderCancelled& e) const {
      return fmt::format("cancelled {} user {} qty {} {}", e.id.value, e.user.value,
                         e.cancelled_quantity.lots, to_string(e.reason));
    }
    std::string operator()(const OrderAmended& e) const {
      return fmt::format("amended {} user {} {}x{} kept {}", e.id.value, e.user.value,
                         e.price.ticks, e.remaining.lots, e.priority_kept);
    }
    std::string operator()(const OrderUpdate& e) const {
      return fmt::format("update {} user {} {} filled {} remaining {} notional {}", e.id.value,
                         e.user.value, to_string(e.status), e.filled.lots, e.remaining.lots,
                         e.filled_notional.units);
    }
  };
  return std::visit(Visitor{}, event);
}

inline std::vector<std::string> describe_all(const EventLog& log) {
  std::vector<std::string> out;
  for (const Event& event : log.events()) out.push_back(describe(event));
  return out;
}

}  // namespace hft::engine::testing
