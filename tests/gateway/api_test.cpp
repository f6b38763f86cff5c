// Tests of the HTTP API against a real `hft serve` on 127.0.0.1.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "keep_alive_client.h"
#include "support.h"

namespace hft::gateway::test {
namespace {

using namespace std::chrono_literals;
using hft::test::ServerProcess;

std::string register_user(int port, const std::string& name) {
  KeepAliveClient client(port);
  Reply reply = client.request("POST", "/api/auth/register",
                               R"({"username":")" + name + R"(","email":")" + name +
                                   R"(@example.com","password":"secret-pw"})");
  EXPECT_EQ(reply.status, 201) << reply.body;
  return json_string(reply.body, "access_token").value_or("");
}

std::string limit_order(const std::string& side, const std::string& price,
                        const std::string& quantity = "10", const std::string& symbol = "AAPL") {
  return R"({"symbol":")" + symbol + R"(","side":")" + side +
         R"(","order_type":"LIMIT","quantity":)" + quantity + R"(,"price":)" + price + "}";
}

// One row of the API contract: a request and the reply it must get.
struct ContractCase {
  const char* name;
  const char* method;
  const char* target;
  std::string body;
  bool with_token;
  int status;
  const char* body_contains;
};

class ApiContract : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    server_ = new ServerProcess({"--threads", "2"});
    token_ = new std::string(register_user(server_->port(), "contract-user"));
  }
  static void TearDownTestSuite() {
    delete server_;
    delete token_;
  }

  static ServerProcess* server_;
  static std::string* token_;
};

ServerProcess* ApiContract::server_ = nullptr;
std::string* ApiContract::token_ = nullptr;

