#include "gateway/http_server.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <cstring>
#include <ctime>

#include "gateway/api.h"
#include "gateway/http_response.h"

namespace hft::gateway {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr std::size_t kInitialInputBytes = 16 * 1024;
// A connection stops reading while this much output waits for a slow reader, or while this
// many replies wait for durability, and resumes when they drain.
constexpr std::size_t kMaxPendingOutputBytes = 4 * 1024 * 1024;
constexpr std::size_t kMaxPendingSlots = 4096;
constexpr auto kSweepInterval = std::chrono::milliseconds(250);
// How long a closing connection keeps reading and discarding after its last reply.
constexpr auto kLingerTime = std::chrono::seconds(2);

std::shared_ptr<spdlog::logger> http_log() {
  static std::shared_ptr<spdlog::logger> logger = spdlog::get("http");
  return logger ? logger : spdlog::default_logger();
}

}  // namespace

IoThread::IoThread(std::size_t index, const engine::EngineConfig& engine_config, JsonLimits limits)
    : orders_json(engine_config, limits), index_(index) {
  refresh_date();
}

void IoThread::refresh_date() {
  std::int64_t now_s = std::time(nullptr);
  if (now_s == date_second_) return;
  date_second_ = now_s;
  date_ = http_date(now_s);
}

Connection::Connection(tcp::socket socket, IoThread& thread, Api& api, const ServerConfig& config)
    : socket_(std::move(socket)),
      thread_(thread),
      api_(api),
      config_(config),
      parser_(HttpLimits{config.max_header_bytes, config.max_body_bytes}),
      input_(kInitialInputBytes) {}

Connection::~Connection() = default;

void Connection::start() {
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  thread_.connections_.insert(this);
  api_.metrics().connections_accepted.fetch_add(1, std::memory_order_relaxed);
  api_.metrics().connections_open.fetch_add(1, std::memory_order_relaxed);
  idle_deadline_ = std::chrono::steady_clock::now() + config_.idle_timeout;
  read_more();
}

void Connection::close() {
  if (closed_) return;
  closed_ = true;
  thread_.connections_.erase(this);
  api_.metrics().connections_open.fetch_sub(1, std::memory_order_relaxed);
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void Connection::linger_close() {
  if (closed_ || lingering_) return;
  lingering_ = true;
  linger_deadline_ = std::chrono::steady_clock::now() + kLingerTime;
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_send, ignored);
  discard_input();
}

void Connection::discard_input() {
  if (closed_ || reading_) return;
  reading_ = true;
  socket_.async_read_some(
      asio::buffer(input_.data(), input_.size()),
      [self = shared_from_this()](const boost::system::error_code& error, std::size_t) {
        self->reading_ = false;
        if (self->closed_) return;
        if (error) {
          self->close();
          return;
        }
        self->discard_input();
      });
}

bool Connection::idle() const {
  return slots_.empty() && output_.empty() && !writing_active_ && !parser_.started() &&
         input_begin_ == input_end_;
}

void Connection::read_more() {
  if (closed_ || reading_ || no_more_requests_) return;
  if (output_.size() > kMaxPendingOutputBytes || slots_.size() > kMaxPendingSlots) return;

  // Make room: move unparsed bytes to the front, and grow only for a header that does not fit.
  if (input_begin_ > 0) {
    std::memmove(input_.data(), input_.data() + input_begin_, input_end_ - input_begin_);
    input_end_ -= input_begin_;
    input_begin_ = 0;
  }
  if (input_end_ == input_.size()) input_.resize(input_.size() * 2);

  reading_ = true;
  socket_.async_read_some(
      asio::buffer(input_.data() + input_end_, input_.size() - input_end_),
      [self = shared_from_this()](const boost::system::error_code& error, std::size_t bytes) {
        self->on_read(error, bytes);
      });
}

void Connection::on_read(const boost::system::error_code& error, std::size_t bytes) {
  reading_ = false;
  if (closed_) return;
  if (error) {
    // The peer closed or reset the connection; replies still pending cannot be delivered.
    close();
    return;
  }
  if (lingering_) {
    discard_input();
    return;
  }
  input_end_ += bytes;
  process_input();
  flush();
  read_more();
}

void Connection::process_input() {
  using State = HttpRequestParser::State;

  while (input_begin_ < input_end_ && !no_more_requests_ && !closed_) {
    bool was_started = parser_.started();
    State state = State::kNeedMore;
    std::string_view available(input_.data() + input_begin_, input_end_ - input_begin_);
    input_begin_ += parser_.feed(available, state);
    if (!was_started && parser_.started()) {
      request_deadline_ = std::chrono::steady_clock::now() + config_.idle_timeout;
    }

    if (state == State::kFailed) {
      const HttpParseError& failure = parser_.error();
      api_.reject_unparsable(*this, failure);
      no_more_requests_ = true;
      return;
    }
    if (state == State::kHeaderDone) {
      if (parser_.request().expect_continue && !sent_continue_) {
        reply_buffer() += "HTTP/1.1 100 Continue\r\n\r\n";
        sent_continue_ = true;
      }
      return;
    }
    if (state == State::kNeedMore) return;

    // A complete request.
    HttpRequest& request = parser_.request();
    if (!request.keep_alive) no_more_requests_ = true;
    api_.handle(request, *this);
    parser_.reset();
    sent_continue_ = false;
    idle_deadline_ = std::chrono::steady_clock::now() + config_.idle_timeout;
  }
}

