// Fuzz entry points for the gateway's input parsers, shared by the libFuzzer targets and by a
// GoogleTest that replays the seed corpus in every build.
//
// Each function accepts any bytes, must never crash or read out of bounds, and returns 0.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hft::gateway {

// Feeds `data` to the HTTP request parser as a stream of pipelined requests, split into pieces
// whose sizes come from the first byte, as a socket would deliver them.
int fuzz_http_request(const std::uint8_t* data, std::size_t size);

// Parses `data` as a POST /api/orders body and as a POST /api/orders/batch body.
int fuzz_order_json(const std::uint8_t* data, std::size_t size);

// Decodes `data` as an `hft:events` state entry. What decodes must encode and decode again to the
// same bytes; a mismatch aborts, so the fuzzer reports it.
int fuzz_state_changes(const std::uint8_t* data, std::size_t size);

}  // namespace hft::gateway
