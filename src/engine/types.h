// Domain types of the matching engine: strong integer types for prices, quantities and ids, the
// order enums, reason codes with stable snake_case names, `Result<T>` and `Symbol`.
//
// All types are plain values: copyable, no ownership, safe to share between threads once built.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>
#include <variant>

namespace hft::engine {

// A price as a whole number of ticks of its instrument (tick 0.01: 150.25 is 15025 ticks).
struct Price {
  std::int64_t ticks = 0;

  friend constexpr auto operator<=>(const Price&, const Price&) = default;
};

// A quantity as a whole number of lots of its instrument (lot 0.01: 5.00 is 500 lots).
struct Quantity {
  std::int64_t lots = 0;

  friend constexpr auto operator<=>(const Quantity&, const Quantity&) = default;
  friend constexpr Quantity operator+(Quantity a, Quantity b) { return Quantity{a.lots + b.lots}; }
  friend constexpr Quantity operator-(Quantity a, Quantity b) { return Quantity{a.lots - b.lots}; }
};

// Price times quantity, in units of (tick size x lot size): at tick 0.01 and lot 0.01 one unit
// is 0.0001. Cash, cost and realised P&L use this scale; negative values are allowed.
struct Notional {
  std::int64_t units = 0;

  friend constexpr auto operator<=>(const Notional&, const Notional&) = default;
};

// An order id, unique among resting orders of one engine; the caller assigns it.
struct OrderId {
  std::uint64_t value = 0;

  friend constexpr auto operator<=>(const OrderId&, const OrderId&) = default;
};

// The account that owns an order and its positions.
struct UserId {
  std::uint64_t value = 0;

  friend constexpr auto operator<=>(const UserId&, const UserId&) = default;
};

// A dense id that one engine gives each symbol on first use, starting at 0.
struct SymbolId {
  std::uint32_t value = 0;

  friend constexpr auto operator<=>(const SymbolId&, const SymbolId&) = default;
};

enum class Side : std::uint8_t { kBuy, kSell };

[[nodiscard]] constexpr Side opposite(Side side) {
  return side == Side::kBuy ? Side::kSell : Side::kBuy;
}

// kLimit rests its unfilled part. kMarket takes what the book has at any price (within the price
// band when one is set) and cancels the rest. kIoc is a limit order whose unfilled part is
// cancelled. kFok fills completely at its limit or is rejected without touching the book.
enum class OrderType : std::uint8_t { kLimit, kMarket, kIoc, kFok };

// What happens when an incoming order would trade with a resting order of the same user. The
// incoming order's choice applies.
enum class SelfTradePrevention : std::uint8_t {
  kCancelIncoming,  // cancel the rest of the incoming order; the resting order stays
  kCancelResting,   // cancel the resting order and keep matching
  kCancelBoth,      // cancel both
};

// Why a new order, a cancel or an amend was rejected. A rejected request changes nothing.
enum class RejectReason : std::uint8_t {
  // Decimal text of a price or quantity.
  kInvalidNumber,     // not a JSON number
  kNegative,          // below zero
  kZero,              // zero where a positive value is required
  kTooManyDecimals,   // more decimal places than the tick or lot size has
  kOffTick,           // not a whole multiple of the tick size
  kOffLot,            // not a whole multiple of the lot size
  kOverflow,          // more ticks or lots than fit in 64 bits
  kNotionalOverflow,  // price x quantity does not fit in 64 bits at the notional scale
  // Instruments and symbols.
  kInvalidSymbol,     // not 1-16 characters of A-Z 0-9 . _ -
  kTooManySymbols,    // the engine already has its maximum number of symbols
  kInvalidIncrement,  // a tick or lot size that is not a positive decimal of at most 9 digits
  // Orders.
  kInvalidPrice,           // a limit price of zero or less
  kInvalidQuantity,        // a quantity of zero or less
  kDuplicateOrderId,       // the id belongs to a resting order
  kUnknownOrder,           // no resting order has this id (never seen, filled or cancelled)
  kNotOwner,               // the order belongs to another user
  kWouldTakeLiquidity,     // a post-only order would trade on arrival
  kPostOnlyRequiresLimit,  // post-only set on a market, IOC or FOK order
  kPriceBand,              // the price is further from the last trade than the band allows
  kFokNotFillable,         // a fill-or-kill order cannot fill completely right now
};

// The stable snake_case code of a reason ("off_tick", "duplicate_order_id"), for APIs and logs.
[[nodiscard]] std::string_view to_string(RejectReason reason);

// Why the engine cancelled an accepted order or its unfilled part.
enum class CancelReason : std::uint8_t {
  kRequested,            // the owner asked
  kUnfilledRemainder,    // the rest of a market or IOC order, which never rests
  kSelfTradePrevention,  // it would have traded with an order of the same user
  kNotionalLimit,        // the filled notional of the incoming order reached the 64-bit limit
};

[[nodiscard]] std::string_view to_string(CancelReason reason);

// The life-cycle state of an order, as callers report it.
enum class OrderStatus : std::uint8_t { kOpen, kPartiallyFilled, kFilled, kCancelled, kRejected };

// "OPEN", "PARTIALLY_FILLED", "FILLED", "CANCELLED" or "REJECTED".
[[nodiscard]] std::string_view to_string(OrderStatus status);
[[nodiscard]] std::string_view to_string(Side side);       // "BUY" or "SELL"
[[nodiscard]] std::string_view to_string(OrderType type);  // "LIMIT", "MARKET", "IOC", "FOK"

// Either a value or the reason it could not be produced. Check `ok()` before `value()`.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::move(value)) {}    // NOLINT: implicit by design
  Result(RejectReason reason) : state_(reason) {}  // NOLINT: implicit by design

