// Commands: what the I/O threads hand to the batch worker through the queue, and how the worker
// reports back when a command is durable.
//
// Plain values, moved from one thread to another through the queue; a Command has one owner at
// a time.
#pragma once

#include <boost/container/small_vector.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engine/types.h"
#include "gateway/order_request.h"

namespace hft::gateway {

enum class CommandKind : std::uint8_t { kNewOrders, kCancel, kRegisterUser };

struct NewOrderCommand {
  engine::OrderId id;
  std::int64_t created_unix_ns = 0;
  OrderRequest request;
};

struct Completion;

// Receives the outcome of a command whose reply waits for it (a connection in `--ack durable`
// mode). complete() is called on the target's own I/O thread.
class ReplyTarget {
 public:
  virtual ~ReplyTarget() = default;
  [[nodiscard]] virtual std::size_t thread_index() const = 0;
  // May take the prepared reply out of `completion`.
  virtual void complete(Completion& completion) = 0;
};

struct Completion {
  std::shared_ptr<ReplyTarget> target;
  std::uint64_t slot = 0;  // the target's reply slot
  // false: the journal failed, so the command may not be durable and must not be acknowledged.
  bool durable = false;
  // For kCancel: whether the engine cancelled the order, and why not.
  bool applied = true;
  engine::RejectReason reason = engine::RejectReason::kUnknownOrder;
  // A reply formatted before the command was queued, sent once it is durable.
  std::string prepared_reply;
};

struct Command {
  CommandKind kind = CommandKind::kNewOrders;
  engine::UserId user;
  // kNewOrders: one entry for POST /api/orders, up to the batch limit for the batch endpoint.
  boost::container::small_vector<NewOrderCommand, 1> orders;
  // kCancel
  engine::OrderId cancel_id;
  std::int64_t requested_unix_ns = 0;
  // kRegisterUser
  std::string username;
  std::string email;
  std::string password_hash;

  // steady_clock time when the I/O thread queued the command, for the durable-ack histogram.
  std::int64_t enqueued_steady_ns = 0;
  // Set when a reply waits for this command to become durable.
  std::shared_ptr<ReplyTarget> reply_target;
  std::uint64_t reply_slot = 0;
  std::string prepared_reply;
};

// Called by the journal's flusher thread with the completions of one commit.
using CompletionSink = std::function<void(std::vector<Completion>&&)>;

}  // namespace hft::gateway
