#include <gtest/gtest.h>

#include <cstring>

#include "journal/journal.h"
#include "journal/record_format.h"
#include "journal/segment_files.h"
#include "journal_test_util.h"
#include "support.h"

namespace hft::journal {
namespace {

using journal_test::make_payload;
using journal_test::replay_all;
using journal_test::type_for;
using journal_test::varying_size;

// Appends records first..first+count-1 with payload sizes from `size_of`, committing every
// `commit_every` records, and closes the writer.
template <typename SizeOf>
void write_journal(const std::filesystem::path& dir, std::uint64_t count, SizeOf size_of,
                   JournalOptions options = {}, std::uint64_t commit_every = 7) {
  OpenResult opened = JournalWriter::open(dir, std::move(options));
  ASSERT_NE(opened.writer, nullptr) << opened.error;
  JournalWriter& writer = *opened.writer;

  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t sequence = writer.next_sequence();
    const std::vector<std::byte> payload = make_payload(sequence, size_of(sequence));
    ASSERT_EQ(writer.append(type_for(sequence), payload), sequence);
    if ((i + 1) % commit_every == 0) writer.commit({});
  }
  EXPECT_EQ(writer.close(), "");
}

void write_small_journal(const std::filesystem::path& dir, std::uint64_t count) {
  write_journal(dir, count, [](std::uint64_t sequence) { return 8 + sequence % 13; });
}

// Checks that `records` are exactly sequences 1..count with the payloads make_payload gives.
template <typename SizeOf>
void expect_records(const std::vector<journal_test::StoredRecord>& records, std::uint64_t count,
                    SizeOf size_of) {
  ASSERT_EQ(records.size(), count);
  for (std::uint64_t i = 0; i < count; ++i) {
    const std::uint64_t sequence = i + 1;
    ASSERT_EQ(records[i].sequence, sequence);
    EXPECT_EQ(records[i].type, type_for(sequence)) << "sequence " << sequence;
    EXPECT_EQ(records[i].payload, make_payload(sequence, size_of(sequence)))
        << "sequence " << sequence;
  }
}

std::filesystem::path first_segment(const std::filesystem::path& dir) {
  return segment_path(dir, 1);
}

// Offset where the last record of a single-segment journal begins.
std::size_t last_record_offset(std::span<const std::byte> bytes) {
  std::size_t offset = 0;
  std::size_t last = 0;
  while (offset < bytes.size()) {
    const RecordCheck check = check_record(bytes, offset);
    EXPECT_TRUE(check.valid) << check.problem;
    if (!check.valid) return 0;
    last = offset;
    offset += check.total_bytes;
  }
  return last;
}

TEST(JournalReplay, MissingDirectoryIsEmptyJournal) {
  test::TempDir temp;
  const journal_test::Replayed replayed = replay_all(temp.path() / "absent");

  EXPECT_TRUE(replayed.result.ok()) << replayed.result.error;
  EXPECT_EQ(replayed.result.records, 0U);
  EXPECT_EQ(replayed.result.last_sequence, 0U);
  EXPECT_FALSE(std::filesystem::exists(temp.path() / "absent"));
}

TEST(JournalReplay, RoundTripsVaryingSizesAcrossSegments) {
  test::TempDir temp;
  // Every 500th record is larger than a whole segment and gets one of its own.
  const auto size_of = [](std::uint64_t sequence) -> std::size_t {
    return sequence % 500 == 0 ? 10'000 : varying_size(sequence);
  };
  JournalOptions options;
  options.segment_size_bytes = 4096;
  write_journal(temp.path(), 2000, size_of, options);

  const journal_test::Replayed replayed = replay_all(temp.path());
  ASSERT_TRUE(replayed.result.ok()) << replayed.result.error;
  EXPECT_EQ(replayed.result.records, 2000U);
  EXPECT_EQ(replayed.result.last_sequence, 2000U);
  EXPECT_EQ(replayed.result.bytes_truncated, 0U);
  EXPECT_GT(replayed.result.segments, 100U);
  expect_records(replayed.records, 2000, size_of);

  std::vector<SegmentFile> segments;
  ASSERT_EQ(list_segments(temp.path(), segments), "");
  for (const SegmentFile& segment : segments) {
    const std::vector<std::byte> bytes = journal_test::read_bytes(segment.path);
    const RecordCheck first = check_record(bytes, 0);
    ASSERT_TRUE(first.valid) << segment.path << ": " << first.problem;
    // Only a segment with one oversized record may pass the limit.
    if (first.total_bytes <= options.segment_size_bytes) {
      EXPECT_LE(segment.size_bytes, options.segment_size_bytes) << segment.path;
    } else {
      EXPECT_EQ(segment.size_bytes, first.total_bytes) << segment.path;
    }
  }
}

TEST(JournalReplay, ReopenedWriterContinuesSequence) {
  test::TempDir temp;
  JournalOptions options;
  options.segment_size_bytes = 2048;
  write_journal(temp.path(), 300, varying_size, options);
  ASSERT_TRUE(replay_all(temp.path()).result.ok());
  write_journal(temp.path(), 300, varying_size, options);

  const journal_test::Replayed replayed = replay_all(temp.path());
  ASSERT_TRUE(replayed.result.ok()) << replayed.result.error;
  expect_records(replayed.records, 600, varying_size);
}

TEST(JournalReplay, TornLastRecordIsCutAtEveryOffset) {
  test::TempDir temp;
  const std::filesystem::path dir = temp.path() / "source";
  const auto size_of = [](std::uint64_t sequence) -> std::size_t { return 8 + sequence % 13; };
  write_small_journal(dir, 5);
  const std::vector<std::byte> whole = journal_test::read_bytes(first_segment(dir));
  const std::size_t last_start = last_record_offset(whole);
  ASSERT_GT(last_start, 0U);

  for (std::size_t cut = last_start + 1; cut < whole.size(); ++cut) {
    SCOPED_TRACE("file cut at byte " + std::to_string(cut));
    const std::filesystem::path torn_dir = temp.path() / ("torn-" + std::to_string(cut));
    std::filesystem::create_directories(torn_dir);
    journal_test::write_bytes(first_segment(torn_dir), std::span(whole).first(cut));

    const journal_test::Replayed replayed = replay_all(torn_dir);
    ASSERT_TRUE(replayed.result.ok()) << replayed.result.error;
    EXPECT_EQ(replayed.result.records, 4U);
    EXPECT_EQ(replayed.result.last_sequence, 4U);
    EXPECT_EQ(replayed.result.bytes_truncated, cut - last_start);
    EXPECT_EQ(replayed.result.truncated_offset, last_start);
    EXPECT_EQ(replayed.result.truncated_path, first_segment(torn_dir));
    EXPECT_FALSE(replayed.result.truncation_reason.empty());
    EXPECT_EQ(std::filesystem::file_size(first_segment(torn_dir)), last_start);
    expect_records(replayed.records, 4, size_of);

    // The writer continues after the cut, and a second replay returns old and new records.
    write_journal(torn_dir, 3, size_of, {}, 2);
    const journal_test::Replayed again = replay_all(torn_dir);
    ASSERT_TRUE(again.result.ok()) << again.result.error;
    EXPECT_EQ(again.result.bytes_truncated, 0U);
    expect_records(again.records, 7, size_of);

    std::filesystem::remove_all(torn_dir);
  }
}

TEST(JournalReplay, FlippedBitInLastRecordIsCut) {
  test::TempDir temp;
  const std::filesystem::path dir = temp.path() / "source";
  const auto size_of = [](std::uint64_t sequence) -> std::size_t { return 8 + sequence % 13; };
  write_small_journal(dir, 5);
  const std::vector<std::byte> whole = journal_test::read_bytes(first_segment(dir));
  const std::size_t last_start = last_record_offset(whole);

  const std::filesystem::path flipped_dir = temp.path() / "flipped";
  std::filesystem::create_directories(flipped_dir);
  for (std::size_t bit = last_start * 8; bit < whole.size() * 8; ++bit) {
    SCOPED_TRACE("bit " + std::to_string(bit) + " flipped");
    std::vector<std::byte> damaged = whole;
    damaged[bit / 8] ^= static_cast<std::byte>(1U << (bit % 8));
    journal_test::write_bytes(first_segment(flipped_dir), damaged);

    const journal_test::Replayed replayed = replay_all(flipped_dir);
    ASSERT_TRUE(replayed.result.ok()) << replayed.result.error;
    EXPECT_EQ(replayed.result.bytes_truncated, whole.size() - last_start);
    EXPECT_EQ(std::filesystem::file_size(first_segment(flipped_dir)), last_start);
    expect_records(replayed.records, 4, size_of);
  }
}

TEST(JournalReplay, FlippedBitInMiddleRecordStopsReplay) {
  test::TempDir temp;
  const std::filesystem::path dir = temp.path() / "source";
  write_small_journal(dir, 5);
  const std::vector<std::byte> whole = journal_test::read_bytes(first_segment(dir));
  const RecordCheck first = check_record(whole, 0);
  const RecordCheck second = check_record(whole, first.total_bytes);
  ASSERT_TRUE(first.valid);
  ASSERT_TRUE(second.valid);
  const std::size_t second_start = first.total_bytes;

  const std::filesystem::path flipped_dir = temp.path() / "flipped";
  std::filesystem::create_directories(flipped_dir);
  for (std::size_t byte = second_start; byte < second_start + second.total_bytes; ++byte) {
    SCOPED_TRACE("byte " + std::to_string(byte) + " changed");
    std::vector<std::byte> damaged = whole;
    damaged[byte] ^= static_cast<std::byte>(1U << (byte % 8));
    journal_test::write_bytes(first_segment(flipped_dir), damaged);

    const journal_test::Replayed replayed = replay_all(flipped_dir);
    EXPECT_FALSE(replayed.result.ok());
    EXPECT_NE(replayed.result.error.find("journal is corrupt"), std::string::npos)
        << replayed.result.error;
    EXPECT_NE(replayed.result.error.find("offset " + std::to_string(second_start)),
              std::string::npos)
        << replayed.result.error;
    EXPECT_EQ(replayed.records.size(), 1U);
    EXPECT_EQ(replayed.result.bytes_truncated, 0U);
    EXPECT_EQ(journal_test::read_bytes(first_segment(flipped_dir)), damaged);
  }
}

TEST(JournalReplay, TornEarlierSegmentStopsReplay) {
  test::TempDir temp;
  JournalOptions options;
  options.segment_size_bytes = 256;
  write_journal(
      temp.path(), 40, [](std::uint64_t) { return 40; }, options);
  std::vector<SegmentFile> segments;
  ASSERT_EQ(list_segments(temp.path(), segments), "");
  ASSERT_GE(segments.size(), 3U);

  // Cutting the end of the first segment leaves an incomplete record before valid segments.
  std::filesystem::resize_file(segments[0].path, segments[0].size_bytes - 5);
  const journal_test::Replayed replayed = replay_all(temp.path());
  EXPECT_FALSE(replayed.result.ok());
  EXPECT_NE(replayed.result.error.find(segments[1].path.string()), std::string::npos)
      << replayed.result.error;
  EXPECT_EQ(std::filesystem::file_size(segments[0].path), segments[0].size_bytes - 5);
}

TEST(JournalReplay, TornTailRemovesLaterGarbage) {
  test::TempDir temp;
  write_small_journal(temp.path(), 5);
  const std::uint64_t good_size = std::filesystem::file_size(first_segment(temp.path()));
  const std::vector<std::byte> tail = make_payload(99, 10);
  std::vector<std::byte> torn = journal_test::read_bytes(first_segment(temp.path()));
  torn.insert(torn.end(), tail.begin(), tail.end());
  journal_test::write_bytes(first_segment(temp.path()), torn);
  journal_test::write_bytes(segment_path(temp.path(), 2), {});
  journal_test::write_bytes(segment_path(temp.path(), 3), std::vector<std::byte>(100));

  const journal_test::Replayed replayed = replay_all(temp.path());
  ASSERT_TRUE(replayed.result.ok()) << replayed.result.error;
  EXPECT_EQ(replayed.result.records, 5U);
  EXPECT_EQ(replayed.result.bytes_truncated, 10U + 100U);
  EXPECT_EQ(std::filesystem::file_size(first_segment(temp.path())), good_size);
  EXPECT_FALSE(std::filesystem::exists(segment_path(temp.path(), 2)));
  EXPECT_FALSE(std::filesystem::exists(segment_path(temp.path(), 3)));
}

TEST(JournalReplay, ZeroFilledTailIsCut) {
  test::TempDir temp;
  write_small_journal(temp.path(), 3);
  const std::uint64_t good_size = std::filesystem::file_size(first_segment(temp.path()));
  std::filesystem::resize_file(first_segment(temp.path()), good_size + 4096);

  const journal_test::Replayed replayed = replay_all(temp.path());
  ASSERT_TRUE(replayed.result.ok()) << replayed.result.error;
  EXPECT_EQ(replayed.result.records, 3U);
  EXPECT_EQ(replayed.result.bytes_truncated, 4096U);
}

TEST(JournalReplay, SequenceGapStopsReplay) {
  test::TempDir temp;
  std::vector<std::byte> bytes;
  encode_record(bytes, 1, 1, {});
  encode_record(bytes, 2, 1, {});
  encode_record(bytes, 4, 1, {});
  journal_test::write_bytes(first_segment(temp.path()), bytes);

  const journal_test::Replayed replayed = replay_all(temp.path());
  EXPECT_FALSE(replayed.result.ok());
  EXPECT_NE(replayed.result.error.find("sequence 4 where 3 was expected"), std::string::npos)
      << replayed.result.error;
}

TEST(JournalReplay, SequenceGapBetweenSegmentsStopsReplay) {
  test::TempDir temp;
  std::vector<std::byte> first;
  encode_record(first, 1, 1, {});
  std::vector<std::byte> second;
  encode_record(second, 3, 1, {});
  journal_test::write_bytes(segment_path(temp.path(), 1), first);
  journal_test::write_bytes(segment_path(temp.path(), 2), second);

  const journal_test::Replayed replayed = replay_all(temp.path());
  EXPECT_FALSE(replayed.result.ok());
  EXPECT_NE(replayed.result.error.find("sequence 3 where 2 was expected"), std::string::npos)
      << replayed.result.error;
}

TEST(JournalReplay, MissingSegmentStopsReplay) {
  test::TempDir temp;
  std::vector<std::byte> first;
  encode_record(first, 1, 1, {});
  journal_test::write_bytes(segment_path(temp.path(), 1), first);
  journal_test::write_bytes(segment_path(temp.path(), 3), {});

  const journal_test::Replayed replayed = replay_all(temp.path());
  EXPECT_FALSE(replayed.result.ok());
  EXPECT_NE(replayed.result.error.find("journal-000002.log is missing"), std::string::npos)
      << replayed.result.error;
}

TEST(JournalReplay, FailsWhileWriterHoldsDirectory) {
  test::TempDir temp;
  OpenResult opened = JournalWriter::open(temp.path(), {});
  ASSERT_NE(opened.writer, nullptr) << opened.error;

  const journal_test::Replayed replayed = replay_all(temp.path());
  EXPECT_FALSE(replayed.result.ok());
  EXPECT_NE(replayed.result.error.find("in use"), std::string::npos) << replayed.result.error;

  OpenResult second = JournalWriter::open(temp.path(), {});
  EXPECT_EQ(second.writer, nullptr);
  EXPECT_NE(second.error.find("in use"), std::string::npos) << second.error;
  EXPECT_EQ(opened.writer->close(), "");
}

TEST(JournalWriterOpen, RejectsUnrepairedTornTail) {
  test::TempDir temp;
  write_small_journal(temp.path(), 3);
  std::vector<std::byte> bytes = journal_test::read_bytes(first_segment(temp.path()));
  bytes.resize(bytes.size() - 1);
  journal_test::write_bytes(first_segment(temp.path()), bytes);

  OpenResult opened = JournalWriter::open(temp.path(), {});
  EXPECT_EQ(opened.writer, nullptr);
  EXPECT_NE(opened.error.find("replay the journal first"), std::string::npos) << opened.error;
}

TEST(JournalWriterOpen, RejectsZeroSegmentSize) {
  test::TempDir temp;
  JournalOptions options;
  options.segment_size_bytes = 0;

  OpenResult opened = JournalWriter::open(temp.path(), options);
  EXPECT_EQ(opened.writer, nullptr);
  EXPECT_NE(opened.error.find("segment size"), std::string::npos) << opened.error;
}

TEST(JournalWriterOpen, ReportsUncreatableDirectory) {
  test::TempDir temp;
  journal_test::write_bytes(temp.path() / "file", {});

  OpenResult opened = JournalWriter::open(temp.path() / "file" / "journal", {});
  EXPECT_EQ(opened.writer, nullptr);
  EXPECT_NE(opened.error.find((temp.path() / "file").string()), std::string::npos) << opened.error;
}

}  // namespace
}  // namespace hft::journal