TEST_F(ApiContract, EveryCaseGetsItsStatusAndBody) {
  std::string nested(100, '[');
  nested += std::string(100, ']');
  std::string too_many = R"({"orders":[)";
  for (int i = 0; i < 1001; ++i) {
    if (i > 0) too_many += ',';
    too_many += limit_order("BUY", "1");
  }
  too_many += "]}";

  const std::vector<ContractCase> cases = {
      {"health", "GET", "/health", "", false, 200, R"("status":"healthy")"},
      {"metrics", "GET", "/metrics", "", false, 200, "hft_orders_received_total"},
      {"unknown path", "GET", "/nope", "", false, 404, R"("error":"not_found")"},
      {"wrong method", "PUT", "/api/orders", "", true, 405, "method_not_allowed"},
      {"no token", "POST", "/api/orders", limit_order("BUY", "100"), false, 401,
       "Authorization: missing"},
      {"valid limit order", "POST", "/api/orders", limit_order("BUY", "100.25"), true, 201,
       R"("status":"QUEUED")"},
      {"price echoed exactly", "POST", "/api/orders", limit_order("BUY", "100.10"), true, 201,
       R"("price":100.10)"},
      {"market order with price", "POST", "/api/orders",
       R"({"symbol":"AAPL","side":"SELL","order_type":"MARKET","quantity":100,"price":150})", true,
       201, R"("order_type":"MARKET")"},
      {"quantity as string", "POST", "/api/orders", limit_order("BUY", "99", "\"7\""), true, 201,
       R"("quantity":7)"},
      {"client order id", "POST", "/api/orders",
       R"({"symbol":"AAPL","side":"BUY","order_type":"IOC","quantity":1,"price":1,"client_order_id":"c-1"})",
       true, 201, R"("client_order_id":"c-1")"},
      {"malformed json", "POST", "/api/orders", "{\"symbol\":", true, 400, "invalid_json"},
      {"not an object", "POST", "/api/orders", "[1,2]", true, 400, "must be a JSON object"},
      {"trailing garbage", "POST", "/api/orders", limit_order("BUY", "1") + "x", true, 400,
       "invalid_json"},
      {"missing symbol", "POST", "/api/orders",
       R"({"side":"BUY","order_type":"LIMIT","quantity":1,"price":1})", true, 422,
       "symbol: missing"},
      {"invalid symbol", "POST", "/api/orders", limit_order("BUY", "1", "1", "aa pl"), true, 422,
       R"(symbol: \"aa pl\")"},
      {"invalid side", "POST", "/api/orders", limit_order("HOLD", "1"), true, 422,
       R"(side: \"HOLD\" must be BUY or SELL)"},
      {"invalid order type", "POST", "/api/orders",
       R"({"symbol":"AAPL","side":"BUY","order_type":"STOP","quantity":1,"price":1})", true, 422,
       R"(order_type: \"STOP\")"},
      {"zero quantity", "POST", "/api/orders", limit_order("BUY", "1", "0"), true, 422,
       R"(quantity: \"0\" must be positive)"},
      {"negative quantity", "POST", "/api/orders", limit_order("BUY", "1", "-5"), true, 422,
       R"(quantity: \"-5\" must be positive)"},
      {"fractional lot", "POST", "/api/orders", limit_order("BUY", "1", "1.5"), true, 422,
       "quantity: \\\"1.5\\\""},
      {"too many decimals", "POST", "/api/orders", limit_order("BUY", "100.001"), true, 422,
       R"(price: \"100.001\" has more decimals than the tick size 0.01)"},
      {"zero price", "POST", "/api/orders", limit_order("BUY", "0"), true, 422,
       R"(price: \"0\" must be positive)"},
      {"price overflow", "POST", "/api/orders", limit_order("BUY", "1e30"), true, 422,
       "price: \\\"1e30\\\""},
      {"price as object", "POST", "/api/orders", limit_order("BUY", "{}"), true, 422,
       "price: an object must be a number"},
      {"limit without price", "POST", "/api/orders",
       R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":1})", true, 422,
       "price: missing"},
      {"nesting too deep", "POST", "/api/orders", R"({"x":)" + nested + "}", true, 400,
       "invalid_json"},
      {"batch mixed", "POST", "/api/orders/batch",
       R"({"orders":[)" + limit_order("BUY", "1") + "," + limit_order("BUY", "0") + "]}", true, 201,
       R"("accepted":1,"rejected":1)"},
      {"batch error names index", "POST", "/api/orders/batch",
       R"({"orders":[)" + limit_order("BUY", "1") + "," + limit_order("BUY", "0") + "]}", true, 201,
       R"({"index":1,"error":"invalid_field")"},
      {"batch empty", "POST", "/api/orders/batch", R"({"orders":[]})", true, 422,
       "at least one order"},
      {"batch missing orders", "POST", "/api/orders/batch", "{}", true, 422, "orders: missing"},
      {"batch too long", "POST", "/api/orders/batch", too_many, true, 422, "limit of 1000"},
      {"order not found", "GET", "/api/orders/99999999", "", true, 404, "not found"},
      {"order id not a number", "GET", "/api/orders/abc", "", true, 404, "not an order id"},
      {"cancel not found", "DELETE", "/api/orders/99999999", "", true, 404, "not found"},
      {"list orders", "GET", "/api/orders?limit=2", "", true, 200, R"("status":)"},
      {"list bad status", "GET", "/api/orders?status=DONE", "", true, 422, "status: \\\"DONE\\\""},
      {"list bad limit", "GET", "/api/orders?limit=0", "", true, 422, "limit"},
      {"positions", "GET", "/api/positions", "", true, 200, "["},
      {"portfolio", "GET", "/api/portfolio", "", true, 200, R"("cash":)"},
      {"book", "GET", "/api/book/AAPL", "", false, 200, R"("bids":[)"},
      {"book invalid symbol", "GET", "/api/book/a%20b", "", false, 422, "symbol"},
      {"book bad depth", "GET", "/api/book/AAPL?depth=1000", "", false, 422, "depth"},
      {"register duplicate", "POST", "/api/auth/register",
       R"({"username":"contract-user","email":"x@example.com","password":"p"})", false, 409,
       "already registered"},
      {"register missing email", "POST", "/api/auth/register",
       R"({"username":"someone","password":"p"})", false, 422, "email: missing"},
      {"register bad json", "POST", "/api/auth/register", "{", false, 400, "invalid_json"},
      {"register number username", "POST", "/api/auth/register",
       R"({"username":123,"email":"n@example.com","password":"secret-pw"})", false, 422,
       "username: 123 must be a string"},
      {"register trailing content", "POST", "/api/auth/register",
       R"({"username":"t1","email":"t@example.com","password":"secret-pw"} junk)", false, 400,
       "unexpected content at byte 65 after the end"},
      {"register duplicate field", "POST", "/api/auth/register",
       R"({"username":"d1","username":"d2","email":"d@example.com","password":"secret-pw"})", false,
       422, "username: duplicate field"},
      {"login wrong password", "POST", "/api/auth/login",
       R"({"username":"contract-user","password":"wrong"})", false, 401, "incorrect"},
      {"login unknown user", "POST", "/api/auth/login",
       R"({"username":"nobody","password":"wrong"})", false, 401, "incorrect"},
      {"login", "POST", "/api/auth/login", R"({"username":"contract-user","password":"secret-pw"})",
       false, 200, R"("token_type":"bearer")"},
  };

  KeepAliveClient client(server_->port());
  ASSERT_TRUE(client.connected());
  for (const ContractCase& row : cases) {
    SCOPED_TRACE(row.name);
    Reply reply = client.request(row.method, row.target, row.body, row.with_token ? *token_ : "");
    EXPECT_EQ(reply.status, row.status) << reply.body;
    EXPECT_NE(reply.body.find(row.body_contains), std::string::npos) << reply.body;
    if (reply.status >= 400) {
      EXPECT_TRUE(json_string(reply.body, "error").has_value()) << reply.body;
      EXPECT_TRUE(json_string(reply.body, "detail").has_value()) << reply.body;
    }
  }
}

