#include "engine/order_books.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace hft::engine {
namespace {

[[noreturn]] void internal_error(const char* what) {
  std::fprintf(stderr, "hft engine: internal error: %s\n", what);
  std::abort();
}

bool rank_less(const LevelSlot& slot, std::int64_t rank) { return slot.rank < rank; }

}  // namespace

OrderBooks::OrderBooks(std::size_t expected_orders) {
  nodes_.reserve(expected_orders);
  details_.reserve(expected_orders);
  levels_.reserve(1024);
}

std::uint32_t OrderBooks::add_book(const Instrument& instrument) {
  const auto index = static_cast<std::uint32_t>(books_.size());
  auto book = std::make_unique<Book>();
  book->instrument = instrument;
  book->id = SymbolId{index};
  books_.push_back(std::move(book));
  return index;
}

std::uint32_t OrderBooks::allocate_node() {
  if (!free_nodes_.empty()) {
    const std::uint32_t index = free_nodes_.back();
    free_nodes_.pop_back();
    return index;
  }
  if (nodes_.size() >= kNil) internal_error("order pool exhausted");
  nodes_.emplace_back();
  details_.emplace_back();
  return static_cast<std::uint32_t>(nodes_.size() - 1);
}

void OrderBooks::free_node(std::uint32_t index) {
  // `unlink` already reset the links, and the next owner sets every other field before use.
  if (nodes_[index].level != kNil) internal_error("free of an order that is still in a level");
  free_nodes_.push_back(index);
}

void OrderBooks::link_tail(std::uint32_t book_index, Side side, std::uint32_t node_index) {
  OrderNode& node = nodes_[node_index];
  const std::uint32_t level_index = find_or_add_level(book_index, side, node.price);
  Level& level = levels_[level_index];

  node.level = level_index;
  node.prev = level.tail;
  node.next = kNil;
  if (level.tail == kNil) {
    level.head = node_index;
  } else {
    nodes_[level.tail].next = node_index;
  }
  level.tail = node_index;
  ++level.count;
  level.total.lots += node.remaining.lots;
}

void OrderBooks::unlink(std::uint32_t node_index) {
  OrderNode& node = nodes_[node_index];
  if (node.level == kNil) internal_error("unlink of an order that is in no level");
  Level& level = levels_[node.level];

  if (node.prev == kNil) {
    level.head = node.next;
  } else {
    nodes_[node.prev].next = node.next;
  }
  if (node.next == kNil) {
    level.tail = node.prev;
  } else {
    nodes_[node.next].prev = node.prev;
  }
  --level.count;
  level.total.lots -= node.remaining.lots;

  const std::uint32_t level_index = node.level;
  node.prev = kNil;
  node.next = kNil;
  node.level = kNil;
  if (level.count == 0) remove_level(level_index);
}

void OrderBooks::move_to_tail(std::uint32_t node_index) {
  OrderNode& node = nodes_[node_index];
  Level& level = levels_[node.level];
  if (level.tail == node_index) return;

  // Detach from the list (the level keeps its count and total), then append.
  if (node.prev == kNil) {
    level.head = node.next;
  } else {
    nodes_[node.prev].next = node.next;
  }
  nodes_[node.next].prev = node.prev;
  node.prev = level.tail;
  node.next = kNil;
  nodes_[level.tail].next = node_index;
  level.tail = node_index;
}

std::uint32_t* OrderBooks::window_entry(Book& book, Side side, Price price) {
  std::vector<std::uint32_t>& window = side == Side::kBuy ? book.bid_window : book.ask_window;
  const auto offset = static_cast<std::uint64_t>(price.ticks - book.window_base_ticks);
  if (window.empty() || offset >= static_cast<std::uint64_t>(kLevelWindowTicks)) return nullptr;
  return &window[offset];
}

std::uint32_t OrderBooks::find_or_add_level(std::uint32_t book_index, Side side, Price price) {
  Book& book = *books_[book_index];
  if (book.bid_window.empty()) {
    book.window_base_ticks = std::max<std::int64_t>(0, price.ticks - kLevelWindowTicks / 2);
    book.bid_window.assign(kLevelWindowTicks, kNil);
    book.ask_window.assign(kLevelWindowTicks, kNil);
  }
  std::uint32_t* const entry = window_entry(book, side, price);
  if (entry != nullptr && *entry != kNil) return *entry;

  std::vector<LevelSlot>& slots = book.levels(side);
  const std::int64_t rank = level_rank(side, price);

  // Most orders arrive at or near the best price, which is at the back.
  auto position = slots.end();
  if (slots.empty() || slots.back().rank < rank) {
    position = slots.end();
  } else if (slots.back().rank == rank) {
    return slots.back().level;
  } else {
    position = std::lower_bound(slots.begin(), slots.end(), rank, rank_less);
    if (position->rank == rank) return position->level;
  }

  std::uint32_t level_index = kNil;
  if (!free_levels_.empty()) {
    level_index = free_levels_.back();
    free_levels_.pop_back();
  } else {
    level_index = static_cast<std::uint32_t>(levels_.size());
    levels_.emplace_back();
  }
  Level& level = levels_[level_index];
  level = Level{};
  level.price = price;
  level.book = book_index;
  level.side = side;
  slots.insert(position, LevelSlot{rank, level_index});
  if (entry != nullptr) *entry = level_index;
  return level_index;
}

void OrderBooks::remove_level(std::uint32_t level_index) {
  const Level& level = levels_[level_index];
  Book& book = *books_[level.book];
  std::vector<LevelSlot>& slots = book.levels(level.side);
  const std::int64_t rank = level_rank(level.side, level.price);
  std::uint32_t* const entry = window_entry(book, level.side, level.price);
  if (entry != nullptr) *entry = kNil;

  if (!slots.empty() && slots.back().level == level_index) {
    slots.pop_back();
  } else {
    const auto position = std::lower_bound(slots.begin(), slots.end(), rank, rank_less);
    if (position == slots.end() || position->level != level_index) {
      internal_error("an empty level is missing from its book side");
    }
    slots.erase(position);
  }
  free_levels_.push_back(level_index);
}

}  // namespace hft::engine
