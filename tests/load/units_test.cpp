// Unit tests of the load client's parts that need no server: options, the HTTP response head
// parser and the order generator.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <set>

#include "load/http_response.h"
#include "load/load_options.h"
#include "load/order_generator.h"

namespace hft::load {
namespace {

TEST(LoadOptions, ArgsRoundTripThroughFlags) {
  LoadOptions original;
  original.connections = 8;
  original.rate = 1500.5;
  original.batch = 10;
  original.profile = "seed";
  original.symbols = "AAPL,MSFT";
  original.seed = 42;
  original.timeout_ms = 750;
  original.start_at = "1733320800.25";

  CLI::App app;
  LoadOptions parsed;
  add_load_options(app, parsed);
  std::vector<std::string> args = to_args(original);
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  app.parse(reversed);

  EXPECT_EQ(parsed.connections, 8);
  EXPECT_EQ(parsed.rate, 1500.5);
  EXPECT_EQ(parsed.batch, 10);
  EXPECT_EQ(parsed.profile, "seed");
  EXPECT_EQ(parsed.symbols, "AAPL,MSFT");
  EXPECT_EQ(parsed.seed, 42u);
  EXPECT_EQ(parsed.timeout_ms, 750);
  EXPECT_EQ(parsed.start_at, "1733320800.25");
}

TEST(LoadOptions, ValidationNamesTheFlag) {
  struct Case {
    void (*change)(LoadOptions&);
    std::string flag;
  };
  std::vector<Case> cases = {
      {[](LoadOptions& o) { o.duration_s = 0; }, "--duration"},
      {[](LoadOptions& o) { o.connections = 0; }, "--connections"},
      {[](LoadOptions& o) { o.rate = -1; }, "--rate"},
      {[](LoadOptions& o) { o.batch = 1001; }, "--batch"},
      {[](LoadOptions& o) { o.profile = "other"; }, "--profile"},
      {[](LoadOptions& o) { o.symbols = "0"; }, "--symbols"},
      {[](LoadOptions& o) { o.symbols = "AAPL,,MSFT"; }, "--symbols"},
      {[](LoadOptions& o) { o.timeout_ms = 0; }, "--timeout-ms"},
      {[](LoadOptions& o) { o.start_at = "12:00"; }, "--start-at"},
      {[](LoadOptions& o) { o.api_url = "ftp://x"; }, "--api-url"},
  };
  EXPECT_EQ(validate_load_options(LoadOptions{}), "");
  for (const Case& c : cases) {
    LoadOptions options;
    c.change(options);
    std::string error = validate_load_options(options);
    EXPECT_NE(error.find(c.flag), std::string::npos) << c.flag << ": '" << error << "'";
  }
}

TEST(LoadOptions, SymbolsFromCountOrList) {
  EXPECT_EQ(resolve_symbols("3"), (std::vector<std::string>{"AAPL", "MSFT", "GOOGL"}));
  EXPECT_EQ(resolve_symbols("XOM, BAC"), (std::vector<std::string>{"XOM", "BAC"}));
  EXPECT_EQ(resolve_symbols("20").size(), 20u);
  EXPECT_TRUE(resolve_symbols("msft").empty());
}

TEST(ResponseHead, ParsesTableOfReplies) {
  struct Case {
    std::string text;
    HeadParse result;
    int status;
    std::size_t content_length;
    bool close;
  };
  std::vector<Case> cases = {
      {"HTTP/1.1 201 Created\r\nContent-Length: 12\r\n\r\n", HeadParse::kComplete, 201, 12, false},
      {"HTTP/1.1 200 OK\r\ncontent-length:0\r\nConnection: close\r\n\r\n", HeadParse::kComplete,
       200, 0, true},
      {"HTTP/1.0 503 Busy\r\nCONTENT-LENGTH:  5 \r\n\r\nbusy!", HeadParse::kComplete, 503, 5,
       false},
      {"HTTP/1.1 204 No Content\r\n\r\n", HeadParse::kComplete, 204, 0, false},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HeadParse::kChunked, 200, 0, false},
      {"HTTP/1.1 200 OK\r\nServer: x\r\n\r\n", HeadParse::kNoLength, 200, 0, false},
      {"HTTP/1.1 201 Created\r\nContent-Le", HeadParse::kIncomplete, 0, 0, false},
      {"SSH-2.0-OpenSSH\r\n", HeadParse::kInvalid, 0, 0, false},
      {"HTTP/1.1 2x1 Created\r\n\r\n", HeadParse::kInvalid, 0, 0, false},
      {"HTTP/1.1 200 OK\r\nContent-Length: 1a\r\n\r\n", HeadParse::kInvalid, 200, 0, false},
  };
  for (const Case& c : cases) {
    ResponseHead head = parse_response_head(c.text);
    EXPECT_EQ(head.result, c.result) << c.text;
    if (c.result != HeadParse::kComplete) continue;
    EXPECT_EQ(head.status, c.status) << c.text;
    EXPECT_EQ(head.content_length, c.content_length) << c.text;
    EXPECT_EQ(head.connection_close, c.close) << c.text;
    EXPECT_EQ(head.head_size, c.text.find("\r\n\r\n") + 4) << c.text;
  }
}

TEST(OrderGenerator, SeedProfileAlternatesSides) {
  OrderGenerator generator(OrderProfile::kSeed, {"AAPL"}, 1, "1");
  std::string first;
  std::string second;
  generator.append_order(first);
  generator.append_order(second);

  EXPECT_EQ(
      first,
      R"({"symbol":"AAPL","side":"BUY","order_type":"MARKET","quantity":100,"price":150.00})");
  EXPECT_EQ(
      second,
      R"({"symbol":"AAPL","side":"SELL","order_type":"MARKET","quantity":100,"price":150.00})");
  EXPECT_FALSE(generator.draw_cancel());
}

TEST(OrderGenerator, RealisticOrdersAreValid) {
  OrderGenerator generator(OrderProfile::kRealistic, {"AAPL", "MSFT", "BAC"}, 5, "2");
  std::set<std::string> symbols;
  int buys = 0;
  simdjson::dom::parser parser;
  for (int i = 0; i < 2000; ++i) {
    std::string body;
    generator.append_order(body);
    simdjson::dom::element order;
    ASSERT_EQ(parser.parse(body).get(order), simdjson::SUCCESS) << body;
    symbols.insert(std::string(std::string_view(order["symbol"])));
    buys += std::string_view(order["side"]) == "BUY" ? 1 : 0;
    EXPECT_EQ(std::string_view(order["order_type"]), "LIMIT");
    std::int64_t quantity = order["quantity"];
    EXPECT_GE(quantity, 1);

    // The price text has exactly two decimals: a whole number of 0.01 ticks.
    std::size_t price_at = body.find("\"price\":") + 8;
    std::string price = body.substr(price_at, body.find(',', price_at) - price_at);
    std::size_t point = price.find('.');
    ASSERT_NE(point, std::string::npos) << body;
    EXPECT_EQ(price.size() - point - 1, 2u) << body;
    EXPECT_GT(double(order["price"]), 0.0) << body;
  }
  EXPECT_EQ(symbols.size(), 3u);
  EXPECT_GT(buys, 800);
  EXPECT_LT(buys, 1200);
}

TEST(OrderGenerator, SameSeedSameOrders) {
  OrderGenerator first(OrderProfile::kRealistic, {"AAPL", "MSFT"}, 77, "3");
  OrderGenerator second(OrderProfile::kRealistic, {"AAPL", "MSFT"}, 77, "3");
  OrderGenerator other_client(OrderProfile::kRealistic, {"AAPL", "MSFT"}, 77, "4");
  std::string a;
  std::string b;
  std::string c;
  first.append_batch(a, 50);
  second.append_batch(b, 50);
  other_client.append_batch(c, 50);

  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a.rfind(R"({"orders":[{"symbol":)", 0), 0u);
}

TEST(OrderGenerator, CancelsTakeAcknowledgedIds) {
  OrderGenerator generator(OrderProfile::kRealistic, {"AAPL"}, 1, "1");
  EXPECT_FALSE(generator.take_cancel_id().has_value());

  generator.remember_acknowledged(11);
  generator.remember_acknowledged(12);
  std::set<std::uint64_t> taken = {*generator.take_cancel_id(), *generator.take_cancel_id()};

  EXPECT_EQ(taken, (std::set<std::uint64_t>{11, 12}));
  EXPECT_FALSE(generator.take_cancel_id().has_value());
}

}  // namespace
}  // namespace hft::load