TEST_F(ApiContract, QueueFullAnswers503WithRetryAfter) {
  // This case starts its own server with a queue of one order. The worker waits 500 ms to fill
  // each batch, so the second order finds the queue full.
  ServerProcess server({"--queue-capacity", "1", "--batch-size", "1000", "--batch-timeout-ms",
                        "500", "--ack", "queued"});
  std::string token = register_user(server.port(), "full-queue");
  KeepAliveClient client(server.port());
  int unavailable = 0;
  for (int i = 0; i < 20 && unavailable == 0; ++i) {
    Reply reply = client.request("POST", "/api/orders", limit_order("BUY", "1"), token);
    if (reply.status == 503) {
      ++unavailable;
      EXPECT_EQ(reply.headers["retry-after"], "1");
      EXPECT_EQ(json_string(reply.body, "error"), "queue_full");
    } else {
      EXPECT_EQ(reply.status, 201) << reply.body;
    }
  }
  EXPECT_EQ(unavailable, 1);
}

TEST_F(ApiContract, BodyTooLargeIs413) {
  KeepAliveClient client(server_->port());
  std::string body(2 * 1024 * 1024, ' ');
  Reply reply = client.request("POST", "/api/orders", body, *token_);
  EXPECT_EQ(reply.status, 413);
  EXPECT_EQ(json_string(reply.body, "error"), "body_too_large");
}

TEST_F(ApiContract, HeaderTooLargeIs431) {
  KeepAliveClient client(server_->port());
  std::string request =
      "GET /health HTTP/1.1\r\nX-Big: " + std::string(16 * 1024, 'a') + "\r\n\r\n";
  ASSERT_TRUE(client.send_raw(request));
  Reply reply = client.read_reply();
  EXPECT_EQ(reply.status, 431);
}

