// Events the engine emits while it processes a request, and the sink interface that receives
// them. One request emits its events synchronously, in a fixed order, before the call returns:
//
//   submit: OrderAccepted, then per fill Trade + OrderUpdate of the maker (and OrderCancelled +
//           OrderUpdate of a resting order removed by self-trade prevention), then
//           OrderCancelled for an unfilled part that does not rest, then the taker's
//           OrderUpdate. A rejected submit emits only OrderRejected.
//   cancel: OrderCancelled + OrderUpdate, or OrderRejected.
//   amend:  OrderAmended, then as submit when the new price crosses, then OrderUpdate; or
//           OrderRejected.
//
// Symbol views point into the engine and stay valid for the engine's lifetime. The sink is
// called on the engine's thread; it must not call back into the engine.
#pragma once

#include <cstdint>
#include <string_view>
#include <variant>
#include <vector>

#include "engine/types.h"

namespace hft::engine {

// The request an OrderRejected event answers.
enum class RequestKind : std::uint8_t { kNew, kCancel, kAmend };

struct OrderAccepted {
  OrderId id;
  UserId user;
  SymbolId symbol_id;
  std::string_view symbol;
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  Price price;  // zero for a market order
  Quantity quantity;
};

struct OrderRejected {
  OrderId id;
  UserId user;
  RequestKind request = RequestKind::kNew;
  RejectReason reason = RejectReason::kInvalidNumber;
};

// One fill between a resting (maker) order and an incoming (taker) order, at the maker's price.
struct Trade {
  std::uint64_t sequence = 0;  // 1, 2, 3... per engine
  SymbolId symbol_id;
  std::string_view symbol;
  Price price;
  Quantity quantity;
  OrderId maker_id;
  OrderId taker_id;
  UserId maker_user;
  UserId taker_user;
  Side aggressor = Side::kBuy;  // the taker's side
};

// An order, or its unfilled part, left the engine without filling.
struct OrderCancelled {
  OrderId id;
  UserId user;
  Quantity cancelled_quantity;  // the remaining quantity at the moment of the cancel
  CancelReason reason = CancelReason::kRequested;
};

struct OrderAmended {
  OrderId id;
  UserId user;
  Price price;
  Quantity remaining;          // the new open quantity
  bool priority_kept = false;  // true for a pure quantity reduction
};

// The state of an order after a change: enough to answer "what is my order's status".
struct OrderUpdate {
  OrderId id;
  UserId user;
  OrderStatus status = OrderStatus::kOpen;
  Quantity filled;
  Quantity remaining;        // open quantity still resting; zero once the order is done
  Notional filled_notional;  // sum of price x quantity over its fills; average = this / filled
};

// Receives events. Every method has an empty default, so a sink overrides only what it uses.
// Not thread-safe by itself: the engine calls it on its own thread.
class EventSink {
 public:
  virtual ~EventSink() = default;

  virtual void on_accepted(const OrderAccepted&) {}
  virtual void on_rejected(const OrderRejected&) {}
  virtual void on_trade(const Trade&) {}
  virtual void on_cancelled(const OrderCancelled&) {}
  virtual void on_amended(const OrderAmended&) {}
  virtual void on_update(const OrderUpdate&) {}
};

// Any one event.
using Event =
    std::variant<OrderAccepted, OrderRejected, Trade, OrderCancelled, OrderAmended, OrderUpdate>;

// A sink that records every event in order, for tests, replays and callers that process events
// after the call. Symbol views stay valid only while the engine lives.
class EventLog final : public EventSink {
 public:
  void on_accepted(const OrderAccepted& e) override { events_.emplace_back(e); }
  void on_rejected(const OrderRejected& e) override { events_.emplace_back(e); }
  void on_trade(const Trade& e) override { events_.emplace_back(e); }
  void on_cancelled(const OrderCancelled& e) override { events_.emplace_back(e); }
  void on_amended(const OrderAmended& e) override { events_.emplace_back(e); }
  void on_update(const OrderUpdate& e) override { events_.emplace_back(e); }

  [[nodiscard]] const std::vector<Event>& events() const { return events_; }
  void clear() { events_.clear(); }

 private:
  std::vector<Event> events_;
};

}  // namespace hft::engine
