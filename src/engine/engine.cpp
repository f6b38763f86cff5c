#include "engine/engine.h"

#include <algorithm>
#include <limits>
#include <string>
#include <unordered_map>

#include "engine/flat_index_map.h"
#include "engine/order_books.h"
#include "engine/position_ledger.h"

namespace hft::engine {
namespace {

struct OrderIdHash {
  std::uint64_t operator()(OrderId id) const { return SequentialIdHash{}(id.value); }
};

struct StringHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const {
    return std::hash<std::string_view>{}(text);
  }
};

// An order while it takes liquidity: a new order, or a resting order whose amended price
// crosses. `limit_ticks` is the worst price it accepts.
struct Taker {
  OrderId id;
  UserId user;
  Side side = Side::kBuy;
  std::int64_t limit_ticks = 0;
  Quantity remaining;
  Quantity filled;
  Notional filled_notional;
  SelfTradePrevention self_trade_prevention = SelfTradePrevention::kCancelIncoming;
  std::uint32_t position = PositionLedger::kNone;
  // Set when matching stopped before the limit: the rest is cancelled for `stop_reason`.
  bool stopped = false;
  CancelReason stop_reason = CancelReason::kUnfilledRemainder;
};

bool price_acceptable(Side taker_side, Price level_price, std::int64_t limit_ticks) {
  return taker_side == Side::kBuy ? level_price.ticks <= limit_ticks
                                  : level_price.ticks >= limit_ticks;
}

OrderStatus status_of_open_order(Quantity filled) {
  return filled.lots > 0 ? OrderStatus::kPartiallyFilled : OrderStatus::kOpen;
}

}  // namespace

Instrument EngineConfig::instrument_for(const Symbol& symbol) const {
  for (const Instrument& instrument : instruments) {
    if (instrument.symbol == symbol) return instrument;
  }
  Instrument instrument = default_instrument;
  instrument.symbol = symbol;
  return instrument;
}

class Engine::Impl {
 public:
  explicit Impl(EngineConfig config)
      : config_(std::move(config)),
        books_(config_.expected_resting_orders),
        index_(config_.expected_resting_orders) {}

  Status submit(const NewOrder& order, EventSink& sink);
  Status cancel(OrderId id, UserId requester, EventSink& sink);
  Status amend(OrderId id, UserId requester, Price new_price, Quantity new_remaining,
               EventSink& sink);

  void prefetch(OrderId id) const {
    const std::uint32_t node_index = index_.find(id);
    if (node_index != kNil) __builtin_prefetch(&books_.node(node_index));
  }
  BookDepth depth(std::string_view symbol, std::size_t max_levels) const;
  std::optional<OrderView> order(OrderId id) const;
  std::optional<Position> position(UserId user, std::string_view symbol) const;
  std::vector<Position> positions(UserId user) const;
  std::optional<Instrument> instrument(std::string_view symbol) const;
  std::optional<Price> last_trade_price(std::string_view symbol) const;

  const EngineConfig& config() const { return config_; }
  EngineStats stats() const;

 private:
  Result<std::uint32_t> find_or_add_book(std::string_view symbol);
  // The book of `symbol` when it is the symbol looked up last, else kNil. It is inline and
  // compares bytes in a loop, because nearly every order repeats the previous order's symbol.
  std::uint32_t cached_book(std::string_view symbol) const {
    const std::string_view cached = cached_symbol_.view();
    if (cached_book_ == kNil || symbol.size() != cached.size()) return kNil;
    for (std::size_t i = 0; i < cached.size(); ++i) {
      if (symbol[i] != cached[i]) return kNil;
    }
    return cached_book_;
  }
  std::uint32_t find_book(std::string_view symbol) const;

  Status reject(OrderId id, UserId user, RequestKind request, RejectReason reason, EventSink& sink);
  bool outside_price_band(const Book& book, Price price) const;
  std::int64_t market_limit_ticks(const Book& book, Side side) const;
  bool crosses(const Book& book, Side side, std::int64_t limit_ticks) const;
  std::optional<RejectReason> check_fill_or_kill(const Book& book, const Taker& taker) const;

  void match(std::uint32_t book_index, Taker& taker, EventSink& sink);
  void fill(Book& book, std::uint32_t maker_index, Taker& taker, EventSink& sink);
  void remove_resting(std::uint32_t node_index, CancelReason reason, EventSink& sink);
  void rest(std::uint32_t book_index, const Taker& taker, const OrderDetails& details);

