// OrderStore: the state of every order the gateway has accepted, readable by the I/O threads for
// the GET endpoints while the batch worker updates it.
//
// Records live in chunks of 64Ki slots indexed by order id, so a lookup is two array reads and
// a record never moves. A chunk is allocated when the first id in its range is created; the
// chunk table is fixed (kMaxChunks), which bounds ids to kMaxOrders.
//
// Thread-safety: every member function may be called from any thread. Each record is guarded by
// one of kStripes mutexes (chosen by id), held only to copy or update that record.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <type_traits>

#include "engine/types.h"
#include "gateway/order_request.h"

namespace hft::gateway {

// The API's order status: the engine's states plus QUEUED (accepted by the gateway, not yet
// matched).
enum class ApiOrderStatus : std::uint8_t {
  kQueued,
  kOpen,
  kPartiallyFilled,
  kFilled,
  kCancelled,
  kRejected,
};

[[nodiscard]] std::string_view to_string(ApiOrderStatus status);
[[nodiscard]] ApiOrderStatus to_api_status(engine::OrderStatus status);
// Parses "QUEUED", "OPEN", ... (case-insensitive); nullopt for anything else.
[[nodiscard]] std::optional<ApiOrderStatus> parse_api_status(std::string_view text);
// True for FILLED, CANCELLED and REJECTED: the order can change no more.
[[nodiscard]] bool is_final(ApiOrderStatus status);

struct OrderRecord {
  engine::OrderId id;
  engine::UserId user;
  OrderRequest request;
  std::int64_t created_unix_ns = 0;
  ApiOrderStatus status = ApiOrderStatus::kQueued;
  engine::Quantity filled;
  engine::Notional filled_notional;
  // Set when status is kRejected.
  engine::RejectReason reject_reason = engine::RejectReason::kInvalidNumber;
  bool exists = false;
};

// OrderStore allocates chunks with calloc, so a record of zero bytes must be a default record.
static_assert(std::is_trivially_copyable_v<OrderRecord> &&
              std::is_trivially_destructible_v<OrderRecord>);
static_assert(static_cast<int>(ApiOrderStatus::kQueued) == 0 &&
              static_cast<int>(engine::Side::kBuy) == 0 &&
              static_cast<int>(engine::OrderType::kLimit) == 0);

class OrderStore {
 public:
  static constexpr std::size_t kChunkBits = 16;
  static constexpr std::size_t kChunkSize = std::size_t{1} << kChunkBits;
  static constexpr std::size_t kMaxChunks = 1 << 15;
  static constexpr std::uint64_t kMaxOrders = kChunkSize * kMaxChunks;
  static constexpr std::size_t kStripes = 256;

  OrderStore();
  ~OrderStore();
  OrderStore(const OrderStore&) = delete;
  OrderStore& operator=(const OrderStore&) = delete;

  // Stores a new record in state QUEUED. Returns false when the id is 0 or not below
  // kMaxOrders.
  [[nodiscard]] bool create(const OrderRecord& record);

  // Removes a record whose order never reached the queue (the queue was full).
  void erase(engine::OrderId id);

  // A copy of the record; nullopt when no order has the id.
  [[nodiscard]] std::optional<OrderRecord> find(engine::OrderId id) const;

  // Updates the state after an engine event. Unknown ids are ignored.
  void apply_update(engine::OrderId id, ApiOrderStatus status, engine::Quantity filled,
                    engine::Notional filled_notional);
  void mark_rejected(engine::OrderId id, engine::RejectReason reason);

  // Records that exist, for /metrics.
  [[nodiscard]] std::uint64_t size() const { return size_.load(std::memory_order_relaxed); }

 private:
  using Chunk = std::array<OrderRecord, kChunkSize>;

  // Maps a zero-filled chunk, with transparent huge pages where the kernel allows them.
  [[nodiscard]] static Chunk* map_chunk();

  [[nodiscard]] OrderRecord* slot(std::uint64_t id, bool allocate) const;
  [[nodiscard]] std::mutex& stripe(std::uint64_t id) const { return stripes_[id % kStripes]; }

  std::unique_ptr<std::atomic<Chunk*>[]> chunks_;
  mutable std::mutex allocate_mutex_;
  mutable std::array<std::mutex, kStripes> stripes_;
  std::atomic<std::uint64_t> size_{0};
};

}  // namespace hft::gateway
