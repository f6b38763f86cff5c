// Unit tests of the gateway's parsers, token signer and journal codec, without a server.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "gateway/gateway_fuzz.h"
#include "gateway/http_request_parser.h"
#include "gateway/journal_codec.h"
#include "gateway/order_json.h"
#include "gateway/order_store.h"
#include "gateway/token_signer.h"
#include "support.h"

namespace hft::gateway {
namespace {

struct OrderCase {
  const char* body;
  int status;  // 0 when the order is valid
  const char* detail;
};

class OrderJsonTable : public ::testing::TestWithParam<OrderCase> {};

TEST_P(OrderJsonTable, ParsesOrRejectsWithDetail) {
  static const engine::EngineConfig config;
  OrderJsonParser parser(config, JsonLimits{});
  std::string body = GetParam().body;
  body.reserve(body.size() + 64);

  OrderRequest order;
  RequestError error;
  bool ok = parser.parse_order(body, body.capacity(), order, error);
  if (GetParam().status == 0) {
    EXPECT_TRUE(ok) << error.detail;
    return;
  }
  ASSERT_FALSE(ok);
  EXPECT_EQ(error.status, GetParam().status);
  EXPECT_EQ(error.detail, GetParam().detail);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, OrderJsonTable,
    ::testing::Values(
        OrderCase{
            R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":5,"price":1.25})", 0,
            ""},
        OrderCase{R"({"symbol":"AAPL","side":"sell","order_type":"market","quantity":"5"})", 0, ""},
        OrderCase{
            R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":5,"price":1.5e2})", 0,
            ""},
        OrderCase{R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":0,"price":1})",
                  422, R"(quantity: "0" must be positive)"},
        OrderCase{R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":2,"price":-1})",
                  422, R"(price: "-1" must be positive)"},
        OrderCase{
            R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":2,"price":1.001})",
            422, R"(price: "1.001" has more decimals than the tick size 0.01)"},
        OrderCase{R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":2.5,"price":1})",
                  422, R"(quantity: "2.5" has more decimals than the lot size 1)"},
        OrderCase{
            R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":true,"price":1})", 422,
            "quantity: true must be a number"},
        OrderCase{R"({"symbol":7,"side":"BUY","order_type":"LIMIT","quantity":1,"price":1})", 422,
                  "symbol: 7 must be a string"},
        OrderCase{R"({"symbol":123,"side":"BUY","order_type":"LIMIT","quantity":1,"price":1})", 422,
                  "symbol: 123 must be a string"},
        OrderCase{R"({"symbol":"AAPL","side":true,"order_type":"LIMIT","quantity":1,"price":1})",
                  422, "side: true must be a string"},
        OrderCase{R"({"symbol":null,"side":"BUY","order_type":"LIMIT","quantity":1,"price":1})",
                  422, "symbol: null must be a string"},
        OrderCase{R"({"symbol":-1.5e3,"side":"BUY","order_type":"LIMIT","quantity":1,"price":1})",
                  422, "symbol: -1.5e3 must be a string"},
        OrderCase{R"({"symbol":[1],"side":"BUY","order_type":"LIMIT","quantity":1,"price":1})", 422,
                  "symbol: an array must be a string"},
        OrderCase{
            R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":1,"price":1,"post_only":"yes"})",
            422, R"(post_only: "yes" must be true or false)"},
        OrderCase{R"({"symbol":12345678901234567890123456789012345678901234567890,"side":"BUY"})",
                  422, "symbol: 1234567890123456789012345678901234567890... must be a string"},
        OrderCase{R"({"symbol":tru,"side":"BUY","order_type":"LIMIT","quantity":1,"price":1})", 400,
                  "symbol: tru is not a valid JSON value"},
        OrderCase{R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":1,"price":1.})",
                  400, "price: 1. is not a valid JSON number"},
        OrderCase{R"({"symbol":1.e5,"side":"BUY","order_type":"LIMIT","quantity":1,"price":1})",
                  400, "symbol: 1.e5 is not a valid JSON number"},
        OrderCase{R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":01,"price":1})",
                  400, "quantity: 01 is not a valid JSON number"},
        OrderCase{R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":1,"price":2e})",
                  400, "price: 2e is not a valid JSON number"},
        OrderCase{
            R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":1,"price":-0.5E+2})",
            422, R"(price: "-0.5E+2" must be positive)"},
        OrderCase{
            R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":"abc","price":1})",
            422, R"(quantity: "abc" is not a valid decimal number)"},
        OrderCase{R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":"","price":1})",
                  422, R"(quantity: "" is not a valid decimal number)"},
        OrderCase{R"({"side":"BUY","order_type":"LIMIT","quantity":1,"price":1})", 422,
                  "symbol: missing"},
        OrderCase{R"({"symbol":"AAPL","order_type":"LIMIT","quantity":1,"price":1})", 422,
                  "side: missing"},
        OrderCase{R"({"symbol":"AAPL","side":"BUY","quantity":1,"price":1})", 422,
                  "order_type: missing"},
        OrderCase{R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","price":1})", 422,
                  "quantity: missing"},
        OrderCase{R"({"symbol":"AAPL","side":"BUY","order_type":"FOK","quantity":1})", 422,
                  "price: missing, required for FOK orders"},
        OrderCase{
            R"({"symbol":"AAPL","side":"BUY","order_type":"IOC","quantity":1,"price":1,"post_only":true})",
            422, "post_only: only LIMIT orders can be post-only, not IOC"},
        OrderCase{
            R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":1,"price":1,"client_order_id":"01234567890123456789012345678901234567890123456789012345678901234"})",
            422,
            R"(client_order_id: "0123456789012345678901234567890123456789..." is longer than 64 bytes)"},
        OrderCase{
            R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":99999999999999999999,"price":1})",
            422, R"(quantity: "99999999999999999999" is too large)"},
        OrderCase{
            R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":1,"price":1} {})", 400,
            "body: unexpected content at byte 75 after the end of the JSON document"},
        OrderCase{
            R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":1,"price":1} xyz)",
            400, "body: unexpected content at byte 75 after the end of the JSON document"},
        OrderCase{R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":1,"price":1}1)",
                  400, "body: unexpected content at byte 74 after the end of the JSON document"},
        OrderCase{R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":1,"price":1}})",
                  400, "body: unexpected content at byte 74 after the end of the JSON document"},
        OrderCase{R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":1,"price":1)",
                  400,
                  "body: not valid JSON (JSON document ended early in the middle of an object or "
                  "array.)"},
        OrderCase{R"({"symbol":"}","side":"BUY" xyz)", 400,
                  "body: not valid JSON (JSON document ended early in the middle of an object or "
                  "array.)"},
        OrderCase{
            R"({"symbol":"AAPL","symbol":"MSFT","side":"BUY","order_type":"LIMIT","quantity":1,"price":1})",
            422, "symbol: duplicate field, send each field once"},
        OrderCase{
            R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":1,"price":1,"quantity":null})",
            422, "quantity: duplicate field, send each field once"},
        OrderCase{
            R"({"symbol":"AAPL","s\u0079mbol":"MSFT","side":"BUY","order_type":"LIMIT","quantity":1,"price":1})",
            422, "symbol: duplicate field, send each field once"},
        OrderCase{
            R"({"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":1,"price":1,"note":1,"note":2})",
            0, ""},
        OrderCase{R"("AAPL")", 400, "body: must be a JSON object"}));

TEST(OrderJson, BatchKeepsValidOrdersAndIndexesErrors) {
  static const engine::EngineConfig config;
  OrderJsonParser parser(config, JsonLimits{.max_depth = 16, .max_batch_orders = 3});
  std::string body =
      R"({"orders":[{"symbol":"AAPL","side":"BUY","order_type":"MARKET","quantity":1},)"
      R"(5,{"symbol":"AAPL","side":"BUY","order_type":"LIMIT","quantity":1}]})";
  body.reserve(body.size() + 64);

  std::vector<BatchEntry> entries;
  RequestError error;
  ASSERT_TRUE(parser.parse_batch(body, body.capacity(), entries, error)) << error.detail;
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_TRUE(entries[0].ok);
  EXPECT_FALSE(entries[1].ok);
  EXPECT_EQ(entries[1].error.detail, "orders[1]: must be an order object");
  EXPECT_FALSE(entries[2].ok);
  EXPECT_EQ(entries[2].error.detail, "price: missing, required for LIMIT orders");

  std::string too_long = R"({"orders":[1,2,3,4]})";
  too_long.reserve(too_long.size() + 64);
  EXPECT_FALSE(parser.parse_batch(too_long, too_long.capacity(), entries, error));
  EXPECT_EQ(error.status, 422);
}

TEST(OrderJson, BatchNamesWhyTheBodyIsRejected) {
  static const engine::EngineConfig config;
  OrderJsonParser parser(config, JsonLimits{});
  const std::string order = R"({"symbol":"AAPL","side":"BUY","order_type":"MARKET","quantity":1})";
  struct Case {
    std::string body;
    int status;
    std::string detail;
  };
  const std::vector<Case> cases = {
      {R"({"orders":[)" + order + ",]}", 400,
       "body: not valid JSON (The JSON document has an improper structure: missing or superfluous "
       "commas, braces, missing keys, etc.)"},
      {R"({"orders":[)" + order + "]} xyz", 400,
       "body: unexpected content at byte 79 after the end of the JSON document"},
      {R"({"orders":[)" + order + "]}{}", 400,
       "body: unexpected content at byte 78 after the end of the JSON document"},
      {R"({"orders":[{"symbol":"AAPL","quantity":1.}]})", 400,
       "quantity: 1. is not a valid JSON number"},
      {R"({"orders":[)" + order + R"(],"orders":[)" + order + "]}", 422,
       "orders: duplicate field, send one orders array"},
  };
  for (const Case& row : cases) {
    std::string body = row.body;
    body.reserve(body.size() + 64);
    std::vector<BatchEntry> entries;
    RequestError error;
    ASSERT_FALSE(parser.parse_batch(body, body.capacity(), entries, error)) << row.body;
    EXPECT_EQ(error.status, row.status) << row.body;
    EXPECT_EQ(error.detail, row.detail) << row.body;
  }
}

TEST(OrderJson, BatchRejectsOrderWithDuplicateField) {
  static const engine::EngineConfig config;
  OrderJsonParser parser(config, JsonLimits{});
  std::string body =
      R"({"orders":[{"symbol":"AAPL","side":"BUY","order_type":"MARKET","quantity":1,)"
      R"("side":"SELL"},{"symbol":"AAPL","side":"BUY","order_type":"MARKET","quantity":1}]})";
  body.reserve(body.size() + 64);

  std::vector<BatchEntry> entries;
  RequestError error;
  ASSERT_TRUE(parser.parse_batch(body, body.capacity(), entries, error)) << error.detail;
  ASSERT_EQ(entries.size(), 2u);
  EXPECT_FALSE(entries[0].ok);
  EXPECT_EQ(entries[0].error.status, 422);
  EXPECT_EQ(entries[0].error.detail, "side: duplicate field, send each field once");
  EXPECT_TRUE(entries[1].ok) << entries[1].error.detail;
}

TEST(HttpRequestParser, PipelinedRequestsByteByByte) {
  std::string stream =
      "POST /api/orders?x=1 HTTP/1.1\r\nAuthorization: Bearer abc\r\nContent-Length: 2\r\n\r\n{}"
      "GET /health HTTP/1.1\r\nConnection: close\r\n\r\n";
  HttpRequestParser parser(HttpLimits{});
  std::vector<std::string> paths;
  std::string pending;
  for (char c : stream) {
    pending.push_back(c);
    HttpRequestParser::State state;
    pending.erase(0, parser.feed(pending, state));
    ASSERT_NE(state, HttpRequestParser::State::kFailed) << parser.error().detail;
    if (state != HttpRequestParser::State::kComplete) continue;
    paths.emplace_back(parser.request().path());
    if (paths.size() == 1) {
      EXPECT_EQ(parser.request().authorization, "Bearer abc");
      EXPECT_EQ(parser.request().body, "{}");
      EXPECT_EQ(parser.request().query(), "x=1");
      EXPECT_TRUE(parser.request().keep_alive);
    } else {
      EXPECT_FALSE(parser.request().keep_alive);
    }
    parser.reset();
  }
  EXPECT_EQ(paths, (std::vector<std::string>{"/api/orders", "/health"}));
}

TEST(HttpRequestParser, LimitsMapToStatusCodes) {
  struct Case {
    std::string input;
    int status;
  };
  const std::vector<Case> cases = {
      {"GET / HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n\r\n", 431},
      {"POST / HTTP/1.1\r\nContent-Length: 500\r\n\r\n", 413},
      {"NOT HTTP\r\n\r\n", 400},
  };
  for (const Case& row : cases) {
    HttpRequestParser parser(HttpLimits{.max_header_bytes = 128, .max_body_bytes = 100});
    HttpRequestParser::State state;
    (void)parser.feed(row.input, state);
    ASSERT_EQ(state, HttpRequestParser::State::kFailed) << row.input.substr(0, 40);
    EXPECT_EQ(parser.error().status, row.status);
  }
}

TEST(TokenSigner, VerifiesOnlyItsOwnUnexpiredTokens) {
  hft::test::TempDir dir;
  std::string error;
  auto signer = TokenSigner::load_or_create(dir.path() / "token.key", error);
  ASSERT_TRUE(signer) << error;
  struct stat info {};
  ASSERT_EQ(::stat((dir.path() / "token.key").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  std::string token = signer->issue(42, 1000);
  TokenSigner::Claims claims;
  EXPECT_EQ(signer->verify(token, 999, claims), TokenSigner::Outcome::kValid);
  EXPECT_EQ(claims.user_id, 42u);
  EXPECT_EQ(signer->verify(token, 1000, claims), TokenSigner::Outcome::kExpired);
  std::string other_user = token;
  other_user.replace(0, 2, "43");
  EXPECT_EQ(signer->verify(other_user, 999, claims), TokenSigner::Outcome::kBadSignature);
  EXPECT_EQ(signer->verify("42.1000", 999, claims), TokenSigner::Outcome::kMalformed);

  // The same key file gives the same verdicts after a restart; another key rejects the token.
  auto reloaded = TokenSigner::load_or_create(dir.path() / "token.key", error);
  ASSERT_TRUE(reloaded) << error;
  EXPECT_EQ(reloaded->verify(token, 999, claims), TokenSigner::Outcome::kValid);
  hft::test::TempDir other_dir;
  auto other = TokenSigner::load_or_create(other_dir.path() / "token.key", error);
  ASSERT_TRUE(other) << error;
  EXPECT_EQ(other->verify(token, 999, claims), TokenSigner::Outcome::kBadSignature);
}

TEST(JournalCodec, RoundTripsEveryCommandKind) {
  Command orders;
  orders.kind = CommandKind::kNewOrders;
  orders.user = engine::UserId{7};
  for (int i = 0; i < 3; ++i) {
    NewOrderCommand& order = orders.orders.emplace_back();
    order.id = engine::OrderId{100u + i};
    order.created_unix_ns = 1'700'000'000'000'000'000 + i;
    order.request.symbol = engine::Symbol::parse("MSFT").value();
    order.request.side = engine::Side::kSell;
    order.request.type = engine::OrderType::kIoc;
    order.request.price = engine::Price{15025};
    order.request.quantity = engine::Quantity{3 + i};
    ASSERT_TRUE(order.request.client_order_id.assign("client-" + std::to_string(i)));
  }
  Command cancel;
  cancel.kind = CommandKind::kCancel;
  cancel.user = engine::UserId{7};
  cancel.cancel_id = engine::OrderId{101};
  Command user;
  user.kind = CommandKind::kRegisterUser;
  user.user = engine::UserId{7};
  user.username = "dora";
  user.email = "dora@example.com";
  user.password_hash = "$argon2id$...";

  for (const Command* command : {&orders, &cancel, &user}) {
    std::vector<std::byte> payload;
    RecordType type = encode_command(*command, payload);
    Command decoded;
    ASSERT_TRUE(decode_command(static_cast<std::uint16_t>(type), payload, decoded));
    EXPECT_EQ(decoded.kind, command->kind);
    EXPECT_EQ(decoded.user, command->user);
    EXPECT_EQ(decoded.cancel_id, command->cancel_id);
    EXPECT_EQ(decoded.username, command->username);
    EXPECT_EQ(decoded.password_hash, command->password_hash);
    ASSERT_EQ(decoded.orders.size(), command->orders.size());
    for (std::size_t i = 0; i < decoded.orders.size(); ++i) {
      EXPECT_EQ(decoded.orders[i].id, command->orders[i].id);
      EXPECT_EQ(decoded.orders[i].request.price, command->orders[i].request.price);
      EXPECT_EQ(decoded.orders[i].request.quantity, command->orders[i].request.quantity);
      EXPECT_EQ(decoded.orders[i].request.client_order_id.view(),
                command->orders[i].request.client_order_id.view());
    }

    // Every shorter payload is rejected rather than read past its end.
    for (std::size_t cut = 0; cut < payload.size(); ++cut) {
      Command partial;
      EXPECT_FALSE(
          decode_command(static_cast<std::uint16_t>(type), std::span(payload.data(), cut), partial))
          << "cut at " << cut;
    }
  }
}

TEST(OrderStore, UpdatesAreVisibleToReaders) {
  OrderStore store;
  OrderRecord record;
  record.id = engine::OrderId{70'000};
  record.user = engine::UserId{1};
  ASSERT_TRUE(store.create(record));
  EXPECT_FALSE(store.create(OrderRecord{}));  // id 0

  store.apply_update(record.id, ApiOrderStatus::kPartiallyFilled, engine::Quantity{4},
                     engine::Notional{400});
  auto found = store.find(record.id);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, ApiOrderStatus::kPartiallyFilled);
  EXPECT_EQ(found->filled.lots, 4);
  EXPECT_FALSE(store.find(engine::OrderId{70'001}));
  EXPECT_EQ(store.size(), 1u);
}

TEST(GatewayFuzzCorpus, SeedsRunThroughEntryPoints) {
  namespace fs = std::filesystem;
  const fs::path root = HFT_GATEWAY_CORPUS_DIR;
  std::size_t files = 0;
  for (const auto& [folder, entry_point] :
       {std::pair{"http", &fuzz_http_request}, std::pair{"order", &fuzz_order_json},
        std::pair{"state", &fuzz_state_changes}}) {
    for (const auto& file : fs::directory_iterator(root / folder)) {
      std::string bytes = hft::test::read_file(file.path());
      EXPECT_EQ(entry_point(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()), 0)
          << file.path();
      ++files;
    }
  }
  EXPECT_GE(files, 10u);
}

}  // namespace
}  // namespace hft::gateway
