#include "gateway/api.h"

#include <fmt/compile.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <charconv>
#include <ctime>
#include <iterator>

#include "common/json_writer.h"
#include "engine/decimal.h"
#include "gateway/http_response.h"
#include "gateway/password_hash.h"

namespace hft::gateway {

namespace http = boost::beast::http;
namespace ondemand = simdjson::ondemand;

namespace {

constexpr int kRetryAfterS = 1;
constexpr std::size_t kDefaultListLimit = 100;
constexpr std::size_t kMaxListLimit = 1000;
// GET /api/orders with a status filter looks at no more than this many of the newest orders.
constexpr std::size_t kMaxListScan = 100'000;
constexpr std::size_t kDefaultBookLevels = 10;
constexpr std::size_t kMaxUsernameBytes = 64;
constexpr std::size_t kMaxEmailBytes = 254;
constexpr std::size_t kMaxPasswordBytes = 1024;

std::shared_ptr<spdlog::logger> logger(const char* name) {
  auto found = spdlog::get(name);
  return found ? found : spdlog::default_logger();
}

std::int64_t unix_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Appends `unix_ns` as an ISO 8601 UTC time with microseconds ("2024-05-01T12:00:00.123456Z").
void append_timestamp(std::string& out, std::int64_t unix_ns) {
  thread_local std::int64_t cached_second = -1;
  thread_local char cached_prefix[24];
  std::int64_t second = unix_ns / 1'000'000'000;
  if (second != cached_second) {
    std::time_t time = static_cast<std::time_t>(second);
    std::tm utc{};
    gmtime_r(&time, &utc);
    std::strftime(cached_prefix, sizeof(cached_prefix), "%Y-%m-%dT%H:%M:%S", &utc);
    cached_second = second;
  }
  fmt::format_to(std::back_inserter(out), FMT_COMPILE("\"{}.{:06}Z\""), cached_prefix,
                 (unix_ns % 1'000'000'000) / 1000);
}

template <typename Integer>
bool parse_integer(std::string_view text, Integer& value) {
  if (text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size();
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes application/x-www-form-urlencoded text ('+' is a space, %XX a byte).
std::string url_decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out.push_back(' ');
    } else if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 &&
               hex_digit(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

// The decoded value of `name` in a query string or form body; nullopt when absent.
std::optional<std::string> form_value(std::string_view form, std::string_view name) {
  while (!form.empty()) {
    auto amp = form.find('&');
    std::string_view pair = form.substr(0, amp);
    auto equals = pair.find('=');
    if (url_decode(pair.substr(0, equals)) == name) {
      return equals == std::string_view::npos ? std::string() : url_decode(pair.substr(equals + 1));
    }
    if (amp == std::string_view::npos) break;
    form.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

// Reads the string members of a flat JSON object. Returns an error detail, empty on success;
// `status` is 400 for malformed JSON and 422 for a member of the wrong type.
struct CredentialFields {
  std::optional<std::string> username;
  std::optional<std::string> email;
  std::optional<std::string> password;
};

std::string read_credentials(ondemand::parser& parser, const std::string& body,
                             std::size_t max_depth, CredentialFields& fields, int& status) {
  status = 400;
  ondemand::document document;
  ondemand::object object;
  if (auto error = open_json_object(parser, body, body.capacity(), max_depth, document, object)) {
    return std::move(error->detail);
  }

  auto invalid_json = [](simdjson::error_code error) {
    return fmt::format("body: not valid JSON ({})", simdjson::error_message(error));
  };
  for (auto field_result : object) {
    ondemand::field field;
    std::string_view key;
    if (auto error = std::move(field_result).get(field)) return invalid_json(error);
    if (auto error = field.unescaped_key().get(key)) return invalid_json(error);
    std::optional<std::string>* target = key == "username"   ? &fields.username
                                         : key == "email"    ? &fields.email
                                         : key == "password" ? &fields.password
                                                             : nullptr;
    if (target == nullptr) continue;
    if (target->has_value()) {
      status = 422;
      return fmt::format("{}: duplicate field, send each field once", key);
    }
    ondemand::value value = field.value();
    ondemand::json_type type;
    if (auto error = value.type().get(type)) return invalid_json(error);
    if (type != ondemand::json_type::string) {
      status = 422;
      std::string_view shown = type == ondemand::json_type::object  ? "an object"
                               : type == ondemand::json_type::array ? "an array"
                                                                    : value.raw_json_token();
      return fmt::format("{}: {} must be a string", key, shown.substr(0, 40));
    }
    std::string_view text;
    if (auto error = value.get_string().get(text)) return invalid_json(error);
    *target = std::string(text);
  }
  if (auto error = check_json_end(document, body)) return std::move(error->detail);
  return {};
}

bool valid_username(std::string_view name) {
  if (name.empty() || name.size() > kMaxUsernameBytes) return false;
  for (char c : name) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

Api::Api(const ServerConfig& config, const engine::EngineConfig& engine_config, TokenSigner signer,
         CommandQueue& queue, OrderStore& orders, UserDirectory& users, MarketView& market,
         Metrics& metrics, BatchWorker& worker)
    : config_(config),
      engine_config_(engine_config),
      signer_(signer),
      queue_(queue),
      orders_(orders),
      users_(users),
      market_(market),
      metrics_(metrics),
      worker_(worker),
      started_(std::chrono::steady_clock::now()),
      password_pool_(std::make_unique<boost::asio::thread_pool>(
          std::max<std::size_t>(1, config.password_threads))) {}

Api::~Api() { stop_password_pool(); }

void Api::stop_password_pool() {
  if (!password_pool_) return;
  password_pool_->join();
  password_pool_.reset();
}

// ---------------------------------------------------------------------------------------------
// Routing

void Api::handle(HttpRequest& request, Connection& connection) {
  metrics_.http_requests.fetch_add(1, std::memory_order_relaxed);
  std::string_view path = request.path();
  http::verb method = request.method;

  if (path == "/health") {
    if (method != http::verb::get)
      return reply_error(connection, request, 405, "method_not_allowed", "GET /health only");
    return handle_health(request, connection);
  }
  if (path == "/metrics") {
    if (method != http::verb::get)
      return reply_error(connection, request, 405, "method_not_allowed", "GET /metrics only");
    return handle_metrics(request, connection);
  }
  if (config_.role == ServerRole::kEngine) {
    return reply_error(connection, request, 404, "wrong_role",
                       "this process runs --role engine and serves only /health and /metrics; "
                       "send API requests to a gateway (--role gateway)");
  }
  if (path == "/api/auth/register" || path == "/api/auth/login") {
    if (method != http::verb::post) {
      return reply_error(connection, request, 405, "method_not_allowed",
                         fmt::format("{}: POST only", path));
    }
    if (path == "/api/auth/register") return handle_register(request, connection);
    return handle_login(request, connection);
  }

  constexpr std::string_view kOrders = "/api/orders";
  constexpr std::string_view kBook = "/api/book/";
  bool is_orders = path == kOrders || path == "/api/orders/";
  bool is_order_item = path.size() > kOrders.size() + 1 && path.starts_with("/api/orders/");
  bool is_batch = path == "/api/orders/batch";
  bool is_book = path.size() > kBook.size() && path.starts_with(kBook);
  bool is_positions = path == "/api/positions";
  bool is_portfolio = path == "/api/portfolio";
  if (!is_orders && !is_order_item && !is_book && !is_positions && !is_portfolio) {
    return reply_error(connection, request, 404, "not_found",
                       fmt::format("path: no endpoint at {}", path.substr(0, 100)));
  }

  if (is_book) {
    if (method != http::verb::get) {
      return reply_error(connection, request, 405, "method_not_allowed",
                         "GET /api/book/{symbol} only");
    }
    return handle_book(request, connection, path.substr(kBook.size()));
  }

  Caller caller;
  if (!authenticate(request, connection, caller)) return;

  if (is_batch) {
    if (method != http::verb::post) {
      return reply_error(connection, request, 405, "method_not_allowed",
                         "POST /api/orders/batch only");
    }
    return handle_batch(request, connection, caller);
  }
  if (is_orders) {
    if (method == http::verb::post) return handle_new_order(request, connection, caller);
    if (method == http::verb::get) return handle_list_orders(request, connection, caller);
    return reply_error(connection, request, 405, "method_not_allowed",
                       "GET or POST /api/orders only");
  }
  if (is_order_item) {
    std::string_view id_text = path.substr(kOrders.size() + 1);
    if (method == http::verb::get) return handle_get_order(request, connection, caller, id_text);
    if (method == http::verb::delete_) return handle_cancel(request, connection, caller, id_text);
    return reply_error(connection, request, 405, "method_not_allowed",
                       "GET or DELETE /api/orders/{id} only");
  }
  if (method != http::verb::get) {
    return reply_error(connection, request, 405, "method_not_allowed",
                       fmt::format("GET {} only", path));
  }
  if (is_positions) return handle_positions(request, connection, caller);
  return handle_portfolio(request, connection, caller);
}

void Api::reject_unparsable(Connection& connection, const HttpParseError& error) {
  metrics_.http_requests.fetch_add(1, std::memory_order_relaxed);
  if (error.status == 413 || error.status == 431) metrics_.reject(GatewayReject::kTooLarge);
  append_error_reply(connection.reply_buffer(), error.status, error.error, error.detail,
                     connection.thread().date(), ReplyOptions(false));
}

// ---------------------------------------------------------------------------------------------
// Replies

void Api::reply(Connection& connection, const HttpRequest& request, int status,
                std::string_view body) {
  append_reply(connection.reply_buffer(), status, body, connection.thread().date(),
               ReplyOptions(request.keep_alive));
}

void Api::reply_error(Connection& connection, const HttpRequest& request, int status,
                      std::string_view error, std::string_view detail, int retry_after_s) {
  append_error_reply(connection.reply_buffer(), status, error, detail, connection.thread().date(),
                     ReplyOptions(request.keep_alive, retry_after_s));
}

std::string Api::format_error_reply(int status, std::string_view error, std::string_view detail,
                                    bool keep_alive, const std::string& date,
                                    int retry_after_s) const {
  std::string out;
  append_error_reply(out, status, error, detail, date, ReplyOptions(keep_alive, retry_after_s));
  return out;
}

void Api::append_order_json(std::string& out, const OrderRecord& record) const {
  append_order_json(out, record, engine_config_.instrument_for(record.request.symbol));
}

void Api::append_order_json(std::string& out, const OrderRecord& record,
                            const engine::Instrument& instrument) const {
  const OrderRequest& request = record.request;
  auto sink = std::back_inserter(out);

  fmt::format_to(sink, FMT_COMPILE("{{\"id\":{},\"client_order_id\":"), record.id.value);
  if (request.client_order_id.empty()) {
    out += "null";
  } else {
    JsonWriter::append_quoted(out, request.client_order_id.view());
  }
  fmt::format_to(
      sink, FMT_COMPILE(",\"symbol\":\"{}\",\"side\":\"{}\",\"order_type\":\"{}\",\"price\":"),
      request.symbol.view(), engine::to_string(request.side), engine::to_string(request.type));
  if (request.price.ticks == 0) {
    out += "null";
  } else {
    out += engine::format_price(request.price, instrument);
  }
  fmt::format_to(sink, FMT_COMPILE(",\"quantity\":{},\"filled_quantity\":{},\"average_price\":"),
                 engine::format_quantity(request.quantity, instrument),
                 engine::format_quantity(record.filled, instrument));
  if (record.filled.lots == 0) {
    out += "null";
  } else {
    out += engine::format_average_price(record.filled_notional, record.filled, instrument);
  }
  fmt::format_to(sink, FMT_COMPILE(",\"status\":\"{}\",\"created_at\":"), to_string(record.status));
  append_timestamp(out, record.created_unix_ns);
  if (record.status == ApiOrderStatus::kRejected) {
    fmt::format_to(sink, FMT_COMPILE(",\"reject_reason\":\"{}\""),
                   engine::to_string(record.reject_reason));
  }
  out += '}';
}

std::string Api::token_reply_body(engine::UserId user) const {
  std::int64_t expires = std::time(nullptr) + config_.token_ttl_s;
  JsonWriter writer;
  writer.begin_object()
      .member("user_id", user.value)
      .member("access_token", signer_.issue(user.value, expires))
      .member("token_type", "bearer")
      .member("expires_in", config_.token_ttl_s)
      .end_object();
  return writer.take();
}

std::string Api::finish_deferred(DeferredReply& reply, Completion& completion, IoThread& thread) {
  // A shared queue that could not publish the command sends its own error reply.
  // NOTE: counted once per command, so a rejected batch of orders counts as one.
  if (!completion.durable && !completion.prepared_reply.empty()) {
    metrics_.reject(GatewayReject::kQueueUnavailable);
    return std::move(completion.prepared_reply);
  }
  if (!completion.durable) {
    metrics_.reject(GatewayReject::kJournalFailed);
    return format_error_reply(503, "journal_failed",
                              "journal: write or fsync failed, so the request is not durable; "
                              "the server accepts no more writes",
                              reply.keep_alive, thread.date(), kRetryAfterS);
  }
  if (reply.kind == DeferredKind::kPrepared) {
    return completion.prepared_reply.empty() ? std::move(reply.prepared)
                                             : std::move(completion.prepared_reply);
  }

  // A cancel: report the order as it is now, or why the engine did not cancel it.
  auto record = orders_.find(engine::OrderId{reply.order_id});
  std::string out;
  if (!completion.applied || !record) {
    std::string detail =
        fmt::format("order {}: not cancelled ({}); it is {}", reply.order_id,
                    engine::to_string(completion.reason),
                    record ? to_string(record->status) : std::string_view("unknown"));
    append_error_reply(out, 409, "not_cancellable", detail, thread.date(),
                       ReplyOptions(reply.keep_alive));
    return out;
  }
  std::string& body = thread.scratch;
  body.clear();
  append_order_json(body, *record);
  append_reply(out, 200, body, thread.date(), ReplyOptions(reply.keep_alive));
  return out;
}

// ---------------------------------------------------------------------------------------------
// Authentication

bool Api::authenticate(const HttpRequest& request, Connection& connection, Caller& caller) {
  std::string_view header = request.authorization;
  constexpr std::string_view kBearer = "Bearer ";
  if (header.size() <= kBearer.size() ||
      !(header.starts_with(kBearer) || header.starts_with("bearer "))) {
    metrics_.reject(GatewayReject::kUnauthorized);
    reply_error(connection, request, 401, "unauthorized",
                header.empty() ? "Authorization: missing; send \"Bearer <access_token>\""
                               : "Authorization: expected \"Bearer <access_token>\"");
    return false;
  }
  std::string_view token = header.substr(kBearer.size());
  std::int64_t now_s = std::time(nullptr);

  IoThread& thread = connection.thread();
  const TokenCache::Entry* cached = thread.tokens.find(token);
  TokenCache::Entry entry;
  if (cached != nullptr) {
    entry = *cached;
    if (entry.expires_unix_s <= now_s) {
      metrics_.reject(GatewayReject::kUnauthorized);
      reply_error(connection, request, 401, "unauthorized", "access_token: expired; log in again");
      return false;
    }
  } else {
    TokenSigner::Claims claims;
    auto outcome = signer_.verify(token, now_s, claims);
    if (outcome != TokenSigner::Outcome::kValid) {
      metrics_.reject(GatewayReject::kUnauthorized);
      reply_error(connection, request, 401, "unauthorized",
                  outcome == TokenSigner::Outcome::kExpired
                      ? "access_token: expired; log in again"
                      : "access_token: invalid signature or format");
      return false;
    }
    entry = {claims.user_id, claims.expires_unix_s};
    thread.tokens.add(token, entry);
  }

  // Another gateway may have registered the user; the token's signature proves it was issued.
  // A Redis failure does not show that the token is invalid, so it gets 503, never 401.
  bool known = users_.find(engine::UserId{entry.user_id}) != nullptr;
  if (!known && shared_queue_ != nullptr) {
    LoadUserResult loaded = shared_queue_->load_user(engine::UserId{entry.user_id});
    if (loaded.status != AccountStatus::kOk && loaded.status != AccountStatus::kNotFound) {
      metrics_.reject(GatewayReject::kAccountStoreUnavailable);
      reply_error(
          connection, request, 503, "unavailable",
          fmt::format("access_token: user {} could not be loaded because the shared "
                      "account store (Redis) {}; retry later",
                      entry.user_id,
                      loaded.status == AccountStatus::kUnreachable ? "is unreachable" : "failed"),
          kRetryAfterS);
      return false;
    }
    known = loaded.status == AccountStatus::kOk;
  }
  if (!known) {
    metrics_.reject(GatewayReject::kUnauthorized);
    reply_error(connection, request, 401, "unauthorized",
                fmt::format("access_token: user {} does not exist", entry.user_id));
    return false;
  }
  caller.user = engine::UserId{entry.user_id};
  return true;
}

// ---------------------------------------------------------------------------------------------
// Health and metrics

void Api::handle_health(const HttpRequest& request, Connection& connection) {
  // A gateway has no batch worker or journal: its health is that of its Redis links.
  bool alive = shared_queue_ != nullptr || worker_.alive();
  bool journal_ok = !worker_.journal_failed();
  bool healthy = alive && journal_ok && (status_source_ == nullptr || status_source_->healthy());
  auto uptime = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_);

  JsonWriter writer;
  writer.begin_object().member("status", healthy ? "healthy" : "unhealthy");
  if (shared_queue_ == nullptr) {
    writer.member("queue_depth", static_cast<std::uint64_t>(queue_.depth_weight()))
        .member("queue_capacity", static_cast<std::uint64_t>(queue_.capacity_weight()))
        .member("batch_worker_alive", alive)
        .member("journal_ok", journal_ok)
        .member("ack_mode", config_.ack == AckMode::kDurable ? "durable" : "queued");
  }
  if (status_source_ != nullptr) status_source_->append_health(writer);
  // The sink does not change the status: its rows wait in the journal while PostgreSQL is away.
  if (const store::StoreWriter* store = worker_.store()) {
    writer.member("db_connected", store->stats().connected)
        .member("db_lag", store->lag(worker_.last_journal_sequence()));
  }
  writer.key("uptime_s").value(uptime.count(), 3).end_object();
  reply(connection, request, healthy ? 200 : 503, writer.str());
}

void Api::handle_metrics(const HttpRequest& request, Connection& connection) {
  std::string out;
  auto sink = std::back_inserter(out);
  auto counter = [&](std::string_view name, std::string_view help, auto value) {
    fmt::format_to(sink, "# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, value);
  };
  auto gauge = [&](std::string_view name, std::string_view help, auto value) {
    fmt::format_to(sink, "# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, value);
  };
  auto load = [](const auto& atomic) { return atomic.load(std::memory_order_relaxed); };

  counter("hft_http_requests_total", "HTTP requests received.", load(metrics_.http_requests));
  counter("hft_connections_accepted_total", "TCP connections accepted.",
          load(metrics_.connections_accepted));
  gauge("hft_connections_open", "TCP connections open now.", load(metrics_.connections_open));
  counter("hft_connections_timed_out_total", "Connections closed by the idle or request timeout.",
          load(metrics_.connections_timed_out));
  counter("hft_orders_received_total", "Orders received by the API, valid or not.",
          load(metrics_.orders_received));
  counter("hft_orders_queued_total", "Orders acknowledged into the queue.",
          load(metrics_.orders_queued));
  counter("hft_orders_accepted_total", "Orders accepted by the matching engine.",
          load(metrics_.orders_accepted));

  out +=
      "# HELP hft_orders_rejected_total Orders and requests rejected, by reason.\n"
      "# TYPE hft_orders_rejected_total counter\n";
  for (std::size_t i = 0; i < metrics_.gateway_rejects.size(); ++i) {
    fmt::format_to(sink, "hft_orders_rejected_total{{stage=\"gateway\",reason=\"{}\"}} {}\n",
                   to_string(static_cast<GatewayReject>(i)), load(metrics_.gateway_rejects[i]));
  }
  for (std::size_t i = 0; i < metrics_.engine_rejects.size(); ++i) {
    fmt::format_to(sink, "hft_orders_rejected_total{{stage=\"engine\",reason=\"{}\"}} {}\n",
                   engine::to_string(static_cast<engine::RejectReason>(i)),
                   load(metrics_.engine_rejects[i]));
  }

  counter("hft_trades_total", "Trades executed by the matching engine.", load(metrics_.trades));
  counter("hft_cancels_requested_total", "Cancel requests queued.",
          load(metrics_.cancels_requested));

  ReplyOptions options(request.keep_alive);
  options.content_type = "text/plain; version=0.0.4";
  if (shared_queue_ != nullptr) {
    // A gateway has no in-process queue, batch worker, engine or journal to report.
    if (status_source_ != nullptr) status_source_->append_metrics(out);
    append_reply(connection.reply_buffer(), 200, out, connection.thread().date(), options);
    return;
  }

  queue::QueueStats queue = queue_.stats();
  gauge("hft_queue_depth", "Orders and commands waiting in the queue.", queue.depth_weight);
  gauge("hft_queue_capacity", "Queue capacity in orders.", queue.capacity_weight);
  counter("hft_queue_full_total", "Pushes rejected because the queue was full.",
          queue.rejected_full);
  counter("hft_batches_total", "Batches processed by the batch worker.", load(metrics_.batches));
  metrics_.batch_orders.render(out, "hft_batch_orders", "Orders per worker batch.");
  metrics_.matching_seconds.render(out, "hft_matching_seconds",
                                   "Matching engine time per worker batch.");
  metrics_.durable_ack_seconds.render(
      out, "hft_queue_to_durable_seconds",
      "Time from queueing the oldest command of a batch to the journal commit that covers it.");

  engine::EngineStats engine = worker_.engine_stats();
  gauge("hft_engine_resting_orders", "Orders resting in the books.", engine.resting_orders);
  gauge("hft_engine_symbols", "Symbols with a book.", engine.symbols);
  gauge("hft_orders_stored", "Orders held in the order store.", orders_.size());
  gauge("hft_users", "Registered users.", users_.size());
  gauge("hft_batch_worker_alive", "1 while the batch worker runs.", worker_.alive() ? 1 : 0);

  journal::JournalStats journal = worker_.journal_stats();
  counter("hft_journal_records_total", "Records written to the journal.", journal.records_written);
  counter("hft_journal_bytes_total", "Bytes written to the journal.", journal.bytes_written);
  counter("hft_journal_commits_total", "Journal commits.", journal.commits);
  counter("hft_journal_write_groups_total", "Groups of commits written and synced together.",
          journal.write_groups);
  out +=
      "# HELP hft_journal_fsync_seconds Journal fdatasync latency.\n"
      "# TYPE hft_journal_fsync_seconds histogram\n";
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < journal::kFsyncBucketUpperUs.size(); ++i) {
    cumulative += journal.fsync_latency_buckets[i];
    fmt::format_to(sink, "hft_journal_fsync_seconds_bucket{{le=\"{}\"}} {}\n",
                   static_cast<double>(journal::kFsyncBucketUpperUs[i]) * 1e-6, cumulative);
  }
  cumulative += journal.fsync_latency_buckets.back();
  fmt::format_to(sink, "hft_journal_fsync_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
  fmt::format_to(sink, "hft_journal_fsync_seconds_sum {}\nhft_journal_fsync_seconds_count {}\n",
                 static_cast<double>(journal.fsync_total_ns) * 1e-9, journal.fsync_count);
  gauge("hft_journal_fsync_max_seconds", "Slowest journal fdatasync so far.",
        static_cast<double>(journal.fsync_max_ns) * 1e-9);
  gauge("hft_journal_failed", "1 after a journal write or fsync failure.",
        worker_.journal_failed() ? 1 : 0);

  if (const store::StoreWriter* store = worker_.store()) {
    store::WriterStats db = store->stats();
    gauge("hft_db_connected", "1 while the PostgreSQL sink has a working connection.",
          db.connected ? 1 : 0);
    gauge("hft_db_lag", "Journal records whose rows are not yet committed in PostgreSQL.",
          store->lag(worker_.last_journal_sequence()));
    gauge("hft_db_written_sequence", "Journal sequence up to which PostgreSQL has every row.",
          db.last_written_sequence);
    gauge("hft_db_queued_rows", "Rows waiting for the PostgreSQL writer.", db.queued_rows);
    counter("hft_db_rows_written_total", "Rows committed to PostgreSQL.", db.rows_written);
    counter("hft_db_transactions_total", "PostgreSQL transactions committed.", db.transactions);
    counter("hft_db_failed_transactions_total", "PostgreSQL transactions that failed.",
            db.failed_transactions);
    counter("hft_db_reconnects_total", "Reconnections to PostgreSQL.", db.reconnects);
    counter("hft_db_queue_full_waits_total",
            "Waits of the batch worker for space in the PostgreSQL writer's queue.",
            load(metrics_.db_queue_full_waits));
  }

  if (status_source_ != nullptr) status_source_->append_metrics(out);
  append_reply(connection.reply_buffer(), 200, out, connection.thread().date(), options);
}

// ---------------------------------------------------------------------------------------------
// Accounts

void Api::handle_register(const HttpRequest& request, Connection& connection) {
  CredentialFields fields;
  int status = 400;
  std::string detail = read_credentials(connection.thread().json, request.body,
                                        config_.max_json_depth, fields, status);
  if (!detail.empty()) {
    metrics_.reject(status == 400 ? GatewayReject::kInvalidJson : GatewayReject::kInvalidField);
    return reply_error(connection, request, status,
                       status == 400 ? "invalid_json" : "invalid_field", detail);
  }

  auto invalid = [&](std::string message) {
    metrics_.reject(GatewayReject::kInvalidField);
    reply_error(connection, request, 422, "invalid_field", message);
  };
  if (!fields.username) return invalid("username: missing");
  if (!valid_username(*fields.username)) {
    return invalid(fmt::format("username: \"{}\" must be 1-{} printable characters without spaces",
                               fields.username->substr(0, 80), kMaxUsernameBytes));
  }
  if (!fields.email) return invalid("email: missing");
  if (fields.email->size() > kMaxEmailBytes || fields.email->find('@') == std::string::npos) {
    return invalid(
        fmt::format("email: \"{}\" is not an email address", fields.email->substr(0, 80)));
  }
  if (!fields.password || fields.password->empty()) return invalid("password: missing");
  if (fields.password->size() > kMaxPasswordBytes) {
    return invalid(fmt::format("password: longer than {} bytes", kMaxPasswordBytes));
  }
  if (users_.name_taken(*fields.username)) {
    return reply_error(connection, request, 409, "username_taken",
                       fmt::format("username: \"{}\" is already registered", *fields.username));
  }

  // Hashing takes tens of milliseconds, so it runs on the password pool and the reply waits in
  // a slot.
  std::uint64_t slot =
      connection.defer_reply(DeferredReply::prepared_reply(request.keep_alive, {}));
  boost::asio::post(
      *password_pool_,
      [this, connection = connection.shared_from_this(), slot, keep_alive = request.keep_alive,
       username = std::move(*fields.username), email = std::move(*fields.email),
       password = std::move(*fields.password)]() mutable {
        finish_registration(std::move(connection), slot, keep_alive, std::move(username),
                            std::move(email), std::move(password));
      });
}

void Api::finish_registration(std::shared_ptr<Connection> connection, std::uint64_t slot,
                              bool keep_alive, std::string username, std::string email,
                              std::string password) {
  // IoThread::date() belongs to the I/O thread, so the pool thread formats its own Date value.
  std::string date = http_date(std::time(nullptr));
  auto hash = hash_password(password);
  if (!hash) {
    logger("auth")->error("password hashing failed for a new user (out of memory?)");
    connection->post_resolve(
        slot, format_error_reply(500, "internal", "password: hashing failed", keep_alive, date));
    return;
  }
  if (shared_queue_ != nullptr) {
    return finish_shared_registration(std::move(connection), slot, keep_alive, std::move(username),
                                      std::move(email), std::move(*hash), date);
  }

  auto user = users_.reserve(username, email, *hash);
  if (!user) {
    connection->post_resolve(
        slot, format_error_reply(409, "username_taken",
                                 fmt::format("username: \"{}\" is already registered", username),
                                 keep_alive, date));
    return;
  }

  std::string body = token_reply_body(*user);
  std::string prepared;
  append_reply(prepared, 201, body, date, ReplyOptions(keep_alive));

  Command command;
  command.kind = CommandKind::kRegisterUser;
  command.user = *user;
  command.username = std::move(username);
  command.email = std::move(email);
  command.password_hash = std::move(*hash);
  command.enqueued_steady_ns = steady_now_ns();
  bool durable = config_.ack == AckMode::kDurable;
  if (durable) {
    command.reply_target = connection;
    command.reply_slot = slot;
    command.prepared_reply = prepared;
  }

  auto result = worker_.journal_failed() ? queue::PushResult::kClosed
                                         : queue_.try_push(std::move(command), 1);
  if (result != queue::PushResult::kOk) {
    users_.release_reservation(*user);
    metrics_.reject(result == queue::PushResult::kFull ? GatewayReject::kQueueFull
                                                       : GatewayReject::kShuttingDown);
    connection->post_resolve(
        slot,
        format_error_reply(503, result == queue::PushResult::kFull ? "queue_full" : "unavailable",
                           "registration: the server is busy or stopping; retry later", keep_alive,
                           date, kRetryAfterS));
    return;
  }
  logger("auth")->debug("user {} registered", user->value);
  if (!durable) connection->post_resolve(slot, std::move(prepared));
}

void Api::handle_login(const HttpRequest& request, Connection& connection) {
  CredentialFields fields;
  std::string_view body = request.body;
  std::size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && body[first] != '{') {
    // An OAuth2-style form login: username=...&password=...
    fields.username = form_value(body, "username");
    fields.password = form_value(body, "password");
  } else {
    int status = 400;
    std::string detail = read_credentials(connection.thread().json, request.body,
                                          config_.max_json_depth, fields, status);
    if (!detail.empty()) {
      metrics_.reject(status == 400 ? GatewayReject::kInvalidJson : GatewayReject::kInvalidField);
      return reply_error(connection, request, status,
                         status == 400 ? "invalid_json" : "invalid_field", detail);
    }
  }
  if (!fields.username) {
    metrics_.reject(GatewayReject::kInvalidField);
    return reply_error(connection, request, 422, "invalid_field", "username: missing");
  }
  if (!fields.password) {
    metrics_.reject(GatewayReject::kInvalidField);
    return reply_error(connection, request, 422, "invalid_field", "password: missing");
  }

  std::uint64_t slot =
      connection.defer_reply(DeferredReply::prepared_reply(request.keep_alive, {}));
  boost::asio::post(*password_pool_, [this, connection = connection.shared_from_this(), slot,
                                      keep_alive = request.keep_alive,
                                      username = std::move(*fields.username),
                                      password = std::move(*fields.password)]() mutable {
    finish_login(std::move(connection), slot, keep_alive, std::move(username), std::move(password));
  });
}

void Api::finish_login(std::shared_ptr<Connection> connection, std::uint64_t slot, bool keep_alive,
                       std::string username, std::string password) {
  std::string date = http_date(std::time(nullptr));
  const Account* account = users_.find_by_name(username);
  if (account == nullptr && shared_queue_ != nullptr) {
    LoadUserResult loaded = shared_queue_->load_user(username);
    if (loaded.status != AccountStatus::kOk && loaded.status != AccountStatus::kNotFound) {
      metrics_.reject(GatewayReject::kAccountStoreUnavailable);
      connection->post_resolve(
          slot, format_error_reply(503, "unavailable",
                                   loaded.status == AccountStatus::kUnreachable
                                       ? "login: the shared account store (Redis) is "
                                         "unreachable; retry later"
                                       : "login: loading the account from the shared account "
                                         "store (Redis) failed; retry later",
                                   keep_alive, date, kRetryAfterS));
      return;
    }
    account = loaded.account;
  }
  bool valid = false;
  if (account == nullptr) {
    burn_verify_time(password);
  } else {
    valid = verify_password(account->password_hash, password);
  }
  if (!valid) {
    metrics_.reject(GatewayReject::kUnauthorized);
    connection->post_resolve(
        slot, format_error_reply(401, "unauthorized", "username or password: incorrect", keep_alive,
                                 date));
    return;
  }

  std::string out;
  append_reply(out, 200, token_reply_body(account->id), date, ReplyOptions(keep_alive));
  connection->post_resolve(slot, std::move(out));
}

// ---------------------------------------------------------------------------------------------
// Orders

bool Api::enqueue(Command&& command, std::size_t weight, const HttpRequest& request,
                  Connection& connection, std::uint64_t& first_order_id) {
  if (shared_queue_ != nullptr) {
    return enqueue_shared(std::move(command), weight, request, connection, first_order_id);
  }
  if (worker_.journal_failed()) {
    metrics_.reject(GatewayReject::kJournalFailed, weight);
    reply_error(connection, request, 503, "journal_failed",
                "journal: a write or fsync failed, so the server accepts no more writes");
    return false;
  }

  command.enqueued_steady_ns = steady_now_ns();
  auto result = queue_.try_push(std::move(command), weight, [&](Command& queued) {
    // Runs under the queue lock, so ids increase in queue (and journal) order.
    first_order_id = next_order_id_;
    OrderRecord record;
    record.user = queued.user;
    for (NewOrderCommand& order : queued.orders) {
      order.id = engine::OrderId{next_order_id_++};
      record.id = order.id;
      record.request = order.request;
      record.created_unix_ns = order.created_unix_ns;
      (void)orders_.create(record);
    }
    users_.add_orders(queued.user, engine::OrderId{first_order_id}, queued.orders.size());
  });
  if (result == queue::PushResult::kOk) return true;

  if (result == queue::PushResult::kFull) {
    metrics_.reject(GatewayReject::kQueueFull, weight);
    reply_error(connection, request, 503, "queue_full",
                fmt::format("queue: full ({} orders waiting); retry after {} s",
                            queue_.depth_weight(), kRetryAfterS),
                kRetryAfterS);
  } else {
    metrics_.reject(GatewayReject::kShuttingDown, weight);
    reply_error(connection, request, 503, "unavailable", "server: shutting down", kRetryAfterS);
  }
  return false;
}

bool Api::enqueue_shared(Command&& command, std::size_t weight, const HttpRequest& request,
                         Connection& connection, std::uint64_t& first_order_id) {
  command.enqueued_steady_ns = steady_now_ns();
  SubmitResult result = shared_queue_->submit(std::move(command), request.keep_alive);
  if (result.status == SubmitStatus::kPublished) {
    first_order_id = result.first_order_id;
    return true;
  }
  bool full = result.status == SubmitStatus::kQueueFull;
  GatewayReject reason = GatewayReject::kShuttingDown;
  if (full) reason = GatewayReject::kQueueFull;
  if (result.status == SubmitStatus::kUnavailable) reason = GatewayReject::kQueueUnavailable;
  metrics_.reject(reason, weight);
  reply_error(connection, request, 503, full ? "queue_full" : "unavailable", result.detail,
              kRetryAfterS);
  return false;
}

void Api::finish_shared_registration(std::shared_ptr<Connection> connection, std::uint64_t slot,
                                     bool keep_alive, std::string username, std::string email,
                                     std::string password_hash, const std::string& date) {
  RegisterResult registered = shared_queue_->register_user(username, email, password_hash);
  if (registered.status == AccountStatus::kNameTaken) {
    connection->post_resolve(
        slot, format_error_reply(409, "username_taken",
                                 fmt::format("username: \"{}\" is already registered", username),
                                 keep_alive, date));
    return;
  }
  if (registered.status != AccountStatus::kOk) {
    logger("auth")->error("registering user \"{}\" in Redis failed: {}", username,
                          registered.error);
    std::string_view detail =
        "registration: storing the account in the shared account store "
        "(Redis) failed; retry later";
    if (registered.status == AccountStatus::kUnreachable) {
      detail = "registration: the shared account store (Redis) is unreachable; retry later";
    } else if (registered.status == AccountStatus::kFull) {
      detail =
          "registration: the shared account store (Redis) is full (maxmemory reached); "
          "retry later";
    }
    connection->post_resolve(
        slot, format_error_reply(503, "unavailable", detail, keep_alive, date, kRetryAfterS));
    return;
  }

  // The registration also travels through the order stream, so the engine journals the user.
  Command command;
  command.kind = CommandKind::kRegisterUser;
  command.user = registered.user;
  command.username = std::move(username);
  command.email = std::move(email);
  command.password_hash = std::move(password_hash);
  command.enqueued_steady_ns = steady_now_ns();
  command.reply_target = connection;
  command.reply_slot = slot;
  append_reply(command.prepared_reply, 201, token_reply_body(registered.user), date,
               ReplyOptions(keep_alive));
  SubmitResult result = shared_queue_->submit(std::move(command), keep_alive);
  if (result.status != SubmitStatus::kPublished) {
    // NOTE: the account stays in the shared directory, so the user can log in later, but the
    // engine never journals it and --db writes no users row for it.
    connection->post_resolve(slot, format_error_reply(503, "unavailable", result.detail, keep_alive,
                                                      date, kRetryAfterS));
  }
}

void Api::handle_new_order(const HttpRequest& request, Connection& connection, Caller caller) {
  metrics_.orders_received.fetch_add(1, std::memory_order_relaxed);
  IoThread& thread = connection.thread();

  Command command;
  command.kind = CommandKind::kNewOrders;
  command.user = caller.user;
  NewOrderCommand& order = command.orders.emplace_back();
  RequestError error;
  if (!thread.orders_json.parse_order(request.body, request.body.capacity(), order.request,
                                      error)) {
    metrics_.reject(error.status == 400 ? GatewayReject::kInvalidJson
                                        : GatewayReject::kInvalidField);
    return reply_error(connection, request, error.status, error.error, error.detail);
  }
  order.created_unix_ns = unix_now_ns();

  OrderRecord record;
  record.user = caller.user;
  record.request = order.request;
  record.created_unix_ns = order.created_unix_ns;

  bool durable = config_.ack == AckMode::kDurable;
  if (durable) {
    command.reply_target = connection.shared_from_this();
    command.reply_slot = connection.next_slot();
  }
  std::uint64_t first_id = 0;
  if (!enqueue(std::move(command), 1, request, connection, first_id)) return;
  metrics_.orders_queued.fetch_add(1, std::memory_order_relaxed);
  record.id = engine::OrderId{first_id};

  std::string& body = thread.scratch;
  body.clear();
  append_order_json(body, record);
  if (!durable) return reply(connection, request, 201, body);

  std::string prepared;
  append_reply(prepared, 201, body, thread.date(), ReplyOptions(request.keep_alive));
  (void)connection.defer_reply(
      DeferredReply::prepared_reply(request.keep_alive, std::move(prepared)));
}

void Api::handle_batch(const HttpRequest& request, Connection& connection, Caller caller) {
  IoThread& thread = connection.thread();
  std::vector<BatchEntry>& entries = thread.batch_entries;
  RequestError error;
  if (!thread.orders_json.parse_batch(request.body, request.body.capacity(), entries, error)) {
    metrics_.reject(error.status == 400 ? GatewayReject::kInvalidJson
                                        : GatewayReject::kInvalidField);
    return reply_error(connection, request, error.status, error.error, error.detail);
  }
  metrics_.orders_received.fetch_add(entries.size(), std::memory_order_relaxed);

  Command command;
  command.kind = CommandKind::kNewOrders;
  command.user = caller.user;
  std::int64_t now_ns = unix_now_ns();
  for (const BatchEntry& entry : entries) {
    if (!entry.ok) continue;
    NewOrderCommand& order = command.orders.emplace_back();
    order.request = entry.order;
    order.created_unix_ns = now_ns;
  }
  std::size_t accepted = command.orders.size();
  std::size_t rejected = entries.size() - accepted;
  metrics_.reject(GatewayReject::kInvalidField, rejected);

  bool durable = config_.ack == AckMode::kDurable && accepted > 0;
  if (durable) {
    command.reply_target = connection.shared_from_this();
    command.reply_slot = connection.next_slot();
  }
  std::uint64_t next_id = 0;
  if (accepted > 0 && !enqueue(std::move(command), accepted, request, connection, next_id)) {
    return;
  }
  metrics_.orders_queued.fetch_add(accepted, std::memory_order_relaxed);

  std::string& body = thread.scratch;
  body.clear();
  fmt::format_to(std::back_inserter(body), "{{\"accepted\":{},\"rejected\":{},\"results\":[",
                 accepted, rejected);
  OrderRecord record;
  record.user = caller.user;
  record.created_unix_ns = now_ns;
  engine::Instrument instrument;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (i > 0) body += ',';
    const BatchEntry& entry = entries[i];
    if (entry.ok) {
      record.id = engine::OrderId{next_id++};
      record.request = entry.order;
      // Batches usually repeat a few symbols, so look the instrument up only on a change.
      if (!(instrument.symbol == entry.order.symbol)) {
        instrument = engine_config_.instrument_for(entry.order.symbol);
      }
      append_order_json(body, record, instrument);
      continue;
    }
    fmt::format_to(std::back_inserter(body), "{{\"index\":{},\"error\":", i);
    JsonWriter::append_quoted(body, entry.error.error);
    body += ",\"detail\":";
    JsonWriter::append_quoted(body, entry.error.detail);
    body += '}';
  }
  body += "]}";

  if (!durable) return reply(connection, request, 201, body);
  std::string prepared;
  append_reply(prepared, 201, body, thread.date(), ReplyOptions(request.keep_alive));
  (void)connection.defer_reply(
      DeferredReply::prepared_reply(request.keep_alive, std::move(prepared)));
}

std::optional<OrderRecord> Api::find_owned_order(const HttpRequest& request, Connection& connection,
                                                 Caller caller, std::string_view id_text) {
  std::uint64_t id = 0;
  if (!parse_integer(id_text, id)) {
    reply_error(connection, request, 404, "not_found",
                fmt::format("id: \"{}\" is not an order id", id_text.substr(0, 40)));
    return std::nullopt;
  }
  auto record = orders_.find(engine::OrderId{id});
  if (!record) {
    reply_error(connection, request, 404, "not_found", fmt::format("order {}: not found", id));
    return std::nullopt;
  }
  if (record->user != caller.user) {
    reply_error(connection, request, 403, "forbidden",
                fmt::format("order {}: belongs to another user", id));
    return std::nullopt;
  }
  return record;
}

void Api::handle_get_order(const HttpRequest& request, Connection& connection, Caller caller,
                           std::string_view id_text) {
  auto record = find_owned_order(request, connection, caller, id_text);
  if (!record) return;
  std::string& body = connection.thread().scratch;
  body.clear();
  append_order_json(body, *record);
  reply(connection, request, 200, body);
}

void Api::handle_list_orders(const HttpRequest& request, Connection& connection, Caller caller) {
  std::string_view query = request.query();
  std::optional<ApiOrderStatus> status_filter;
  if (auto status = form_value(query, "status"); status && !status->empty()) {
    status_filter = parse_api_status(*status);
    if (!status_filter) {
      return reply_error(connection, request, 422, "invalid_field",
                         fmt::format("status: \"{}\" must be QUEUED, OPEN, PARTIALLY_FILLED, "
                                     "FILLED, CANCELLED or REJECTED",
                                     status->substr(0, 40)));
    }
  }
  std::size_t limit = kDefaultListLimit;
  if (auto text = form_value(query, "limit"); text) {
    if (!parse_integer(std::string_view(*text), limit) || limit == 0 || limit > kMaxListLimit) {
      return reply_error(connection, request, 422, "invalid_field",
                         fmt::format("limit: \"{}\" must be an integer from 1 to {}",
                                     text->substr(0, 40), kMaxListLimit));
    }
  }

  std::vector<OrderRecord> records;
  std::size_t scanned = 0;
  users_.for_each_recent_order(caller.user, [&](engine::OrderId id) {
    if (++scanned > kMaxListScan) return false;
    auto record = orders_.find(id);
    if (record && (!status_filter || record->status == *status_filter)) {
      records.push_back(*record);
    }
    return records.size() < limit;
  });

  std::string& body = connection.thread().scratch;
  body.clear();
  body += '[';
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i > 0) body += ',';
    append_order_json(body, records[i]);
  }
  body += ']';
  reply(connection, request, 200, body);
}

void Api::handle_cancel(const HttpRequest& request, Connection& connection, Caller caller,
                        std::string_view id_text) {
  auto record = find_owned_order(request, connection, caller, id_text);
  if (!record) return;
  if (is_final(record->status)) {
    return reply_error(
        connection, request, 409, "not_cancellable",
        fmt::format("order {}: already {}", record->id.value, to_string(record->status)));
  }

  Command command;
  command.kind = CommandKind::kCancel;
  command.user = caller.user;
  command.cancel_id = record->id;
  command.requested_unix_ns = unix_now_ns();
  bool durable = config_.ack == AckMode::kDurable;
  if (durable) {
    command.reply_target = connection.shared_from_this();
    command.reply_slot = connection.next_slot();
  }
  std::uint64_t unused = 0;
  if (!enqueue(std::move(command), 1, request, connection, unused)) return;
  metrics_.cancels_requested.fetch_add(1, std::memory_order_relaxed);

  if (durable && shared_queue_ != nullptr) {
    // The engine cancels later, so a gateway replies 202 with the order as it is now, once
    // Redis has stored the cancel.
    std::string& body = connection.thread().scratch;
    body.clear();
    append_order_json(body, *record);
    std::string prepared;
    append_reply(prepared, 202, body, connection.thread().date(), ReplyOptions(request.keep_alive));
    (void)connection.defer_reply(
        DeferredReply::prepared_reply(request.keep_alive, std::move(prepared)));
    return;
  }
  if (durable) {
    DeferredReply deferred;
    deferred.kind = DeferredKind::kCancel;
    deferred.keep_alive = request.keep_alive;
    deferred.order_id = record->id.value;
    deferred.user_id = caller.user.value;
    (void)connection.defer_reply(std::move(deferred));
    return;
  }
  // In queued mode the cancel is acknowledged before the engine processes it, so the reply is 202
  // with the order as it is now.
  std::string& body = connection.thread().scratch;
  body.clear();
  append_order_json(body, *record);
  reply(connection, request, 202, body);
}

// ---------------------------------------------------------------------------------------------
// Positions, portfolio and books

namespace {

void append_position_json(std::string& out, const PositionSnapshot& snapshot,
                          const engine::Instrument& instrument) {
  const engine::Position& position = snapshot.position;
  auto sink = std::back_inserter(out);
  engine::Quantity open{position.net.lots < 0 ? -position.net.lots : position.net.lots};
  engine::Notional cost{position.open_cost.units < 0 ? -position.open_cost.units
                                                     : position.open_cost.units};
  out += "{\"symbol\":";
  JsonWriter::append_quoted(out, snapshot.symbol);
  fmt::format_to(sink, ",\"quantity\":{}", position.net.lots < 0 ? "-" : "");
  out += engine::format_quantity(open, instrument);
  out += ",\"average_price\":";
  out +=
      open.lots == 0 ? std::string("null") : engine::format_average_price(cost, open, instrument);
  fmt::format_to(sink, ",\"realized_pnl\":{},\"cash\":{},\"bought\":{},\"sold\":{}}}",
                 engine::format_notional(position.realized_pnl, instrument),
                 engine::format_notional(position.cash, instrument),
                 engine::format_quantity(position.bought, instrument),
                 engine::format_quantity(position.sold, instrument));
}

}  // namespace

void Api::handle_positions(const HttpRequest& request, Connection& connection, Caller caller) {
  auto positions = market_.positions(caller.user);
  std::string& body = connection.thread().scratch;
  body.clear();
  body += '[';
  if (positions) {
    bool first = true;
    for (const PositionSnapshot& snapshot : *positions) {
      if (!first) body += ',';
      first = false;
      auto symbol = engine::Symbol::parse(snapshot.symbol);
      engine::Instrument instrument =
          engine_config_.instrument_for(symbol.ok() ? symbol.value() : engine::Symbol{});
      append_position_json(body, snapshot, instrument);
    }
  }
  body += ']';
  reply(connection, request, 200, body);
}

void Api::handle_portfolio(const HttpRequest& request, Connection& connection, Caller caller) {
  auto positions = market_.positions(caller.user);
  // NOTE: totals add notional units of every symbol, which is exact only while all symbols share
  // the default tick and lot size (the only configuration `hft serve` offers).
  const engine::Instrument& scale = engine_config_.default_instrument;
  engine::Notional cash{0};
  engine::Notional realized{0};
  std::string items;
  if (positions) {
    for (const PositionSnapshot& snapshot : *positions) {
      if (!items.empty()) items += ',';
      cash.units += snapshot.position.cash.units;
      realized.units += snapshot.position.realized_pnl.units;
      auto symbol = engine::Symbol::parse(snapshot.symbol);
      engine::Instrument instrument =
          engine_config_.instrument_for(symbol.ok() ? symbol.value() : engine::Symbol{});
      append_position_json(items, snapshot, instrument);
    }
  }
  std::string& body = connection.thread().scratch;
  body.clear();
  fmt::format_to(std::back_inserter(body),
                 "{{\"user_id\":{},\"cash\":{},\"realized_pnl\":{},\"positions\":[{}]}}",
                 caller.user.value, engine::format_notional(cash, scale),
                 engine::format_notional(realized, scale), items);
  reply(connection, request, 200, body);
}

void Api::handle_book(const HttpRequest& request, Connection& connection,
                      std::string_view symbol_text) {
  auto symbol = engine::Symbol::parse(symbol_text);
  if (!symbol.ok()) {
    return reply_error(connection, request, 422, "invalid_field",
                       fmt::format("symbol: \"{}\" must be 1-16 characters of A-Z, 0-9, '.', "
                                   "'_' or '-'",
                                   symbol_text.substr(0, 40)));
  }
  std::size_t levels = kDefaultBookLevels;
  if (auto text = form_value(request.query(), "depth"); text) {
    if (!parse_integer(std::string_view(*text), levels) || levels == 0 ||
        levels > MarketView::kMaxDepthLevels) {
      return reply_error(connection, request, 422, "invalid_field",
                         fmt::format("depth: \"{}\" must be an integer from 1 to {}",
                                     text->substr(0, 40), MarketView::kMaxDepthLevels));
    }
  }

  engine::Instrument instrument = engine_config_.instrument_for(symbol.value());
  auto book = market_.book(symbol.value().view());
  std::string& body = connection.thread().scratch;
  body.clear();
  auto sink = std::back_inserter(body);
  fmt::format_to(sink, "{{\"symbol\":\"{}\"", symbol.value().view());
  auto append_side = [&](std::string_view name, const std::vector<engine::DepthLevel>& side) {
    fmt::format_to(sink, ",\"{}\":[", name);
    for (std::size_t i = 0; i < side.size() && i < levels; ++i) {
      if (i > 0) body += ',';
      fmt::format_to(sink, "{{\"price\":{},\"quantity\":{},\"orders\":{}}}",
                     engine::format_price(side[i].price, instrument),
                     engine::format_quantity(side[i].quantity, instrument), side[i].orders);
    }
    body += ']';
  };
  static const std::vector<engine::DepthLevel> kEmpty;
  append_side("bids", book ? book->depth.bids : kEmpty);
  append_side("asks", book ? book->depth.asks : kEmpty);
  body += '}';
  reply(connection, request, 200, body);
}

}  // namespace hft::gateway
