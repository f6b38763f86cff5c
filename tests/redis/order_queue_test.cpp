// The order queue against a real redis-server: two producers, one consumer group, the takeover
// of pending entries after a consumer dies, and failures that must be reported, never dropped.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <vector>

#include "redis/order_consumer.h"
#include "redis/order_producer.h"
#include "redis_server.h"
#include "watchdog.h"

namespace hft::redis {
namespace {

using test::RedisServer;
using test::Watchdog;

const std::vector<std::string> kSymbols = {"AAPL", "MSFT", "GOOG", "AMZN", "TSLA", "NVDA", "META"};

RedisUrl parse(const std::string& text) {
  RedisUrlResult result = parse_redis_url(text);
  if (!result.ok()) throw std::runtime_error(result.error);
  return *result.url;
}

// Collects producer outcomes from the producer threads.
class OutcomeCollector {
 public:
  PublishCallback callback() {
    return [this](const PublishOutcome& outcome) {
      std::lock_guard lock(mutex_);
      outcomes_.push_back(outcome);
      changed_.notify_all();
    };
  }

  // Waits until `count` outcomes arrived; false on timeout.
  bool wait_for(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return outcomes_.size() >= count; });
  }

  std::vector<PublishOutcome> outcomes() {
    std::lock_guard lock(mutex_);
    return outcomes_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<PublishOutcome> outcomes_;
};

// A TCP listener on 127.0.0.1 that completes connections in the kernel but never reads or
// replies, like a Redis that accepts commands and never replies to them.
class SilentListener {
 public:
  SilentListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof(address);
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("opening a silent listener on 127.0.0.1 failed");
    }
    port_ = ntohs(address.sin_port);
  }
  ~SilentListener() { ::close(fd_); }
  SilentListener(const SilentListener&) = delete;
  SilentListener& operator=(const SilentListener&) = delete;

  [[nodiscard]] int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

OrderEntry make_entry(std::uint64_t id, const std::string& symbol) {
  return OrderEntry{engine::OrderId{id}, 2, symbol, "payload-" + std::to_string(id)};
}

ConsumerOptions consumer_options(const RedisServer& server, std::string name = "engine-1") {
  ConsumerOptions options;
  options.url = parse(server.url());
  options.consumer = std::move(name);
  options.batch_size = 100;
  options.block = std::chrono::milliseconds(50);
  return options;
}

// Reads until `count` entries arrived or `timeout` passed, acknowledging every batch.
std::vector<StreamEntry> consume(OrderConsumer& consumer, std::size_t count,
                                 std::chrono::milliseconds timeout) {
  std::vector<StreamEntry> received;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (received.size() < count && std::chrono::steady_clock::now() < deadline) {
    ReadResult batch = consumer.read_batch();
    EXPECT_TRUE(batch.ok()) << batch.error;
    if (!batch.ok()) break;
    std::string ack_error = consumer.acknowledge(batch.entries);
    EXPECT_EQ(ack_error, "");
    for (StreamEntry& entry : batch.entries) received.push_back(std::move(entry));
  }
  return received;
}

