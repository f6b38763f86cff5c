#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <cerrno>

#include "journal/journal.h"
#include "journal/record_format.h"
#include "journal/segment_files.h"

namespace hft::journal {
namespace {

// Shortens `path` to `size_bytes` and syncs it, so the cut survives a second crash.
std::string truncate_file(const std::filesystem::path& path, std::uint64_t size_bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return io_error("open", path, errno);

  std::string error;
  if (::ftruncate(fd, static_cast<off_t>(size_bytes)) != 0) {
    error = io_error("truncate", path, errno);
  } else if (::fsync(fd) != 0) {
    error = io_error("fsync", path, errno);
  }
  ::close(fd);
  return error;
}

// Cuts an invalid tail that starts at `offset` in segments[index]: the segment is truncated and
// every later segment is removed. Fails without changing anything when a later segment has a
// valid record, because then the invalid bytes are in the middle of the journal.
void cut_tail(const std::filesystem::path& dir, const std::vector<SegmentFile>& segments,
              std::size_t index, std::uint64_t damaged_size, std::uint64_t offset,
              const std::string& problem, ReplayResult& result) {
  const SegmentFile& damaged = segments[index];

  std::uint64_t later_bytes = 0;
  for (std::size_t i = index + 1; i < segments.size(); ++i) {
    MappedFile later;
    if (std::string error = later.map(segments[i].path); !error.empty()) {
      result.error = std::move(error);
      return;
    }
    if (const auto valid = find_valid_record(later.bytes(), 0); valid.has_value()) {
      result.error = fmt::format(
          "journal is corrupt: {} has an invalid record at offset {} ({}), but {} holds a valid "
          "record at offset {}; records would be lost, so replay stops",
          damaged.path.string(), offset, problem, segments[i].path.string(), *valid);
      return;
    }
    later_bytes += later.bytes().size();
  }

  if (std::string error = truncate_file(damaged.path, offset); !error.empty()) {
    result.error = std::move(error);
    return;
  }
  for (std::size_t i = index + 1; i < segments.size(); ++i) {
    std::error_code error;
    std::filesystem::remove(segments[i].path, error);
    if (error) {
      result.error = fmt::format("remove {}: {}", segments[i].path.string(), error.message());
      return;
    }
  }
  if (index + 1 < segments.size()) {
    if (std::string error = sync_directory(dir); !error.empty()) {
      result.error = std::move(error);
      return;
    }
  }

  result.bytes_truncated = damaged_size - offset + later_bytes;
  result.truncated_path = damaged.path;
  result.truncated_offset = offset;
  result.truncation_reason = problem;
}

}  // namespace

ReplayResult replay_journal(const std::filesystem::path& dir,
                            const std::function<void(const Record&)>& on_record) {
  ReplayResult result;
  std::error_code exists_error;
  if (!std::filesystem::exists(dir, exists_error)) {
    if (exists_error) {
      result.error =
          fmt::format("read journal directory {}: {}", dir.string(), exists_error.message());
    }
    return result;
  }

  DirectoryLock lock;
  if (std::string error = lock.acquire(dir); !error.empty()) {
    result.error = std::move(error);
    return result;
  }
  std::vector<SegmentFile> segments;
  if (std::string error = list_segments(dir, segments); !error.empty()) {
    result.error = std::move(error);
    return result;
  }

  for (std::size_t index = 0; index < segments.size(); ++index) {
    const SegmentFile& segment = segments[index];
    MappedFile mapped;
    if (std::string error = mapped.map(segment.path); !error.empty()) {
      result.error = std::move(error);
      return result;
    }
    ++result.segments;

    const std::uint64_t expected = result.records == 0 ? 0 : result.last_sequence + 1;
    const SegmentScan scan = scan_segment(mapped.bytes(), expected, on_record);
    result.records += scan.records;
    if (scan.records > 0) result.last_sequence = scan.last_sequence;

    switch (scan.end) {
      case ScanEnd::kClean:
        break;
      case ScanEnd::kInvalidTail:
        cut_tail(dir, segments, index, mapped.bytes().size(), scan.valid_bytes, scan.problem,
                 result);
        return result;
      case ScanEnd::kCorruptMiddle:
        result.error = fmt::format(
            "journal is corrupt: {} has an invalid record at offset {} ({}) followed by a valid "
            "record at offset {}; records would be lost, so replay stops",
            segment.path.string(), scan.valid_bytes, scan.problem, scan.next_valid_offset);
        return result;
      case ScanEnd::kSequenceGap:
        result.error = fmt::format("journal is corrupt: {} has a record at offset {} with {}",
                                   segment.path.string(), scan.valid_bytes, scan.problem);
        return result;
    }
  }
  return result;
}

}  // namespace hft::journal
