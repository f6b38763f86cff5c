// ServerConfig: every setting of `hft serve`, filled from flags and environment variables by
// the CLI and read-only once the server starts.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace hft::gateway {

// When POST /api/orders replies: kQueued as soon as the order is in the in-process queue,
// kDurable after the journal fsync that covers it.
enum class AckMode : std::uint8_t { kQueued, kDurable };

// The part of the backend that a process runs. kAll: HTTP API, queue, engine and journal in one
// process. With a Redis queue, kGateway runs the HTTP API and publishes commands to Redis, and
// kEngine consumes them into the journal and the engine and serves only /health and /metrics.
enum class ServerRole : std::uint8_t { kAll, kGateway, kEngine };

struct ServerConfig {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8000;
  std::filesystem::path data_dir = "./data";
  AckMode ack = AckMode::kDurable;
  ServerRole role = ServerRole::kAll;
  // Redis URL of the shared order queue (`redis://[[user]:password@]host[:port][/db]`); empty for
  // the in-process queue.
  std::string queue_url;
  std::size_t io_threads = 1;
  std::size_t batch_size = 1000;
  std::chrono::microseconds batch_timeout{200};
  std::size_t queue_capacity = 100'000;
  std::int64_t token_ttl_s = 86'400;
  std::chrono::seconds idle_timeout{60};
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_header_bytes = 8 * 1024;
  std::size_t max_batch_orders = 1000;
  std::size_t max_json_depth = 16;
  std::size_t password_threads = 2;
  bool journal_fsync = true;
  // PostgreSQL URL of the sink (`postgresql://user:password@host:port/database`); empty for none.
  std::string database_url;
  // Rows the PostgreSQL writer queues in memory before the batch worker waits for it.
  std::size_t db_max_queued_rows = 1'000'000;
};

}  // namespace hft::gateway
