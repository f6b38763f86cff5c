#include "gateway/gateway_fuzz.h"

#include <algorithm>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "engine/engine.h"
#include "gateway/http_request_parser.h"
#include "gateway/order_json.h"
#include "gateway/state_feed.h"

namespace hft::gateway {

int fuzz_http_request(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  std::size_t piece_bytes = 1 + data[0] % 64;
  std::string_view stream(reinterpret_cast<const char*>(data + 1), size - 1);

  HttpRequestParser parser(HttpLimits{1024, 4096});
  std::string pending;
  std::size_t offset = 0;
  while (offset < stream.size()) {
    std::size_t piece = std::min(piece_bytes, stream.size() - offset);
    pending.append(stream.substr(offset, piece));
    offset += piece;

    // Parse every complete request in what has arrived, as a connection does.
    while (!pending.empty()) {
      HttpRequestParser::State state = HttpRequestParser::State::kNeedMore;
      std::size_t used = parser.feed(pending, state);
      pending.erase(0, used);
      if (state == HttpRequestParser::State::kFailed) return 0;
      if (state != HttpRequestParser::State::kComplete) break;
      (void)parser.request().path();
      (void)parser.request().query();
      parser.reset();
    }
  }
  return 0;
}

int fuzz_order_json(const std::uint8_t* data, std::size_t size) {
  static const engine::EngineConfig config;
  static OrderJsonParser parser(config, JsonLimits{});

  // simdjson reads up to 64 bytes past the end of its input.
  std::string body(reinterpret_cast<const char*>(data), size);
  body.reserve(size + 64);

  OrderRequest order;
  RequestError error;
  (void)parser.parse_order(body, body.capacity(), order, error);
  std::vector<BatchEntry> entries;
  (void)parser.parse_batch(body, body.capacity(), entries, error);
  return 0;
}

int fuzz_state_changes(const std::uint8_t* data, std::size_t size) {
  std::string_view payload(reinterpret_cast<const char*>(data), size);
  StateChanges changes;
  if (!decode_state_changes(payload, changes)) return 0;

  std::string encoded;
  encode_state_changes(changes, encoded);
  StateChanges again;
  std::string reencoded;
  if (!decode_state_changes(encoded, again)) std::abort();
  encode_state_changes(again, reencoded);
  if (reencoded != encoded) std::abort();
  return 0;
}

}  // namespace hft::gateway
