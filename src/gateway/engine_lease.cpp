#include "gateway/engine_lease.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <random>

namespace hft::gateway {

namespace {

// KEYS[1] the lease, ARGV[1] this engine's id, ARGV[2] the value to store, ARGV[3] the time to
// live in milliseconds. Sets the lease when it is free or holds this engine's id and returns
// "OK"; otherwise returns the holder's value.
constexpr std::string_view kClaimScript = R"lua(
local holder = redis.call('GET', KEYS[1])
if holder and string.sub(holder, 1, string.len(ARGV[1]) + 1) ~= ARGV[1] .. ' ' then
  return holder
end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 'OK'
)lua";

// KEYS[1] the lease, ARGV[1] this engine's id. Deletes the lease if this engine holds it.
constexpr std::string_view kReleaseScript = R"lua(
local holder = redis.call('GET', KEYS[1])
if holder and string.sub(holder, 1, string.len(ARGV[1]) + 1) == ARGV[1] .. ' ' then
  return redis.call('DEL', KEYS[1])
end
return 0
)lua";

constexpr auto kConnectTimeout = std::chrono::milliseconds(2000);

std::shared_ptr<spdlog::logger> logger() {
  auto found = spdlog::get("redis");
  return found ? found : spdlog::default_logger();
}

// Reads `<data dir>/engine.id`, or writes a new random id there. Returns the id, or an empty
// string with `error` set.
std::string load_or_create_engine_id(const std::filesystem::path& data_dir, std::string& error) {
  const std::filesystem::path path = data_dir / "engine.id";
  std::string id;
  if (std::ifstream in(path); in && std::getline(in, id) && id.size() == 32) return id;

  std::random_device random;
  std::array<std::uint32_t, 4> words{};
  for (auto& word : words) word = random();
  id = fmt::format("{:08x}{:08x}{:08x}{:08x}", words[0], words[1], words[2], words[3]);
  std::ofstream out(path, std::ios::trunc);
  out << id << '\n';
  out.close();
  if (!out) {
    error = fmt::format("engine id file {}: write failed", path.string());
    return {};
  }
  return id;
}

std::string host_name() {
  std::array<char, 256> name{};
  if (::gethostname(name.data(), name.size() - 1) != 0) return "unknown-host";
  return name.data();
}

}  // namespace

EngineLease::EngineLease(EngineLeaseOptions options) : options_(std::move(options)) {}

EngineLease::~EngineLease() { release(); }

std::string EngineLease::claim(redis::Connection& connection, std::string& error) {
  const std::string ttl_ms = std::to_string(options_.time_to_live.count());
  redis::Reply reply =
      connection.command({"EVAL", kClaimScript, "1", kEngineLeaseKey, engine_id_, value_, ttl_ms});
  if (!reply) {
    error = connection.error();
    return {};
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    error = fmt::format("EVAL for {}: {}", kEngineLeaseKey, redis::reply_text(*reply));
    return {};
  }
  std::string_view text = redis::reply_text(*reply);
  return text == "OK" ? std::string() : std::string(text);
}

std::string EngineLease::acquire(LostCallback on_lost) {
  std::string error;
  engine_id_ = load_or_create_engine_id(options_.data_dir, error);
  if (engine_id_.empty()) return error;
  value_ = fmt::format("{} host {} pid {} data dir {}", engine_id_, host_name(), ::getpid(),
                       options_.data_dir.string());

  redis::ConnectResult connected = redis::Connection::connect(options_.url, kConnectTimeout);
  if (!connected.connection) return connected.error;
  std::string holder = claim(*connected.connection, error);
  if (!error.empty()) return error;
  if (!holder.empty()) {
    std::size_t space = holder.find(' ');
    return fmt::format(
        "another engine consumes the order streams of this Redis ({}); one engine per Redis "
        "takes all orders. Stop it, or wait {} s if it has died",
        space == std::string::npos ? holder : holder.substr(space + 1),
        std::chrono::duration_cast<std::chrono::seconds>(options_.time_to_live).count());
  }

  held_ = true;
  on_lost_ = std::move(on_lost);
  thread_ = std::thread([this] { renew_loop(); });
  return {};
}

void EngineLease::renew_loop() {
  std::unique_ptr<redis::Connection> connection;
  const auto interval = options_.time_to_live / 3;
  std::unique_lock lock(mutex_);
  while (!wake_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    if (!connection || connection->broken()) {
      redis::ConnectResult connected = redis::Connection::connect(options_.url, kConnectTimeout);
      connection = std::move(connected.connection);
      if (!connection) logger()->warn("engine lease: renewal failed: {}", connected.error);
    }
    if (connection) {
      std::string error;
      std::string holder = claim(*connection, error);
      if (!error.empty()) {
        logger()->warn("engine lease: renewal failed: {}", error);
      } else if (!holder.empty()) {
        held_ = false;
        logger()->error("engine lease: another engine took it over ({})", holder);
        if (on_lost_) on_lost_(holder);
        return;
      }
    }
    lock.lock();
  }
}

void EngineLease::release() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!held_.exchange(false)) return;

  redis::ConnectResult connected = redis::Connection::connect(options_.url, kConnectTimeout);
  if (!connected.connection) {
    logger()->warn("engine lease: release failed, it expires by itself: {}", connected.error);
    return;
  }
  redis::Reply reply =
      connected.connection->command({"EVAL", kReleaseScript, "1", kEngineLeaseKey, engine_id_});
  if (!reply || reply->type == REDIS_REPLY_ERROR) {
    logger()->warn("engine lease: release failed, it expires by itself");
  }
}

}  // namespace hft::gateway
