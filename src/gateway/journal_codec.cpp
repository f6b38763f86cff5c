#include "gateway/journal_codec.h"

#include <string_view>

#include "gateway/byte_codec.h"
#include "gateway/order_request_codec.h"

namespace hft::gateway {

namespace {

constexpr std::uint8_t kFormatVersion = 1;

using Writer = ByteWriter<std::vector<std::byte>>;
using Reader = ByteReader;

void encode_order(Writer& writer, const NewOrderCommand& order) {
  writer.integer(order.id.value);
  writer.integer(order.created_unix_ns);
  encode_order_request(writer, order.request);
}

bool decode_order(Reader& reader, NewOrderCommand& order) {
  return reader.integer(order.id.value) && reader.integer(order.created_unix_ns) &&
         decode_order_request(reader, order.request);
}

}  // namespace

RecordType encode_command(const Command& command, std::vector<std::byte>& out) {
  Writer writer(out);
  writer.integer(kFormatVersion);
  writer.integer(command.user.value);

  switch (command.kind) {
    case CommandKind::kRegisterUser:
      writer.text(command.username);
      writer.text(command.email);
      writer.text(command.password_hash);
      return RecordType::kUserRegistered;
    case CommandKind::kCancel:
      writer.integer(command.cancel_id.value);
      writer.integer(command.requested_unix_ns);
      return RecordType::kCancel;
    case CommandKind::kNewOrders:
      break;
  }
  writer.integer(static_cast<std::uint32_t>(command.orders.size()));
  for (const NewOrderCommand& order : command.orders) encode_order(writer, order);
  return RecordType::kNewOrders;
}

bool decode_command(std::uint16_t type, std::span<const std::byte> payload, Command& command) {
  Reader reader(payload);
  std::uint8_t version = 0;
  if (!reader.integer(version) || version != kFormatVersion) return false;
  if (!reader.integer(command.user.value)) return false;

  switch (static_cast<RecordType>(type)) {
    case RecordType::kUserRegistered: {
      std::string_view username;
      std::string_view email;
      std::string_view password_hash;
      if (!reader.text(username) || !reader.text(email) || !reader.text(password_hash)) {
        return false;
      }
      command.kind = CommandKind::kRegisterUser;
      command.username = username;
      command.email = email;
      command.password_hash = password_hash;
      return reader.at_end();
    }
    case RecordType::kCancel:
      command.kind = CommandKind::kCancel;
      return reader.integer(command.cancel_id.value) && reader.integer(command.requested_unix_ns) &&
             reader.at_end();
    case RecordType::kNewOrders: {
      std::uint32_t count = 0;
      if (!reader.integer(count)) return false;
      // Each order takes at least 40 bytes, so a larger count cannot be real.
      if (count > payload.size() / 40) return false;
      command.kind = CommandKind::kNewOrders;
      command.orders.clear();
      command.orders.resize(count);
      for (NewOrderCommand& order : command.orders) {
        if (!decode_order(reader, order)) return false;
      }
      return reader.at_end();
    }
  }
  return false;
}

}  // namespace hft::gateway
