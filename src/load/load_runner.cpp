#include "load/load_runner.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <cmath>

#include "load/http_response.h"

namespace hft::load {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::size_t kInitialBufferSize = 16 * 1024;
// Replies larger than this are not read: no reply of the order API comes close.
constexpr std::size_t kMaxResponseSize = 64 * 1024 * 1024;
constexpr auto kReconnectDelay = std::chrono::milliseconds(100);
constexpr auto kMaxSweepInterval = std::chrono::milliseconds(100);
constexpr auto kLiveProgressInterval = std::chrono::seconds(1);
constexpr auto kLogProgressInterval = std::chrono::seconds(5);

enum class RequestKind { kOrder, kCancel };
enum class ConnectionState { kClosed, kConnecting, kIdle, kBusy };

struct Connection {
  explicit Connection(asio::io_context& io) : socket(io), retry_timer(io) {}

  tcp::socket socket;
  asio::steady_timer retry_timer;
  // Bumped on every close, so handlers of an earlier socket see they are stale and return.
  std::uint64_t generation = 0;
  ConnectionState state = ConnectionState::kClosed;
  std::size_t endpoint_index = 0;
  Clock::time_point connect_started;

  std::string request;
  std::string body;
  // Received bytes; the last simdjson::SIMDJSON_PADDING bytes are never filled, so a reply body
  // can be parsed in place.
  std::vector<char> buffer = std::vector<char>(kInitialBufferSize + simdjson::SIMDJSON_PADDING);
  std::size_t received = 0;
  ResponseHead head;

  RequestKind kind = RequestKind::kOrder;
  int orders = 0;
  Clock::time_point scheduled;
  Clock::time_point sent;

  [[nodiscard]] std::size_t usable_size() const {
    return buffer.size() - simdjson::SIMDJSON_PADDING;
  }
};

std::int64_t to_micros(Clock::duration duration) {
  return std::chrono::duration_cast<std::chrono::microseconds>(duration).count();
}

std::int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

struct BatchOutcome {
  std::uint64_t accepted = 0;
  std::uint64_t rejected = 0;
};

}  // namespace

class LoadRunner::Impl {
 public:
  Impl(RunSettings settings, OrderGenerator& generator, std::ostream& progress)
      : io_(1),
        settings_(std::move(settings)),
        generator_(generator),
        progress_(progress),
        stop_timer_(io_),
        stop_signals_(io_, SIGINT, SIGTERM),
        sweep_timer_(io_),
        schedule_timer_(io_),
        progress_timer_(io_) {
    std::string headers = fmt::format("Host: {}\r\nAuthorization: Bearer {}\r\n",
                                      settings_.host_header, settings_.access_token);
    std::string order_path =
        settings_.path_prefix + (settings_.batch > 1 ? "/api/orders/batch" : "/api/orders");
    order_request_prefix_ = fmt::format(
        "POST {} HTTP/1.1\r\n{}Content-Type: application/json\r\nContent-Length: ", order_path,
        headers);
    cancel_request_prefix_ = fmt::format("DELETE {}/api/orders/", settings_.path_prefix);
    cancel_request_suffix_ = fmt::format(" HTTP/1.1\r\n{}\r\n", headers);
    open_loop_ = settings_.rate > 0;
    if (open_loop_) {
      slot_interval_ns_ = 1e9 * settings_.batch / settings_.rate;
      double duration_ns = static_cast<double>(settings_.duration.count());
      total_slots_ = static_cast<std::uint64_t>(std::ceil(duration_ns / slot_interval_ns_));
    }
    sweep_interval_ = std::clamp<Clock::duration>(settings_.timeout / 10,
                                                  std::chrono::milliseconds(1), kMaxSweepInterval);
  }

  RunStats run() {
    t0_ = Clock::now();
    stats_.start_unix_ns = unix_now_ns();
    deadline_ = t0_ + settings_.duration;

    for (int i = 0; i < settings_.connections; ++i) {
      connections_.push_back(std::make_unique<Connection>(io_));
      connections_.back()->endpoint_index =
          static_cast<std::size_t>(i) % settings_.endpoints.size();
    }
    for (auto& connection : connections_) connect(*connection);

    stop_timer_.expires_at(deadline_);
    stop_timer_.async_wait([this](boost::system::error_code error) {
      if (!error) on_deadline();
    });
    // SIGINT or SIGTERM ends the run early, like the deadline, so the result is still printed.
    stop_signals_.async_wait([this](boost::system::error_code error, int) {
      if (error || stopping_) return;
      stop_timer_.cancel();
      if (open_loop_) {
        double elapsed_ns = static_cast<double>((Clock::now() - t0_).count());
        auto due_slots = static_cast<std::uint64_t>(elapsed_ns / slot_interval_ns_);
        total_slots_ = std::min(total_slots_, std::max(due_slots, next_slot_));
      }
      on_deadline();
    });
    arm_sweep();
    arm_progress();
    if (open_loop_) on_schedule();

    io_.run();

    Clock::time_point end = finished_at_;
    stats_.window_s = std::chrono::duration<double>(end - t0_).count();
    stats_.end_unix_ns = stats_.start_unix_ns + std::chrono::nanoseconds(end - t0_).count();
    if (settings_.live_progress) progress_ << "\n";
    progress_.flush();
    return std::move(stats_);
  }