  Position make_position(const PositionState& state) const;

  EngineConfig config_;
  OrderBooks books_;
  // Resting order id -> node index in `books_`.
  FlatIndexMap<OrderId, OrderIdHash> index_;
  PositionLedger ledger_;
  std::unordered_map<std::string, std::uint32_t, StringHash, std::equal_to<>> symbols_;
  // The last symbol looked up, because consecutive orders usually share one.
  Symbol cached_symbol_;
  std::uint32_t cached_book_ = kNil;
  std::uint64_t trade_sequence_ = 0;
  EngineStats stats_;
};

// --- Symbols -----------------------------------------------------------------------------------

Result<std::uint32_t> Engine::Impl::find_or_add_book(std::string_view symbol) {
  if (cached_book(symbol) != kNil) return cached_book_;

  std::uint32_t index = find_book(symbol);
  if (index == kNil) {
    Result<Symbol> parsed = Symbol::parse(symbol);
    if (!parsed.ok()) return parsed.reason();
    if (books_.book_count() >= config_.max_symbols) return RejectReason::kTooManySymbols;
    index = books_.add_book(config_.instrument_for(parsed.value()));
    symbols_.emplace(std::string(symbol), index);
  }
  cached_symbol_ = books_.book(index).instrument.symbol;
  cached_book_ = index;
  return index;
}

std::uint32_t Engine::Impl::find_book(std::string_view symbol) const {
  const auto it = symbols_.find(symbol);
  return it == symbols_.end() ? kNil : it->second;
}

// --- Checks before matching --------------------------------------------------------------------

Status Engine::Impl::reject(OrderId id, UserId user, RequestKind request, RejectReason reason,
                            EventSink& sink) {
  ++stats_.orders_rejected;
  sink.on_rejected(OrderRejected{id, user, request, reason});
  return reason;
}

bool Engine::Impl::outside_price_band(const Book& book, Price price) const {
  const std::uint32_t band_percent = book.instrument.price_band_percent;
  if (band_percent == 0 || !book.last_trade) return false;

  const __int128 last = book.last_trade->ticks;
  const __int128 distance = price.ticks > last ? price.ticks - last : last - price.ticks;
  return distance * 100 > last * band_percent;
}

// The worst price a market order may reach: the band edge when a band and a last trade exist,
// otherwise any price.
std::int64_t Engine::Impl::market_limit_ticks(const Book& book, Side side) const {
  const std::uint32_t band_percent = book.instrument.price_band_percent;
  if (band_percent == 0 || !book.last_trade) {
    return side == Side::kBuy ? std::numeric_limits<std::int64_t>::max() : 0;
  }

  const __int128 last = book.last_trade->ticks;
  if (side == Side::kBuy) {
    const __int128 high = last * (100 + band_percent) / 100;
    return static_cast<std::int64_t>(
        std::min<__int128>(high, std::numeric_limits<std::int64_t>::max()));
  }
  if (band_percent >= 100) return 0;
  // Rounded up, so the edge never lies outside the band.
  return static_cast<std::int64_t>((last * (100 - band_percent) + 99) / 100);
}

bool Engine::Impl::crosses(const Book& book, Side side, std::int64_t limit_ticks) const {
  const std::vector<LevelSlot>& makers = book.levels(opposite(side));
  if (makers.empty()) return false;
  return price_acceptable(side, books_.level(makers.back().level).price, limit_ticks);
}

// Walks the orders a fill-or-kill order would meet, in priority order, the way `match` would.
// Returns nullopt when the order would fill completely.
std::optional<RejectReason> Engine::Impl::check_fill_or_kill(const Book& book,
                                                             const Taker& taker) const {
  const std::vector<LevelSlot>& makers = book.levels(opposite(taker.side));
  std::int64_t needed = taker.remaining.lots;
  __int128 notional = 0;

  for (auto slot = makers.rbegin(); slot != makers.rend(); ++slot) {
    const Level& level = books_.level(slot->level);
    if (!price_acceptable(taker.side, level.price, taker.limit_ticks)) break;

    for (std::uint32_t i = level.head; i != kNil; i = books_.node(i).next) {
      const OrderNode& maker = books_.node(i);
      if (maker.user == taker.user) {
        // Self-trade prevention either skips the resting order or stops the match here.
        if (taker.self_trade_prevention == SelfTradePrevention::kCancelResting) continue;
        return RejectReason::kFokNotFillable;
      }
      const std::int64_t lots = std::min(needed, maker.remaining.lots);
      notional += static_cast<__int128>(level.price.ticks) * lots;
      if (notional > std::numeric_limits<std::int64_t>::max()) {
        return RejectReason::kNotionalOverflow;
      }
      needed -= lots;
      if (needed == 0) return std::nullopt;
    }
  }
  return RejectReason::kFokNotFillable;
}

