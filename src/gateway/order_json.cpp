#include "gateway/order_json.h"

#include <fmt/format.h>

#include <new>
#include <optional>

#include "engine/decimal.h"

namespace hft::gateway {

namespace ondemand = simdjson::ondemand;
using engine::RejectReason;

namespace {

constexpr std::string_view kInvalidJson = "invalid_json";
constexpr std::string_view kInvalidField = "invalid_field";
// Values quoted in error details are cut to this many bytes.
constexpr std::size_t kMaxQuotedValueBytes = 40;
constexpr std::size_t kInitialCapacityBytes = 64 * 1024;

// The fields of one order as found in the JSON, before validation. Views point into the body
// or into the simdjson parser's string buffer, both valid until the next parse.
struct RawOrder {
  std::string_view symbol;
  std::string_view side;
  std::string_view order_type;
  std::string_view price;
  std::string_view quantity;
  std::string_view client_order_id;
  bool has_symbol = false;
  bool has_side = false;
  bool has_order_type = false;
  bool has_price = false;
  bool has_quantity = false;
  bool has_client_order_id = false;
  bool post_only = false;
};

std::string quoted(std::string_view value) {
  if (value.size() <= kMaxQuotedValueBytes) return fmt::format("\"{}\"", value);
  return fmt::format("\"{}...\"", value.substr(0, kMaxQuotedValueBytes));
}

RequestError malformed(std::string_view what) {
  return RequestError{400, kInvalidJson, std::string(what)};
}

RequestError invalid(std::string detail) {
  return RequestError{422, kInvalidField, std::move(detail)};
}

std::string_view trim_right(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 32) : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

// A value of the wrong type as an error detail shows it: scalars as their text, containers by
// their kind.
std::string describe_value(ondemand::value& value, ondemand::json_type type) {
  if (type == ondemand::json_type::object) return "an object";
  if (type == ondemand::json_type::array) return "an array";
  return quoted(trim_right(value.raw_json_token()));
}

// Reads a string field; a non-string value is an invalid field. Returns false on malformed JSON.
enum class FieldResult : std::uint8_t { kOk, kInvalid, kMalformed };

FieldResult read_string(ondemand::value& value, std::string_view name, std::string_view& out,
                        std::optional<RequestError>& error) {
  ondemand::json_type type;
  if (value.type().get(type)) return FieldResult::kMalformed;
  if (type != ondemand::json_type::string) {
    if (!error) {
      error = invalid(fmt::format("{}: {} must be a string", name, describe_value(value, type)));
    }
    return FieldResult::kInvalid;
  }
  if (value.get_string().get(out)) return FieldResult::kMalformed;
  return FieldResult::kOk;
}

// Reads a number field as its raw token text, or the content of a string.
FieldResult read_number_text(ondemand::value& value, std::string_view name, std::string_view& out,
                             bool& is_null, std::optional<RequestError>& error) {
  ondemand::json_type type;
  if (value.type().get(type)) return FieldResult::kMalformed;
  is_null = type == ondemand::json_type::null;
  if (is_null) {
    bool null_value = false;
    if (value.is_null().get(null_value) || !null_value) return FieldResult::kMalformed;
    return FieldResult::kOk;
  }
  if (type == ondemand::json_type::string) {
    if (value.get_string().get(out)) return FieldResult::kMalformed;
    return FieldResult::kOk;
  }
  if (type != ondemand::json_type::number) {
    if (!error) {
      error = invalid(fmt::format("{}: {} must be a number", name, describe_value(value, type)));
    }
    return FieldResult::kInvalid;
  }
  std::string_view raw = trim_right(value.raw_json_token());
  // Make simdjson validate the number's grammar; the engine parses the text itself.
  ondemand::number_type number_type;
  if (value.get_number_type().get(number_type)) {
    if (!error) error = invalid(fmt::format("{}: {} is not a valid number", name, quoted(raw)));
    return FieldResult::kInvalid;
  }
  out = raw;
  return FieldResult::kOk;
}

// Collects the fields of one order object. Unknown fields are ignored. Returns false only for
// malformed JSON; a wrong field type is recorded in `error` and the scan goes on.
bool scan_order(ondemand::object& object, RawOrder& raw, std::optional<RequestError>& error) {
  for (auto field_result : object) {
    ondemand::field field;
    if (std::move(field_result).get(field)) return false;
    std::string_view key;
    if (field.unescaped_key().get(key)) return false;
    ondemand::value value = field.value();

    FieldResult result = FieldResult::kOk;
    bool is_null = false;
    if (key == "symbol") {
      result = read_string(value, key, raw.symbol, error);
      raw.has_symbol = result == FieldResult::kOk;
    } else if (key == "side") {
      result = read_string(value, key, raw.side, error);
      raw.has_side = result == FieldResult::kOk;
    } else if (key == "order_type") {
      result = read_string(value, key, raw.order_type, error);
      raw.has_order_type = result == FieldResult::kOk;
    } else if (key == "client_order_id") {
      ondemand::json_type type;
      if (value.type().get(type)) return false;
      if (type != ondemand::json_type::null) {
        result = read_string(value, key, raw.client_order_id, error);
        raw.has_client_order_id = result == FieldResult::kOk;
      }
    } else if (key == "price") {
      result = read_number_text(value, key, raw.price, is_null, error);
      raw.has_price = result == FieldResult::kOk && !is_null;
    } else if (key == "quantity") {
      result = read_number_text(value, key, raw.quantity, is_null, error);
      raw.has_quantity = result == FieldResult::kOk && !is_null;
    } else if (key == "post_only") {
      ondemand::json_type type;
      if (value.type().get(type)) return false;
      if (type == ondemand::json_type::boolean) {
        if (value.get_bool().get(raw.post_only)) return false;
      } else if (type != ondemand::json_type::null && !error) {
        error = invalid("post_only: must be true or false");
      }
    }
    if (result == FieldResult::kMalformed) return false;
  }
  return true;
}

std::string describe_decimal_error(std::string_view field, std::string_view text,
                                   RejectReason reason, const engine::Instrument& instrument) {
  switch (reason) {
    case RejectReason::kNegative:
    case RejectReason::kZero:
      return fmt::format("{}: {} must be positive", field, quoted(text));
    case RejectReason::kTooManyDecimals:
      return fmt::format(
          "{}: {} has more decimals than the {} size {}", field, quoted(text),
          field == "price" ? "tick" : "lot",
          engine::to_string(field == "price" ? instrument.tick_size : instrument.lot_size));
    case RejectReason::kOffTick:
      return fmt::format("{}: {} is not a multiple of the tick size {}", field, quoted(text),
                         engine::to_string(instrument.tick_size));
    case RejectReason::kOffLot:
      return fmt::format("{}: {} is not a multiple of the lot size {}", field, quoted(text),
                         engine::to_string(instrument.lot_size));
    case RejectReason::kOverflow:
      return fmt::format("{}: {} is too large", field, quoted(text));
    default:
      return fmt::format("{}: {} is not a valid number ({})", field, quoted(text),
                         engine::to_string(reason));
  }
}

// Validates the collected fields and converts them to engine units.
std::optional<RequestError> validate(const RawOrder& raw, const engine::EngineConfig& config,
                                     OrderRequest& order) {
  using engine::OrderType;
  using engine::Side;

  if (!raw.has_symbol) return invalid("symbol: missing");
  auto symbol = engine::Symbol::parse(raw.symbol);
  if (!symbol.ok()) {
    return invalid(fmt::format("symbol: {} must be 1-16 characters of A-Z, 0-9, '.', '_' or '-'",
                               quoted(raw.symbol)));
  }
  order.symbol = symbol.value();

  if (!raw.has_side) return invalid("side: missing");
  if (iequals(raw.side, "BUY")) {
    order.side = Side::kBuy;
  } else if (iequals(raw.side, "SELL")) {
    order.side = Side::kSell;
  } else {
    return invalid(fmt::format("side: {} must be BUY or SELL", quoted(raw.side)));
  }

  if (!raw.has_order_type) return invalid("order_type: missing");
  if (iequals(raw.order_type, "LIMIT")) {
    order.type = OrderType::kLimit;
  } else if (iequals(raw.order_type, "MARKET")) {
    order.type = OrderType::kMarket;
  } else if (iequals(raw.order_type, "IOC")) {
    order.type = OrderType::kIoc;
  } else if (iequals(raw.order_type, "FOK")) {
    order.type = OrderType::kFok;
  } else {
    return invalid(
        fmt::format("order_type: {} must be MARKET, LIMIT, IOC or FOK", quoted(raw.order_type)));
  }

  engine::Instrument instrument = config.instrument_for(order.symbol);
  if (!raw.has_quantity) return invalid("quantity: missing");
  auto quantity = engine::parse_quantity(raw.quantity, instrument);
  if (!quantity.ok()) {
    return invalid(describe_decimal_error("quantity", raw.quantity, quantity.reason(), instrument));
  }
  order.quantity = quantity.value();

  order.price = engine::Price{0};
  if (raw.has_price) {
    auto price = engine::parse_price(raw.price, instrument);
    if (!price.ok()) {
      return invalid(describe_decimal_error("price", raw.price, price.reason(), instrument));
    }
    order.price = price.value();
    if (!engine::compute_notional(order.price, order.quantity).ok()) {
      return invalid(fmt::format("quantity: {} times price {} is too large", quoted(raw.quantity),
                                 quoted(raw.price)));
    }
  } else if (order.type != OrderType::kMarket) {
    return invalid(
        fmt::format("price: missing, required for {} orders", engine::to_string(order.type)));
  }

  order.post_only = raw.post_only;
  if (order.post_only && order.type != OrderType::kLimit) {
    return invalid(fmt::format("post_only: only LIMIT orders can be post-only, not {}",
                               engine::to_string(order.type)));
  }

  if (raw.has_client_order_id && !order.client_order_id.assign(raw.client_order_id)) {
    return invalid(fmt::format("client_order_id: {} is longer than {} bytes",
                               quoted(raw.client_order_id), ClientOrderId::kMaxLength));
  }
  if (!raw.has_client_order_id) order.client_order_id = ClientOrderId{};
  return std::nullopt;
}

// Scans and validates one order object. Returns false only for malformed JSON.
bool read_order(ondemand::object& object, const engine::EngineConfig& config, OrderRequest& order,
                std::optional<RequestError>& error) {
  RawOrder raw;
  if (!scan_order(object, raw, error)) return false;
  if (!error) error = validate(raw, config, order);
  return true;
}

// True when nothing but whitespace follows the document's root value.
bool at_end(ondemand::document& document) {
  return document.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

std::string describe_json_error(simdjson::error_code code) {
  return fmt::format("body: not valid JSON ({})", simdjson::error_message(code));
}

}  // namespace

bool nests_deeper_than(std::string_view json, std::size_t max_depth) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    char c = json[i];
    if (in_string) {
      if (c == '\\') {
        ++i;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '{' || c == '[') {
      if (++depth > max_depth) return true;
    } else if ((c == '}' || c == ']') && depth > 0) {
      --depth;
    }
  }
  return false;
}

OrderJsonParser::OrderJsonParser(const engine::EngineConfig& config, JsonLimits limits)
    : config_(config), limits_(limits) {
  // iterate() grows the capacity for larger bodies and keeps this depth limit.
  if (parser_.allocate(kInitialCapacityBytes, limits_.max_depth) != simdjson::SUCCESS) {
    throw std::bad_alloc();
  }
}

bool OrderJsonParser::parse_order(std::string_view body, std::size_t capacity, OrderRequest& order,
                                  RequestError& error) {
  if (nests_deeper_than(body, limits_.max_depth)) {
    error = malformed(fmt::format("body: nested deeper than {} levels", limits_.max_depth));
    return false;
  }
  ondemand::document document;
  auto code = parser_.iterate(body.data(), body.size(), capacity).get(document);
  if (code) {
    error = malformed(describe_json_error(code));
    return false;
  }
  ondemand::object object;
  code = document.get_object().get(object);
  if (code) {
    error = malformed(code == simdjson::INCORRECT_TYPE ? "body: must be a JSON object"
                                                       : describe_json_error(code));
    return false;
  }

  std::optional<RequestError> field_error;
  if (!read_order(object, config_, order, field_error) || !at_end(document)) {
    error = malformed("body: not valid JSON");
    return false;
  }
  if (field_error) {
    error = std::move(*field_error);
    return false;
  }
  return true;
}

bool OrderJsonParser::parse_batch(std::string_view body, std::size_t capacity,
                                  std::vector<BatchEntry>& entries, RequestError& error) {
  entries.clear();
  if (nests_deeper_than(body, limits_.max_depth)) {
    error = malformed(fmt::format("body: nested deeper than {} levels", limits_.max_depth));
    return false;
  }
  ondemand::document document;
  auto code = parser_.iterate(body.data(), body.size(), capacity).get(document);
  if (code) {
    error = malformed(describe_json_error(code));
    return false;
  }
  ondemand::object object;
  code = document.get_object().get(object);
  if (code) {
    error = malformed(code == simdjson::INCORRECT_TYPE ? "body: must be a JSON object"
                                                       : describe_json_error(code));
    return false;
  }

  bool found_orders = false;
  for (auto field_result : object) {
    ondemand::field field;
    std::string_view key;
    if (std::move(field_result).get(field) || field.unescaped_key().get(key)) {
      error = malformed("body: not valid JSON");
      return false;
    }
    if (key != "orders") continue;

    ondemand::array array;
    code = field.value().get_array().get(array);
    if (code == simdjson::INCORRECT_TYPE) {
      error = invalid("orders: must be an array of order objects");
      return false;
    }
    if (code) {
      error = malformed(describe_json_error(code));
      return false;
    }
    found_orders = true;
    entries.clear();

    for (auto element_result : array) {
      ondemand::value element;
      if (std::move(element_result).get(element)) {
        error = malformed("body: not valid JSON");
        return false;
      }
      if (entries.size() == limits_.max_batch_orders) {
        error = invalid(fmt::format("orders: more than the limit of {} orders per batch",
                                    limits_.max_batch_orders));
        return false;
      }

      BatchEntry& entry = entries.emplace_back();
      ondemand::object order_object;
      code = element.get_object().get(order_object);
      if (code == simdjson::INCORRECT_TYPE) {
        entry.error =
            invalid(fmt::format("orders[{}]: must be an order object", entries.size() - 1));
        continue;
      }
      std::optional<RequestError> field_error;
      if (code || !read_order(order_object, config_, entry.order, field_error)) {
        error = malformed("body: not valid JSON");
        return false;
      }
      entry.ok = !field_error;
      if (field_error) entry.error = std::move(*field_error);
    }
  }
  if (!at_end(document)) {
    error = malformed("body: not valid JSON");
    return false;
  }
  if (!found_orders) {
    error = invalid("orders: missing");
    return false;
  }
  if (entries.empty()) {
    error = invalid("orders: must contain at least one order");
    return false;
  }
  return true;
}

}  // namespace hft::gateway
