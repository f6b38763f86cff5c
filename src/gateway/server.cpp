#include "gateway/server.h"

#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <functional>
#include <optional>

#include "common/exit_codes.h"
#include "gateway/api.h"
#include "gateway/batch_worker.h"
#include "gateway/engine_lease.h"
#include "gateway/http_server.h"
#include "gateway/redis_engine.h"
#include "gateway/redis_gateway.h"
#include "gateway/state_stream.h"
#include "redis/eviction_check.h"
#include "store/store_writer.h"

namespace hft::gateway {

namespace {

constexpr const char* kLoggerNames[] = {"server", "http",  "worker", "journal",
                                        "auth",   "store", "redis"};
// How long connections get to receive their last replies at shutdown.
constexpr auto kShutdownGrace = std::chrono::milliseconds(2000);
// How long the PostgreSQL sink gets to write its queue at shutdown; the journal keeps the rest,
// and the next start sends it.
constexpr auto kStoreCloseTimeout = std::chrono::milliseconds(10'000);
// How long the engine gets at shutdown to send the last state batches to the gateways.
constexpr auto kStatePublishTimeout = std::chrono::milliseconds(2000);
constexpr auto kRedisConnectTimeout = std::chrono::milliseconds(5000);

std::shared_ptr<spdlog::logger> get_logger(const char* name) {
  auto logger = spdlog::get(name);
  return logger ? logger : spdlog::default_logger();
}

std::string_view ack_name(AckMode mode) { return mode == AckMode::kDurable ? "durable" : "queued"; }

// Opens the PostgreSQL sink: connects, creates or migrates the schema and reads its progress.
// Null without --db; `error` is set when the sink is configured but cannot open.
std::unique_ptr<store::StoreWriter> open_store(const ServerConfig& config, std::string& error) {
  if (config.database_url.empty()) return nullptr;
  store::PostgresUrlResult url = store::parse_postgres_url(config.database_url);
  if (!url.ok()) {
    error = url.error;
    return nullptr;
  }
  store::WriterOptions options;
  options.url = *url.url;
  options.max_queued_rows = config.db_max_queued_rows;
  store::WriterOpenResult opened = store::StoreWriter::open(std::move(options));
  if (!opened.writer) error = std::move(opened.error);
  return std::move(opened.writer);
}

// Warns when Redis keeps no append-only file: its restart would then lose acknowledged orders
// still in the streams, the shared accounts, the token key and the id counters.
void warn_without_append_only_file(redis::Connection& connection) {
  redis::Reply reply = connection.command({"CONFIG", "GET", "appendonly"});
  if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 2) return;
  if (redis::reply_text(*reply->element[1]) != "no") return;
  get_logger("redis")->warn(
      "Redis at {} runs with appendonly no: a restart of Redis loses acknowledged orders not yet "
      "journaled, the shared accounts, the token key and the id counters. Run it with "
      "--appendonly yes (--appendfsync always loses nothing acknowledged)",
      connection.url().redacted());
}

// Parses the --queue URL and rejects a Redis that may evict keys. Returns the URL, or nullopt
// after logging why the server does not start.
std::optional<redis::RedisUrl> open_queue_url(const ServerConfig& config) {
  auto log = get_logger("redis");
  redis::RedisUrlResult url = redis::parse_redis_url(config.queue_url);
  if (!url.ok()) {
    log->error("--queue (REDIS_URL): {}", url.error);
    return std::nullopt;
  }
  redis::ConnectResult connected = redis::Connection::connect(*url.url, kRedisConnectTimeout);
  if (!connected.connection) {
    log->error("--queue (REDIS_URL): Redis unavailable, not starting: {}", connected.error);
    return std::nullopt;
  }
  redis::EvictionCheck eviction = redis::check_eviction_policy(*connected.connection);
  if (!eviction.safe()) {
    log->error("not starting: {}", eviction.message);
    return std::nullopt;
  }
  warn_without_append_only_file(*connected.connection);
  return url.url;
}

// Waits for SIGTERM or SIGINT (blocked by block_stop_signals) and returns it, calling
// `every_second` about once a second meanwhile. Returns 0 when sigtimedwait itself fails.
int wait_for_stop_signal(const sigset_t& stop_signals, const std::function<void()>& every_second) {
  while (true) {
    timespec timeout{1, 0};
    int signal_number = sigtimedwait(&stop_signals, nullptr, &timeout);
    if (signal_number > 0) return signal_number;
    if (errno != EAGAIN && errno != EINTR) {
      get_logger("server")->error("sigtimedwait failed: {}", std::strerror(errno));
      return 0;
    }
    every_second();
  }
}

// Blocks SIGTERM and SIGINT in every thread (the main thread takes them with sigtimedwait) and
// ignores SIGPIPE. Call before starting any thread.
sigset_t block_stop_signals() {
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return stop_signals;
}

// The gateway role: HTTP API over a Redis queue, with no journal and no engine.
int run_gateway(const ServerConfig& config) {
  auto log = get_logger("server");
  sigset_t stop_signals = block_stop_signals();

  std::optional<redis::RedisUrl> url = open_queue_url(config);
  if (!url) return kExitFailure;
  std::string key_error;
  std::optional<TokenSigner> signer = load_shared_token_key(*url, key_error);
  if (!signer) {
    get_logger("auth")->error("shared token key unavailable, not starting: {}", key_error);
    return kExitFailure;
  }

  // The queue and the worker are never started: the Api needs them for its health fields only.
  engine::EngineConfig engine_config;
  CommandQueue queue(1);
  OrderStore orders;
  UserDirectory users;
  MarketView market;
  Metrics metrics;
  BatchWorker worker(engine_config, BatchWorkerOptions{}, queue, orders, users, market, metrics);
  RedisGateway gateway(*url, orders, users, market);

  Api api(config, worker.engine_config(), *signer, queue, orders, users, market, metrics, worker);
  api.set_shared_queue(&gateway);
  api.set_status_source(&gateway);
  HttpServer http(config, api, worker.engine_config());
  std::string bind_error = http.bind();
  if (!bind_error.empty()) {
    get_logger("http")->error("{}", bind_error);
    return kExitFailure;
  }
  std::string start_error = gateway.start(
      [&http](std::vector<Completion>&& completions) { http.deliver(std::move(completions)); });
  if (!start_error.empty()) {
    get_logger("redis")->error("not starting: {}", start_error);
    return kExitFailure;
  }
  http.start();
  log->info(
      "gateway listening on {}:{}, queue {}, {} I/O threads, {} users and {} orders read "
      "from the state stream",
      config.host, http.port(), url->redacted(), http.thread_count(), users.size(), orders.size());

  int signal_number = wait_for_stop_signal(stop_signals, [] {});

  log->info("received {}, stopping: sending queued requests to Redis",
            signal_number == SIGINT ? "SIGINT" : "SIGTERM");
  http.stop_accepting();
  api.stop_password_pool();
  gateway.stop();
  http.shutdown(kShutdownGrace);
  log->info("stopped: {} orders acknowledged", metrics.orders_queued.load());
  spdlog::shutdown();
  return kExitOk;
}

}  // namespace

bool configure_logging(const std::string& level) {
  auto parsed = spdlog::level::from_str(level);
  if (parsed == spdlog::level::off && level != "off") return false;

  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  for (const char* name : kLoggerNames) {
    if (spdlog::get(name)) continue;
    auto logger = std::make_shared<spdlog::logger>(name, sink);
    logger->set_level(parsed);
    spdlog::register_logger(logger);
  }
  spdlog::set_level(parsed);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ [%n] %v");
  return true;
}

int run_server(const ServerConfig& config) {
  if (config.role == ServerRole::kGateway) return run_gateway(config);

  auto log = get_logger("server");
  auto journal_log = get_logger("journal");
  sigset_t stop_signals = block_stop_signals();

  // The engine role reads its commands from Redis instead of the HTTP API.
  const bool engine_role = config.role == ServerRole::kEngine;
  std::optional<redis::RedisUrl> queue_url;
  if (engine_role) {
    queue_url = open_queue_url(config);
    if (!queue_url) return kExitFailure;
  }

  std::error_code fs_error;
  std::filesystem::create_directories(config.data_dir, fs_error);
  if (fs_error) {
    log->error("data dir {}: create failed: {}", config.data_dir.string(), fs_error.message());
    return kExitFailure;
  }

  std::string key_error;
  auto signer = TokenSigner::load_or_create(config.data_dir / "token.key", key_error);
  if (!signer) {
    get_logger("auth")->error("{}", key_error);
    return kExitFailure;
  }

  // Declared before the worker, which borrows it, so it is destroyed after the worker.
  std::string store_error;
  std::unique_ptr<store::StoreWriter> store = open_store(config, store_error);
  if (!store_error.empty()) {
    get_logger("store")->error("PostgreSQL sink (--db) unavailable, not starting: {}", store_error);
    return kExitFailure;
  }

  engine::EngineConfig engine_config;
  CommandQueue queue(config.queue_capacity);
  OrderStore orders;
  UserDirectory users;
  MarketView market;
  Metrics metrics;
  BatchWorker worker(engine_config, BatchWorkerOptions{config.batch_size, config.batch_timeout},
                     queue, orders, users, market, metrics);
  worker.set_store(store.get());

  // Rebuild users, orders, books and positions from the journal.
  auto replay_start = std::chrono::steady_clock::now();
  ReplaySummary replay = worker.replay(config.data_dir);
  double replay_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - replay_start).count();
  if (replay.journal.bytes_truncated > 0) {
    journal_log->warn("journal: cut a torn tail of {} bytes at {} offset {} ({})",
                      replay.journal.bytes_truncated, replay.journal.truncated_path.string(),
                      replay.journal.truncated_offset, replay.journal.truncation_reason);
  }
  if (!replay.error.empty()) {
    journal_log->error("not starting: journal replay: {}", replay.error);
    return kExitFailure;
  }
  journal_log->info(
      "journal replayed in {:.3f} s: {} records in {} segments, last sequence {}, "
      "{} users, {} orders, {} cancels",
      replay_s, replay.journal.records, replay.journal.segments, replay.journal.last_sequence,
      replay.users, replay.orders, replay.cancels);
  if (store) {
    // A store ahead of the journal contains another journal's rows: new rows would be skipped as
    // already written, or mixed with the old ones.
    std::uint64_t written = store->last_written_sequence();
    if (written > replay.journal.last_sequence) {
      get_logger("store")->error(
          "the database has rows up to journal sequence {}, but the journal in {} ends at {}; "
          "not starting. Use the data dir that wrote this database, or another database",
          written, config.data_dir.string(), replay.journal.last_sequence);
      return kExitFailure;
    }
    // Replayed records are on disk; later ones reach the store once the journal syncs them.
    store->set_durable_sequence(replay.journal.last_sequence);
    get_logger("store")->info(
        "sending the rows of {} journal records after sequence {} to PostgreSQL",
        replay.store_records, written);
  }

