#include "engine/decimal.h"

#include <algorithm>
#include <array>
#include <limits>

namespace hft::engine {
namespace {

using Uint128 = unsigned __int128;
using Int128 = __int128;

constexpr std::int64_t kInt64Max = std::numeric_limits<std::int64_t>::max();
// 38 decimal digits always fit in an unsigned 128-bit integer (its maximum is about 3.4e38).
constexpr int kMaxSignificantDigits = 38;
// Exponents beyond this cannot produce a representable value, so parsing clamps them here.
constexpr std::int64_t kExponentClamp = 1'000'000;

// A JSON number split into sign, significant digits and a decimal exponent:
// value = mantissa x 10^exponent, with the mantissa's trailing zeros moved into the exponent.
struct ParsedNumber {
  bool valid = false;
  bool negative = false;
  bool zero = false;
  // More than kMaxSignificantDigits significant digits; `mantissa` is then meaningless.
  bool huge = false;
  Uint128 mantissa = 0;
  std::int64_t exponent = 0;
};

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Follows the JSON number grammar: -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?
ParsedNumber parse_json_number(std::string_view text) {
  ParsedNumber out;
  std::size_t pos = 0;
  const std::size_t size = text.size();

  if (pos < size && text[pos] == '-') {
    out.negative = true;
    ++pos;
  }

  // Integer part: remember where the digits are, and read them after the grammar is checked.
  const std::size_t int_begin = pos;
  if (pos >= size || !is_digit(text[pos])) return out;
  if (text[pos] == '0') {
    ++pos;
    if (pos < size && is_digit(text[pos])) return out;
  } else {
    while (pos < size && is_digit(text[pos])) ++pos;
  }
  const std::size_t int_end = pos;

  std::size_t frac_begin = pos;
  std::size_t frac_end = pos;
  if (pos < size && text[pos] == '.') {
    ++pos;
    frac_begin = pos;
    if (pos >= size || !is_digit(text[pos])) return out;
    while (pos < size && is_digit(text[pos])) ++pos;
    frac_end = pos;
  }

  std::int64_t written_exponent = 0;
  if (pos < size && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    bool exponent_negative = false;
    if (pos < size && (text[pos] == '+' || text[pos] == '-')) {
      exponent_negative = text[pos] == '-';
      ++pos;
    }
    if (pos >= size || !is_digit(text[pos])) return out;
    while (pos < size && is_digit(text[pos])) {
      written_exponent = std::min(written_exponent * 10 + (text[pos] - '0'), kExponentClamp);
      ++pos;
    }
    if (exponent_negative) written_exponent = -written_exponent;
  }
  if (pos != size) return out;
  out.valid = true;

  // The digits of both parts form one integer; the exponent absorbs the fraction's length.
  std::string_view int_digits = text.substr(int_begin, int_end - int_begin);
  std::string_view frac_digits = text.substr(frac_begin, frac_end - frac_begin);
  std::int64_t exponent = written_exponent - static_cast<std::int64_t>(frac_digits.size());

  // Trailing zeros move into the exponent, so the mantissa is never a multiple of 10.
  while (!frac_digits.empty() && frac_digits.back() == '0') {
    frac_digits.remove_suffix(1);
    ++exponent;
  }
  if (frac_digits.empty()) {
    while (!int_digits.empty() && int_digits.back() == '0') {
      int_digits.remove_suffix(1);
      ++exponent;
    }
  }
  while (!int_digits.empty() && int_digits.front() == '0') int_digits.remove_prefix(1);
  if (int_digits.empty()) {
    while (!frac_digits.empty() && frac_digits.front() == '0') frac_digits.remove_prefix(1);
  }

  const std::size_t significant = int_digits.size() + frac_digits.size();
  if (significant == 0) {
    out.zero = true;
    return out;
  }
  out.exponent = exponent;
  if (significant > static_cast<std::size_t>(kMaxSignificantDigits)) {
    out.huge = true;
    return out;
  }
  for (char c : int_digits) out.mantissa = out.mantissa * 10 + static_cast<unsigned>(c - '0');
  for (char c : frac_digits) out.mantissa = out.mantissa * 10 + static_cast<unsigned>(c - '0');
  return out;
}

// Converts decimal text to a whole number of `increment`s (ticks or lots).
Result<std::int64_t> to_increments(std::string_view text, const Decimal& increment,
                                   RejectReason off_increment) {
  const ParsedNumber number = parse_json_number(text);
  if (!number.valid) return RejectReason::kInvalidNumber;
  if (number.zero) return RejectReason::kZero;
  if (number.negative) return RejectReason::kNegative;

  // value / increment = mantissa x 10^(exponent + scale) / increment.mantissa. The mantissa has
  // no factor of 10, so a negative power leaves a fraction of the smallest decimal the
  // increment can express.
  const std::int64_t power = number.exponent + increment.scale;
  if (power < 0) return RejectReason::kTooManyDecimals;
  if (number.huge || power > kMaxSignificantDigits) return RejectReason::kOverflow;

  // The largest numerator whose quotient still fits in int64; it is below 2^94, so one more
  // multiplication by 10 cannot wrap 128 bits.
  const Uint128 divisor = static_cast<Uint128>(increment.mantissa);
  const Uint128 limit = static_cast<Uint128>(kInt64Max) * divisor + (divisor - 1);
  Uint128 numerator = number.mantissa;
  if (numerator > limit) return RejectReason::kOverflow;
  for (std::int64_t i = 0; i < power; ++i) {
    numerator *= 10;
    if (numerator > limit) return RejectReason::kOverflow;
  }

  if (numerator % divisor != 0) return off_increment;
  return static_cast<std::int64_t>(numerator / divisor);
}

// format_scaled for a scale too large for its stack buffer.
std::string format_scaled_long(Int128 value, int scale) {
  const bool negative = value < 0;
  Uint128 magnitude =
      negative ? static_cast<Uint128>(-(value + 1)) + 1 : static_cast<Uint128>(value);
  std::string digits;
  do {
    digits.push_back(static_cast<char>('0' + static_cast<int>(magnitude % 10)));
    magnitude /= 10;
  } while (magnitude != 0);
  while (digits.size() <= static_cast<std::size_t>(scale)) digits.push_back('0');
  std::string out;
  if (negative) out.push_back('-');
  for (std::size_t i = digits.size(); i-- > 0;) {
    out.push_back(digits[i]);
    if (i == static_cast<std::size_t>(scale)) out.push_back('.');
  }
  return out;
}

// Formats value x 10^-scale with exactly `scale` decimals. Digits are written backwards into a
// stack buffer; magnitudes that fit 64 bits use 64-bit division, far cheaper than 128-bit.
std::string format_scaled(Int128 value, int scale) {
  const bool negative = value < 0;
  Uint128 magnitude =
      negative ? static_cast<Uint128>(-(value + 1)) + 1 : static_cast<Uint128>(value);

  // 39 digits hold any 128-bit magnitude; scale adds leading zeros, then a point and a sign.
  constexpr int kMaxScale = 64;
  if (scale > kMaxScale) return format_scaled_long(value, scale);
  std::array<char, 40 + kMaxScale + 2> buffer;
  const int clamped_scale = std::max(scale, 0);
  char* end = buffer.data() + buffer.size();
  char* cursor = end;
  int written = 0;
  auto put_digit = [&](unsigned digit) {
    if (written == clamped_scale && clamped_scale > 0) *--cursor = '.';
    *--cursor = static_cast<char>('0' + digit);
    ++written;
  };
  while (magnitude > std::numeric_limits<std::uint64_t>::max()) {
    put_digit(static_cast<unsigned>(magnitude % 10));
    magnitude /= 10;
  }
  auto small = static_cast<std::uint64_t>(magnitude);
  do {
    put_digit(static_cast<unsigned>(small % 10));
    small /= 10;
  } while (small != 0);
  while (written <= clamped_scale) put_digit(0);
  if (negative) *--cursor = '-';
  return std::string(cursor, static_cast<std::size_t>(end - cursor));
}

Int128 pow10(int exponent) {
  Int128 out = 1;
  for (int i = 0; i < exponent; ++i) out *= 10;
  return out;
}

}  // namespace

Result<Decimal> Decimal::parse(std::string_view text) {
  const ParsedNumber number = parse_json_number(text);
  if (!number.valid || number.zero || number.negative || number.huge) {
    return RejectReason::kInvalidIncrement;
  }
  if (number.exponent < -kMaxScale || number.exponent > kMaxScale) {
    return RejectReason::kInvalidIncrement;
  }

  Uint128 mantissa = number.mantissa;
  int scale = 0;
  if (number.exponent < 0) {
    scale = static_cast<int>(-number.exponent);
  } else {
    mantissa *= static_cast<Uint128>(pow10(static_cast<int>(number.exponent)));
  }
  if (mantissa > static_cast<Uint128>(kMaxMantissa)) return RejectReason::kInvalidIncrement;
  return Decimal{static_cast<std::int64_t>(mantissa), scale};
}

std::string to_string(const Decimal& decimal) {
  return format_scaled(decimal.mantissa, decimal.scale);
}

Result<Instrument> Instrument::make(std::string_view symbol, std::string_view tick_size,
                                    std::string_view lot_size, std::uint32_t price_band_percent) {
  Result<Symbol> parsed_symbol = Symbol::parse(symbol);
  if (!parsed_symbol.ok()) return parsed_symbol.reason();
  Result<Decimal> tick = Decimal::parse(tick_size);
  if (!tick.ok()) return tick.reason();
  Result<Decimal> lot = Decimal::parse(lot_size);
  if (!lot.ok()) return lot.reason();

  Instrument instrument;
  instrument.symbol = parsed_symbol.value();
  instrument.tick_size = tick.value();
  instrument.lot_size = lot.value();
  instrument.price_band_percent = price_band_percent;
  return instrument;
}

Result<Price> parse_price(std::string_view text, const Instrument& instrument) {
  Result<std::int64_t> ticks = to_increments(text, instrument.tick_size, RejectReason::kOffTick);
  if (!ticks.ok()) return ticks.reason();
  return Price{ticks.value()};
}

Result<Quantity> parse_quantity(std::string_view text, const Instrument& instrument) {
  Result<std::int64_t> lots = to_increments(text, instrument.lot_size, RejectReason::kOffLot);
  if (!lots.ok()) return lots.reason();
  return Quantity{lots.value()};
}

std::string format_price(Price price, const Instrument& instrument) {
  const Int128 value = static_cast<Int128>(price.ticks) * instrument.tick_size.mantissa;
  return format_scaled(value, instrument.tick_size.scale);
}

std::string format_quantity(Quantity quantity, const Instrument& instrument) {
  const Int128 value = static_cast<Int128>(quantity.lots) * instrument.lot_size.mantissa;
  return format_scaled(value, instrument.lot_size.scale);
}

std::string format_notional(Notional notional, const Instrument& instrument) {
  // At most 2^63 x 10^9 x 10^9, about 9.2e36, which fits in a signed 128-bit integer.
  const Int128 value = static_cast<Int128>(notional.units) * instrument.tick_size.mantissa *
                       instrument.lot_size.mantissa;
  return format_scaled(value, instrument.tick_size.scale + instrument.lot_size.scale);
}

std::string format_average_price(Notional notional, Quantity quantity, const Instrument& instrument,
                                 int extra_decimals) {
  const int extra = std::clamp(extra_decimals, 0, 9);
  const int tick_scale = instrument.tick_size.scale;
  if (quantity.lots == 0) return format_scaled(0, tick_scale);

  // notional / quantity is a price in ticks; times the tick mantissa and 10^extra it becomes
  // an integer at scale tick_scale + extra, after rounding half away from zero.
  const bool negative = (notional.units < 0) != (quantity.lots < 0);
  Int128 numerator =
      static_cast<Int128>(notional.units) * instrument.tick_size.mantissa * pow10(extra);
  Int128 denominator = quantity.lots;
  if (numerator < 0) numerator = -numerator;
  if (denominator < 0) denominator = -denominator;
  Int128 quotient = numerator / denominator;
  if ((numerator % denominator) * 2 >= denominator) ++quotient;
  if (negative) quotient = -quotient;

  std::string text = format_scaled(quotient, tick_scale + extra);
  for (int i = 0; i < extra && text.back() == '0'; ++i) text.pop_back();
  if (text.back() == '.') text.pop_back();
  return text;
}

Result<Notional> compute_notional(Price price, Quantity quantity) {
  const Int128 product = static_cast<Int128>(price.ticks) * quantity.lots;
  if (product > kInt64Max || product < std::numeric_limits<std::int64_t>::min()) {
    return RejectReason::kNotionalOverflow;
  }
  return Notional{static_cast<std::int64_t>(product)};
}

}  // namespace hft::engine
