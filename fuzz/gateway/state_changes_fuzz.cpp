// libFuzzer target for the decoder of the engine's state entries (`hft:events`).
#include <cstddef>
#include <cstdint>

#include "gateway/gateway_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return hft::gateway::fuzz_state_changes(data, size);
}