  std::unique_ptr<StatePublisher> publisher;
  std::unique_ptr<RedisEngine> redis_engine;
  if (engine_role) {
    publisher = std::make_unique<StatePublisher>(*queue_url);
    worker.set_state_sink(publisher.get());
    redis_engine =
        std::make_unique<RedisEngine>(*queue_url, queue, orders, users, market, worker, *publisher);
  }

  Api api(config, worker.engine_config(), *signer, queue, orders, users, market, metrics, worker);
  api.set_next_order_id(replay.next_order_id);
  api.set_status_source(redis_engine.get());
  HttpServer http(config, api, worker.engine_config());
  std::string bind_error = http.bind();
  if (!bind_error.empty()) {
    get_logger("http")->error("{}", bind_error);
    return kExitFailure;
  }

  journal::JournalOptions journal_options;
  journal_options.fsync = config.journal_fsync;
  CompletionSink completions = engine_role
                                   ? RedisEngine::completion_sink()
                                   : CompletionSink([&http](std::vector<Completion>&& done) {
                                       http.deliver(std::move(done));
                                     });
  std::string start_error = worker.start(config.data_dir, journal_options, std::move(completions));
  if (!start_error.empty()) {
    journal_log->error("journal open failed: {}", start_error);
    return kExitFailure;
  }
  // Taken once the journal writer holds the data dir's lock, so that a lease naming this data
  // dir's engine id can only belong to an earlier run of this engine.
  std::unique_ptr<EngineLease> lease;
  if (redis_engine) {
    lease = std::make_unique<EngineLease>(EngineLeaseOptions{*queue_url, config.data_dir});
    std::string lease_error = lease->acquire([](const std::string&) {
      get_logger("redis")->error("stopping: this engine no longer holds the engine lease");
      ::kill(::getpid(), SIGTERM);
    });
    if (!lease_error.empty()) {
      get_logger("redis")->error("not starting: {}", lease_error);
      queue.close();
      (void)worker.stop();
      return kExitFailure;
    }
  }
  if (redis_engine) {
    std::string redis_error = redis_engine->start();
    if (!redis_error.empty()) {
      get_logger("redis")->error("order streams unavailable, not starting: {}", redis_error);
      queue.close();
      (void)worker.stop();
      return kExitFailure;
    }
    get_logger("redis")->info("engine reading the order streams at {}", queue_url->redacted());
  }
  http.start();
  log->info(
      "listening on {}:{}, data dir {}, ack {}, journal fsync {}, {} I/O threads, batch size {}, "
      "batch timeout {} us, queue capacity {}",
      config.host, http.port(), config.data_dir.string(), ack_name(config.ack),
      config.journal_fsync ? "on" : "off", http.thread_count(), config.batch_size,
      config.batch_timeout.count(), config.queue_capacity);

