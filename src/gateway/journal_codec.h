// The payload encoding of the gateway's journal records: registered users, new orders and
// cancels, in the binary little-endian form that `hft serve` replays at start.
//
// Free functions, thread-safe. Decoders check every length against the payload and return
// false for a payload that does not parse, so a corrupt record can never read out of bounds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "gateway/commands.h"

namespace hft::gateway {

// Record types; values are stored on disk and must never change meaning.
enum class RecordType : std::uint16_t {
  kUserRegistered = 1,
  kNewOrders = 2,
  kCancel = 3,
};

// Appends the payload of `command` to `out` (cleared first) and returns the record type.
RecordType encode_command(const Command& command, std::vector<std::byte>& out);

// Fills the matching fields of `command` (kind, user and the kind's own fields); returns false
// for an unknown type or a payload that does not parse.
[[nodiscard]] bool decode_command(std::uint16_t type, std::span<const std::byte> payload,
                                  Command& command);

}  // namespace hft::gateway