 private:
  // Connections.

  void connect(Connection& connection) {
    close(connection);
    connection.state = ConnectionState::kConnecting;
    connection.connect_started = Clock::now();
    std::uint64_t generation = connection.generation;
    const tcp::endpoint& endpoint = settings_.endpoints[connection.endpoint_index];
    connection.socket.async_connect(
        endpoint, [this, &connection, generation](boost::system::error_code error) {
          if (generation != connection.generation || finished_) return;
          on_connected(connection, error);
        });
  }

  void on_connected(Connection& connection, boost::system::error_code error) {
    if (error) {
      ++stats_.errors.connect;
      connection.endpoint_index = (connection.endpoint_index + 1) % settings_.endpoints.size();
      retry_later(connection);
      return;
    }

    boost::system::error_code ignored;
    connection.socket.set_option(tcp::no_delay(true), ignored);
    connection.state = ConnectionState::kIdle;
    connection.received = 0;
    make_idle(connection);
  }

  void retry_later(Connection& connection) {
    close(connection);
    if (stopping_) return;

    std::uint64_t generation = connection.generation;
    connection.retry_timer.expires_after(kReconnectDelay);
    connection.retry_timer.async_wait(
        [this, &connection, generation](boost::system::error_code error) {
          if (error || generation != connection.generation || finished_) return;
          connect(connection);
        });
  }

  void close(Connection& connection) {
    ++connection.generation;
    boost::system::error_code ignored;
    connection.socket.close(ignored);
    connection.retry_timer.cancel();
    if (connection.state == ConnectionState::kIdle) {
      idle_.erase(std::remove(idle_.begin(), idle_.end(), &connection), idle_.end());
    }
    connection.state = ConnectionState::kClosed;
  }

  // Ends the request in flight on `connection` without a reply and opens a new connection.
  void abandon_request(Connection& connection) {
    --in_flight_;
    close(connection);
    if (!stopping_) connect(connection);
    finish_if_drained();
  }

  // Work assignment.

  void make_idle(Connection& connection) {
    if (stopping_) {
      close(connection);
      finish_if_drained();
      return;
    }
    if (!assign_work(connection)) idle_.push_back(&connection);
  }

  // Sends the next request on `connection`, if one is due; returns whether it did.
  bool assign_work(Connection& connection) {
    if (!open_loop_) {
      if (pending_cancels_ > 0 && send_cancel(connection)) return true;
      Clock::time_point now = Clock::now();
      send_order(connection, now);
      return true;
    }

    if (first_pending_slot_ < next_slot_) {
      send_order(connection, slot_time(first_pending_slot_++));
      return true;
    }
    return pending_cancels_ > 0 && send_cancel(connection);
  }

  Clock::time_point slot_time(std::uint64_t slot) const {
    auto offset = static_cast<std::int64_t>(static_cast<double>(slot) * slot_interval_ns_);
    return t0_ + std::chrono::nanoseconds(offset);
  }

  void on_schedule() {
    if (stopping_) return;

    // Every slot due by now joins the pending ones, however late this timer fired.
    auto elapsed_ns = static_cast<double>(std::chrono::nanoseconds(Clock::now() - t0_).count());
    auto due = static_cast<std::uint64_t>(elapsed_ns / slot_interval_ns_) + 1;
    next_slot_ = std::max(next_slot_, std::min(due, total_slots_));
    while (!idle_.empty() && first_pending_slot_ < next_slot_) {
      Connection* connection = idle_.back();
      idle_.pop_back();
      send_order(*connection, slot_time(first_pending_slot_++));
    }
    while (!idle_.empty() && pending_cancels_ > 0) {
      Connection* connection = idle_.back();
      idle_.pop_back();
      if (!send_cancel(*connection)) {
        idle_.push_back(connection);
        break;
      }
    }

    if (next_slot_ >= total_slots_) return;
    schedule_timer_.expires_at(slot_time(next_slot_));
    schedule_timer_.async_wait([this](boost::system::error_code error) {
      if (!error) on_schedule();
    });
  }

