// `hft serve`: the trading backend. Flags map onto gateway::ServerConfig; the server itself is
// gateway/server.h.
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include "cli/commands.h"
#include "common/exit_codes.h"
#include "gateway/server.h"
#include "redis/redis_url.h"
#include "store/postgres_url.h"

namespace hft::cli {

namespace {

struct ServeOptions {
  std::string host = "0.0.0.0";
  int port = 8000;
  std::string data_dir = "./data";
  std::string ack = "durable";
  std::string role = "all";
  std::string queue_url;
  std::string database_url;
  std::size_t db_max_queued_rows = 1'000'000;
  std::size_t batch_size = 1000;
  double batch_timeout_ms = 0.2;
  std::size_t threads = std::max(1u, std::thread::hardware_concurrency());
  std::size_t queue_capacity = 100'000;
  std::int64_t token_ttl_s = 86'400;
  std::int64_t idle_timeout_s = 60;
  std::size_t max_body_bytes = 1024 * 1024;
  std::size_t max_batch_orders = 1000;
  std::string journal_fsync = "auto";
  std::string log_level = "info";
};

int run_serve(const ServeOptions& options) {
  if (!gateway::configure_logging(options.log_level)) {
    std::cerr << "hft serve: --log-level " << options.log_level
              << " is invalid; use trace, debug, info, warn, error, critical or off\n";
    return kExitUsage;
  }
  if (options.role != "all" && options.queue_url.empty()) {
    std::cerr << "hft serve: --role " << options.role
              << " needs --queue (REDIS_URL), the Redis URL that gateways and the engine "
                 "share; without it use --role all\n";
    return kExitUsage;
  }
  if (options.role == "all" && !options.queue_url.empty()) {
    std::cerr << "hft serve: --queue (REDIS_URL) needs --role gateway or --role engine; --role "
                 "all runs the in-process queue. Start gateways and one engine, or unset "
                 "--queue\n";
    return kExitUsage;
  }
  if (!options.queue_url.empty()) {
    redis::RedisUrlResult url = redis::parse_redis_url(options.queue_url);
    if (!url.ok()) {
      std::cerr << "hft serve: --queue (REDIS_URL): " << url.error << "\n";
      return kExitUsage;
    }
  }
  if (options.role != "all" && options.ack == "queued") {
    std::cerr << "hft serve: --ack queued is not available with --role " << options.role
              << (options.role == "gateway"
                      ? "; a gateway acknowledges an order once Redis has stored it"
                      : "; the engine acknowledges queue entries only after their journal fsync")
              << ". Remove --ack (ACK)\n";
    return kExitUsage;
  }
  if (options.role == "gateway" && !options.database_url.empty()) {
    std::cerr << "hft serve: --db (DATABASE_URL) belongs to the engine, which writes the "
                 "journal; remove it from --role gateway\n";
    return kExitUsage;
  }
  if (!options.database_url.empty()) {
    store::PostgresUrlResult url = store::parse_postgres_url(options.database_url);
    if (!url.ok()) {
      std::cerr << "hft serve: --db (DATABASE_URL): " << url.error << "\n";
      return kExitUsage;
    }
  }

  gateway::ServerConfig config;
  config.host = options.host;
  config.port = static_cast<std::uint16_t>(options.port);
  config.data_dir = options.data_dir;
  config.ack = options.ack == "queued" ? gateway::AckMode::kQueued : gateway::AckMode::kDurable;
  config.queue_url = options.queue_url;
  if (options.role == "gateway") {
    config.role = gateway::ServerRole::kGateway;
    // A gateway always replies once Redis has stored the request.
    config.ack = gateway::AckMode::kDurable;
  } else if (options.role == "engine") {
    config.role = gateway::ServerRole::kEngine;
    // The engine acknowledges stream entries only after the journal fsync that covers them.
    config.ack = gateway::AckMode::kDurable;
  }
  config.io_threads = options.threads;
  config.batch_size = options.batch_size;
  config.batch_timeout =
      std::chrono::microseconds(static_cast<std::int64_t>(options.batch_timeout_ms * 1000.0));
  config.queue_capacity = options.queue_capacity;
  config.token_ttl_s = options.token_ttl_s;
  config.idle_timeout = std::chrono::seconds(options.idle_timeout_s);
  config.max_body_bytes = options.max_body_bytes;
  config.max_batch_orders = options.max_batch_orders;
  config.database_url = options.database_url;
  config.db_max_queued_rows = options.db_max_queued_rows;
  // auto: sync when acknowledgements wait for it. A queued acknowledgement never waits for the
  // disk, so there the journal relies on the page cache.
  config.journal_fsync =
      options.journal_fsync == "on" ||
      (options.journal_fsync == "auto" && config.ack == gateway::AckMode::kDurable);
  return gateway::run_server(config);
}

}  // namespace

void add_serve_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<ServeOptions>();
  auto* command = app.add_subcommand(
      "serve",
      "Run the trading backend: HTTP API, order queue, batch worker, matching engine and "
      "journal");

