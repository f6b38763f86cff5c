#include "gateway/order_json.h"

#include <fmt/format.h>

#include <array>
#include <cstdint>
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

// The order fields this parser reads. Each has one bit in RawOrder::seen_fields.
enum class OrderField : std::uint8_t {
  kSymbol,
  kSide,
  kOrderType,
  kPrice,
  kQuantity,
  kClientOrderId,
  kPostOnly,
  kCount,
};
static_assert(static_cast<unsigned>(OrderField::kCount) <= 8, "seen_fields has 8 bits");

// The fields of one order as found in the JSON, before validation. Views point into the body
// or into the simdjson parser's string buffer, both valid until the next parse. A field is empty
// when it is absent, null or of the wrong type.
struct RawOrder {
  std::optional<std::string_view> symbol;
  std::optional<std::string_view> side;
  std::optional<std::string_view> order_type;
  std::optional<std::string_view> price;
  std::optional<std::string_view> quantity;
  std::optional<std::string_view> client_order_id;
  bool post_only = false;
  std::uint8_t seen_fields = 0;
};

std::string quoted(std::string_view value) {
  if (value.size() <= kMaxQuotedValueBytes) return fmt::format("\"{}\"", value);
  return fmt::format("\"{}...\"", value.substr(0, kMaxQuotedValueBytes));
}

// JSON text as it was sent, cut like quoted().
std::string as_sent(std::string_view json_text) {
  if (json_text.size() <= kMaxQuotedValueBytes) return std::string(json_text);
  return fmt::format("{}...", json_text.substr(0, kMaxQuotedValueBytes));
}

RequestError malformed(std::string detail) {
  return RequestError{400, kInvalidJson, std::move(detail)};
}

RequestError invalid(std::string detail) {
  return RequestError{422, kInvalidField, std::move(detail)};
}

std::string describe_json_error(simdjson::error_code code) {
  return fmt::format("body: not valid JSON ({})", simdjson::error_message(code));
}

// Records malformed JSON in `error`, replacing any field error found before it, and returns false
// so that the caller stops reading.
bool stop_malformed(std::optional<RequestError>& error, simdjson::error_code code) {
  error = malformed(describe_json_error(code));
  return false;
}

void record_invalid(std::optional<RequestError>& error, std::string detail) {
  if (!error) error = invalid(std::move(detail));
}