  void send_order(Connection& connection, Clock::time_point scheduled) {
    connection.body.clear();
    if (settings_.batch > 1) {
      generator_.append_batch(connection.body, settings_.batch);
    } else {
      generator_.append_order(connection.body);
    }
    connection.request = order_request_prefix_;
    fmt::format_to(std::back_inserter(connection.request), "{}\r\n\r\n", connection.body.size());
    connection.request += connection.body;
    connection.kind = RequestKind::kOrder;
    connection.orders = settings_.batch;
    connection.scheduled = scheduled;

    ++stats_.requests_sent;
    stats_.orders_sent += static_cast<std::uint64_t>(settings_.batch);
    if (generator_.draw_cancel()) ++pending_cancels_;
    write(connection);
  }

  bool send_cancel(Connection& connection) {
    auto order_id = generator_.take_cancel_id();
    if (!order_id) return false;

    --pending_cancels_;
    connection.request = cancel_request_prefix_;
    fmt::format_to(std::back_inserter(connection.request), "{}", *order_id);
    connection.request += cancel_request_suffix_;
    connection.kind = RequestKind::kCancel;
    connection.orders = 0;
    connection.scheduled = Clock::now();
    ++stats_.requests_sent;
    ++stats_.cancels_sent;
    write(connection);
    return true;
  }

  // Request and reply.

  void write(Connection& connection) {
    connection.state = ConnectionState::kBusy;
    connection.received = 0;
    connection.head = {};
    ++in_flight_;
    connection.sent = Clock::now();
    std::uint64_t generation = connection.generation;
    asio::async_write(
        connection.socket, asio::buffer(connection.request),
        [this, &connection, generation](boost::system::error_code error, std::size_t) {
          if (generation != connection.generation || finished_) return;
          if (error) {
            ++stats_.errors.io;
            abandon_request(connection);
            return;
          }
          read(connection);
        });
  }

  void read(Connection& connection) {
    if (connection.received == connection.usable_size()) {
      connection.buffer.resize(connection.usable_size() * 2 + simdjson::SIMDJSON_PADDING);
    }
    std::uint64_t generation = connection.generation;
    connection.socket.async_read_some(
        asio::buffer(connection.buffer.data() + connection.received,
                     connection.usable_size() - connection.received),
        [this, &connection, generation](boost::system::error_code error, std::size_t size) {
          if (generation != connection.generation || finished_) return;
          // NOTE: a request on a keep-alive connection that the server closed while it was idle
          // is counted here too; it is not retried as browsers do.
          if (error) {
            ++stats_.errors.io;
            abandon_request(connection);
            return;
          }
          connection.received += size;
          on_data(connection);
        });
  }

  void on_data(Connection& connection) {
    std::string_view data(connection.buffer.data(), connection.received);
    if (connection.head.result == HeadParse::kIncomplete) {
      connection.head = parse_response_head(data);
      if (connection.head.result == HeadParse::kIncomplete) {
        if (connection.received >= kMaxResponseSize) return protocol_error(connection);
        return read(connection);
      }
      if (connection.head.result != HeadParse::kComplete) return protocol_error(connection);
    }

    std::size_t total = connection.head.head_size + connection.head.content_length;
    if (total > kMaxResponseSize) return protocol_error(connection);
    if (connection.received < total) {
      if (total > connection.usable_size()) {
        connection.buffer.resize(total + simdjson::SIMDJSON_PADDING);
      }
      return read(connection);
    }
    // Without pipelining nothing may follow the reply.
    if (connection.received > total) return protocol_error(connection);
    on_reply(connection);
  }

  void protocol_error(Connection& connection) {
    ++stats_.errors.protocol;
    abandon_request(connection);
  }

  void on_reply(Connection& connection) {
    Clock::time_point now = Clock::now();
    --in_flight_;
    int status = connection.head.status;
    std::string_view body(connection.buffer.data() + connection.head.head_size,
                          connection.head.content_length);
    std::size_t body_capacity = connection.buffer.size() - connection.head.head_size;

    if (connection.kind == RequestKind::kOrder) {
      record_latency(connection, now);
      count_order_reply(connection, status, body, body_capacity);
    } else if (status >= 200 && status < 300) {
      ++stats_.cancels_success;
    } else if (status >= 500) {
      ++stats_.errors.http_5xx;
    }
    // NOTE: a cancel refused with 4xx (the order already filled or cancelled) is a normal
    // outcome of the realistic profile and is not counted as an error.

    if (connection.head.connection_close) {
      close(connection);
      if (!stopping_) connect(connection);
      finish_if_drained();
      return;
    }
    connection.state = ConnectionState::kIdle;
    make_idle(connection);
  }