TEST_F(ApiContract, GarbageRequestLineIs400AndCloses) {
  KeepAliveClient client(server_->port());
  ASSERT_TRUE(client.send_raw("HELLO THERE\r\n\r\n"));
  Reply reply = client.read_reply();
  EXPECT_EQ(reply.status, 400);
  EXPECT_EQ(reply.headers["connection"], "close");
  EXPECT_TRUE(client.closed_by_peer());
}

TEST_F(ApiContract, PipelinedRepliesKeepRequestOrder) {
  KeepAliveClient client(server_->port());
  std::string pipeline;
  for (int i = 1; i <= 5; ++i) {
    pipeline += KeepAliveClient::format_request(
        "POST", "/api/orders", limit_order("SELL", std::to_string(200 + i)), *token_);
    pipeline += KeepAliveClient::format_request("GET", "/health", "", "");
  }
  ASSERT_TRUE(client.send_raw(pipeline));

  for (int i = 1; i <= 5; ++i) {
    Reply order = client.read_reply();
    EXPECT_EQ(order.status, 201) << order.body;
    EXPECT_EQ(json_raw(order.body, "price"), std::to_string(200 + i) + ".00");
    Reply health = client.read_reply();
    EXPECT_EQ(health.status, 200);
    EXPECT_TRUE(json_string(health.body, "status").has_value());
  }
}

TEST_F(ApiContract, ExpectContinueGetsInterimReply) {
  KeepAliveClient client(server_->port());
  std::string body = limit_order("BUY", "3");
  std::string head = "POST /api/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + *token_ +
                     "\r\nExpect: 100-continue\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\n\r\n";
  ASSERT_TRUE(client.send_raw(head));
  Reply interim = client.read_reply();
  EXPECT_EQ(interim.status, 100);
  ASSERT_TRUE(client.send_raw(body));
  EXPECT_EQ(client.read_reply().status, 201);
}

TEST(ApiAuth, UsersCannotTouchEachOthersOrders) {
  ServerProcess server;
  std::string alice = register_user(server.port(), "alice");
  std::string bob = register_user(server.port(), "bob");
  KeepAliveClient client(server.port());

  Reply placed = client.request("POST", "/api/orders", limit_order("BUY", "10"), alice);
  ASSERT_EQ(placed.status, 201) << placed.body;
  std::string id = json_raw(placed.body, "id").value_or("0");

  EXPECT_EQ(client.request("GET", "/api/orders/" + id, "", bob).status, 403);
  EXPECT_EQ(client.request("DELETE", "/api/orders/" + id, "", bob).status, 403);
  Reply bob_list = client.request("GET", "/api/orders", "", bob);
  EXPECT_EQ(bob_list.status, 200);
  EXPECT_EQ(bob_list.body, "[]");

  EXPECT_EQ(client.request("GET", "/api/orders/" + id, "", alice).status, 200);
  Reply cancelled = client.request("DELETE", "/api/orders/" + id, "", alice);
  EXPECT_EQ(cancelled.status, 200) << cancelled.body;
  EXPECT_EQ(json_string(cancelled.body, "status"), "CANCELLED");
  Reply again = client.request("DELETE", "/api/orders/" + id, "", alice);
  EXPECT_EQ(again.status, 409) << again.body;
}

TEST(ApiBook, CancelRemovesOrderFromBook) {
  ServerProcess server;
  std::string alice = register_user(server.port(), "book-user");
  KeepAliveClient client(server.port());

  Reply placed = client.request("POST", "/api/orders", limit_order("SELL", "151.01", "50"), alice);
  ASSERT_EQ(placed.status, 201) << placed.body;
  std::string id = json_raw(placed.body, "id").value_or("0");
  Reply resting = client.request("GET", "/api/book/AAPL");
  EXPECT_NE(resting.body.find(R"("price":151.01)"), std::string::npos) << resting.body;

  Reply cancelled = client.request("DELETE", "/api/orders/" + id, "", alice);
  ASSERT_EQ(cancelled.status, 200) << cancelled.body;

  // The book is a snapshot published by the batch worker; allow it a moment to appear.
  std::string book;
  auto deadline = std::chrono::steady_clock::now() + 5s;
  do {
    book = client.request("GET", "/api/book/AAPL").body;
    if (book.find(R"("asks":[])") != std::string::npos) break;
    std::this_thread::sleep_for(20ms);
  } while (std::chrono::steady_clock::now() < deadline);
  EXPECT_NE(book.find(R"("asks":[])"), std::string::npos) << book;
}