TEST(OrderQueue, TwoProducersDeliverEachIdExactlyOnce) {
  if (auto reason = RedisServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("OrderQueue.TwoProducersDeliverEachIdExactlyOnce", std::chrono::seconds(120));
  RedisServer server;
  constexpr std::uint64_t kOrdersPerProducer = 5000;

  auto opened = OrderConsumer::open(consumer_options(server));
  ASSERT_NE(opened.consumer, nullptr) << opened.error;
  OrderConsumer& consumer = *opened.consumer;

  // Producer p sends ids p*1e6+1 .. p*1e6+5000; the symbol cycles so every shard gets orders.
  OutcomeCollector outcomes;
  std::vector<std::thread> gateways;
  for (std::uint64_t p = 1; p <= 2; ++p) {
    gateways.emplace_back([&, p] {
      ProducerOptions options;
      options.url = parse(server.url());
      OrderProducer producer(options);
      for (std::uint64_t i = 1; i <= kOrdersPerProducer; ++i) {
        std::uint64_t id = p * 1'000'000 + i;
        EnqueueStatus status =
            producer.publish(make_entry(id, kSymbols[i % kSymbols.size()]), outcomes.callback());
        while (status == EnqueueStatus::kQueueFull) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
          status =
              producer.publish(make_entry(id, kSymbols[i % kSymbols.size()]), outcomes.callback());
        }
        ASSERT_EQ(status, EnqueueStatus::kQueued);
      }
      producer.stop();
      EXPECT_GT(producer.stats().round_trips, 0u);
      EXPECT_LT(producer.stats().round_trips, kOrdersPerProducer) << "XADDs were not pipelined";
    });
  }
  std::vector<StreamEntry> received =
      consume(consumer, 2 * kOrdersPerProducer, std::chrono::seconds(60));
  for (std::thread& gateway : gateways) gateway.join();

  ASSERT_TRUE(outcomes.wait_for(2 * kOrdersPerProducer, std::chrono::seconds(10)));
  for (const PublishOutcome& outcome : outcomes.outcomes()) {
    ASSERT_EQ(outcome.status, PublishStatus::kAccepted) << outcome.error;
    ASSERT_FALSE(outcome.stream_id.empty());
  }

  ASSERT_EQ(received.size(), 2 * kOrdersPerProducer);
  std::map<std::uint64_t, int> seen;
  // Within one producer and symbol, ids must arrive in the order they were published.
  std::map<std::pair<std::uint64_t, std::string>, std::uint64_t> last_id;
  for (const StreamEntry& entry : received) {
    ASSERT_EQ(entry.defect, "");
    ASSERT_EQ(entry.payload, "payload-" + std::to_string(entry.order_id.value));
    ASSERT_FALSE(entry.redelivered);
    ++seen[entry.order_id.value];
    std::uint64_t producer = entry.order_id.value / 1'000'000;
    const std::string& symbol = kSymbols[(entry.order_id.value % 1'000'000) % kSymbols.size()];
    ASSERT_EQ(entry.shard, shard_for_symbol(symbol, kDefaultShardCount));
    auto& last = last_id[{producer, symbol}];
    ASSERT_GT(entry.order_id.value, last) << "order of " << symbol << " changed";
    last = entry.order_id.value;
  }
  EXPECT_EQ(seen.size(), 2 * kOrdersPerProducer);
  for (const auto& [id, count] : seen) ASSERT_EQ(count, 1) << "order " << id;

  StreamStats stats = consumer.stats();
  ASSERT_TRUE(stats.ok()) << stats.error;
  EXPECT_EQ(stats.pending, 0u);
  ASSERT_TRUE(stats.lag.has_value());
  EXPECT_EQ(*stats.lag, 0u);
  ASSERT_EQ(stats.shards.size(), kDefaultShardCount);
}