std::string_view trim_right(std::string_view text) {
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\n' ||
                           text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

bool is_json_whitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// True when `text` is a number by the JSON grammar (RFC 8259, section 6): an optional minus,
// an integer part without leading zeros, an optional fraction and an optional exponent.
// simdjson 3.0's get_number_type() only classifies a token by its leading digits, so it
// accepts `1.` and `01`.
bool is_json_number(std::string_view text) {
  std::size_t i = 0;
  auto skip_digits = [&] {
    std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') ++i;
    return i > start;
  };

  if (i < text.size() && text[i] == '-') ++i;
  if (i < text.size() && text[i] == '0') {
    ++i;
  } else if (!skip_digits()) {
    return false;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!skip_digits()) return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-')) ++i;
    if (!skip_digits()) return false;
  }
  return i == text.size();
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'a' && a[i] <= 'z' ? static_cast<char>(a[i] - 32) : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

// Describes a value of the wrong type for an error detail, as it was sent: scalars as their JSON
// text (`123`, `true`, `"BUY"`), containers by their kind. A scalar whose text is not valid JSON
// (`tru`, `1.`) stops the scan as malformed JSON, so the detail only ever quotes valid JSON.
bool describe_value(ondemand::value& value, std::string_view name, ondemand::json_type type,
                    std::string& description, std::optional<RequestError>& error) {
  if (type == ondemand::json_type::object) {
    description = "an object";
    return true;
  }
  if (type == ondemand::json_type::array) {
    description = "an array";
    return true;
  }

  std::string_view text = trim_right(value.raw_json_token());
  simdjson::error_code code = simdjson::SUCCESS;
  if (type == ondemand::json_type::number) {
    if (!is_json_number(text)) code = simdjson::NUMBER_ERROR;
  } else if (type == ondemand::json_type::boolean) {
    bool boolean = false;
    code = value.get_bool().get(boolean);
  } else if (type == ondemand::json_type::null) {
    bool is_null = false;
    code = value.is_null().get(is_null);
    if (!code && !is_null) code = simdjson::N_ATOM_ERROR;
  } else if (type == ondemand::json_type::string) {
    std::string_view unescaped;
    code = value.get_string().get(unescaped);
  }
  if (code) {
    std::string_view kind = type == ondemand::json_type::number ? "number" : "value";
    error = malformed(fmt::format("{}: {} is not a valid JSON {}", name, as_sent(text), kind));
    return false;
  }

  description = as_sent(text);
  return true;
}

// The read_* functions below return false for malformed JSON, recorded in `error`. A value of
// the wrong type is recorded in `error` as an invalid field, if no error came before it, and
// the scan goes on with `out` left empty.

bool read_string(ondemand::value& value, std::string_view name,
                 std::optional<std::string_view>& out, std::optional<RequestError>& error) {
  ondemand::json_type type;
  if (auto code = value.type().get(type)) return stop_malformed(error, code);
  if (type != ondemand::json_type::string) {
    std::string sent;
    if (!describe_value(value, name, type, sent, error)) return false;
    record_invalid(error, fmt::format("{}: {} must be a string", name, sent));
    return true;
  }

  std::string_view text;
  if (auto code = value.get_string().get(text)) return stop_malformed(error, code);
  out = text;
  return true;
}

// Reads a number field as its raw token text, or the content of a string. Null leaves `out`
// empty, as if the field were absent.
bool read_number_text(ondemand::value& value, std::string_view name,
                      std::optional<std::string_view>& out, std::optional<RequestError>& error) {
  ondemand::json_type type;
  if (auto code = value.type().get(type)) return stop_malformed(error, code);
  if (type == ondemand::json_type::null) {
    bool is_null = false;
    if (auto code = value.is_null().get(is_null)) return stop_malformed(error, code);
    if (!is_null) return stop_malformed(error, simdjson::N_ATOM_ERROR);
    return true;
  }
  if (type == ondemand::json_type::string) {
    std::string_view text;
    if (auto code = value.get_string().get(text)) return stop_malformed(error, code);
    out = text;
    return true;
  }
  if (type != ondemand::json_type::number) {
    std::string sent;
    if (!describe_value(value, name, type, sent, error)) return false;
    record_invalid(error, fmt::format("{}: {} must be a number", name, sent));
    return true;
  }

  // simdjson's on-demand API leaves number tokens unchecked until they are converted, and the
  // engine's decimal parser reads the text itself, so the JSON grammar is checked here.
  std::string_view raw = trim_right(value.raw_json_token());
  if (!is_json_number(raw)) {
    error = malformed(fmt::format("{}: {} is not a valid JSON number", name, as_sent(raw)));
    return false;
  }
  out = raw;
  return true;
}

bool read_client_order_id(ondemand::value& value, std::optional<std::string_view>& out,
                          std::optional<RequestError>& error) {
  ondemand::json_type type;
  if (auto code = value.type().get(type)) return stop_malformed(error, code);
  if (type == ondemand::json_type::null) return true;
  return read_string(value, "client_order_id", out, error);
}

bool read_post_only(ondemand::value& value, bool& out, std::optional<RequestError>& error) {
  ondemand::json_type type;
  if (auto code = value.type().get(type)) return stop_malformed(error, code);
  if (type == ondemand::json_type::null) return true;
  if (type == ondemand::json_type::boolean) {
    if (auto code = value.get_bool().get(out)) return stop_malformed(error, code);
    return true;
  }

  std::string sent;
  if (!describe_value(value, "post_only", type, sent, error)) return false;
  record_invalid(error, fmt::format("post_only: {} must be true or false", sent));
  return true;
}

std::optional<OrderField> find_order_field(std::string_view key) {
  if (key == "symbol") return OrderField::kSymbol;
  if (key == "side") return OrderField::kSide;
  if (key == "order_type") return OrderField::kOrderType;
  if (key == "price") return OrderField::kPrice;
  if (key == "quantity") return OrderField::kQuantity;
  if (key == "client_order_id") return OrderField::kClientOrderId;
  if (key == "post_only") return OrderField::kPostOnly;
  return std::nullopt;
}

bool read_field(OrderField field, std::string_view key, ondemand::value& value, RawOrder& raw,
                std::optional<RequestError>& error) {
  switch (field) {
    case OrderField::kSymbol:
      return read_string(value, key, raw.symbol, error);
    case OrderField::kSide:
      return read_string(value, key, raw.side, error);
    case OrderField::kOrderType:
      return read_string(value, key, raw.order_type, error);
    case OrderField::kPrice:
      return read_number_text(value, key, raw.price, error);
    case OrderField::kQuantity:
      return read_number_text(value, key, raw.quantity, error);
    case OrderField::kClientOrderId:
      return read_client_order_id(value, raw.client_order_id, error);
    case OrderField::kPostOnly:
      return read_post_only(value, raw.post_only, error);
    case OrderField::kCount:
      break;
  }
  return true;
}

// Collects the fields of one order object. Unknown fields are skipped unread. A known field
// sent twice is an invalid field, so that no value is silently dropped. Returns false only for
// malformed JSON. A field error is recorded in `error` and the scan goes on to the end of the
// object, so that malformed JSON after it still wins.
bool scan_order(ondemand::object& object, RawOrder& raw, std::optional<RequestError>& error) {
  for (auto field_result : object) {
    ondemand::field json_field;
    if (auto code = std::move(field_result).get(json_field)) return stop_malformed(error, code);
    std::string_view key;
    if (auto code = json_field.unescaped_key().get(key)) return stop_malformed(error, code);
    std::optional<OrderField> field = find_order_field(key);
    if (!field) continue;

    // A bit per known field finds repeats without a second pass over the object.
    auto bit = static_cast<std::uint8_t>(1u << static_cast<unsigned>(*field));
    if ((raw.seen_fields & bit) != 0) {
      record_invalid(error, fmt::format("{}: duplicate field, send each field once", key));
      continue;
    }
    raw.seen_fields |= bit;

    ondemand::value value = json_field.value();
    if (!read_field(*field, key, value, raw, error)) return false;
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
      return fmt::format("{}: {} is not a valid decimal number", field, quoted(text));
  }
}

// Validates the collected fields and converts them to engine units.
std::optional<RequestError> validate(const RawOrder& raw, const engine::EngineConfig& config,
                                     OrderRequest& order) {
  using engine::OrderType;
  using engine::Side;

  if (!raw.symbol) return invalid("symbol: missing");
  auto symbol = engine::Symbol::parse(*raw.symbol);
  if (!symbol.ok()) {
    return invalid(fmt::format("symbol: {} must be 1-16 characters of A-Z, 0-9, '.', '_' or '-'",
                               quoted(*raw.symbol)));
  }
  order.symbol = symbol.value();

  if (!raw.side) return invalid("side: missing");
  if (iequals(*raw.side, "BUY")) {
    order.side = Side::kBuy;
  } else if (iequals(*raw.side, "SELL")) {
    order.side = Side::kSell;
  } else {
    return invalid(fmt::format("side: {} must be BUY or SELL", quoted(*raw.side)));
  }

  if (!raw.order_type) return invalid("order_type: missing");
  if (iequals(*raw.order_type, "LIMIT")) {
    order.type = OrderType::kLimit;
  } else if (iequals(*raw.order_type, "MARKET")) {
    order.type = OrderType::kMarket;
  } else if (iequals(*raw.order_type, "IOC")) {
    order.type = OrderType::kIoc;
  } else if (iequals(*raw.order_type, "FOK")) {
    order.type = OrderType::kFok;
  } else {
    return invalid(
        fmt::format("order_type: {} must be MARKET, LIMIT, IOC or FOK", quoted(*raw.order_type)));
  }

  engine::Instrument instrument = config.instrument_for(order.symbol);
  if (!raw.quantity) return invalid("quantity: missing");
  auto quantity = engine::parse_quantity(*raw.quantity, instrument);
  if (!quantity.ok()) {
    return invalid(
        describe_decimal_error("quantity", *raw.quantity, quantity.reason(), instrument));
  }
  order.quantity = quantity.value();

  order.price = engine::Price{0};
  if (raw.price) {
    auto price = engine::parse_price(*raw.price, instrument);
    if (!price.ok()) {
      return invalid(describe_decimal_error("price", *raw.price, price.reason(), instrument));
    }
    order.price = price.value();
    if (!engine::compute_notional(order.price, order.quantity).ok()) {
      return invalid(fmt::format("quantity: {} times price {} is too large", quoted(*raw.quantity),
                                 quoted(*raw.price)));
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

  if (raw.client_order_id && !order.client_order_id.assign(*raw.client_order_id)) {
    return invalid(fmt::format("client_order_id: {} is longer than {} bytes",
                               quoted(*raw.client_order_id), ClientOrderId::kMaxLength));
  }
  if (!raw.client_order_id) order.client_order_id = ClientOrderId{};
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

// Returns the offset just past the bracket that closes the root object or array of `json`, or
// npos when the root never closes or closes with the wrong kind of bracket.
std::size_t find_root_end(std::string_view json) {
  std::size_t depth = 0;
  bool in_string = false;
  char root_open = 0;
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
      if (depth++ == 0) root_open = c;
    } else if ((c == '}' || c == ']') && depth > 0) {
      if (--depth > 0) continue;
      bool matches = (root_open == '{') == (c == '}');
      return matches ? i + 1 : std::string_view::npos;
    }
  }
  return std::string_view::npos;
}

RequestError trailing_content(std::size_t offset) {
  return malformed(fmt::format(
      "body: unexpected content at byte {} after the end of the JSON document", offset));
}

// Opens the document's root object. simdjson reports content after a root object whose last
// byte is not '}' as a document that ended early, so on that error this finds where the root
// object really ends and names the content after it. Only bodies that fail take that scan.
std::optional<RequestError> open_root_object(ondemand::document& document, std::string_view body,
                                             ondemand::object& object) {
  auto code = document.get_object().get(object);
  if (!code) return std::nullopt;
  if (code == simdjson::INCORRECT_TYPE) return malformed("body: must be a JSON object");

  if (code == simdjson::INCOMPLETE_ARRAY_OR_OBJECT) {
    std::size_t offset = find_root_end(body);
    while (offset < body.size() && is_json_whitespace(body[offset])) ++offset;
    if (offset < body.size()) return trailing_content(offset);
  }
  return malformed(describe_json_error(code));
}

// Checks that only whitespace follows the root value, once it has been read to its end.
std::optional<RequestError> check_document_end(ondemand::document& document,
                                               std::string_view body) {
  auto location = document.current_location();
  if (location.error() == simdjson::OUT_OF_BOUNDS) return std::nullopt;
  if (location.error()) return malformed(describe_json_error(location.error()));
  return trailing_content(static_cast<std::size_t>(location.value_unsafe() - body.data()));
}

// Byte classes for nests_deeper_than; most bytes of a body are kPlain.
enum NestingClass : std::uint8_t { kPlain, kQuote, kBackslash, kOpen, kClose };

constexpr std::array<std::uint8_t, 256> kNestingClasses = [] {
  std::array<std::uint8_t, 256> classes{};
  classes['"'] = kQuote;
  classes['\\'] = kBackslash;
  classes['{'] = kOpen;
  classes['['] = kOpen;
  classes['}'] = kClose;
  classes[']'] = kClose;
  return classes;
}();

}  // namespace

bool nests_deeper_than(std::string_view json, std::size_t max_depth) {
  std::size_t depth = 0;
  const auto* bytes = reinterpret_cast<const unsigned char*>(json.data());
  const std::size_t size = json.size();
  for (std::size_t i = 0; i < size; ++i) {
    switch (kNestingClasses[bytes[i]]) {
      case kPlain:
      case kBackslash:  // outside a string it is malformed JSON, which the parser reports
        break;
      case kQuote:
        // Skip the string: brackets inside it do not nest.
        for (++i; i < size; ++i) {
          const std::uint8_t byte_class = kNestingClasses[bytes[i]];
          if (byte_class == kBackslash) {
            ++i;
          } else if (byte_class == kQuote) {
            break;
          }
        }
        break;
      case kOpen:
        if (++depth > max_depth) return true;
        break;
      case kClose:
        if (depth > 0) --depth;
        break;
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

std::optional<RequestError> open_json_object(ondemand::parser& parser, std::string_view body,
                                             std::size_t capacity, std::size_t max_depth,
                                             ondemand::document& document,
                                             ondemand::object& object) {
  if (nests_deeper_than(body, max_depth)) {
    return malformed(fmt::format("body: nested deeper than {} levels", max_depth));
  }
  auto code = parser.iterate(body.data(), body.size(), capacity).get(document);
  if (code) return malformed(describe_json_error(code));
  return open_root_object(document, body, object);
}

std::optional<RequestError> check_json_end(ondemand::document& document, std::string_view body) {
  return check_document_end(document, body);
}

std::optional<RequestError> OrderJsonParser::open_body(std::string_view body, std::size_t capacity,
                                                       ondemand::document& document,
                                                       ondemand::object& object) {
  return open_json_object(parser_, body, capacity, limits_.max_depth, document, object);
}

bool OrderJsonParser::parse_order(std::string_view body, std::size_t capacity, OrderRequest& order,
                                  RequestError& error) {
  ondemand::document document;
  ondemand::object object;
  std::optional<RequestError> body_error = open_body(body, capacity, document, object);
  if (body_error) {
    error = std::move(*body_error);
    return false;
  }

  // Malformed JSON, found while reading or after the object, outranks an invalid field.
  std::optional<RequestError> field_error;
  if (!read_order(object, config_, order, field_error)) {
    error = std::move(*field_error);
    return false;
  }
  body_error = check_document_end(document, body);
  if (body_error) {
    error = std::move(*body_error);
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
  ondemand::document document;
  ondemand::object object;
  std::optional<RequestError> body_error = open_body(body, capacity, document, object);
  if (body_error) {
    error = std::move(*body_error);
    return false;
  }

  bool found_orders = false;
  for (auto field_result : object) {
    ondemand::field field;
    std::string_view key;
    simdjson::error_code code = std::move(field_result).get(field);
    if (!code) code = field.unescaped_key().get(key);
    if (code) {
      error = malformed(describe_json_error(code));
      return false;
    }
    if (key != "orders") continue;

    // A second "orders" array would otherwise replace the first one's orders unseen.
    if (found_orders) {
      error = invalid("orders: duplicate field, send one orders array");
      return false;
    }
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

    for (auto element_result : array) {
      ondemand::value element;
      code = std::move(element_result).get(element);
      if (code) {
        error = malformed(describe_json_error(code));
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
      if (code) {
        error = malformed(describe_json_error(code));
        return false;
      }
      std::optional<RequestError> field_error;
      if (!read_order(order_object, config_, entry.order, field_error)) {
        error = std::move(*field_error);
        return false;
      }
      entry.ok = !field_error;
      if (field_error) entry.error = std::move(*field_error);
    }
  }

  body_error = check_document_end(document, body);
  if (body_error) {
    error = std::move(*body_error);
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