std::string& Connection::reply_buffer() {
  if (slots_.empty()) return output_;
  Slot& slot = slots_.emplace_back();
  slot.ready = true;
  return slot.text;
}

std::uint64_t Connection::defer_reply(DeferredReply reply) {
  Slot& slot = slots_.emplace_back();
  slot.reply = std::move(reply);
  return first_slot_ + slots_.size() - 1;
}

void Connection::resolve(std::uint64_t slot, std::string reply) {
  if (closed_ || slot < first_slot_ || slot - first_slot_ >= slots_.size()) return;
  Slot& target = slots_[slot - first_slot_];
  target.text = std::move(reply);
  target.ready = true;
  release_ready_slots();
  flush();
  read_more();
}

void Connection::post_resolve(std::uint64_t slot, std::string reply) {
  asio::post(thread_.io(), [self = shared_from_this(), slot, reply = std::move(reply)]() mutable {
    self->resolve(slot, std::move(reply));
  });
}

void Connection::complete(Completion& completion) {
  if (closed_) return;
  std::uint64_t slot = completion.slot;
  if (slot < first_slot_ || slot - first_slot_ >= slots_.size()) return;
  Slot& target = slots_[slot - first_slot_];
  resolve(slot, api_.finish_deferred(target.reply, completion, thread_));
}

void Connection::release_ready_slots() {
  while (!slots_.empty() && slots_.front().ready) {
    if (output_.empty()) {
      output_.swap(slots_.front().text);
    } else {
      output_ += slots_.front().text;
    }
    slots_.pop_front();
    ++first_slot_;
  }
}

void Connection::flush() {
  if (closed_ || writing_active_) return;
  if (output_.empty()) {
    if (no_more_requests_ && slots_.empty()) linger_close();
    return;
  }

  writing_.swap(output_);
  output_.clear();
  writing_active_ = true;
  write_started_ = std::chrono::steady_clock::now();
  asio::async_write(socket_, asio::buffer(writing_),
                    [self = shared_from_this()](const boost::system::error_code& error,
                                                std::size_t) { self->on_written(error); });
}

void Connection::on_written(const boost::system::error_code& error) {
  writing_active_ = false;
  if (closed_) return;
  if (error) {
    close();
    return;
  }
  writing_.clear();
  flush();
  read_more();
}

void Connection::check_deadline(std::chrono::steady_clock::time_point now) {
  if (lingering_) {
    if (now > linger_deadline_) close();
    return;
  }
  bool write_stuck = writing_active_ && now - write_started_ > config_.idle_timeout;
  bool request_stuck = parser_.started() && now > request_deadline_;
  bool idle_too_long = idle() && now > idle_deadline_;
  if (!write_stuck && !request_stuck && !idle_too_long) return;

  api_.metrics().connections_timed_out.fetch_add(1, std::memory_order_relaxed);
  if (request_stuck && !writing_active_ && slots_.empty()) {
    // A client that sends a request too slowly gets a 408 before the connection closes.
    append_error_reply(
        output_, 408, "request_timeout",
        fmt::format("request: not complete after {} s", config_.idle_timeout.count()),
        thread_.date(), ReplyOptions(false));
    no_more_requests_ = true;
    flush();
    return;
  }
  close();
}

HttpServer::HttpServer(const ServerConfig& config, Api& api,
                       const engine::EngineConfig& engine_config)
    : config_(config), api_(api) {
  JsonLimits limits{config.max_json_depth, config.max_batch_orders};
  std::size_t count = std::max<std::size_t>(1, config.io_threads);
  for (std::size_t i = 0; i < count; ++i) {
    threads_.push_back(std::make_unique<IoThread>(i, engine_config, limits));
  }
}

HttpServer::~HttpServer() { shutdown(std::chrono::milliseconds(0)); }

std::string HttpServer::bind() {
  boost::system::error_code error;
  auto address = asio::ip::make_address(config_.host, error);
  if (error) return fmt::format("--host {}: not an IP address ({})", config_.host, error.message());

  tcp::endpoint endpoint(address, config_.port);
  acceptor_ = std::make_unique<tcp::acceptor>(threads_[0]->io());
  if (acceptor_->open(endpoint.protocol(), error) ||
      acceptor_->set_option(tcp::acceptor::reuse_address(true), error) ||
      acceptor_->bind(endpoint, error) ||
      acceptor_->listen(asio::socket_base::max_listen_connections, error)) {
    return fmt::format("listen on {}:{} failed: {}", config_.host, config_.port, error.message());
  }
  port_ = acceptor_->local_endpoint().port();
  return {};
}

