#include "engine/decimal.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace hft::engine {
namespace {

Instrument make_instrument(std::string_view tick_size, std::string_view lot_size = "1") {
  Result<Instrument> instrument = Instrument::make("TEST", tick_size, lot_size);
  EXPECT_TRUE(instrument.ok()) << "tick " << tick_size << " lot " << lot_size;
  return instrument.value();
}

struct ParseCase {
  std::string_view text;
  std::string_view increment;  // tick size for prices, lot size for quantities
  bool ok;
  std::int64_t units;   // expected ticks or lots when ok
  RejectReason reason;  // expected reason when not ok
};

void PrintTo(const ParseCase& c, std::ostream* out) {
  *out << '"' << c.text << "\" at increment " << c.increment;
}

constexpr RejectReason kNone = RejectReason::kInvalidNumber;  // unused when ok is true

class ParsePriceTable : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParsePriceTable, ParsesOrRejectsWithReason) {
  const ParseCase& c = GetParam();
  const Result<Price> price = parse_price(c.text, make_instrument(c.increment));

  ASSERT_EQ(price.ok(), c.ok) << (price.ok() ? std::string("parsed")
                                             : std::string(to_string(price.reason())));
  if (c.ok) {
    EXPECT_EQ(price.value().ticks, c.units);
  } else {
    EXPECT_EQ(to_string(price.reason()), to_string(c.reason));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Decimal, ParsePriceTable,
    ::testing::Values(
        ParseCase{"150", "0.01", true, 15000, kNone},
        ParseCase{"150.25", "0.01", true, 15025, kNone},
        ParseCase{"1.5e2", "0.01", true, 15000, kNone},
        ParseCase{"1.5E+2", "0.01", true, 15000, kNone},
        ParseCase{"15025e-2", "0.01", true, 15025, kNone},
        ParseCase{"150.250", "0.01", true, 15025, kNone}, ParseCase{"0.01", "0.01", true, 1, kNone},
        ParseCase{"1e-2", "0.01", true, 1, kNone},
        ParseCase{"0.000000000000000000001e19", "0.01", true, 1, kNone},
        ParseCase{"92233720368547758.07", "0.01", true, std::numeric_limits<std::int64_t>::max(),
                  kNone},
        ParseCase{"3.76", "0.02", true, 188, kNone}, ParseCase{"2.5", "0.5", true, 5, kNone},
        ParseCase{"15", "5", true, 3, kNone}, ParseCase{"1.5e1", "5", true, 3, kNone},
        ParseCase{"3.77", "0.02", false, 0, RejectReason::kOffTick},
        ParseCase{"2.3", "0.5", false, 0, RejectReason::kOffTick},
        ParseCase{"12", "5", false, 0, RejectReason::kOffTick},
        ParseCase{"150.255", "0.01", false, 0, RejectReason::kTooManyDecimals},
        ParseCase{"3.771", "0.02", false, 0, RejectReason::kTooManyDecimals},
        ParseCase{"2.25", "0.5", false, 0, RejectReason::kTooManyDecimals},
        ParseCase{"2.5", "5", false, 0, RejectReason::kTooManyDecimals},
        ParseCase{"1e-400", "0.01", false, 0, RejectReason::kTooManyDecimals},
        ParseCase{"0", "0.01", false, 0, RejectReason::kZero},
        ParseCase{"0.00", "0.01", false, 0, RejectReason::kZero},
        ParseCase{"-0", "0.01", false, 0, RejectReason::kZero},
        ParseCase{"0e5", "0.01", false, 0, RejectReason::kZero},
        ParseCase{"-1", "0.01", false, 0, RejectReason::kNegative},
        ParseCase{"-1.5", "0.01", false, 0, RejectReason::kNegative},
        ParseCase{"92233720368547758.08", "0.01", false, 0, RejectReason::kOverflow},
        ParseCase{"1e400", "0.01", false, 0, RejectReason::kOverflow},
        ParseCase{"123456789012345678901234567890", "0.01", false, 0, RejectReason::kOverflow},
        ParseCase{"1234567890123456789012345678901234567890123456789", "1", false, 0,
                  RejectReason::kOverflow},
        ParseCase{"", "0.01", false, 0, RejectReason::kInvalidNumber},
        ParseCase{"abc", "0.01", false, 0, RejectReason::kInvalidNumber},
        ParseCase{"1.", "0.01", false, 0, RejectReason::kInvalidNumber},
        ParseCase{".5", "0.01", false, 0, RejectReason::kInvalidNumber},
        ParseCase{"01", "0.01", false, 0, RejectReason::kInvalidNumber},
        ParseCase{"+1", "0.01", false, 0, RejectReason::kInvalidNumber},
        ParseCase{"1e", "0.01", false, 0, RejectReason::kInvalidNumber},
        ParseCase{"1e+", "0.01", false, 0, RejectReason::kInvalidNumber},
        ParseCase{" 1", "0.01", false, 0, RejectReason::kInvalidNumber},
        ParseCase{"1 ", "0.01", false, 0, RejectReason::kInvalidNumber},
        ParseCase{"0x10", "0.01", false, 0, RejectReason::kInvalidNumber},
        ParseCase{"1,5", "0.01", false, 0, RejectReason::kInvalidNumber},
        ParseCase{"-", "0.01", false, 0, RejectReason::kInvalidNumber},
        ParseCase{"NaN", "0.01", false, 0, RejectReason::kInvalidNumber}));

class ParseQuantityTable : public ::testing::TestWithParam<ParseCase> {};

TEST_P(ParseQuantityTable, ParsesOrRejectsWithReason) {
  const ParseCase& c = GetParam();
  const Result<Quantity> quantity = parse_quantity(c.text, make_instrument("0.01", c.increment));

  ASSERT_EQ(quantity.ok(), c.ok) << (quantity.ok() ? std::string("parsed")
                                                   : std::string(to_string(quantity.reason())));
  if (c.ok) {
    EXPECT_EQ(quantity.value().lots, c.units);
  } else {
    EXPECT_EQ(to_string(quantity.reason()), to_string(c.reason));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Decimal, ParseQuantityTable,
    ::testing::Values(ParseCase{"10", "1", true, 10, kNone},
                      ParseCase{"5.00", "0.01", true, 500, kNone},
                      ParseCase{"1e3", "1", true, 1000, kNone},
                      ParseCase{"10", "5", true, 2, kNone},
                      ParseCase{"7", "5", false, 0, RejectReason::kOffLot},
                      ParseCase{"1.5", "1", false, 0, RejectReason::kTooManyDecimals},
                      ParseCase{"0", "1", false, 0, RejectReason::kZero},
                      ParseCase{"-3", "1", false, 0, RejectReason::kNegative},
                      ParseCase{"9223372036854775808", "1", false, 0, RejectReason::kOverflow},
                      ParseCase{"ten", "1", false, 0, RejectReason::kInvalidNumber}));

struct IncrementCase {
  std::string_view text;
  bool ok;
  Decimal expected;
};

class ParseIncrementTable : public ::testing::TestWithParam<IncrementCase> {};

TEST_P(ParseIncrementTable, ParsesTickAndLotSizes) {
  const IncrementCase& c = GetParam();
  const Result<Decimal> decimal = Decimal::parse(c.text);

  ASSERT_EQ(decimal.ok(), c.ok) << c.text;
  if (c.ok) {
    EXPECT_EQ(decimal.value().mantissa, c.expected.mantissa) << c.text;
    EXPECT_EQ(decimal.value().scale, c.expected.scale) << c.text;
  } else {
    EXPECT_EQ(decimal.reason(), RejectReason::kInvalidIncrement) << c.text;
  }
}

INSTANTIATE_TEST_SUITE_P(
    Decimal, ParseIncrementTable,
    ::testing::Values(IncrementCase{"0.01", true, {1, 2}}, IncrementCase{"5", true, {5, 0}},
                      IncrementCase{"0.50", true, {5, 1}}, IncrementCase{"1e3", true, {1000, 0}},
                      IncrementCase{"0.000000001", true, {1, 9}}, IncrementCase{"0", false, {}},
                      IncrementCase{"-1", false, {}}, IncrementCase{"1e-10", false, {}},
                      IncrementCase{"10000000000", false, {}}, IncrementCase{"x", false, {}}));

TEST(Decimal, FormatsPricesWithTickDecimals) {
  EXPECT_EQ(format_price(Price{15025}, make_instrument("0.01")), "150.25");
  EXPECT_EQ(format_price(Price{10000}, make_instrument("0.01")), "100.00");
  EXPECT_EQ(format_price(Price{1}, make_instrument("0.01")), "0.01");
  EXPECT_EQ(format_price(Price{188}, make_instrument("0.02")), "3.76");
  EXPECT_EQ(format_price(Price{5}, make_instrument("0.5")), "2.5");
  EXPECT_EQ(format_price(Price{3}, make_instrument("5")), "15");
}

TEST(Decimal, FormatThenParseRoundTrips) {
  const Instrument instrument = make_instrument("0.02", "0.001");
  for (const std::int64_t ticks : {1LL, 7LL, 188LL, 123456789LL, 4611686018427387903LL}) {
    const Result<Price> parsed = parse_price(format_price(Price{ticks}, instrument), instrument);
    ASSERT_TRUE(parsed.ok()) << ticks;
    EXPECT_EQ(parsed.value().ticks, ticks);
  }
  const Result<Quantity> lots =
      parse_quantity(format_quantity(Quantity{12345}, instrument), instrument);
  ASSERT_TRUE(lots.ok());
  EXPECT_EQ(lots.value().lots, 12345);
}

TEST(Decimal, NotionalOfPriceAndQuantityIsExact) {
  const Instrument instrument = make_instrument("0.01", "0.01");
  const Result<Price> price = parse_price("100.00", instrument);
  const Result<Quantity> quantity = parse_quantity("5.00", instrument);
  ASSERT_TRUE(price.ok());
  ASSERT_TRUE(quantity.ok());

  const Result<Notional> notional = compute_notional(price.value(), quantity.value());

  ASSERT_TRUE(notional.ok());
  EXPECT_EQ(notional.value().units, 5'000'000);
  EXPECT_EQ(format_notional(notional.value(), instrument), "500.0000");
}

TEST(Decimal, NotionalBeyondInt64IsRejected) {
  const Result<Notional> notional = compute_notional(Price{1LL << 32}, Quantity{1LL << 31});

  ASSERT_FALSE(notional.ok());
  EXPECT_EQ(to_string(notional.reason()), "notional_overflow");
  EXPECT_TRUE(compute_notional(Price{1LL << 31}, Quantity{(1LL << 31) - 1}).ok());
}

TEST(Decimal, FormatsNegativeNotional) {
  EXPECT_EQ(format_notional(Notional{-12345}, make_instrument("0.01", "0.01")), "-1.2345");
  EXPECT_EQ(format_notional(Notional{-5}, make_instrument("0.01", "1")), "-0.05");
  EXPECT_EQ(format_notional(Notional{std::numeric_limits<std::int64_t>::min()},
                            make_instrument("0.01", "1")),
            "-92233720368547758.08");
  EXPECT_EQ(format_notional(Notional{std::numeric_limits<std::int64_t>::max()},
                            make_instrument("0.000000001", "0.000000001")),
            "9.223372036854775807");
}

TEST(Decimal, FormatsAveragePriceRounded) {
  const Instrument instrument = make_instrument("0.01");
  // Fills of 1 at 100.00 and 1 at 100.01: 20001 tick-lots over 2 lots.
  EXPECT_EQ(format_average_price(Notional{20001}, Quantity{2}, instrument), "100.005");
  EXPECT_EQ(format_average_price(Notional{20000}, Quantity{2}, instrument), "100.00");
  // 10000/3 ticks = 33.333333.. rounds to 4 extra decimals.
  EXPECT_EQ(format_average_price(Notional{10000}, Quantity{3}, instrument), "33.333333");
  EXPECT_EQ(format_average_price(Notional{20000}, Quantity{3}, instrument), "66.666667");
  EXPECT_EQ(format_average_price(Notional{-20000}, Quantity{2}, instrument), "-100.00");
  EXPECT_EQ(format_average_price(Notional{0}, Quantity{0}, instrument), "0.00");
}

TEST(Decimal, RejectReasonCodesAreSnakeCase) {
  EXPECT_EQ(to_string(RejectReason::kOffTick), "off_tick");
  EXPECT_EQ(to_string(RejectReason::kDuplicateOrderId), "duplicate_order_id");
  EXPECT_EQ(to_string(RejectReason::kUnknownOrder), "unknown_order");
  EXPECT_EQ(to_string(RejectReason::kWouldTakeLiquidity), "would_take_liquidity");
  EXPECT_EQ(to_string(RejectReason::kPriceBand), "price_band");
  EXPECT_EQ(to_string(RejectReason::kFokNotFillable), "fok_not_fillable");
  EXPECT_EQ(to_string(RejectReason::kNotionalOverflow), "notional_overflow");
}

}  // namespace
}  // namespace hft::engine
