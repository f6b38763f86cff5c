#include "engine/types.h"

namespace hft::engine {

std::string_view to_string(RejectReason reason) {
  switch (reason) {
    case RejectReason::kInvalidNumber:
      return "invalid_number";
    case RejectReason::kNegative:
      return "negative";
    case RejectReason::kZero:
      return "zero";
    case RejectReason::kTooManyDecimals:
      return "too_many_decimals";
    case RejectReason::kOffTick:
      return "off_tick";
    case RejectReason::kOffLot:
      return "off_lot";
    case RejectReason::kOverflow:
      return "overflow";
    case RejectReason::kNotionalOverflow:
      return "notional_overflow";
    case RejectReason::kInvalidSymbol:
      return "invalid_symbol";
    case RejectReason::kTooManySymbols:
      return "too_many_symbols";
    case RejectReason::kInvalidIncrement:
      return "invalid_increment";
    case RejectReason::kInvalidPrice:
      return "invalid_price";
    case RejectReason::kInvalidQuantity:
      return "invalid_quantity";
    case RejectReason::kDuplicateOrderId:
      return "duplicate_order_id";
    case RejectReason::kUnknownOrder:
      return "unknown_order";
    case RejectReason::kNotOwner:
      return "not_owner";
    case RejectReason::kWouldTakeLiquidity:
      return "would_take_liquidity";
    case RejectReason::kPostOnlyRequiresLimit:
      return "post_only_requires_limit";
    case RejectReason::kPriceBand:
      return "price_band";
    case RejectReason::kFokNotFillable:
      return "fok_not_fillable";
  }
  return "unknown_reason";
}

std::string_view to_string(CancelReason reason) {
  switch (reason) {
    case CancelReason::kRequested:
      return "requested";
    case CancelReason::kUnfilledRemainder:
      return "unfilled_remainder";
    case CancelReason::kSelfTradePrevention:
      return "self_trade_prevention";
    case CancelReason::kNotionalLimit:
      return "notional_limit";
  }
  return "unknown_reason";
}

std::string_view to_string(OrderStatus status) {
  switch (status) {
    case OrderStatus::kOpen:
      return "OPEN";
    case OrderStatus::kPartiallyFilled:
      return "PARTIALLY_FILLED";
    case OrderStatus::kFilled:
      return "FILLED";
    case OrderStatus::kCancelled:
      return "CANCELLED";
    case OrderStatus::kRejected:
      return "REJECTED";
  }
  return "UNKNOWN";
}

std::string_view to_string(Side side) { return side == Side::kBuy ? "BUY" : "SELL"; }

std::string_view to_string(OrderType type) {
  switch (type) {
    case OrderType::kLimit:
      return "LIMIT";
    case OrderType::kMarket:
      return "MARKET";
    case OrderType::kIoc:
      return "IOC";
    case OrderType::kFok:
      return "FOK";
  }
  return "UNKNOWN";
}

Result<Symbol> Symbol::parse(std::string_view text) {
  if (text.empty() || text.size() > kMaxLength) return RejectReason::kInvalidSymbol;

  Symbol symbol;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    const bool allowed =
        (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!allowed) return RejectReason::kInvalidSymbol;
    symbol.chars_[i] = c;
  }
  symbol.size_ = static_cast<std::uint8_t>(text.size());
  return symbol;
}

}  // namespace hft::engine
