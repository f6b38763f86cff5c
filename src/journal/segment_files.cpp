#include "journal/segment_files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <system_error>

namespace hft::journal {
namespace {

constexpr std::string_view kSegmentPrefix = "journal-";
constexpr std::string_view kSegmentSuffix = ".log";
constexpr std::string_view kLockFileName = "journal.lock";

// Parses "journal-<digits>.log"; other names are not segments.
bool parse_segment_number(std::string_view name, std::uint32_t& number) {
  if (!name.starts_with(kSegmentPrefix) || !name.ends_with(kSegmentSuffix)) return false;

  const std::string_view digits = name.substr(
      kSegmentPrefix.size(), name.size() - kSegmentPrefix.size() - kSegmentSuffix.size());
  if (digits.empty()) return false;
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return false;
  }
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), number);
  return error == std::errc() && end == digits.data() + digits.size() && number > 0;
}

}  // namespace

std::string errno_text(int error_number) { return std::system_category().message(error_number); }

std::string io_error(std::string_view what, const std::filesystem::path& path, int error_number) {
  return fmt::format("{} {}: {}", what, path.string(), errno_text(error_number));
}

std::filesystem::path segment_path(const std::filesystem::path& dir, std::uint32_t number) {
  return dir / fmt::format("{}{:06}{}", kSegmentPrefix, number, kSegmentSuffix);
}

std::string list_segments(const std::filesystem::path& dir, std::vector<SegmentFile>& segments) {
  segments.clear();
  std::error_code error;
  if (!std::filesystem::exists(dir, error)) {
    if (error) return fmt::format("read journal directory {}: {}", dir.string(), error.message());
    return {};
  }

  std::filesystem::directory_iterator it(dir, error);
  if (error) return fmt::format("read journal directory {}: {}", dir.string(), error.message());
  for (const std::filesystem::directory_entry& entry : it) {
    SegmentFile segment;
    if (!parse_segment_number(entry.path().filename().string(), segment.number)) continue;

    segment.path = entry.path();
    segment.size_bytes = entry.file_size(error);
    if (error) return fmt::format("stat {}: {}", segment.path.string(), error.message());
    segments.push_back(std::move(segment));
  }

  std::sort(segments.begin(), segments.end(),
            [](const SegmentFile& a, const SegmentFile& b) { return a.number < b.number; });
  for (std::size_t i = 1; i < segments.size(); ++i) {
    const std::uint32_t previous = segments[i - 1].number;
    if (segments[i].number == previous) {
      return fmt::format("journal directory {} has two files for segment {}", dir.string(),
                         previous);
    }
    if (segments[i].number != previous + 1) {
      return fmt::format("journal segment {} is missing: {} is followed by {}",
                         segment_path(dir, previous + 1).filename().string(),
                         segments[i - 1].path.filename().string(),
                         segments[i].path.filename().string());
    }
  }
  return {};
}

DirectoryLock::~DirectoryLock() {
  if (fd_ >= 0) ::close(fd_);
}

std::string DirectoryLock::acquire(const std::filesystem::path& dir) {
  const std::filesystem::path path = dir / kLockFileName;
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return io_error("open", path, errno);

  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int error_number = errno;
    ::close(fd);
    if (error_number == EWOULDBLOCK) {
      return fmt::format("journal directory {} is in use: another writer holds {}", dir.string(),
                         path.string());
    }
    return io_error("lock", path, error_number);
  }
  fd_ = fd;
  return {};
}

int DirectoryLock::release() {
  const int fd = fd_;
  fd_ = -1;
  return fd;
}

MappedFile::~MappedFile() {
  if (data_ != nullptr) ::munmap(const_cast<std::byte*>(data_), size_);
}

std::string MappedFile::map(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error("open", path, errno);

  struct stat status {};
  if (::fstat(fd, &status) != 0) {
    const int error_number = errno;
    ::close(fd);
    return io_error("stat", path, error_number);
  }
  if (status.st_size == 0) {
    ::close(fd);
    return {};
  }

  const auto size = static_cast<std::size_t>(status.st_size);
  void* address = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  const int error_number = errno;
  ::close(fd);
  if (address == MAP_FAILED) return io_error("map", path, error_number);

  ::madvise(address, size, MADV_SEQUENTIAL);
  data_ = static_cast<const std::byte*>(address);
  size_ = size;
  return {};
}

std::string sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return io_error("open", dir, errno);

  const int result = ::fsync(fd);
  const int error_number = errno;
  ::close(fd);
  if (result != 0) return io_error("fsync", dir, error_number);
  return {};
}

}  // namespace hft::journal