  // Serve until a stop signal; report a journal failure once when it happens.
  bool journal_failure_logged = false;
  int signal_number = wait_for_stop_signal(stop_signals, [&] {
    if (!journal_failure_logged && worker.journal_failed()) {
      journal_failure_logged = true;
      journal_log->error("journal failed, the server rejects every write from now on: {}",
                         worker.journal_error());
    }
  });

  // Stop in dependency order: no new connections, no new commands, drain and sync, then close
  // the connections once their replies are out.
  log->info("received {}, stopping: draining {} queued orders",
            signal_number == SIGINT ? "SIGINT" : "SIGTERM", queue.depth_weight());
  auto stop_start = std::chrono::steady_clock::now();
  http.stop_accepting();
  if (redis_engine) redis_engine->stop_reading();
  queue.close();
  std::string journal_error = worker.stop();
  // The state goes out first: a batch is acknowledged only once its state is in Redis.
  if (publisher) publisher->stop(kStatePublishTimeout);
  if (redis_engine) redis_engine->acknowledge_durable_batches();
  if (lease) lease->release();
  http.shutdown(kShutdownGrace);
  api.stop_password_pool();
  if (store) (void)store->close(kStoreCloseTimeout);

  journal::JournalStats stats = worker.journal_stats();
  double stop_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - stop_start).count();
  if (!journal_error.empty()) {
    journal_log->error("journal close failed, recent records may be lost: {}", journal_error);
    return kExitFailure;
  }
  log->info("stopped in {:.3f} s: {} orders queued, {} journal records, {} fsyncs", stop_s,
            metrics.orders_queued.load(), stats.records_written, stats.fsync_count);
  spdlog::shutdown();
  return kExitOk;
}

}  // namespace hft::gateway
