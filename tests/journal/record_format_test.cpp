#include "journal/record_format.h"

#include <gtest/gtest.h>

#include <boost/crc.hpp>
#include <cstring>
#include <string_view>

#include "journal/crc32c.h"
#include "journal_test_util.h"

namespace hft::journal {
namespace {

std::span<const std::byte> as_bytes(std::string_view text) {
  return std::as_bytes(std::span<const char>(text.data(), text.size()));
}

std::uint32_t boost_crc32c(std::span<const std::byte> data) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(data.data(), data.size());
  return crc.checksum();
}

TEST(Crc32c, MatchesCheckValue) {
  // The standard check value of CRC-32C for the ASCII digits 1 to 9.
  EXPECT_EQ(crc32c(as_bytes("123456789")), 0xE3069283U);
  EXPECT_EQ(crc32c_portable(as_bytes("123456789")), 0xE3069283U);
  EXPECT_EQ(crc32c({}), 0U);
}

TEST(Crc32c, HardwareAndTableAgreeWithBoost) {
  const std::vector<std::byte> data = journal_test::make_payload(7, 4099);
  for (std::size_t offset = 0; offset < 9; ++offset) {
    for (std::size_t size : {0UL, 1UL, 7UL, 8UL, 9UL, 63UL, 64UL, 1000UL, 4090UL}) {
      const auto slice = std::span<const std::byte>(data).subspan(offset, size);
      const std::uint32_t expected = boost_crc32c(slice);
      EXPECT_EQ(crc32c(slice), expected) << "offset " << offset << " size " << size;
      EXPECT_EQ(crc32c_portable(slice), expected) << "offset " << offset << " size " << size;
    }
  }
}

TEST(Crc32c, ExtendsAcrossSplits) {
  const std::vector<std::byte> data = journal_test::make_payload(3, 1000);
  const std::span<const std::byte> all(data);
  for (std::size_t split : {0UL, 1UL, 13UL, 500UL, 999UL, 1000UL}) {
    EXPECT_EQ(crc32c(all.subspan(split), crc32c(all.first(split))), crc32c(all))
        << "split at " << split;
  }
}

TEST(RecordFormat, EncodesDocumentedLayout) {
  const std::vector<std::byte> payload = journal_test::make_payload(1, 5);
  std::vector<std::byte> out;
  encode_record(out, 0x0102030405060708ULL, 0x0A0B, payload);

  ASSERT_EQ(out.size(), kRecordHeaderBytes + payload.size());
  const std::vector<std::byte> expected_header_start = {
      std::byte{0x48}, std::byte{0x46}, std::byte{0x54}, std::byte{0x4A},  // "HFTJ"
      std::byte{0x05}, std::byte{0x00}, std::byte{0x00}, std::byte{0x00},  // payload size
      std::byte{0x08}, std::byte{0x07}, std::byte{0x06}, std::byte{0x05},  // sequence, low half
      std::byte{0x04}, std::byte{0x03}, std::byte{0x02}, std::byte{0x01},  // sequence, high half
      std::byte{0x0B}, std::byte{0x0A}, std::byte{0x00}, std::byte{0x00},  // type, reserved
  };
  EXPECT_TRUE(std::equal(expected_header_start.begin(), expected_header_start.end(), out.begin()));
  const std::uint32_t crc = crc32c(payload, crc32c(std::span(out).first(20)));
  std::uint32_t stored_crc = 0;
  std::memcpy(&stored_crc, out.data() + 20, 4);
  EXPECT_EQ(stored_crc, crc);
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), out.begin() + kRecordHeaderBytes));
}

TEST(RecordFormat, CheckReadsBackEncodedRecord) {
  const std::vector<std::byte> payload = journal_test::make_payload(9, 100);
  std::vector<std::byte> out;
  encode_record(out, 9, 3, payload);

  const RecordCheck check = check_record(out, 0);
  ASSERT_TRUE(check.valid) << check.problem;
  EXPECT_EQ(check.total_bytes, out.size());
  EXPECT_EQ(check.record.sequence, 9U);
  EXPECT_EQ(check.record.type, 3U);
  EXPECT_TRUE(std::equal(payload.begin(), payload.end(), check.record.payload.begin(),
                         check.record.payload.end()));
}

TEST(RecordFormat, CheckRejectsOversizedPayloadField) {
  std::vector<std::byte> out;
  encode_record(out, 1, 1, {});
  const std::uint32_t huge = kMaxPayloadBytes + 1;
  std::memcpy(out.data() + record_offset::kPayloadSize, &huge, sizeof(huge));

  const RecordCheck check = check_record(out, 0);
  EXPECT_FALSE(check.valid);
  EXPECT_NE(check.problem.find("exceeds the maximum"), std::string::npos) << check.problem;
}

TEST(RecordFormat, ScanFindsSequenceGap) {
  std::vector<std::byte> out;
  encode_record(out, 1, 1, {});
  encode_record(out, 2, 1, {});
  encode_record(out, 4, 1, {});

  const SegmentScan scan = scan_segment(out, 0, {});
  EXPECT_EQ(scan.end, ScanEnd::kSequenceGap);
  EXPECT_EQ(scan.records, 2U);
  EXPECT_EQ(scan.valid_bytes, 2 * kRecordHeaderBytes);
  EXPECT_NE(scan.problem.find("sequence 4 where 3 was expected"), std::string::npos)
      << scan.problem;
}

TEST(RecordFormat, ScanRejectsSequenceZero) {
  std::vector<std::byte> out;
  encode_record(out, 0, 1, {});

  const SegmentScan scan = scan_segment(out, 0, {});
  EXPECT_EQ(scan.end, ScanEnd::kSequenceGap);
  EXPECT_EQ(scan.records, 0U);
}

}  // namespace
}  // namespace hft::journal