  command->add_option("--host", options->host, "Address to listen on")
      ->envname("HOST")
      ->capture_default_str();
  command->add_option("--port", options->port, "TCP port to listen on (0 picks a free one)")
      ->envname("PORT")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  command
      ->add_option("--data-dir", options->data_dir,
                   "Folder for the journal and the token signing key (created if missing)")
      ->envname("DATA_DIR")
      ->capture_default_str();
  command
      ->add_option("--ack", options->ack,
                   "When an order is acknowledged: 'queued' as soon as it is in the queue, "
                   "'durable' after the journal fsync that covers it")
      ->envname("ACK")
      ->check(CLI::IsMember({"queued", "durable"}))
      ->capture_default_str();
  command
      ->add_option("--role", options->role,
                   "Process role: all (API, queue, engine and journal in one process), gateway "
                   "(API only, publishes to --queue) or engine (reads --queue, journal, "
                   "matching; serves /health and /metrics only)")
      ->envname("ROLE")
      ->check(CLI::IsMember({"all", "gateway", "engine"}))
      ->capture_default_str();
  command
      ->add_option("--queue", options->queue_url,
                   "Redis URL (redis://[[user]:password@]host[:port][/db]) of the queue that "
                   "gateways and the engine share; needs --role gateway or engine. Empty for the "
                   "in-process queue")
      ->envname("REDIS_URL")
      ->capture_default_str();
  command
      ->add_option("--db", options->database_url,
                   "PostgreSQL URL (postgresql://user:password@host:port/database) that receives "
                   "users, orders, trades and positions; empty for none. The schema is created "
                   "at start")
      ->envname("DATABASE_URL")
      ->capture_default_str();
  command
      ->add_option("--db-max-queued-rows", options->db_max_queued_rows,
                   "Rows waiting for PostgreSQL that --db keeps in memory (about 200 bytes each, "
                   "an estimate); when full, matching waits for the database")
      ->envname("DB_MAX_QUEUED_ROWS")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}))
      ->capture_default_str();
  command
      ->add_option("--batch-size", options->batch_size,
                   "Max orders the batch worker takes per batch")
      ->envname("BATCH_SIZE")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1'000'000}))
      ->capture_default_str();
  command
      ->add_option("--batch-timeout-ms", options->batch_timeout_ms,
                   "Milliseconds the batch worker waits for a fuller batch once one order is "
                   "queued (0: take what is there)")
      ->envname("BATCH_TIMEOUT_MS")
      ->check(CLI::Range(0.0, 10'000.0))
      ->capture_default_str();
  command
      ->add_option("--threads", options->threads, "HTTP I/O threads (default: the number of cores)")
      ->envname("THREADS")
      ->check(CLI::Range(std::size_t{1}, std::size_t{256}))
      ->capture_default_str();
  command
      ->add_option("--queue-capacity", options->queue_capacity,
                   "Orders the queue holds before the API answers 503 with Retry-After")
      ->envname("QUEUE_CAPACITY")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000'000}))
      ->capture_default_str();
  command->add_option("--token-ttl-s", options->token_ttl_s, "Seconds an access token stays valid")
      ->envname("TOKEN_TTL_S")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{10} * 365 * 86'400))
      ->capture_default_str();
  command
      ->add_option("--idle-timeout-s", options->idle_timeout_s,
                   "Seconds before an idle connection, a request that is not complete or a "
                   "reply the client does not read closes the connection")
      ->envname("IDLE_TIMEOUT_S")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{86'400}))
      ->capture_default_str();
  command
      ->add_option("--max-body-bytes", options->max_body_bytes,
                   "Largest request body in bytes; larger requests get 413")
      ->envname("MAX_BODY_BYTES")
      ->check(CLI::Range(std::size_t{1024}, std::size_t{64} << 20))
      ->capture_default_str();
  command
      ->add_option("--max-batch-orders", options->max_batch_orders,
                   "Most orders in one POST /api/orders/batch request; more get 422")
      ->envname("MAX_BATCH_ORDERS")
      ->check(CLI::Range(std::size_t{1}, std::size_t{100'000}))
      ->capture_default_str();
  command
      ->add_option("--journal-fsync", options->journal_fsync,
                   "fdatasync after each journal group commit: on, off, or auto (on with --ack "
                   "durable, off with --ack queued). Without it a crash of the machine, not of "
                   "the process, can lose journaled orders")
      ->envname("JOURNAL_FSYNC")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  command
      ->add_option("--log-level", options->log_level,
                   "Log level: trace, debug, info, warn, error, critical or off")
      ->envname("LOG_LEVEL")
      ->capture_default_str();

  command->callback([options, &exit_code] { exit_code = run_serve(*options); });
}

}  // namespace hft::cli