TEST(ApiAuth, ForgedAndExpiredTokensAre401) {
  ServerProcess server({"--token-ttl-s", "1"});
  std::string token = register_user(server.port(), "carol");
  ASSERT_FALSE(token.empty());
  KeepAliveClient client(server.port());

  // Another user id under the same signature, a flipped signature digit, and no signature.
  std::string other_user = "2";
  other_user.append(token, token.find('.'));
  std::string flipped = token;
  flipped.back() = flipped.back() == '0' ? '1' : '0';
  std::string unsigned_token = token.substr(0, token.rfind('.'));
  for (const std::string& forged : {other_user, flipped, unsigned_token, std::string("x.y.z")}) {
    Reply reply = client.request("GET", "/api/orders", "", forged);
    EXPECT_EQ(reply.status, 401) << forged;
  }

  EXPECT_EQ(client.request("GET", "/api/orders", "", token).status, 200);
  std::this_thread::sleep_for(2100ms);
  Reply expired = client.request("GET", "/api/orders", "", token);
  EXPECT_EQ(expired.status, 401);
  EXPECT_NE(expired.body.find("expired"), std::string::npos) << expired.body;
}

TEST(ApiLifecycle, SigtermDrainsAndRestartRestoresState) {
  hft::test::TempDir data;
  auto server = std::make_unique<ServerProcess>(std::vector<std::string>{}, data.path());
  std::string seller = register_user(server->port(), "seller");
  std::string buyer = register_user(server->port(), "buyer");
  KeepAliveClient client(server->port());
  ASSERT_EQ(
      client.request("POST", "/api/orders", limit_order("SELL", "101.50", "30"), seller).status,
      201);
  ASSERT_EQ(client.request("POST", "/api/orders", limit_order("SELL", "102", "5"), seller).status,
            201);
  Reply buy = client.request("POST", "/api/orders", limit_order("BUY", "101.50", "10"), buyer);
  ASSERT_EQ(buy.status, 201);
  std::string buy_id = json_raw(buy.body, "id").value_or("0");

  std::string book_before = client.request("GET", "/api/book/AAPL").body;
  std::string positions_before = client.request("GET", "/api/positions", "", buyer).body;
  std::string order_before = client.request("GET", "/api/orders/" + buy_id, "", buyer).body;
  EXPECT_EQ(json_string(order_before, "status"), "FILLED") << order_before;
  EXPECT_NE(positions_before.find(R"("quantity":10)"), std::string::npos) << positions_before;

  auto exit_code = server->stop(10s);
  ASSERT_TRUE(exit_code.has_value()) << "hft serve did not stop within 10 s";
  EXPECT_EQ(*exit_code, 0) << server->log();

  server->restart();
  KeepAliveClient after(server->port());
  EXPECT_EQ(after.request("GET", "/api/book/AAPL").body, book_before);
  EXPECT_EQ(after.request("GET", "/api/positions", "", buyer).body, positions_before);
  EXPECT_EQ(after.request("GET", "/api/orders/" + buy_id, "", buyer).body, order_before);
  // Tokens survive because the signing key is kept in the data dir.
  Reply next = after.request("POST", "/api/orders", limit_order("BUY", "1"), buyer);
  EXPECT_EQ(next.status, 201);
  EXPECT_GT(std::stoull(json_raw(next.body, "id").value_or("0")), std::stoull(buy_id));
}