// --- Matching ----------------------------------------------------------------------------------

void Engine::Impl::match(std::uint32_t book_index, Taker& taker, EventSink& sink) {
  Book& book = books_.book(book_index);
  std::vector<LevelSlot>& makers = book.levels(opposite(taker.side));

  while (taker.remaining.lots > 0 && !makers.empty()) {
    const Level& level = books_.level(makers.back().level);
    if (!price_acceptable(taker.side, level.price, taker.limit_ticks)) return;

    // `level` must not be read after the first removal: the level is freed with its last order.
    std::uint32_t maker_index = level.head;
    while (taker.remaining.lots > 0 && maker_index != kNil) {
      const std::uint32_t next = books_.node(maker_index).next;
      if (books_.node(maker_index).user == taker.user) {
        const SelfTradePrevention mode = taker.self_trade_prevention;
        if (mode != SelfTradePrevention::kCancelIncoming) {
          remove_resting(maker_index, CancelReason::kSelfTradePrevention, sink);
        }
        if (mode != SelfTradePrevention::kCancelResting) {
          taker.stopped = true;
          taker.stop_reason = CancelReason::kSelfTradePrevention;
          return;
        }
      } else {
        fill(book, maker_index, taker, sink);
        if (taker.stopped) return;
      }
      maker_index = next;
    }
  }
}

void Engine::Impl::fill(Book& book, std::uint32_t maker_index, Taker& taker, EventSink& sink) {
  OrderNode& maker = books_.node(maker_index);
  const Price price = maker.price;
  const Quantity quantity{std::min(taker.remaining.lots, maker.remaining.lots)};
  // Fits: the maker's price x open quantity was checked when it was accepted or amended.
  const std::int64_t notional = price.ticks * quantity.lots;

  std::int64_t taker_notional = 0;
  if (__builtin_add_overflow(taker.filled_notional.units, notional, &taker_notional)) {
    taker.stopped = true;
    taker.stop_reason = CancelReason::kNotionalLimit;
    return;
  }

  // Both orders.
  taker.remaining.lots -= quantity.lots;
  taker.filled.lots += quantity.lots;
  taker.filled_notional.units = taker_notional;
  maker.remaining.lots -= quantity.lots;
  maker.filled.lots += quantity.lots;
  maker.filled_notional.units += notional;
  books_.level(maker.level).total.lots -= quantity.lots;
  book.last_trade = price;
  ++stats_.trades;

  // Both positions, looked up once per order and then cached.
  const Side maker_side = opposite(taker.side);
  if (maker.position == kNil) maker.position = ledger_.find_or_add(maker.user, book.id);
  if (taker.position == kNil) taker.position = ledger_.find_or_add(taker.user, book.id);
  apply_fill(ledger_.at(maker.position), maker_side, price, quantity);
  apply_fill(ledger_.at(taker.position), taker.side, price, quantity);

  sink.on_trade(Trade{++trade_sequence_, book.id, book.instrument.symbol.view(), price, quantity,
                      maker.id, taker.id, maker.user, taker.user, taker.side});

  OrderUpdate update{maker.id,     maker.user,      OrderStatus::kPartiallyFilled,
                     maker.filled, maker.remaining, maker.filled_notional};
  if (maker.remaining.lots == 0) {
    update.status = OrderStatus::kFilled;
    books_.unlink(maker_index);
    index_.erase(maker.id);
    books_.free_node(maker_index);
  }
  sink.on_update(update);
}

// Takes a resting order out of the book for good and reports it cancelled.
void Engine::Impl::remove_resting(std::uint32_t node_index, CancelReason reason, EventSink& sink) {
  const OrderNode node = books_.node(node_index);
  books_.unlink(node_index);
  index_.erase(node.id);
  books_.free_node(node_index);
  ++stats_.cancels;

  sink.on_cancelled(OrderCancelled{node.id, node.user, node.remaining, reason});
  sink.on_update(OrderUpdate{node.id, node.user, OrderStatus::kCancelled, node.filled, Quantity{0},
                             node.filled_notional});
}

