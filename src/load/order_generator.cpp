#include "load/order_generator.h"

#include <fmt/format.h>

#include <algorithm>

namespace hft::load {
namespace {

// Shares of the realistic profile, in parts per thousand.
constexpr std::uint64_t kCrossingPerMille = 200;
constexpr std::uint64_t kCancelPerMille = 50;
constexpr std::int64_t kMaxPassiveOffsetTicks = 50;
constexpr std::int64_t kMaxCrossingOffsetTicks = 5;
constexpr std::int64_t kMaxWalkStepTicks = 2;
constexpr std::int64_t kMinMiddleTicks = 100;  // 1.00
constexpr std::uint64_t kMaxQuantityLots = 500;
constexpr std::size_t kMaxCancelCandidates = 4096;
constexpr std::int64_t kTicksPerUnit = 100;  // the server's default tick of 0.01

struct StartPrice {
  std::string_view symbol;
  std::int64_t ticks;
};

constexpr StartPrice kStartPrices[] = {
    {"AAPL", 15000}, {"MSFT", 33000}, {"GOOGL", 14000}, {"AMZN", 13000},
    {"NVDA", 45000}, {"META", 30000}, {"TSLA", 25000},  {"JPM", 15000},
    {"V", 24000},    {"JNJ", 16000},  {"WMT", 16000},   {"PG", 15000},
    {"XOM", 11000},  {"UNH", 50000},  {"HD", 33000},    {"BAC", 3000},
};
constexpr std::int64_t kDefaultStartTicks = 10000;

std::int64_t start_ticks_for(std::string_view symbol) {
  for (const auto& entry : kStartPrices) {
    if (entry.symbol == symbol) return entry.ticks;
  }
  return kDefaultStartTicks;
}

// FNV-1a, so each client id gets its own reproducible stream for one seed.
std::uint64_t hash_id(std::string_view id) {
  std::uint64_t hash = 1469598103934665603ULL;
  for (char c : id) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 1099511628211ULL;
  }
  return hash;
}

void append_price(std::string& out, std::int64_t ticks) {
  fmt::format_to(std::back_inserter(out), "{}.{:02}", ticks / kTicksPerUnit, ticks % kTicksPerUnit);
}

}  // namespace

OrderGenerator::OrderGenerator(OrderProfile profile, std::vector<std::string> symbols,
                               std::uint64_t seed, std::string_view client_id)
    : profile_(profile), rng_(seed ^ hash_id(client_id)) {
  for (auto& name : symbols) {
    std::int64_t ticks = start_ticks_for(name);
    symbols_.push_back({std::move(name), ticks});
  }
  if (symbols_.empty()) symbols_.push_back({"AAPL", start_ticks_for("AAPL")});
  client_order_prefix_ = fmt::format("c{}-", client_id);
  acknowledged_ids_.reserve(kMaxCancelCandidates);
}

void OrderGenerator::append_order(std::string& out) {
  if (profile_ == OrderProfile::kSeed) {
    append_seed_order(out);
  } else {
    append_realistic_order(out);
  }
  ++sequence_;
}

void OrderGenerator::append_batch(std::string& out, int count) {
  out += "{\"orders\":[";
  for (int i = 0; i < count; ++i) {
    if (i > 0) out.push_back(',');
    append_order(out);
  }
  out += "]}";
}

void OrderGenerator::append_seed_order(std::string& out) {
  out +=
      sequence_ % 2 == 0
          ? R"({"symbol":"AAPL","side":"BUY","order_type":"MARKET","quantity":100,"price":150.00})"
          : R"({"symbol":"AAPL","side":"SELL","order_type":"MARKET","quantity":100,"price":150.00})";
}

void OrderGenerator::append_realistic_order(std::string& out) {
  SymbolState& symbol = symbols_[draw_below(symbols_.size())];

  // The middle moves by a small random walk, so resting orders get crossed over time.
  auto step = static_cast<std::int64_t>(draw_below(2 * kMaxWalkStepTicks + 1)) - kMaxWalkStepTicks;
  symbol.middle_ticks = std::max(kMinMiddleTicks, symbol.middle_ticks + step);

  bool buy = draw_below(2) == 0;
  bool crossing = draw_below(1000) < kCrossingPerMille;
  std::int64_t offset = crossing
                            ? static_cast<std::int64_t>(draw_below(kMaxCrossingOffsetTicks + 1))
                            : 1 + static_cast<std::int64_t>(draw_below(kMaxPassiveOffsetTicks));
  // A passive buy sits below the middle; a crossing buy reaches above it. Sells mirror that.
  bool above = buy == crossing;
  std::int64_t price = symbol.middle_ticks + (above ? offset : -offset);
  price = std::max<std::int64_t>(1, price);
  std::uint64_t quantity = 1 + draw_below(kMaxQuantityLots);

  out += R"({"symbol":")";
  out += symbol.name;
  out += buy ? R"(","side":"BUY","order_type":"LIMIT","quantity":)"
             : R"(","side":"SELL","order_type":"LIMIT","quantity":)";
  fmt::format_to(std::back_inserter(out), "{}", quantity);
  out += R"(,"price":)";
  append_price(out, price);
  out += R"(,"client_order_id":")";
  out += client_order_prefix_;
  fmt::format_to(std::back_inserter(out), "{}\"}}", sequence_);
}

bool OrderGenerator::draw_cancel() {
  if (profile_ != OrderProfile::kRealistic) return false;
  return draw_below(1000) < kCancelPerMille;
}

std::optional<std::uint64_t> OrderGenerator::take_cancel_id() {
  if (acknowledged_ids_.empty()) return std::nullopt;

  std::size_t index = draw_below(acknowledged_ids_.size());
  std::uint64_t id = acknowledged_ids_[index];
  acknowledged_ids_[index] = acknowledged_ids_.back();
  acknowledged_ids_.pop_back();
  return id;
}

void OrderGenerator::remember_acknowledged(std::uint64_t order_id) {
  if (acknowledged_ids_.size() < kMaxCancelCandidates) {
    acknowledged_ids_.push_back(order_id);
    return;
  }
  acknowledged_ids_[next_overwrite_] = order_id;
  next_overwrite_ = (next_overwrite_ + 1) % kMaxCancelCandidates;
}

}  // namespace hft::load