  void record_latency(const Connection& connection, Clock::time_point now) {
    std::int64_t latency_us = to_micros(now - connection.scheduled);
    std::int64_t service_us = to_micros(now - connection.sent);
    stats_.latency_us.record(latency_us);
    stats_.service_latency_us.record(service_us);
    stats_.latency_sum_us += static_cast<double>(latency_us);
    stats_.service_latency_sum_us += static_cast<double>(service_us);
    stats_.latency_max_us = std::max(stats_.latency_max_us, latency_us);
    stats_.service_latency_max_us = std::max(stats_.service_latency_max_us, service_us);
  }

  void count_order_reply(const Connection& connection, int status, std::string_view body,
                         std::size_t body_capacity) {
    auto orders = static_cast<std::uint64_t>(connection.orders);
    // NOTE: Retry-After on 429 and 503 is not honoured; in closed loop the connection sends
    // its next request at once, so an overloaded server sees no back-off from this client.
    if (status >= 500) {
      ++stats_.errors.http_5xx;
      return;
    }
    if (status >= 400) {
      ++stats_.errors.http_4xx;
      return;
    }
    if (status < 200 || status >= 300) {
      ++stats_.errors.protocol;
      return;
    }

    if (settings_.batch > 1) {
      BatchOutcome outcome = read_batch_reply(body, body_capacity, orders);
      stats_.orders_success += outcome.accepted;
      stats_.errors.rejected += outcome.rejected;
      return;
    }
    stats_.orders_success += orders;
    if (generator_.needs_order_ids()) remember_order_id(body, body_capacity);
  }

  void remember_order_id(std::string_view body, std::size_t capacity) {
    simdjson::padded_string_view view(body.data(), body.size(), capacity);
    simdjson::ondemand::document document;
    if (json_parser_.iterate(view).get(document) != simdjson::SUCCESS) return;
    std::uint64_t id = 0;
    if (document.find_field_unordered("id").get_uint64().get(id) == simdjson::SUCCESS) {
      generator_.remember_acknowledged(id);
    }
  }

  // Counts the per-order results of a batch reply: an entry with "error" or status REJECTED is
  // a rejected order; orders without an entry count as rejected too.
  BatchOutcome read_batch_reply(std::string_view body, std::size_t capacity, std::uint64_t orders) {
    BatchOutcome outcome;
    simdjson::padded_string_view view(body.data(), body.size(), capacity);
    simdjson::ondemand::document document;
    simdjson::ondemand::array results;
    if (json_parser_.iterate(view).get(document) != simdjson::SUCCESS ||
        document.find_field_unordered("results").get_array().get(results) != simdjson::SUCCESS) {
      ++stats_.errors.protocol;
      outcome.rejected = orders;
      return outcome;
    }

    for (auto item : results) {
      simdjson::ondemand::object object;
      if (item.get_object().get(object) != simdjson::SUCCESS) break;
      bool refused = false;
      std::uint64_t id = 0;
      bool has_id = false;
      for (auto field : object) {
        std::string_view key;
        if (field.unescaped_key().get(key) != simdjson::SUCCESS) break;
        if (key == "error") {
          refused = true;
        } else if (key == "status") {
          std::string_view order_status;
          refused |= field.value().get_string().get(order_status) == simdjson::SUCCESS &&
                     order_status == "REJECTED";
        } else if (key == "id") {
          has_id = field.value().get_uint64().get(id) == simdjson::SUCCESS;
        }
      }
      if (outcome.accepted + outcome.rejected == orders) break;
      if (refused) {
        ++outcome.rejected;
        continue;
      }
      ++outcome.accepted;
      if (has_id && generator_.needs_order_ids()) generator_.remember_acknowledged(id);
    }
    outcome.rejected = orders - outcome.accepted;
    return outcome;
  }

  // Timers.

  void arm_sweep() {
    sweep_timer_.expires_after(sweep_interval_);
    sweep_timer_.async_wait([this](boost::system::error_code error) {
      if (error || finished_) return;
      sweep_timeouts();
      arm_sweep();
    });
  }