void HttpServer::start() {
  accept_next();
  for (auto& thread : threads_) {
    schedule_sweep(*thread);
    IoThread* raw = thread.get();
    thread->thread_ = std::thread([raw] {
      // No handler throws by design, so an exception here is a bug. It is logged and the thread
      // goes on serving its other connections.
      while (true) {
        try {
          raw->io_.run();
          return;
        } catch (const std::exception& error) {
          http_log()->error("I/O thread {}: unexpected exception: {}", raw->index_, error.what());
        }
      }
    });
  }
}

void HttpServer::accept_next() {
  if (!acceptor_ || !acceptor_->is_open()) return;
  IoThread& target = *threads_[next_thread_];
  next_thread_ = (next_thread_ + 1) % threads_.size();

  acceptor_->async_accept(
      target.io(), [this, &target](const boost::system::error_code& error, tcp::socket socket) {
        if (error == asio::error::operation_aborted) return;
        if (error) {
          // Out of file descriptors or a similar transient failure: log, pause briefly, go on.
          static std::atomic<std::uint64_t> failures{0};
          if (failures.fetch_add(1) % 1000 == 0) {
            http_log()->error("accept failed: {} (logged once per 1000)", error.message());
          }
          auto timer = std::make_shared<asio::steady_timer>(threads_[0]->io(),
                                                            std::chrono::milliseconds(10));
          timer->async_wait([this, timer](const boost::system::error_code&) { accept_next(); });
          return;
        }
        asio::post(target.io(), [this, &target, socket = std::move(socket)]() mutable {
          auto connection = std::make_shared<Connection>(std::move(socket), target, api_, config_);
          connection->start();
        });
        accept_next();
      });
}

void HttpServer::schedule_sweep(IoThread& thread) {
  if (!thread.sweep_timer_) {
    thread.sweep_timer_ = std::make_unique<asio::steady_timer>(thread.io());
  }
  thread.sweep_timer_->expires_after(kSweepInterval);
  thread.sweep_timer_->async_wait([this, &thread](const boost::system::error_code& error) {
    if (error) return;
    thread.refresh_date();
    auto now = std::chrono::steady_clock::now();
    bool draining = draining_.load();

    // check_deadline and close remove entries, so walk a copy.
    std::vector<std::shared_ptr<Connection>> connections;
    connections.reserve(thread.connections_.size());
    for (Connection* connection : thread.connections_) {
      connections.push_back(connection->shared_from_this());
    }
    for (auto& connection : connections) {
      if (draining && connection->idle()) {
        connection->close();
      } else {
        connection->check_deadline(now);
      }
    }
    schedule_sweep(thread);
  });
}

void HttpServer::stop_accepting() {
  if (!acceptor_) return;
  asio::post(threads_[0]->io(), [this] {
    boost::system::error_code ignored;
    if (acceptor_) acceptor_->close(ignored);
  });
}

void HttpServer::shutdown(std::chrono::milliseconds grace) {
  draining_ = true;
  auto deadline = std::chrono::steady_clock::now() + grace;
  bool any_running = false;
  for (auto& thread : threads_) any_running = any_running || thread->thread_.joinable();
  if (!any_running) return;

  // Let the sweeps close idle connections until none is left or the grace period ends.
  while (std::chrono::steady_clock::now() < deadline &&
         api_.metrics().connections_open.load() > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  for (auto& thread : threads_) {
    asio::post(thread->io(), [raw = thread.get()] {
      std::vector<std::shared_ptr<Connection>> connections;
      for (Connection* connection : raw->connections_) {
        connections.push_back(connection->shared_from_this());
      }
      for (auto& connection : connections) connection->close();
      if (raw->sweep_timer_) raw->sweep_timer_->cancel();
    });
  }
  for (auto& thread : threads_) {
    thread->io().stop();
    if (thread->thread_.joinable()) thread->thread_.join();
  }
}

void HttpServer::deliver(std::vector<Completion>&& completions) {
  // One post per I/O thread per commit, so a large group commit costs a few wake-ups.
  std::vector<std::vector<Completion>> per_thread(threads_.size());
  for (Completion& completion : completions) {
    per_thread[completion.target->thread_index()].push_back(std::move(completion));
  }
  for (std::size_t i = 0; i < per_thread.size(); ++i) {
    if (per_thread[i].empty()) continue;
    asio::post(threads_[i]->io(), [batch = std::move(per_thread[i])]() mutable {
      for (Completion& completion : batch) completion.target->complete(completion);
    });
  }
}

}  // namespace hft::gateway
