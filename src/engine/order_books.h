// OrderBooks: the storage behind every order book of one engine. Internal to the engine.
//
// Resting orders live in one pool of 64-byte nodes and price levels in another, both addressed by
// 32-bit indices and recycled through free lists, so nothing is allocated per order once the
// pools have grown. Each level keeps its orders in time priority in a doubly linked list through
// the nodes. Each side of a book keeps its levels in a vector sorted with the best price at the
// back, so the best level is read, removed or extended in O(1). Each side also maps prices in a
// window of kLevelWindowTicks ticks, placed around the book's first price, straight to their level,
// so an order at a price that has a level finds it in O(1). A price outside the window, or a new
// level, is found by binary search. Unlinking an order by node index is O(1) at any depth.
//
// Not thread-safe: owned by the engine and used on its thread. Book addresses are stable (each
// book is allocated once), so views of a book's symbol stay valid for the store's lifetime.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <vector>

#include "engine/decimal.h"
#include "engine/huge_page_allocator.h"
#include "engine/types.h"

namespace hft::engine {

inline constexpr std::uint32_t kNil = std::numeric_limits<std::uint32_t>::max();

// The fields matching reads and writes, packed into one cache line.
struct OrderNode {
  OrderId id;
  UserId user;
  Price price;
  Quantity remaining;
  Quantity filled;
  Notional filled_notional;
  std::uint32_t prev = kNil;
  std::uint32_t next = kNil;
  std::uint32_t level = kNil;     // kNil while the order is out of the book
  std::uint32_t position = kNil;  // the owner's PositionLedger index, set on the first fill
};
static_assert(sizeof(OrderNode) == 64, "an order node fills exactly one cache line");

// Fields of a resting order that matching does not touch, kept in a parallel array.
struct OrderDetails {
  std::int64_t timestamp_ns = 0;
  SelfTradePrevention self_trade_prevention = SelfTradePrevention::kCancelIncoming;
  bool post_only = false;
};

struct Level {
  Price price;
  Quantity total;  // open quantity of all its orders
  std::uint32_t head = kNil;
  std::uint32_t tail = kNil;
  std::uint32_t count = 0;
  std::uint32_t book = 0;
  Side side = Side::kBuy;
};

// A level in a side's sorted vector. `rank` is the price for bids and the negated price for asks,
// so that ascending rank puts the best price last on both sides.
struct LevelSlot {
  std::int64_t rank = 0;
  std::uint32_t level = kNil;
};

// Width of the per-side price window that maps a price straight to its level (16 KiB per side).
inline constexpr std::int64_t kLevelWindowTicks = 4096;

struct Book {
  Instrument instrument;
  SymbolId id;
  std::vector<LevelSlot> bids;
  std::vector<LevelSlot> asks;
  std::optional<Price> last_trade;
  // Level index by `price.ticks - window_base_ticks`, kNil where the side has no level. Both are
  // empty, and the base is unset, until the book's first level is created.
  // NOTE: the window never moves, so a book whose prices drift far from its first price falls back
  // to binary search for every level.
  std::int64_t window_base_ticks = 0;
  std::vector<std::uint32_t> bid_window;
  std::vector<std::uint32_t> ask_window;

  [[nodiscard]] std::vector<LevelSlot>& levels(Side side) {
    return side == Side::kBuy ? bids : asks;
  }
  [[nodiscard]] const std::vector<LevelSlot>& levels(Side side) const {
    return side == Side::kBuy ? bids : asks;
  }
};

[[nodiscard]] constexpr std::int64_t level_rank(Side side, Price price) {
  return side == Side::kBuy ? price.ticks : -price.ticks;
}

class OrderBooks {
 public:
  explicit OrderBooks(std::size_t expected_orders);

  // Adds an empty book and returns its index (equal to its SymbolId).
  std::uint32_t add_book(const Instrument& instrument);
  [[nodiscard]] Book& book(std::uint32_t index) { return *books_[index]; }
  [[nodiscard]] const Book& book(std::uint32_t index) const { return *books_[index]; }
  [[nodiscard]] std::size_t book_count() const { return books_.size(); }

  [[nodiscard]] OrderNode& node(std::uint32_t index) { return nodes_[index]; }
  [[nodiscard]] const OrderNode& node(std::uint32_t index) const { return nodes_[index]; }
  [[nodiscard]] OrderDetails& details(std::uint32_t index) { return details_[index]; }
  [[nodiscard]] const OrderDetails& details(std::uint32_t index) const { return details_[index]; }
  [[nodiscard]] Level& level(std::uint32_t index) { return levels_[index]; }
  [[nodiscard]] const Level& level(std::uint32_t index) const { return levels_[index]; }

  // Takes a node from the pool; it is in no level until `link_tail`. May move other nodes'
  // storage, so references to nodes do not survive this call.
  [[nodiscard]] std::uint32_t allocate_node();
  // Returns an unlinked node to the pool. Its fields keep stale values until the next owner,
  // which must set all of them, takes it from `allocate_node`.
  void free_node(std::uint32_t index);

  // Appends the node at the back of the level for its price on `side` of the book, creating the
  // level when needed, and adds its remaining quantity to the level.
  void link_tail(std::uint32_t book_index, Side side, std::uint32_t node_index);
  // Removes the node from its level (and the level from the book once it is empty). The node
  // itself stays allocated.
  void unlink(std::uint32_t node_index);
  // Moves the node to the back of its own level.
  void move_to_tail(std::uint32_t node_index);

 private:
  std::uint32_t find_or_add_level(std::uint32_t book_index, Side side, Price price);
  // The window entry of `price` on `side`, or nullptr when the price is outside the window.
  static std::uint32_t* window_entry(Book& book, Side side, Price price);
  void remove_level(std::uint32_t level_index);

  std::vector<std::unique_ptr<Book>> books_;
  std::vector<OrderNode, HugePageAllocator<OrderNode>> nodes_;
  std::vector<OrderDetails, HugePageAllocator<OrderDetails>> details_;
  std::vector<std::uint32_t> free_nodes_;
  std::vector<Level> levels_;
  std::vector<std::uint32_t> free_levels_;
};

}  // namespace hft::engine
