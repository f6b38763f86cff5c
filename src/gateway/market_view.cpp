#include "gateway/market_view.h"

namespace hft::gateway {

void MarketView::publish_book(std::string_view symbol, std::shared_ptr<const BookSnapshot> book) {
  std::lock_guard lock(books_mutex_);
  auto position = books_.find(std::string(symbol));
  if (position == books_.end()) {
    books_.emplace(std::string(symbol), std::move(book));
  } else {
    position->second.swap(book);
  }
  // `book` now holds the old snapshot; it is freed after the lock is released.
}

void MarketView::publish_positions(engine::UserId user,
                                   std::shared_ptr<const std::vector<PositionSnapshot>> positions) {
  std::lock_guard lock(positions_mutex_);
  positions_[user].swap(positions);
}

std::shared_ptr<const BookSnapshot> MarketView::book(std::string_view symbol) const {
  std::lock_guard lock(books_mutex_);
  auto position = books_.find(std::string(symbol));
  return position == books_.end() ? nullptr : position->second;
}

std::shared_ptr<const std::vector<PositionSnapshot>> MarketView::positions(
    engine::UserId user) const {
  std::lock_guard lock(positions_mutex_);
  auto position = positions_.find(user);
  return position == positions_.end() ? nullptr : position->second;
}

}  // namespace hft::gateway
