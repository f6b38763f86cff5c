#include <fcntl.h>
#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <stdexcept>

#include "journal/journal.h"
#include "journal/record_format.h"
#include "journal/segment_files.h"

namespace hft::journal {
namespace {

// Buffers kept for reuse by commit(); larger ones are freed so one burst does not pin memory.
constexpr std::size_t kMaxSpareBuffers = 8;
constexpr std::size_t kMaxSpareBufferBytes = 4U << 20;

// Writes all of `bytes`, retrying short writes and EINTR. Returns 0 or the errno.
int write_all(int fd, std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    bytes = bytes.subspan(static_cast<std::size_t>(written));
  }
  return 0;
}

std::size_t record_size_at(std::span<const std::byte> records, std::size_t offset) {
  return kRecordHeaderBytes + encoded_payload_size(records.subspan(offset));
}

}  // namespace

struct JournalWriter::Counters {
  std::atomic<std::uint64_t> records_written{0};
  std::atomic<std::uint64_t> bytes_written{0};
  std::atomic<std::uint64_t> commits{0};
  std::atomic<std::uint64_t> write_groups{0};
  std::atomic<std::uint64_t> fsync_count{0};
  std::atomic<std::uint64_t> fsync_total_ns{0};
  std::atomic<std::uint64_t> fsync_max_ns{0};
  std::atomic<std::uint64_t> segments_created{0};
  std::array<std::atomic<std::uint64_t>, kFsyncBucketUpperUs.size() + 1> fsync_latency_buckets{};

  void record_fsync(std::uint64_t latency_ns) {
    fsync_count.fetch_add(1, std::memory_order_relaxed);
    fsync_total_ns.fetch_add(latency_ns, std::memory_order_relaxed);
    if (latency_ns > fsync_max_ns.load(std::memory_order_relaxed)) {
      fsync_max_ns.store(latency_ns, std::memory_order_relaxed);
    }
    const std::uint64_t latency_us = (latency_ns + 999) / 1000;
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(kFsyncBucketUpperUs.begin(), kFsyncBucketUpperUs.end(), latency_us) -
        kFsyncBucketUpperUs.begin());
    fsync_latency_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
  }
};

// The segment file the flusher appends to.
class JournalWriter::Segment {
 public:
  Segment(std::filesystem::path path, int fd, std::uint64_t size_bytes)
      : path(std::move(path)), fd(fd), size_bytes(size_bytes) {}
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment() { ::close(fd); }

  const std::filesystem::path path;
  const int fd;
  std::uint64_t size_bytes;
};

