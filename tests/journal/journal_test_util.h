// Helpers for the journal tests: deterministic payloads, replay into memory, whole-file reads
// and writes, and a bounded wait for commit callbacks.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <vector>

#include "journal/journal.h"

namespace hft::journal_test {

using journal::CommitCallback;
using journal::CommitOutcome;
using journal::Record;
using journal::replay_journal;
using journal::ReplayResult;

// A payload whose bytes depend on the sequence, so a replay can check each record's content.
inline std::vector<std::byte> make_payload(std::uint64_t sequence, std::size_t size) {
  std::vector<std::byte> payload(size);
  std::uint64_t state = sequence * 0x9E3779B97F4A7C15ULL + 1;
  for (std::byte& b : payload) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    b = static_cast<std::byte>(state & 0xFFU);
  }
  return payload;
}

// Payload sizes that vary from 0 to about 700 bytes with the sequence.
inline std::size_t varying_size(std::uint64_t sequence) { return (sequence * 37) % 701; }

// The type the tests give a record, derived from the sequence.
inline std::uint16_t type_for(std::uint64_t sequence) {
  return static_cast<std::uint16_t>(sequence % 5 + 1);
}

struct StoredRecord {
  std::uint64_t sequence = 0;
  std::uint16_t type = 0;
  std::vector<std::byte> payload;
};

struct Replayed {
  ReplayResult result;
  std::vector<StoredRecord> records;
};

inline Replayed replay_all(const std::filesystem::path& dir) {
  Replayed replayed;
  replayed.result = replay_journal(dir, [&](const Record& record) {
    replayed.records.push_back(
        {record.sequence, record.type, {record.payload.begin(), record.payload.end()}});
  });
  return replayed;
}

inline std::vector<std::byte> read_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<char> chars((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<std::byte> bytes(chars.size());
  for (std::size_t i = 0; i < chars.size(); ++i) bytes[i] = static_cast<std::byte>(chars[i]);
  return bytes;
}

inline void write_bytes(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

// Collects commit outcomes from the flusher thread; wait_for_count() bounds the wait.
class OutcomeLog {
 public:
  CommitCallback callback(std::size_t commit_index) {
    return [this, commit_index](const CommitOutcome& outcome) {
      std::lock_guard lock(mutex_);
      entries_.push_back({commit_index, outcome});
      changed_.notify_all();
    };
  }

  bool wait_for_count(std::size_t count, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return entries_.size() >= count; });
  }

  struct Entry {
    std::size_t commit_index = 0;
    CommitOutcome outcome;
  };

  std::vector<Entry> entries() const {
    std::lock_guard lock(mutex_);
    return entries_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<Entry> entries_;
};

}  // namespace hft::journal_test