void Engine::Impl::rest(std::uint32_t book_index, const Taker& taker, const OrderDetails& details) {
  const std::uint32_t node_index = books_.allocate_node();
  OrderNode& node = books_.node(node_index);
  node.id = taker.id;
  node.user = taker.user;
  node.price = Price{taker.limit_ticks};
  node.remaining = taker.remaining;
  node.filled = taker.filled;
  node.filled_notional = taker.filled_notional;
  node.position = taker.position;
  books_.details(node_index) = details;
  books_.link_tail(book_index, taker.side, node_index);
  index_.insert(taker.id, node_index);
}

// --- Requests ----------------------------------------------------------------------------------

Status Engine::Impl::submit(const NewOrder& order, EventSink& sink) {
  const bool priced = order.type != OrderType::kMarket;
  const auto rejected = [&](RejectReason reason) {
    return reject(order.id, order.user, RequestKind::kNew, reason, sink);
  };

  if (order.quantity.lots <= 0) return rejected(RejectReason::kInvalidQuantity);
  if (priced && order.price.ticks <= 0) return rejected(RejectReason::kInvalidPrice);
  if (order.post_only && order.type != OrderType::kLimit) {
    return rejected(RejectReason::kPostOnlyRequiresLimit);
  }
  if (index_.find(order.id) != kNil) return rejected(RejectReason::kDuplicateOrderId);
  std::int64_t notional = 0;
  if (priced && __builtin_mul_overflow(order.price.ticks, order.quantity.lots, &notional)) {
    return rejected(RejectReason::kNotionalOverflow);
  }

  std::uint32_t book_index = cached_book(order.symbol);
  if (book_index == kNil) {
    const Result<std::uint32_t> found = find_or_add_book(order.symbol);
    if (!found.ok()) return rejected(found.reason());
    book_index = found.value();
  }
  const Book& book = books_.book(book_index);

  Taker taker;
  taker.id = order.id;
  taker.user = order.user;
  taker.side = order.side;
  taker.limit_ticks = priced ? order.price.ticks : market_limit_ticks(book, order.side);
  taker.remaining = order.quantity;
  taker.self_trade_prevention = order.self_trade_prevention;

  // Rules that reject the order before it touches the book.
  if (priced && outside_price_band(book, order.price)) return rejected(RejectReason::kPriceBand);
  if (order.post_only && crosses(book, order.side, taker.limit_ticks)) {
    return rejected(RejectReason::kWouldTakeLiquidity);
  }
  if (order.type == OrderType::kFok) {
    const std::optional<RejectReason> reason = check_fill_or_kill(book, taker);
    if (reason) return rejected(*reason);
  }

  ++stats_.orders_accepted;
  sink.on_accepted(OrderAccepted{order.id, order.user, book.id, book.instrument.symbol.view(),
                                 order.side, order.type, priced ? order.price : Price{0},
                                 order.quantity});

  match(book_index, taker, sink);

  // The unfilled part rests (a limit order) or is cancelled (everything else).
  OrderUpdate update{order.id,     order.user,  OrderStatus::kFilled,
                     taker.filled, Quantity{0}, taker.filled_notional};
  if (taker.remaining.lots > 0) {
    if (taker.stopped || order.type != OrderType::kLimit) {
      const CancelReason reason =
          taker.stopped ? taker.stop_reason : CancelReason::kUnfilledRemainder;
      sink.on_cancelled(OrderCancelled{order.id, order.user, taker.remaining, reason});
      update.status = OrderStatus::kCancelled;
    } else {
      rest(book_index, taker,
           OrderDetails{order.timestamp_ns, order.self_trade_prevention, order.post_only});
      update.status = status_of_open_order(taker.filled);
      update.remaining = taker.remaining;
    }
  }
  sink.on_update(update);
  return Status::success();
}

Status Engine::Impl::cancel(OrderId id, UserId requester, EventSink& sink) {
  const std::uint32_t node_index = index_.find(id);
  if (node_index == kNil) {
    return reject(id, requester, RequestKind::kCancel, RejectReason::kUnknownOrder, sink);
  }
  if (books_.node(node_index).user != requester) {
    return reject(id, requester, RequestKind::kCancel, RejectReason::kNotOwner, sink);
  }

  remove_resting(node_index, CancelReason::kRequested, sink);
  return Status::success();
}

