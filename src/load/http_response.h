// Minimal HTTP/1.1 response head parser for the load client: the status code, Content-Length
// and Connection: close, which is all a keep-alive client without pipelining needs. A chunked
// or length-less reply is reported, not read, because the server always sends Content-Length.
//
// Stateless and thread-safe.
#pragma once

#include <cstddef>
#include <string_view>

namespace hft::load {

enum class HeadParse {
  kIncomplete,  // the blank line that ends the head has not arrived yet
  kComplete,
  kInvalid,   // not an HTTP/1.x status line, or a malformed Content-Length
  kChunked,   // Transfer-Encoding: chunked, which this client does not read
  kNoLength,  // neither Content-Length nor a status that has no body
};

struct ResponseHead {
  HeadParse result = HeadParse::kIncomplete;
  int status = 0;
  std::size_t head_size = 0;  // bytes up to and including the blank line
  std::size_t content_length = 0;
  bool connection_close = false;
};

// Parses the head at the start of `data`. `data` may hold more bytes than the head.
[[nodiscard]] ResponseHead parse_response_head(std::string_view data);

}  // namespace hft::load
