#include "gateway/order_store.h"

#include <sys/mman.h>

#include <new>

namespace hft::gateway {

std::string_view to_string(ApiOrderStatus status) {
  switch (status) {
    case ApiOrderStatus::kQueued:
      return "QUEUED";
    case ApiOrderStatus::kOpen:
      return "OPEN";
    case ApiOrderStatus::kPartiallyFilled:
      return "PARTIALLY_FILLED";
    case ApiOrderStatus::kFilled:
      return "FILLED";
    case ApiOrderStatus::kCancelled:
      return "CANCELLED";
    case ApiOrderStatus::kRejected:
      return "REJECTED";
  }
  return "UNKNOWN";
}

ApiOrderStatus to_api_status(engine::OrderStatus status) {
  switch (status) {
    case engine::OrderStatus::kOpen:
      return ApiOrderStatus::kOpen;
    case engine::OrderStatus::kPartiallyFilled:
      return ApiOrderStatus::kPartiallyFilled;
    case engine::OrderStatus::kFilled:
      return ApiOrderStatus::kFilled;
    case engine::OrderStatus::kCancelled:
      return ApiOrderStatus::kCancelled;
    case engine::OrderStatus::kRejected:
      return ApiOrderStatus::kRejected;
  }
  return ApiOrderStatus::kRejected;
}

std::optional<ApiOrderStatus> parse_api_status(std::string_view text) {
  for (auto status :
       {ApiOrderStatus::kQueued, ApiOrderStatus::kOpen, ApiOrderStatus::kPartiallyFilled,
        ApiOrderStatus::kFilled, ApiOrderStatus::kCancelled, ApiOrderStatus::kRejected}) {
    std::string_view name = to_string(status);
    if (name.size() != text.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < name.size() && same; ++i) {
      char c = text[i] >= 'a' && text[i] <= 'z' ? static_cast<char>(text[i] - 32) : text[i];
      same = c == name[i];
    }
    if (same) return status;
  }
  return std::nullopt;
}

bool is_final(ApiOrderStatus status) {
  return status == ApiOrderStatus::kFilled || status == ApiOrderStatus::kCancelled ||
         status == ApiOrderStatus::kRejected;
}

OrderStore::OrderStore() : chunks_(std::make_unique<std::atomic<Chunk*>[]>(kMaxChunks)) {
  for (std::size_t i = 0; i < kMaxChunks; ++i) chunks_[i].store(nullptr);
}

// Chunks are several megabytes, written in id order. With transparent huge pages (where the
// kernel allows them, `madvise` mode included) a new chunk takes one page fault per 2 MiB
// instead of one per 4 KiB as orders arrive.
OrderStore::Chunk* OrderStore::map_chunk() {
  void* memory =
      ::mmap(nullptr, sizeof(Chunk), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (memory == MAP_FAILED) throw std::bad_alloc();
  (void)::madvise(memory, sizeof(Chunk), MADV_HUGEPAGE);
  return static_cast<Chunk*>(memory);
}

OrderStore::~OrderStore() {
  for (std::size_t i = 0; i < kMaxChunks; ++i) {
    if (Chunk* chunk = chunks_[i].load()) ::munmap(chunk, sizeof(Chunk));
  }
}

OrderRecord* OrderStore::slot(std::uint64_t id, bool allocate) const {
  if (id == 0 || id >= kMaxOrders) return nullptr;
  std::size_t chunk_index = id >> kChunkBits;
  Chunk* chunk = chunks_[chunk_index].load(std::memory_order_acquire);
  if (chunk == nullptr) {
    if (!allocate) return nullptr;
    std::lock_guard lock(allocate_mutex_);
    chunk = chunks_[chunk_index].load(std::memory_order_acquire);
    if (chunk == nullptr) {
      // An all-zero OrderRecord is a default one (checked in the header), so fresh zero pages
      // from mmap need no constructor pass over 64Ki records.
      chunk = map_chunk();
      chunks_[chunk_index].store(chunk, std::memory_order_release);
    }
  }
  return &(*chunk)[id & (kChunkSize - 1)];
}

bool OrderStore::create(const OrderRecord& record) {
  OrderRecord* target = slot(record.id.value, true);
  if (target == nullptr) return false;

  std::lock_guard lock(stripe(record.id.value));
  bool was_new = !target->exists;
  *target = record;
  target->exists = true;
  if (was_new) size_.fetch_add(1, std::memory_order_relaxed);
  return true;
}

void OrderStore::erase(engine::OrderId id) {
  OrderRecord* target = slot(id.value, false);
  if (target == nullptr) return;

  std::lock_guard lock(stripe(id.value));
  if (!target->exists) return;
  target->exists = false;
  size_.fetch_sub(1, std::memory_order_relaxed);
}

std::optional<OrderRecord> OrderStore::find(engine::OrderId id) const {
  const OrderRecord* target = slot(id.value, false);
  if (target == nullptr) return std::nullopt;

  std::lock_guard lock(stripe(id.value));
  if (!target->exists) return std::nullopt;
  return *target;
}

void OrderStore::apply_update(engine::OrderId id, ApiOrderStatus status, engine::Quantity filled,
                              engine::Notional filled_notional) {
  OrderRecord* target = slot(id.value, false);
  if (target == nullptr) return;

  std::lock_guard lock(stripe(id.value));
  if (!target->exists) return;
  target->status = status;
  target->filled = filled;
  target->filled_notional = filled_notional;
}

void OrderStore::mark_rejected(engine::OrderId id, engine::RejectReason reason) {
  OrderRecord* target = slot(id.value, false);
  if (target == nullptr) return;

  std::lock_guard lock(stripe(id.value));
  if (!target->exists) return;
  target->status = ApiOrderStatus::kRejected;
  target->reject_reason = reason;
}

}  // namespace hft::gateway