  // Requests and connection attempts older than the timeout are given up; a late reply to
  // either would arrive on a closed socket.
  void sweep_timeouts() {
    Clock::time_point now = Clock::now();
    for (auto& connection : connections_) {
      if (connection->state == ConnectionState::kBusy &&
          now - connection->sent > settings_.timeout) {
        ++stats_.errors.timeout;
        abandon_request(*connection);
      } else if (connection->state == ConnectionState::kConnecting &&
                 now - connection->connect_started > settings_.timeout) {
        ++stats_.errors.connect;
        retry_later(*connection);
      }
    }
  }

  void on_deadline() {
    stopping_ = true;
    stats_.send_window_s = std::chrono::duration<double>(Clock::now() - t0_).count();
    schedule_timer_.cancel();
    if (open_loop_) {
      next_slot_ = total_slots_;
      stats_.orders_scheduled = total_slots_ * static_cast<std::uint64_t>(settings_.batch);
      stats_.orders_behind_schedule =
          (next_slot_ - first_pending_slot_) * static_cast<std::uint64_t>(settings_.batch);
    }
    for (auto& connection : connections_) {
      if (connection->state != ConnectionState::kBusy) close(*connection);
    }
    finish_if_drained();
  }

  void finish_if_drained() {
    if (!stopping_ || in_flight_ > 0 || finished_) return;

    finished_ = true;
    finished_at_ = Clock::now();
    for (auto& connection : connections_) close(*connection);
    stop_timer_.cancel();
    stop_signals_.cancel();
    sweep_timer_.cancel();
    schedule_timer_.cancel();
    progress_timer_.cancel();
    print_progress();
    io_.stop();
  }

  void arm_progress() {
    progress_timer_.expires_after(settings_.live_progress ? Clock::duration(kLiveProgressInterval)
                                                          : Clock::duration(kLogProgressInterval));
    progress_timer_.async_wait([this](boost::system::error_code error) {
      if (error || finished_) return;
      print_progress();
      arm_progress();
    });
  }

  void print_progress() {
    Clock::time_point now = Clock::now();
    double elapsed_s = std::chrono::duration<double>(now - t0_).count();
    double interval_s = std::chrono::duration<double>(now - last_progress_at_).count();
    if (last_progress_at_ == Clock::time_point{}) interval_s = elapsed_s;
    double rate =
        interval_s > 0
            ? static_cast<double>(stats_.orders_success - last_progress_success_) / interval_s
            : 0.0;
    last_progress_at_ = now;
    last_progress_success_ = stats_.orders_success;

    double duration_s = std::chrono::duration<double>(settings_.duration).count();
    std::string line = fmt::format(
        "client {}: {:.1f}/{:.0f} s, sent {}, successful {}, {:.0f} successful orders/s now, "
        "errors {}",
        settings_.client_id, elapsed_s, duration_s, stats_.orders_sent, stats_.orders_success, rate,
        stats_.errors.total());
    if (settings_.live_progress) {
      progress_ << "\r" << line << "\x1b[K";
    } else {
      progress_ << line << "\n";
    }
    progress_.flush();
  }

  asio::io_context io_;
  RunSettings settings_;
  OrderGenerator& generator_;
  std::ostream& progress_;
  asio::steady_timer stop_timer_;
  asio::signal_set stop_signals_;
  asio::steady_timer sweep_timer_;
  asio::steady_timer schedule_timer_;
  asio::steady_timer progress_timer_;
  Clock::duration sweep_interval_;

  std::string order_request_prefix_;
  std::string cancel_request_prefix_;
  std::string cancel_request_suffix_;
  simdjson::ondemand::parser json_parser_;

  std::vector<std::unique_ptr<Connection>> connections_;
  std::vector<Connection*> idle_;
  std::uint64_t in_flight_ = 0;
  std::uint64_t pending_cancels_ = 0;

  bool open_loop_ = false;
  double slot_interval_ns_ = 0;
  std::uint64_t total_slots_ = 0;
  std::uint64_t next_slot_ = 0;           // slots due so far
  std::uint64_t first_pending_slot_ = 0;  // slots before this one have been sent

  Clock::time_point t0_;
  Clock::time_point deadline_;
  Clock::time_point finished_at_;
  Clock::time_point last_progress_at_;
  std::uint64_t last_progress_success_ = 0;
  bool stopping_ = false;
  bool finished_ = false;
  RunStats stats_;
};

LoadRunner::LoadRunner(RunSettings settings, OrderGenerator& generator, std::ostream& progress)
    : impl_(std::make_unique<Impl>(std::move(settings), generator, progress)) {}

LoadRunner::~LoadRunner() = default;

RunStats LoadRunner::run() { return impl_->run(); }

}  // namespace hft::load
