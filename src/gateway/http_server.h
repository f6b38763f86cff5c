// HttpServer: the HTTP/1.1 front end of `hft serve`. Keep-alive, pipelining, limits on header
// and body size, and idle and slow-client timeouts.
//
// Threads: `io_threads` threads, each running its own io_context. The acceptor lives on the
// first one and hands new connections out round-robin, so a connection stays on one thread for
// its life and needs no lock. Replies to the requests read from one socket read are formatted
// into one buffer and leave in one write. A reply that waits (a durable acknowledgement, a
// password hash) holds a slot, and later replies queue behind it so the order on the wire
// always matches the order of the requests.
//
// Ownership: the server owns its threads, contexts and connections; the Api is borrowed and
// must outlive it. bind(), start(), stop_accepting() and shutdown() are called by one
// controlling thread.
#pragma once

#include <simdjson.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include "gateway/commands.h"
#include "gateway/http_request_parser.h"
#include "gateway/order_json.h"
#include "gateway/server_config.h"
#include "gateway/token_cache.h"

namespace hft::gateway {

class Api;
class Connection;

// The state that the connections of one I/O thread share. Only that thread touches it.
class IoThread {
 public:
  IoThread(std::size_t index, const engine::EngineConfig& engine_config, JsonLimits limits);

  [[nodiscard]] std::size_t index() const { return index_; }
  [[nodiscard]] boost::asio::io_context& io() { return io_; }
  // The Date header value, refreshed once a second.
  [[nodiscard]] const std::string& date() const { return date_; }

  OrderJsonParser orders_json;
  simdjson::ondemand::parser json;
  TokenCache tokens;
  std::vector<BatchEntry> batch_entries;
  std::string scratch;

 private:
  friend class HttpServer;
  friend class Connection;

  void refresh_date();

  std::size_t index_;
  boost::asio::io_context io_{1};
  std::string date_;
  std::int64_t date_second_ = 0;
  std::unordered_set<Connection*> connections_;
  std::unique_ptr<boost::asio::steady_timer> sweep_timer_;
  std::thread thread_;
};

// The context a waiting reply slot needs to build its reply when the outcome arrives.
enum class DeferredKind : std::uint8_t { kPrepared, kCancel };

struct DeferredReply {
  static DeferredReply prepared_reply(bool keep_alive, std::string text) {
    DeferredReply reply;
    reply.keep_alive = keep_alive;
    reply.prepared = std::move(text);
    return reply;
  }

  DeferredKind kind = DeferredKind::kPrepared;
  bool keep_alive = true;
  std::uint64_t order_id = 0;
  std::uint64_t user_id = 0;
  // kPrepared: the reply to send once the command is durable.
  std::string prepared;
};

class Connection final : public ReplyTarget, public std::enable_shared_from_this<Connection> {
 public:
  Connection(boost::asio::ip::tcp::socket socket, IoThread& thread, Api& api,
             const ServerConfig& config);
  ~Connection() override;

  void start();
  // Closes the socket at once; pending replies are dropped.
  void close();

  // For the Api, on this connection's thread. Appends an immediate reply in request order.
  [[nodiscard]] std::string& reply_buffer();
  // Reserves a slot for a reply that comes later and returns its number.
  [[nodiscard]] std::uint64_t defer_reply(DeferredReply reply);
  // The number that the next defer_reply() returns.
  [[nodiscard]] std::uint64_t next_slot() const { return first_slot_ + slots_.size(); }
  // Fills a reserved slot; called on this connection's thread.
  void resolve(std::uint64_t slot, std::string reply);
  // Fills a reserved slot from any thread.
  void post_resolve(std::uint64_t slot, std::string reply);

  [[nodiscard]] std::size_t thread_index() const override { return thread_.index(); }
  void complete(Completion& completion) override;

  [[nodiscard]] IoThread& thread() { return thread_; }

 private:
  friend class HttpServer;

  struct Slot {
    bool ready = false;
    DeferredReply reply;
    std::string text;
  };

  void read_more();
  void on_read(const boost::system::error_code& error, std::size_t bytes);
  void process_input();
  void flush();
  void on_written(const boost::system::error_code& error);
  void release_ready_slots();
  [[nodiscard]] bool idle() const;
  void check_deadline(std::chrono::steady_clock::time_point now);
  // Ends a connection after its last reply: sends FIN, then reads and discards what the client
  // still sends until it closes or kLingerTime passes. Closing at once could make the kernel
  // respond to unread request bytes with a reset that destroys the reply before it is read.
  void linger_close();
  void discard_input();

  boost::asio::ip::tcp::socket socket_;
  IoThread& thread_;
  Api& api_;
  const ServerConfig& config_;
  HttpRequestParser parser_;

  std::vector<char> input_;
  std::size_t input_begin_ = 0;
  std::size_t input_end_ = 0;

  std::string output_;   // replies ready to write, in order
  std::string writing_;  // the buffer of the write in flight
  std::deque<Slot> slots_;
  std::uint64_t first_slot_ = 0;  // number of slots_.front()

  bool reading_ = false;
  bool lingering_ = false;
  std::chrono::steady_clock::time_point linger_deadline_;
  bool writing_active_ = false;
  bool closed_ = false;
  bool no_more_requests_ = false;  // the last request asked to close, or a parse error
  bool sent_continue_ = false;
  std::chrono::steady_clock::time_point idle_deadline_;
  std::chrono::steady_clock::time_point request_deadline_;
  std::chrono::steady_clock::time_point write_started_;
};

class HttpServer {
 public:
  HttpServer(const ServerConfig& config, Api& api, const engine::EngineConfig& engine_config);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Binds and listens; returns an error text (address and reason) on failure.
  [[nodiscard]] std::string bind();
  // Starts the I/O threads.
  void start();
  // Stops accepting new connections; existing connections keep being served.
  void stop_accepting();
  // Closes each connection once it has no reply pending, waiting at most `grace`, then stops
  // the threads and joins them.
  void shutdown(std::chrono::milliseconds grace);

  [[nodiscard]] std::uint16_t port() const { return port_; }
  // Delivers completions from the journal's flusher thread to the connections' threads.
  void deliver(std::vector<Completion>&& completions);
  [[nodiscard]] std::size_t thread_count() const { return threads_.size(); }
  [[nodiscard]] IoThread& thread(std::size_t index) { return *threads_[index]; }

 private:
  void accept_next();
  void schedule_sweep(IoThread& thread);

  const ServerConfig& config_;
  Api& api_;
  std::vector<std::unique_ptr<IoThread>> threads_;
  std::unique_ptr<boost::asio::ip::tcp::acceptor> acceptor_;
  std::size_t next_thread_ = 0;
  std::uint16_t port_ = 0;
  std::atomic<bool> draining_{false};
};

}  // namespace hft::gateway