OpenResult JournalWriter::open(const std::filesystem::path& dir, JournalOptions options) {
  OpenResult result;
  if (options.segment_size_bytes == 0) {
    result.error = "journal segment size must be greater than 0 bytes";
    return result;
  }

  std::error_code create_error;
  const bool created = std::filesystem::create_directories(dir, create_error);
  if (create_error) {
    result.error =
        fmt::format("create journal directory {}: {}", dir.string(), create_error.message());
    return result;
  }
  // A new directory's own entry must be durable too, or a crash could lose the whole journal.
  if (created && options.fsync) {
    const std::filesystem::path parent = std::filesystem::absolute(dir).parent_path();
    if (std::string error = sync_directory(parent); !error.empty()) {
      result.error = std::move(error);
      return result;
    }
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

  // The last record of the last non-empty segment gives the next sequence. Only that segment is
  // read, so open stays fast however long the journal is.
  std::uint64_t last_sequence = 0;
  for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
    if (it->size_bytes == 0) continue;

    MappedFile mapped;
    if (std::string error = mapped.map(it->path); !error.empty()) {
      result.error = std::move(error);
      return result;
    }
    const SegmentScan scan = scan_segment(mapped.bytes(), 0, {});
    if (scan.end != ScanEnd::kClean) {
      result.error = fmt::format(
          "journal segment {} has an invalid record at offset {} ({}); replay the journal "
          "first, which cuts a torn tail and reports other damage",
          it->path.string(), scan.valid_bytes, scan.problem);
      return result;
    }
    last_sequence = scan.last_sequence;
    break;
  }

  std::unique_ptr<JournalWriter> writer(new JournalWriter(dir, std::move(options), lock.release()));
  writer->next_sequence_ = last_sequence + 1;
  writer->durable_sequence_.store(last_sequence);

  // Continue in the last segment while it has room; the flusher creates the next one lazily.
  if (!segments.empty()) {
    const SegmentFile& last = segments.back();
    writer->segment_number_ = last.number;
    if (last.size_bytes < writer->options_.segment_size_bytes) {
      const int fd = ::open(last.path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
      if (fd < 0) {
        result.error = io_error("open", last.path, errno);
        return result;
      }
      writer->segment_ = std::make_unique<Segment>(last.path, fd, last.size_bytes);
    }
  }

  JournalWriter* raw_writer = writer.get();
  writer->flusher_ = std::thread([raw_writer] { raw_writer->run_flusher(); });
  result.writer = std::move(writer);
  return result;
}

JournalWriter::JournalWriter(std::filesystem::path dir, JournalOptions options, int lock_fd)
    : dir_(std::move(dir)),
      options_(std::move(options)),
      lock_fd_(lock_fd),
      counters_(std::make_unique<Counters>()) {}

JournalWriter::~JournalWriter() { (void)close(); }

std::uint64_t JournalWriter::append(std::uint16_t type, std::span<const std::byte> payload) {
  if (closed_) throw std::logic_error("journal append after close");
  if (payload.size() > kMaxPayloadBytes) {
    throw std::length_error(fmt::format("journal record payload of {} bytes exceeds the maximum {}",
                                        payload.size(), kMaxPayloadBytes));
  }

  const std::uint64_t sequence = next_sequence_++;
  encode_record(open_buffer_, sequence, type, payload);
  ++open_buffer_records_;
  return sequence;
}

void JournalWriter::commit(CommitCallback on_durable) {
  if (closed_) throw std::logic_error("journal commit after close");

  PendingCommit pending;
  pending.records = std::move(open_buffer_);
  pending.record_count = open_buffer_records_;
  pending.last_sequence = next_sequence_ - 1;
  pending.on_durable = std::move(on_durable);
  open_buffer_records_ = 0;
  {
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(pending));
    if (spare_buffers_.empty()) {
      open_buffer_ = {};
    } else {
      open_buffer_ = std::move(spare_buffers_.back());
      spare_buffers_.pop_back();
    }
  }
  wake_flusher_.notify_one();
}

std::string JournalWriter::close() {
  if (closed_) return close_error_;

  if (open_buffer_records_ > 0) commit({});
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_flusher_.notify_one();
  if (flusher_.joinable()) flusher_.join();

  // Without per-commit fsync the records so far sit in the page cache; a clean close syncs them.
  if (!options_.fsync && segment_ && !failed_.load()) (void)sync_current();
  segment_.reset();
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  closed_ = true;
  close_error_ = error();
  return close_error_;
}

std::uint64_t JournalWriter::durable_sequence() const {
  return durable_sequence_.load(std::memory_order_acquire);
}

bool JournalWriter::failed() const { return failed_.load(std::memory_order_acquire); }

std::string JournalWriter::error() const {
  std::lock_guard lock(mutex_);
  return error_;
}

JournalStats JournalWriter::stats() const {
  JournalStats stats;
  stats.records_written = counters_->records_written.load(std::memory_order_relaxed);
  stats.bytes_written = counters_->bytes_written.load(std::memory_order_relaxed);
  stats.commits = counters_->commits.load(std::memory_order_relaxed);
  stats.write_groups = counters_->write_groups.load(std::memory_order_relaxed);
  stats.fsync_count = counters_->fsync_count.load(std::memory_order_relaxed);
  stats.fsync_total_ns = counters_->fsync_total_ns.load(std::memory_order_relaxed);
  stats.fsync_max_ns = counters_->fsync_max_ns.load(std::memory_order_relaxed);
  stats.segments_created = counters_->segments_created.load(std::memory_order_relaxed);
  for (std::size_t i = 0; i < stats.fsync_latency_buckets.size(); ++i) {
    stats.fsync_latency_buckets[i] =
        counters_->fsync_latency_buckets[i].load(std::memory_order_relaxed);
  }
  return stats;
}