TEST(OrderQueue, RestartedConsumerTakesOverPendingEntries) {
  if (auto reason = RedisServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("OrderQueue.RestartedConsumerTakesOverPendingEntries",
                    std::chrono::seconds(120));
  RedisServer server;
  constexpr std::uint64_t kOrders = 1000;

  // The group exists before the orders, as it does once an engine has run.
  std::set<std::uint64_t> journal;
  std::multiset<std::uint64_t> acknowledged;
  std::vector<StreamEntry> journaled_not_acknowledged;
  std::vector<StreamEntry> read_not_journaled;
  std::size_t first_acknowledged = 0;
  {
    auto first = OrderConsumer::open(consumer_options(server));
    ASSERT_NE(first.consumer, nullptr) << first.error;

    ProducerOptions producer_options;
    producer_options.url = parse(server.url());
    OrderProducer producer(producer_options);
    OutcomeCollector outcomes;
    for (std::uint64_t id = 1; id <= kOrders; ++id) {
      ASSERT_EQ(
          producer.publish(make_entry(id, kSymbols[id % kSymbols.size()]), outcomes.callback()),
          EnqueueStatus::kQueued);
    }
    ASSERT_TRUE(outcomes.wait_for(kOrders, std::chrono::seconds(30)));

    // Batch 1 is journaled and acknowledged, batch 2 journaled only (the engine died before
    // XACK), batch 3 only read. Then the consumer goes away and its connection with it.
    ReadResult batch1 = first.consumer->read_batch();
    ASSERT_TRUE(batch1.ok()) << batch1.error;
    ASSERT_FALSE(batch1.entries.empty());
    for (const StreamEntry& entry : batch1.entries) journal.insert(entry.order_id.value);
    ASSERT_EQ(first.consumer->acknowledge(batch1.entries), "");
    for (const StreamEntry& entry : batch1.entries) acknowledged.insert(entry.order_id.value);
    first_acknowledged = batch1.entries.size();

    ReadResult batch2 = first.consumer->read_batch();
    ASSERT_TRUE(batch2.ok()) << batch2.error;
    ASSERT_FALSE(batch2.entries.empty());
    for (const StreamEntry& entry : batch2.entries) journal.insert(entry.order_id.value);
    journaled_not_acknowledged = batch2.entries;

    ReadResult batch3 = first.consumer->read_batch();
    ASSERT_TRUE(batch3.ok()) << batch3.error;
    ASSERT_FALSE(batch3.entries.empty());
    read_not_journaled = batch3.entries;
  }
  const std::size_t pending_before = journaled_not_acknowledged.size() + read_not_journaled.size();

  auto second = OrderConsumer::open(consumer_options(server));
  ASSERT_NE(second.consumer, nullptr) << second.error;
  EXPECT_EQ(second.consumer->entries_taken_over(), pending_before);
  StreamStats before = second.consumer->stats();
  ASSERT_TRUE(before.ok()) << before.error;
  EXPECT_EQ(before.pending, pending_before);

  // The engine's rule: skip an entry whose id the journal already holds, acknowledge it anyway.
  std::size_t skipped = 0;
  std::size_t redelivered = 0;
  std::size_t delivered = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (journal.size() < kOrders && std::chrono::steady_clock::now() < deadline) {
    ReadResult batch = second.consumer->read_batch();
    ASSERT_TRUE(batch.ok()) << batch.error;
    for (const StreamEntry& entry : batch.entries) {
      ++delivered;
      if (entry.redelivered) ++redelivered;
      if (!journal.insert(entry.order_id.value).second) ++skipped;
    }
    ASSERT_EQ(second.consumer->acknowledge(batch.entries), "");
    for (const StreamEntry& entry : batch.entries) acknowledged.insert(entry.order_id.value);
  }

  EXPECT_EQ(journal.size(), kOrders) << "orders were lost";
  EXPECT_EQ(*journal.begin(), 1u);
  EXPECT_EQ(*journal.rbegin(), kOrders);
  EXPECT_EQ(redelivered, pending_before);
  EXPECT_EQ(skipped, journaled_not_acknowledged.size());
  EXPECT_EQ(delivered, kOrders - first_acknowledged) << "an entry came twice or not at all";
  for (std::uint64_t id = 1; id <= kOrders; ++id) {
    ASSERT_EQ(acknowledged.count(id), 1u) << "order " << id << " acknowledged more than once";
  }

  StreamStats after = second.consumer->stats();
  ASSERT_TRUE(after.ok()) << after.error;
  EXPECT_EQ(after.pending, 0u);
}

TEST(OrderQueue, ConsumerReportsLengthPendingAndLag) {
  if (auto reason = RedisServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("OrderQueue.ConsumerReportsLengthPendingAndLag", std::chrono::seconds(60));
  RedisServer server;
  ConsumerOptions options = consumer_options(server);
  options.batch_size = 1000;
  options.trim_acknowledged = false;
  auto opened = OrderConsumer::open(options);
  ASSERT_NE(opened.consumer, nullptr) << opened.error;

  ProducerOptions producer_options;
  producer_options.url = parse(server.url());
  OrderProducer producer(producer_options);
  OutcomeCollector outcomes;
  for (std::uint64_t id = 1; id <= 100; ++id) {
    ASSERT_EQ(producer.publish(make_entry(id, kSymbols[id % kSymbols.size()]), outcomes.callback()),
              EnqueueStatus::kQueued);
  }
  ASSERT_TRUE(outcomes.wait_for(100, std::chrono::seconds(30)));

  StreamStats queued = opened.consumer->stats();
  ASSERT_TRUE(queued.ok()) << queued.error;
  EXPECT_EQ(queued.length, 100u);
  EXPECT_EQ(queued.pending, 0u);
  EXPECT_EQ(queued.lag, std::optional<std::uint64_t>(100));

  ReadResult batch = opened.consumer->read_batch();
  ASSERT_TRUE(batch.ok()) << batch.error;
  ASSERT_EQ(batch.entries.size(), 100u);
  StreamStats read = opened.consumer->stats();
  EXPECT_EQ(read.pending, 100u);
  EXPECT_EQ(read.lag, std::optional<std::uint64_t>(0));

  ASSERT_EQ(opened.consumer->acknowledge(batch.entries), "");
  StreamStats acknowledged = opened.consumer->stats();
  EXPECT_EQ(acknowledged.pending, 0u);
  EXPECT_EQ(acknowledged.length, 100u);
}

TEST(OrderProducer, UnreachableRedisRejectsNewOrders) {
  Watchdog watchdog("OrderProducer.UnreachableRedisRejectsNewOrders", std::chrono::seconds(30));
  ProducerOptions options;
  options.url = parse("redis://127.0.0.1:" + std::to_string(test::free_tcp_port()) + "/0");
  OrderProducer producer(options);

  // The producer thread connects on its own at start and finds nothing listening.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!producer.stats().unavailable && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(producer.stats().unavailable);
  EXPECT_FALSE(producer.stats().last_error.empty());

  OutcomeCollector outcomes;
  auto started = std::chrono::steady_clock::now();
  EXPECT_EQ(producer.publish(make_entry(1, "AAPL"), outcomes.callback()),
            EnqueueStatus::kUnavailable);
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(100));
  producer.stop();
  EXPECT_TRUE(outcomes.outcomes().empty());
}

TEST(OrderProducer, SilentRedisTimesOutEachOrder) {
  Watchdog watchdog("OrderProducer.SilentRedisTimesOutEachOrder", std::chrono::seconds(30));
  SilentListener listener;
  const std::string url = "redis://127.0.0.1:" + std::to_string(listener.port()) + "/0";
  ProducerOptions options;
  options.url = parse(url);
  options.entry_timeout = std::chrono::milliseconds(300);
  options.io_timeout = std::chrono::milliseconds(200);
  OrderProducer producer(options);
  OutcomeCollector outcomes;
  for (std::uint64_t id = 1; id <= 10; ++id) {
    ASSERT_EQ(producer.publish(make_entry(id, "AAPL"), outcomes.callback()),
              EnqueueStatus::kQueued);
  }

  ASSERT_TRUE(outcomes.wait_for(10, std::chrono::seconds(10)));
  for (const PublishOutcome& outcome : outcomes.outcomes()) {
    EXPECT_EQ(outcome.status, PublishStatus::kTimedOut);
    EXPECT_NE(outcome.error.find(url), std::string::npos) << outcome.error;
  }
  EXPECT_EQ(producer.stats().timed_out, 10u);
  EXPECT_EQ(producer.stats().failures_in_row, 10u);
}

TEST(CommandWithReconnect, TimeoutIsNotResent) {
  Watchdog watchdog("CommandWithReconnect.TimeoutIsNotResent", std::chrono::seconds(30));
  SilentListener listener;
  RedisUrl url = parse("redis://127.0.0.1:" + std::to_string(listener.port()) + "/0");
  const auto timeout = std::chrono::milliseconds(300);
  ConnectResult connected = Connection::connect(url, timeout);
  ASSERT_TRUE(connected.connection) << connected.error;
  std::unique_ptr<Connection> connection = std::move(connected.connection);

  std::string error;
  auto started = std::chrono::steady_clock::now();
  Reply reply = command_with_reconnect(connection, url, timeout, {"PING"}, error);
  auto elapsed = std::chrono::steady_clock::now() - started;
  EXPECT_FALSE(reply);
  EXPECT_FALSE(error.empty());
  ASSERT_TRUE(connection);
  EXPECT_TRUE(connection->timed_out()) << error;
  EXPECT_LT(elapsed, 2 * timeout) << error;
}

TEST(OrderProducer, FullQueueRejectsNewOrders) {
  Watchdog watchdog("OrderProducer.FullQueueRejectsNewOrders", std::chrono::seconds(30));
  SilentListener listener;
  ProducerOptions options;
  options.url = parse("redis://127.0.0.1:" + std::to_string(listener.port()) + "/0");
  options.max_queued_entries = 5;
  options.entry_timeout = std::chrono::milliseconds(200);
  options.io_timeout = std::chrono::milliseconds(200);
  OrderProducer producer(options);
  OutcomeCollector outcomes;
  for (std::uint64_t id = 1; id <= 5; ++id) {
    ASSERT_EQ(producer.publish(make_entry(id, "AAPL"), outcomes.callback()),
              EnqueueStatus::kQueued);
  }

  EXPECT_EQ(producer.publish(make_entry(6, "AAPL"), outcomes.callback()),
            EnqueueStatus::kQueueFull);
  ASSERT_TRUE(outcomes.wait_for(5, std::chrono::seconds(10)));
  producer.stop();
  EXPECT_EQ(producer.publish(make_entry(7, "AAPL"), outcomes.callback()), EnqueueStatus::kStopped);
  EXPECT_EQ(outcomes.outcomes().size(), 5u);
}

TEST(OrderProducer, RedisOutOfMemoryRejectsOrders) {
  if (auto reason = RedisServer::missing_binary()) GTEST_SKIP() << *reason;
  Watchdog watchdog("OrderProducer.RedisOutOfMemoryRejectsOrders", std::chrono::seconds(60));
  RedisServer server({"--maxmemory", "2mb", "--maxmemory-policy", "noeviction"});
  ProducerOptions options;
  options.url = parse(server.url());
  OrderProducer producer(options);
  OutcomeCollector outcomes;

  constexpr std::size_t kOrders = 100;
  for (std::uint64_t id = 1; id <= kOrders; ++id) {
    OrderEntry entry = make_entry(id, "AAPL");
    entry.payload.assign(100'000, 'x');
    ASSERT_EQ(producer.publish(std::move(entry), outcomes.callback()), EnqueueStatus::kQueued);
  }
  ASSERT_TRUE(outcomes.wait_for(kOrders, std::chrono::seconds(30)));

  std::size_t rejected = 0;
  for (const PublishOutcome& outcome : outcomes.outcomes()) {
    if (outcome.status != PublishStatus::kRejected) continue;
    ++rejected;
    EXPECT_NE(outcome.error.find("OOM"), std::string::npos) << outcome.error;
  }
  EXPECT_GT(rejected, 0u) << "10 MB of orders fit in a 2 MB Redis";
  EXPECT_EQ(producer.stats().rejected, rejected);
}

}  // namespace
}  // namespace hft::redis
