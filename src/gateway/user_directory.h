// UserDirectory: the registered accounts (name, email, password hash) and, per account, the ids
// of its orders in creation order.
//
// Thread-safety: every member function may be called from any thread. A shared mutex guards
// the name index and the account table; each account's order list has its own mutex, so
// appending an order id never blocks other users. Accounts are never removed except by
// release_reservation(), and live as long as the directory.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engine/types.h"

namespace hft::gateway {

struct Account {
  engine::UserId id;
  std::string username;
  std::string email;
  std::string password_hash;

  mutable std::mutex orders_mutex;
  mutable std::vector<engine::OrderId> order_ids;  // guarded by orders_mutex
};

class UserDirectory {
 public:
  // Reserves `username` and gives it the next user id. Returns nullopt when the name is taken.
  [[nodiscard]] std::optional<engine::UserId> reserve(std::string_view username,
                                                      std::string_view email,
                                                      std::string password_hash);

  // Adds an account with a known id (journal replay). Returns false when the name or the id is
  // already taken, which means the journal is inconsistent.
  [[nodiscard]] bool restore(engine::UserId id, std::string_view username, std::string_view email,
                             std::string password_hash);

  // Removes an account created by reserve() whose registration could not be queued.
  void release_reservation(engine::UserId id);

  [[nodiscard]] bool name_taken(std::string_view username) const;
  // The account with this id; nullptr when there is none. The pointer stays valid.
  [[nodiscard]] const Account* find(engine::UserId id) const;
  [[nodiscard]] const Account* find_by_name(std::string_view username) const;

  void add_order(engine::UserId user, engine::OrderId order);
  // Adds `count` consecutive ids starting at `first` under one lock.
  void add_orders(engine::UserId user, engine::OrderId first, std::size_t count);
  // Calls `visit(id)` for the user's order ids, newest first, until it returns false. Holds the
  // account's order list lock meanwhile, so `visit` must not add orders.
  template <typename Visit>
  void for_each_recent_order(engine::UserId user, Visit&& visit) const {
    const Account* account = find(user);
    if (account == nullptr) return;
    std::lock_guard lock(account->orders_mutex);
    for (auto it = account->order_ids.rbegin(); it != account->order_ids.rend(); ++it) {
      if (!visit(*it)) return;
    }
  }

  [[nodiscard]] std::size_t size() const;

 private:
  [[nodiscard]] Account* find_locked(engine::UserId id) const;

  mutable std::shared_mutex mutex_;
  std::unordered_map<std::string, std::uint64_t> ids_by_name_;
  // Index = user id - 1; a released reservation leaves nullptr.
  std::vector<std::unique_ptr<Account>> accounts_;
};

}  // namespace hft::gateway