  [[nodiscard]] bool ok() const { return std::holds_alternative<T>(state_); }
  [[nodiscard]] const T& value() const { return std::get<T>(state_); }
  [[nodiscard]] T& value() { return std::get<T>(state_); }
  // The reason; only meaningful when `ok()` is false.
  [[nodiscard]] RejectReason reason() const { return std::get<RejectReason>(state_); }

 private:
  std::variant<T, RejectReason> state_;
};

// The outcome of a request that returns no value: success, or the reason it was rejected.
class [[nodiscard]] Status {
 public:
  static constexpr Status success() { return Status(); }
  constexpr Status(RejectReason reason) : failed_(true), reason_(reason) {}  // NOLINT: implicit

  [[nodiscard]] constexpr bool ok() const { return !failed_; }
  // The reason; only meaningful when `ok()` is false.
  [[nodiscard]] constexpr RejectReason reason() const { return reason_; }

 private:
  constexpr Status() = default;

  bool failed_ = false;
  RejectReason reason_ = RejectReason::kInvalidNumber;
};

// A ticker: 1 to 16 characters of A-Z, 0-9, '.', '_' and '-', stored inline (no allocation).
class Symbol {
 public:
  static constexpr std::size_t kMaxLength = 16;

  Symbol() = default;

  // Validates `text`; the reason on failure is kInvalidSymbol.
  [[nodiscard]] static Result<Symbol> parse(std::string_view text);

  [[nodiscard]] std::string_view view() const { return {chars_, size_}; }
  [[nodiscard]] bool empty() const { return size_ == 0; }

  friend bool operator==(const Symbol& a, const Symbol& b) { return a.view() == b.view(); }

 private:
  char chars_[kMaxLength] = {};
  std::uint8_t size_ = 0;
};

}  // namespace hft::engine

template <>
struct std::hash<hft::engine::OrderId> {
  std::size_t operator()(hft::engine::OrderId id) const noexcept {
    return std::hash<std::uint64_t>{}(id.value);
  }
};

template <>
struct std::hash<hft::engine::UserId> {
  std::size_t operator()(hft::engine::UserId id) const noexcept {
    return std::hash<std::uint64_t>{}(id.value);
  }
};
