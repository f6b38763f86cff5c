// Exact decimal arithmetic for one instrument: parsing decimal text straight into ticks and lots,
// formatting them back, and price x quantity products. Nothing goes through floating point.
//
// Free functions and plain values: thread-safe, no shared state. Parsing failures return a
// `RejectReason`, one per kind of bad input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "engine/types.h"

namespace hft::engine {

// A positive decimal `mantissa` x 10^-`scale`, used for tick and lot sizes ("0.02" is {2, 2}).
struct Decimal {
  static constexpr std::int64_t kMaxMantissa = 1'000'000'000;
  static constexpr int kMaxScale = 9;

  std::int64_t mantissa = 1;
  int scale = 0;

  // Parses "0.01", "5", "2.5e-1"; the mantissa must be at most 10^9 and the scale at most 9 once
  // trailing zeros are removed. The reason on failure is kInvalidIncrement.
  [[nodiscard]] static Result<Decimal> parse(std::string_view text);

  friend bool operator==(const Decimal&, const Decimal&) = default;
};

// Formats a decimal without an exponent: {25, 3} is "0.025".
[[nodiscard]] std::string to_string(const Decimal& decimal);

// The trading rules of one symbol.
struct Instrument {
  Symbol symbol;
  Decimal tick_size{1, 2};
  Decimal lot_size{1, 0};
  // An order priced more than this percentage away from the last trade is rejected; 0 turns the
  // check off. Market orders fill only within the band.
  std::uint32_t price_band_percent = 0;

  // Builds an instrument from text, validating each field (kInvalidSymbol, kInvalidIncrement).
  [[nodiscard]] static Result<Instrument> make(std::string_view symbol, std::string_view tick_size,
                                               std::string_view lot_size,
                                               std::uint32_t price_band_percent = 0);
};

// Parses a JSON number token ("150", "150.25", "1.5e2", as simdjson's raw token gives it) into
// whole ticks. Rejects, each with its own reason: text that is not a JSON number
// (kInvalidNumber), a negative value (kNegative), zero (kZero), more decimals than the tick size
// has (kTooManyDecimals), a value that is not a multiple of the tick (kOffTick) and more ticks
// than fit in int64 (kOverflow). Leading and trailing whitespace is rejected as well.
[[nodiscard]] Result<Price> parse_price(std::string_view text, const Instrument& instrument);

// The same for a quantity in lots; a value off the lot size is kOffLot.
[[nodiscard]] Result<Quantity> parse_quantity(std::string_view text, const Instrument& instrument);

// Formats with exactly as many decimals as the tick size: 15025 ticks of 0.01 is "150.25".
[[nodiscard]] std::string format_price(Price price, const Instrument& instrument);

// Formats with exactly as many decimals as the lot size.
[[nodiscard]] std::string format_quantity(Quantity quantity, const Instrument& instrument);

// Formats with the decimals of tick size and lot size together: 5,000,000 units at tick 0.01
// and lot 0.01 is "500.0000". Negative values get a leading '-'.
[[nodiscard]] std::string format_notional(Notional notional, const Instrument& instrument);

// Formats notional / quantity as a price, rounded half away from zero to the tick's decimals
// plus `extra_decimals`, with trailing zeros beyond the tick's decimals removed. Used for average
// fill and average open prices. A zero quantity gives "0" with the tick's decimals.
[[nodiscard]] std::string format_average_price(Notional notional, Quantity quantity,
                                               const Instrument& instrument,
                                               int extra_decimals = 4);

// Price x quantity in notional units, computed in 128 bits; kNotionalOverflow when the product
// does not fit in int64.
[[nodiscard]] Result<Notional> compute_notional(Price price, Quantity quantity);

}  // namespace hft::engine
