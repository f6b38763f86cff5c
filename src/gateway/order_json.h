// OrderJsonParser: turns the JSON bodies of POST /api/orders and POST /api/orders/batch into
// validated OrderRequests, with an error that names the field and the value when they are not.
//
// Prices and quantities are read as the raw text of their JSON number token (a JSON string
// holding a number is accepted too) and converted by the engine's exact decimal parser, so no
// value passes through floating point.
//
// Not thread-safe: it owns a simdjson parser and its buffers, so each I/O thread keeps its own.
// Bodies must be padded: readable memory of at least 64 bytes past the end (HttpRequest::body
// reserves it; see padded_capacity below).
#pragma once

#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "gateway/order_request.h"

namespace hft::gateway {

// Why a body or one order in it was not accepted: the HTTP status (400 for malformed JSON, 422
// for an invalid field), an error code and a detail such as `quantity: "0" must be positive`.
struct RequestError {
  int status = 422;
  std::string_view error;
  std::string detail;
};

// One entry of a batch: an order or the reason it was rejected.
struct BatchEntry {
  bool ok = false;
  OrderRequest order;
  RequestError error;
};

struct JsonLimits {
  std::size_t max_depth = 16;
  std::size_t max_batch_orders = 1000;
};

// True when arrays and objects in `json` nest deeper than `max_depth`. simdjson's on-demand
// parser skips the values it is not asked for without checking their depth, so callers check
// the limit up front with this linear scan.
[[nodiscard]] bool nests_deeper_than(std::string_view json, std::size_t max_depth);

// Checks the nesting depth of `body`, starts `parser` on it and opens its root object. `capacity`
// is as for OrderJsonParser::parse_order. Returns the error that ends the request (400: too
// deep, malformed, not an object, or content after the root object), or nullopt when `object`
// is ready to read.
[[nodiscard]] std::optional<RequestError> open_json_object(simdjson::ondemand::parser& parser,
                                                           std::string_view body,
                                                           std::size_t capacity,
                                                           std::size_t max_depth,
                                                           simdjson::ondemand::document& document,
                                                           simdjson::ondemand::object& object);

// Checks that only whitespace follows the root value, once it has been read to its end. Returns
// the 400 error otherwise.
[[nodiscard]] std::optional<RequestError> check_json_end(simdjson::ondemand::document& document,
                                                         std::string_view body);

class OrderJsonParser {
 public:
  OrderJsonParser(const engine::EngineConfig& config, JsonLimits limits);

  // Parses a single-order body. `capacity` is the number of readable bytes from body.data()
  // (at least body.size() + 64). Returns true and fills `order`, or false and fills `error`:
  // 400 for malformed JSON or content after the root object, 422 for a field that is missing,
  // invalid or sent twice. Unknown fields are ignored.
  [[nodiscard]] bool parse_order(std::string_view body, std::size_t capacity, OrderRequest& order,
                                 RequestError& error);

  // Parses {"orders": [...]}. Returns false with `error` when the body as a whole is invalid:
  // malformed JSON anywhere in it, no "orders" array or two of them, too many or no orders.
  // Otherwise fills one entry per element, each an order or its own error.
  [[nodiscard]] bool parse_batch(std::string_view body, std::size_t capacity,
                                 std::vector<BatchEntry>& entries, RequestError& error);

 private:
  // Checks the nesting depth, starts parsing `body` and opens its root object. Returns the error
  // that ends the request, or nullopt when `object` is ready to read.
  [[nodiscard]] std::optional<RequestError> open_body(std::string_view body, std::size_t capacity,
                                                      simdjson::ondemand::document& document,
                                                      simdjson::ondemand::object& object);

  const engine::EngineConfig& config_;
  JsonLimits limits_;
  simdjson::ondemand::parser parser_;
};

}  // namespace hft::gateway