TEST(ApiLifecycle, KillNineKeepsEveryDurableAcknowledgement) {
  hft::test::TempDir data;
  auto server =
      std::make_unique<ServerProcess>(std::vector<std::string>{"--ack", "durable"}, data.path());
  constexpr int kClients = 4;
  std::vector<std::string> tokens;
  for (int i = 0; i < kClients; ++i) {
    tokens.push_back(register_user(server->port(), "killed-" + std::to_string(i)));
  }

  // Clients send orders until the server dies; each keeps the ids that were acknowledged.
  std::vector<std::vector<std::string>> acknowledged(kClients);
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      KeepAliveClient client(server->port(), 5s);
      for (int n = 0; !stop; ++n) {
        std::string side = n % 2 ? "BUY" : "SELL";
        Reply reply = client.request(
            "POST", "/api/orders", limit_order(side, std::to_string(100 + n % 7), "3"), tokens[i]);
        if (reply.status != 201) return;
        acknowledged[i].push_back(json_raw(reply.body, "id").value_or("?"));
      }
    });
  }
  std::this_thread::sleep_for(1500ms);
  server->kill();
  stop = true;
  for (auto& client : clients) client.join();

  server->restart();
  KeepAliveClient reader(server->port());
  std::size_t total = 0;
  for (int i = 0; i < kClients; ++i) {
    total += acknowledged[i].size();
    for (const std::string& id : acknowledged[i]) {
      Reply reply = reader.request("GET", "/api/orders/" + id, "", tokens[i]);
      ASSERT_EQ(reply.status, 200) << "acknowledged order " << id << " lost: " << reply.body;
    }
    // Every id appears once in the user's list, and the list contains every acknowledged id.
    Reply list = reader.request("GET", "/api/orders?limit=1000", "", tokens[i]);
    std::multiset<std::string> listed;
    for (std::size_t at = list.body.find("{\"id\":"); at != std::string::npos;
         at = list.body.find("{\"id\":", at + 1)) {
      listed.insert(json_raw(list.body.substr(at), "id").value_or(""));
    }
    for (const std::string& id : listed) EXPECT_EQ(listed.count(id), 1u) << "order " << id;
    if (acknowledged[i].size() < 1000) {
      for (const std::string& id : acknowledged[i]) EXPECT_EQ(listed.count(id), 1u) << id;
    }
  }
  EXPECT_GT(total, 50u) << "too few orders were acknowledged to test anything";
}

TEST(ApiConnections, IdleAndSlowConnectionsClose) {
  ServerProcess server({"--idle-timeout-s", "1"});
  KeepAliveClient idle(server.port(), 5s);
  KeepAliveClient slow(server.port(), 5s);
  ASSERT_TRUE(slow.send_raw("GET /health HTTP/1.1\r\nHost: x\r\n"));

  std::this_thread::sleep_for(2500ms);
  EXPECT_TRUE(idle.closed_by_peer());
  Reply timed_out = slow.read_reply();
  EXPECT_EQ(timed_out.status, 408);
  EXPECT_TRUE(slow.closed_by_peer());
}

TEST(ApiServe, RejectsRoleAndQueueMismatchWithUsageError) {
  for (std::vector<std::string> args :
       {std::vector<std::string>{"--role", "gateway"},
        std::vector<std::string>{"--queue", "redis://x"},
        std::vector<std::string>{"--role", "engine", "--queue", "redis://x", "--ack", "queued"},
        std::vector<std::string>{"--role", "gateway", "--queue", "redis://x", "--ack", "queued"}}) {
    hft::test::ChildProcess::Options options;
    options.args = {hft::test::hft_binary(), "serve", "--port", "0"};
    options.args.insert(options.args.end(), args.begin(), args.end());
    options.stderr_mode = hft::test::ChildProcess::Output::kPipe;
    hft::test::ChildProcess process(options);
    auto code = process.wait_for_exit(10s);
    ASSERT_TRUE(code.has_value());
    EXPECT_EQ(*code, 2);
  }
}

}  // namespace
}  // namespace hft::gateway::test