Status Engine::Impl::amend(OrderId id, UserId requester, Price new_price, Quantity new_remaining,
                           EventSink& sink) {
  const auto rejected = [&](RejectReason reason) {
    return reject(id, requester, RequestKind::kAmend, reason, sink);
  };

  const std::uint32_t node_index = index_.find(id);
  if (node_index == kNil) return rejected(RejectReason::kUnknownOrder);
  OrderNode& node = books_.node(node_index);
  if (node.user != requester) return rejected(RejectReason::kNotOwner);
  if (new_remaining.lots <= 0) return rejected(RejectReason::kInvalidQuantity);
  if (new_price.ticks <= 0) return rejected(RejectReason::kInvalidPrice);

  // Every later fill is at the new price, so this bounds the order's filled notional.
  const Result<Notional> open_notional = compute_notional(new_price, new_remaining);
  std::int64_t bound = 0;
  if (!open_notional.ok() ||
      __builtin_add_overflow(node.filled_notional.units, open_notional.value().units, &bound)) {
    return rejected(RejectReason::kNotionalOverflow);
  }

  const Level& level = books_.level(node.level);
  const std::uint32_t book_index = level.book;
  const Side side = level.side;
  const Book& book = books_.book(book_index);
  const OrderDetails details = books_.details(node_index);

  // Same price: the quantity changes in place; only a reduction keeps the queue position.
  if (new_price == node.price) {
    const bool priority_kept = new_remaining <= node.remaining;
    books_.level(node.level).total.lots += new_remaining.lots - node.remaining.lots;
    node.remaining = new_remaining;
    if (!priority_kept) books_.move_to_tail(node_index);
    ++stats_.amends;
    sink.on_amended(OrderAmended{id, node.user, new_price, new_remaining, priority_kept});
    sink.on_update(OrderUpdate{id, node.user, status_of_open_order(node.filled), node.filled,
                               node.remaining, node.filled_notional});
    return Status::success();
  }

  // New price: the order leaves its level and enters again at the back, trading first if it
  // crosses. It keeps its node and id index entry throughout.
  if (outside_price_band(book, new_price)) return rejected(RejectReason::kPriceBand);
  const bool crossing = crosses(book, side, new_price.ticks);
  if (crossing && details.post_only) return rejected(RejectReason::kWouldTakeLiquidity);

  books_.unlink(node_index);
  node.price = new_price;
  node.remaining = new_remaining;
  ++stats_.amends;
  sink.on_amended(OrderAmended{id, node.user, new_price, new_remaining, false});
  if (!crossing) {
    books_.link_tail(book_index, side, node_index);
    sink.on_update(OrderUpdate{id, node.user, status_of_open_order(node.filled), node.filled,
                               node.remaining, node.filled_notional});
    return Status::success();
  }

  Taker taker;
  taker.id = id;
  taker.user = node.user;
  taker.side = side;
  taker.limit_ticks = new_price.ticks;
  taker.remaining = new_remaining;
  taker.filled = node.filled;
  taker.filled_notional = node.filled_notional;
  taker.self_trade_prevention = details.self_trade_prevention;
  taker.position = node.position;
  match(book_index, taker, sink);

  OrderNode& amended = books_.node(node_index);
  amended.remaining = taker.remaining;
  amended.filled = taker.filled;
  amended.filled_notional = taker.filled_notional;
  amended.position = taker.position;
  OrderUpdate update{id,           taker.user,  OrderStatus::kFilled,
                     taker.filled, Quantity{0}, taker.filled_notional};
  if (taker.remaining.lots > 0 && !taker.stopped) {
    books_.link_tail(book_index, side, node_index);
    update.status = status_of_open_order(taker.filled);
    update.remaining = taker.remaining;
  } else {
    if (taker.remaining.lots > 0) {
      sink.on_cancelled(OrderCancelled{id, taker.user, taker.remaining, taker.stop_reason});
      update.status = OrderStatus::kCancelled;
    }
    index_.erase(id);
    books_.free_node(node_index);
  }
  sink.on_update(update);
  return Status::success();
}

// --- Queries -----------------------------------------------------------------------------------

BookDepth Engine::Impl::depth(std::string_view symbol, std::size_t max_levels) const {
  BookDepth out;
  const std::uint32_t book_index = find_book(symbol);
  if (book_index == kNil) return out;

  const Book& book = books_.book(book_index);
  const auto collect = [&](const std::vector<LevelSlot>& slots, std::vector<DepthLevel>& levels) {
    const std::size_t count = std::min(max_levels, slots.size());
    levels.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      const Level& level = books_.level(slots[slots.size() - 1 - i].level);
      levels.push_back(DepthLevel{level.price, level.total, level.count});
    }
  };
  collect(book.bids, out.bids);
  collect(book.asks, out.asks);
  return out;
}

