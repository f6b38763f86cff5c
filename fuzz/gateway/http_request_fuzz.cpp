// libFuzzer target for the HTTP request parser.
#include <cstddef>
#include <cstdint>

#include "gateway/gateway_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return hft::gateway::fuzz_http_request(data, size);
}
