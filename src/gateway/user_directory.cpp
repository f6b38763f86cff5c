#include "gateway/user_directory.h"

namespace hft::gateway {

std::optional<engine::UserId> UserDirectory::reserve(std::string_view username,
                                                     std::string_view email,
                                                     std::string password_hash) {
  std::unique_lock lock(mutex_);
  auto [position, inserted] = ids_by_name_.try_emplace(std::string(username), 0);
  if (!inserted) return std::nullopt;

  auto account = std::make_unique<Account>();
  account->id = engine::UserId{accounts_.size() + 1};
  account->username = username;
  account->email = email;
  account->password_hash = std::move(password_hash);
  position->second = account->id.value;
  accounts_.push_back(std::move(account));
  return accounts_.back()->id;
}

bool UserDirectory::restore(engine::UserId id, std::string_view username, std::string_view email,
                            std::string password_hash) {
  std::unique_lock lock(mutex_);
  if (id.value == 0 || ids_by_name_.contains(std::string(username))) return false;
  if (id.value <= accounts_.size() && accounts_[id.value - 1] != nullptr) return false;

  if (accounts_.size() < id.value) accounts_.resize(id.value);
  auto account = std::make_unique<Account>();
  account->id = id;
  account->username = username;
  account->email = email;
  account->password_hash = std::move(password_hash);
  accounts_[id.value - 1] = std::move(account);
  ids_by_name_.emplace(std::string(username), id.value);
  return true;
}

void UserDirectory::release_reservation(engine::UserId id) {
  std::unique_lock lock(mutex_);
  Account* account = find_locked(id);
  if (account == nullptr) return;
  ids_by_name_.erase(account->username);
  // The slot stays so later ids keep their positions; a restart never sees this user.
  accounts_[id.value - 1].reset();
}

bool UserDirectory::name_taken(std::string_view username) const {
  std::shared_lock lock(mutex_);
  return ids_by_name_.contains(std::string(username));
}

Account* UserDirectory::find_locked(engine::UserId id) const {
  if (id.value == 0 || id.value > accounts_.size()) return nullptr;
  return accounts_[id.value - 1].get();
}

const Account* UserDirectory::find(engine::UserId id) const {
  std::shared_lock lock(mutex_);
  return find_locked(id);
}

const Account* UserDirectory::find_by_name(std::string_view username) const {
  std::shared_lock lock(mutex_);
  auto position = ids_by_name_.find(std::string(username));
  if (position == ids_by_name_.end()) return nullptr;
  return find_locked(engine::UserId{position->second});
}

void UserDirectory::add_order(engine::UserId user, engine::OrderId order) {
  const Account* account = find(user);
  if (account == nullptr) return;
  std::lock_guard lock(account->orders_mutex);
  account->order_ids.push_back(order);
}

void UserDirectory::add_orders(engine::UserId user, engine::OrderId first, std::size_t count) {
  const Account* account = find(user);
  if (account == nullptr) return;
  std::lock_guard lock(account->orders_mutex);
  for (std::size_t i = 0; i < count; ++i) {
    account->order_ids.push_back(engine::OrderId{first.value + i});
  }
}

std::size_t UserDirectory::size() const {
  std::shared_lock lock(mutex_);
  return ids_by_name_.size();
}

}  // namespace hft::gateway