std::optional<OrderView> Engine::Impl::order(OrderId id) const {
  const std::uint32_t node_index = index_.find(id);
  if (node_index == kNil) return std::nullopt;

  const OrderNode& node = books_.node(node_index);
  const OrderDetails& details = books_.details(node_index);
  const Level& level = books_.level(node.level);
  const Book& book = books_.book(level.book);

  OrderView view;
  view.id = node.id;
  view.user = node.user;
  view.symbol_id = book.id;
  view.symbol = book.instrument.symbol.view();
  view.side = level.side;
  view.price = node.price;
  view.quantity = node.filled + node.remaining;
  view.filled = node.filled;
  view.remaining = node.remaining;
  view.filled_notional = node.filled_notional;
  view.status = status_of_open_order(node.filled);
  view.post_only = details.post_only;
  view.timestamp_ns = details.timestamp_ns;
  return view;
}

Position Engine::Impl::make_position(const PositionState& state) const {
  Position out;
  out.symbol_id = state.symbol;
  out.symbol = books_.book(state.symbol.value).instrument.symbol.view();
  out.net = state.net;
  out.cash = state.cash;
  out.realized_pnl = state.realized_pnl;
  out.open_cost = state.open_cost;
  out.bought = state.bought;
  out.sold = state.sold;
  return out;
}

std::optional<Position> Engine::Impl::position(UserId user, std::string_view symbol) const {
  const std::uint32_t book_index = find_book(symbol);
  if (book_index == kNil) return std::nullopt;
  const std::uint32_t index = ledger_.find(user, SymbolId{book_index});
  if (index == PositionLedger::kNone) return std::nullopt;
  return make_position(ledger_.at(index));
}

std::vector<Position> Engine::Impl::positions(UserId user) const {
  std::vector<Position> out;
  for (const std::uint32_t index : ledger_.user_positions(user)) {
    out.push_back(make_position(ledger_.at(index)));
  }
  return out;
}

std::optional<Instrument> Engine::Impl::instrument(std::string_view symbol) const {
  const std::uint32_t book_index = find_book(symbol);
  if (book_index == kNil) return std::nullopt;
  return books_.book(book_index).instrument;
}

std::optional<Price> Engine::Impl::last_trade_price(std::string_view symbol) const {
  const std::uint32_t book_index = find_book(symbol);
  if (book_index == kNil) return std::nullopt;
  return books_.book(book_index).last_trade;
}

EngineStats Engine::Impl::stats() const {
  EngineStats out = stats_;
  out.resting_orders = index_.size();
  out.symbols = books_.book_count();
  return out;
}

// --- Engine ------------------------------------------------------------------------------------

Engine::Engine(EngineConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
Engine::~Engine() = default;
Engine::Engine(Engine&&) noexcept = default;
Engine& Engine::operator=(Engine&&) noexcept = default;

Status Engine::submit(const NewOrder& order, EventSink& sink) { return impl_->submit(order, sink); }

Status Engine::cancel(OrderId id, UserId requester, EventSink& sink) {
  return impl_->cancel(id, requester, sink);
}

Status Engine::amend(OrderId id, UserId requester, Price new_price, Quantity new_remaining,
                     EventSink& sink) {
  return impl_->amend(id, requester, new_price, new_remaining, sink);
}

void Engine::prefetch(OrderId id) const { impl_->prefetch(id); }

BookDepth Engine::depth(std::string_view symbol, std::size_t max_levels) const {
  return impl_->depth(symbol, max_levels);
}

std::optional<OrderView> Engine::order(OrderId id) const { return impl_->order(id); }

std::optional<Position> Engine::position(UserId user, std::string_view symbol) const {
  return impl_->position(user, symbol);
}

std::vector<Position> Engine::positions(UserId user) const { return impl_->positions(user); }

std::optional<Instrument> Engine::instrument(std::string_view symbol) const {
  return impl_->instrument(symbol);
}

std::optional<Price> Engine::last_trade_price(std::string_view symbol) const {
  return impl_->last_trade_price(symbol);
}

const EngineConfig& Engine::config() const { return impl_->config(); }

EngineStats Engine::stats() const { return impl_->stats(); }

}  // namespace hft::engine
