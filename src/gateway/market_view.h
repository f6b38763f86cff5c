// MarketView: snapshots of book depth and user positions that the batch worker publishes after
// each batch, so the GET endpoints read them without touching the engine.
//
// Thread-safety: publish_* are called by the batch worker, the getters by any thread. A mutex
// guards each map only while a shared_ptr is swapped or copied; readers then use the immutable
// snapshot without a lock.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/engine.h"

namespace hft::gateway {

struct BookSnapshot {
  engine::BookDepth depth;
  std::uint64_t batch = 0;  // the worker batch after which it was taken
};

// A position with its symbol copied out of the engine.
struct PositionSnapshot {
  std::string symbol;
  engine::Position position;
};

class MarketView {
 public:
  // Levels per side kept in each book snapshot.
  static constexpr std::size_t kMaxDepthLevels = 100;

  void publish_book(std::string_view symbol, std::shared_ptr<const BookSnapshot> book);
  void publish_positions(engine::UserId user,
                         std::shared_ptr<const std::vector<PositionSnapshot>> positions);

  // nullptr when the symbol has had no order.
  [[nodiscard]] std::shared_ptr<const BookSnapshot> book(std::string_view symbol) const;
  // nullptr when the user has not traded.
  [[nodiscard]] std::shared_ptr<const std::vector<PositionSnapshot>> positions(
      engine::UserId user) const;

 private:
  mutable std::mutex books_mutex_;
  std::unordered_map<std::string, std::shared_ptr<const BookSnapshot>> books_;
  mutable std::mutex positions_mutex_;
  std::unordered_map<engine::UserId, std::shared_ptr<const std::vector<PositionSnapshot>>>
      positions_;
};

}  // namespace hft::gateway
