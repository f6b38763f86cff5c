// File-level helpers of the journal: segment names and listing, the directory lock, read-only
// mappings and fsync of directories. Internal to src/journal.
//
// Functions that can fail return an error text naming the path and the errno message, empty on
// success. Objects own their file descriptors and mappings; none is shared between threads.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

namespace hft::journal {

[[nodiscard]] std::string errno_text(int error_number);

// "<what> <path>: <strerror(errno)>", for failed system calls.
[[nodiscard]] std::string io_error(std::string_view what, const std::filesystem::path& path,
                                   int error_number);

[[nodiscard]] std::filesystem::path segment_path(const std::filesystem::path& dir,
                                                 std::uint32_t number);

struct SegmentFile {
  std::uint32_t number = 0;
  std::filesystem::path path;
  std::uint64_t size_bytes = 0;
};

// Lists the segment files of `dir` in number order. Fails when the numbers have a gap, because a
// missing segment would silently drop records. A missing directory has no segments.
[[nodiscard]] std::string list_segments(const std::filesystem::path& dir,
                                        std::vector<SegmentFile>& segments);

// An exclusive flock on `<dir>/journal.lock`, held until destruction or release().
class DirectoryLock {
 public:
  DirectoryLock() = default;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock();

  // Fails without waiting when another open file description holds the lock.
  [[nodiscard]] std::string acquire(const std::filesystem::path& dir);
  // Hands the descriptor (and with it the lock) to the caller.
  [[nodiscard]] int release();

 private:
  int fd_ = -1;
};

// A read-only private mapping of a whole file. An empty file maps to an empty span.
class MappedFile {
 public:
  MappedFile() = default;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  [[nodiscard]] std::string map(const std::filesystem::path& path);
  [[nodiscard]] std::span<const std::byte> bytes() const { return {data_, size_}; }

 private:
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

// Makes created, renamed or removed entries of `dir` durable.
[[nodiscard]] std::string sync_directory(const std::filesystem::path& dir);

}  // namespace hft::journal
