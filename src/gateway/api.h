// Api: the HTTP endpoints of `hft serve`: health, metrics, accounts, orders, positions,
// portfolio and books. It validates and authenticates each request, gives new orders their
// ids, queues commands for the batch worker and formats the JSON replies.
//
// Thread-safety: handle() and the other request functions run on the I/O thread of the
// connection they are given and use that thread's IoThread state. The shared stores they touch
// are thread-safe. Password hashing runs on the Api's own small thread pool.
// Ownership: borrows the stores, the queue, the worker and the metrics, which outlive it.
#pragma once

#include <atomic>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "gateway/batch_worker.h"
#include "gateway/http_request_parser.h"
#include "gateway/http_server.h"
#include "gateway/market_view.h"
#include "gateway/metrics.h"
#include "gateway/order_store.h"
#include "gateway/scale_out.h"
#include "gateway/server_config.h"
#include "gateway/token_signer.h"
#include "gateway/user_directory.h"

namespace hft::gateway {

class Api {
 public:
  Api(const ServerConfig& config, const engine::EngineConfig& engine_config, TokenSigner signer,
      CommandQueue& queue, OrderStore& orders, UserDirectory& users, MarketView& market,
      Metrics& metrics, BatchWorker& worker);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Sets the id the next order gets (after a journal replay). Call before serving.
  void set_next_order_id(std::uint64_t id) { next_order_id_ = id; }

  // Scaled-out roles, set before serving. A shared queue (gateway role) takes every command in
  // place of the in-process queue, its replies wait until Redis stored the command, and accounts
  // come from the shared directory. A status source adds the Redis state to /health and /metrics.
  void set_shared_queue(SharedQueue* queue) { shared_queue_ = queue; }
  void set_status_source(StatusSource* source) { status_source_ = source; }

  // Routes a complete request and appends its reply, or reserves a slot for a later one.
  void handle(HttpRequest& request, Connection& connection);
  // Replies to a request that could not be parsed (400, 413, 431); the connection then closes.
  void reject_unparsable(Connection& connection, const HttpParseError& error);
  // Builds the reply of a waiting slot once its command is durable (or failed).
  // Takes the prepared reply out of `reply` or `completion`.
  [[nodiscard]] std::string finish_deferred(DeferredReply& reply, Completion& completion,
                                            IoThread& thread);

  // Waits for running password hashes and stops the pool.
  void stop_password_pool();

  [[nodiscard]] Metrics& metrics() { return metrics_; }

 private:
  struct Caller {
    engine::UserId user;
  };

  void handle_health(const HttpRequest& request, Connection& connection);
  void handle_metrics(const HttpRequest& request, Connection& connection);
  void handle_register(const HttpRequest& request, Connection& connection);
  void handle_login(const HttpRequest& request, Connection& connection);
  void handle_new_order(const HttpRequest& request, Connection& connection, Caller caller);
  void handle_batch(const HttpRequest& request, Connection& connection, Caller caller);
  void handle_get_order(const HttpRequest& request, Connection& connection, Caller caller,
                        std::string_view id_text);
  void handle_list_orders(const HttpRequest& request, Connection& connection, Caller caller);
  void handle_cancel(const HttpRequest& request, Connection& connection, Caller caller,
                     std::string_view id_text);
  void handle_positions(const HttpRequest& request, Connection& connection, Caller caller);
  void handle_portfolio(const HttpRequest& request, Connection& connection, Caller caller);
  void handle_book(const HttpRequest& request, Connection& connection, std::string_view symbol);

  // Verifies the bearer token; on failure appends the 401 reply and returns false.
  [[nodiscard]] bool authenticate(const HttpRequest& request, Connection& connection,
                                  Caller& caller);
  // Reads an order id from the path; on failure appends 404 and returns nullopt.
  [[nodiscard]] std::optional<OrderRecord> find_owned_order(const HttpRequest& request,
                                                            Connection& connection, Caller caller,
                                                            std::string_view id_text);
  // Queues a command. New orders get consecutive ids under the queue lock, starting at
  // `first_order_id`, and enter the order store. Returns false after replying 503 when the
  // queue is full or closed or the journal has failed.
  [[nodiscard]] bool enqueue(Command&& command, std::size_t weight, const HttpRequest& request,
                             Connection& connection, std::uint64_t& first_order_id);
  // enqueue() for the gateway role: publishes through the shared queue.
  [[nodiscard]] bool enqueue_shared(Command&& command, std::size_t weight,
                                    const HttpRequest& request, Connection& connection,
                                    std::uint64_t& first_order_id);
  // finish_registration() for the gateway role.
  void finish_shared_registration(std::shared_ptr<Connection> connection, std::uint64_t slot,
                                  bool keep_alive, std::string username, std::string email,
                                  std::string password_hash, const std::string& date);
  void finish_registration(std::shared_ptr<Connection> connection, std::uint64_t slot,
                           bool keep_alive, std::string username, std::string email,
                           std::string password);
  void finish_login(std::shared_ptr<Connection> connection, std::uint64_t slot, bool keep_alive,
                    std::string username, std::string password);

  void reply(Connection& connection, const HttpRequest& request, int status, std::string_view body);
  void reply_error(Connection& connection, const HttpRequest& request, int status,
                   std::string_view error, std::string_view detail, int retry_after_s = 0);
  [[nodiscard]] std::string format_error_reply(int status, std::string_view error,
                                               std::string_view detail, bool keep_alive,
                                               const std::string& date,
                                               int retry_after_s = 0) const;
  [[nodiscard]] std::string token_reply_body(engine::UserId user) const;
  void append_order_json(std::string& out, const OrderRecord& record) const;
  // The same with the order's instrument already looked up.
  void append_order_json(std::string& out, const OrderRecord& record,
                         const engine::Instrument& instrument) const;

  const ServerConfig& config_;
  const engine::EngineConfig& engine_config_;
  TokenSigner signer_;
  CommandQueue& queue_;
  OrderStore& orders_;
  UserDirectory& users_;
  MarketView& market_;
  Metrics& metrics_;
  BatchWorker& worker_;
  const std::chrono::steady_clock::time_point started_;

  // Guarded by the queue's lock: assigned inside CommandQueue::try_push.
  std::uint64_t next_order_id_ = 1;
  std::unique_ptr<boost::asio::thread_pool> password_pool_;
  SharedQueue* shared_queue_ = nullptr;
  StatusSource* status_source_ = nullptr;
};

}  // namespace hft::gateway