void JournalWriter::run_flusher() {
  for (;;) {
    // Every commit queued since the last pass forms one group: one write pass and one fdatasync.
    std::deque<PendingCommit> group;
    {
      std::unique_lock lock(mutex_);
      wake_flusher_.wait(lock, [this] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;
      group.swap(queue_);
    }

    const bool ok = !failed_.load(std::memory_order_acquire) && write_group(group);
    const CommitOutcome outcome{ok, durable_sequence_.load(std::memory_order_acquire)};
    for (PendingCommit& pending : group) {
      if (pending.on_durable) pending.on_durable(outcome);
    }

    std::lock_guard lock(mutex_);
    for (PendingCommit& pending : group) {
      if (spare_buffers_.size() >= kMaxSpareBuffers) break;
      if (pending.records.capacity() > kMaxSpareBufferBytes) continue;
      pending.records.clear();
      spare_buffers_.push_back(std::move(pending.records));
    }
  }
}

bool JournalWriter::write_group(std::deque<PendingCommit>& group) {
  std::uint64_t group_bytes = 0;
  std::uint64_t group_records = 0;
  for (const PendingCommit& pending : group) {
    if (!write_records(pending.records)) return false;
    group_bytes += pending.records.size();
    group_records += pending.record_count;
  }
  if (group_bytes > 0 && options_.fsync && !sync_current()) return false;

  counters_->records_written.fetch_add(group_records, std::memory_order_relaxed);
  counters_->commits.fetch_add(group.size(), std::memory_order_relaxed);
  counters_->write_groups.fetch_add(1, std::memory_order_relaxed);
  durable_sequence_.store(group.back().last_sequence, std::memory_order_release);
  return true;
}

bool JournalWriter::write_records(std::span<const std::byte> records) {
  std::size_t position = 0;
  while (position < records.size()) {
    const std::size_t first_size = record_size_at(records, position);
    const bool full = segment_ && segment_->size_bytes > 0 &&
                      segment_->size_bytes + first_size > options_.segment_size_bytes;
    if ((!segment_ || full) && !roll_segment()) return false;

    // Write the run of records that fits into the segment with one system call. An empty
    // segment takes at least one record, however large.
    std::size_t end = position;
    std::uint64_t segment_size = segment_->size_bytes;
    while (end < records.size()) {
      const std::size_t size = record_size_at(records, end);
      if (segment_size > 0 && segment_size + size > options_.segment_size_bytes) break;
      segment_size += size;
      end += size;
    }

    if (const int error_number = write_all(segment_->fd, records.subspan(position, end - position));
        error_number != 0) {
      fail(io_error("write", segment_->path, error_number));
      return false;
    }
    counters_->bytes_written.fetch_add(end - position, std::memory_order_relaxed);
    segment_->size_bytes = segment_size;
    position = end;
  }
  return true;
}

bool JournalWriter::roll_segment() {
  // Records in the old segment are synced before any lands in the new one, so a crash can leave
  // a torn record only at the end of the last segment.
  if (segment_) {
    if (options_.fsync && !sync_current()) return false;
    segment_.reset();
  }

  const std::uint32_t number = segment_number_ + 1;
  std::filesystem::path path = segment_path(dir_, number);
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) {
    fail(io_error("create", path, errno));
    return false;
  }
  segment_ = std::make_unique<Segment>(std::move(path), fd, 0);
  segment_number_ = number;
  counters_->segments_created.fetch_add(1, std::memory_order_relaxed);

  if (options_.fsync) {
    if (std::string error = sync_directory(dir_); !error.empty()) {
      fail(std::move(error));
      return false;
    }
  }
  return true;
}

bool JournalWriter::sync_current() {
  if (options_.before_sync) options_.before_sync();

  const auto start = std::chrono::steady_clock::now();
  const int result = ::fdatasync(segment_->fd);
  const int error_number = errno;
  const auto latency = std::chrono::steady_clock::now() - start;
  counters_->record_fsync(static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::nanoseconds>(latency).count()));

  if (result != 0) {
    fail(io_error("fdatasync", segment_->path, error_number));
    return false;
  }
  return true;
}

void JournalWriter::fail(std::string message) {
  std::lock_guard lock(mutex_);
  if (error_.empty()) error_ = std::move(message);
  failed_.store(true, std::memory_order_release);
}

}  // namespace hft::journal
