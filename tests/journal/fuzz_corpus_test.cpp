#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "journal/journal_reader_fuzz.h"
#include "journal_test_util.h"

namespace hft::journal {
namespace {

std::vector<std::vector<std::byte>> load_corpus() {
  std::vector<std::filesystem::path> paths;
  for (const auto& entry : std::filesystem::directory_iterator(HFT_JOURNAL_CORPUS_DIR)) {
    if (entry.is_regular_file()) paths.push_back(entry.path());
  }
  std::sort(paths.begin(), paths.end());

  std::vector<std::vector<std::byte>> corpus;
  for (const auto& path : paths) corpus.push_back(journal_test::read_bytes(path));
  return corpus;
}

void run_one(const std::vector<std::byte>& input) {
  (void)fuzz_journal_reader(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

TEST(JournalReaderFuzz, SeedCorpusRuns) {
  const std::vector<std::vector<std::byte>> corpus = load_corpus();
  ASSERT_GE(corpus.size(), 5U) << "seed corpus in " << HFT_JOURNAL_CORPUS_DIR;
  for (const std::vector<std::byte>& input : corpus) run_one(input);
}

// Without libFuzzer, a fixed-seed mutation of the seeds still sends damaged journals through
// the reader in every build.
TEST(JournalReaderFuzz, MutatedSeedsRun) {
  const std::vector<std::vector<std::byte>> corpus = load_corpus();
  ASSERT_FALSE(corpus.empty());
  std::mt19937_64 random(20240601);

  for (int round = 0; round < 1000; ++round) {
    std::vector<std::byte> input = corpus[random() % corpus.size()];
    const int mutations = 1 + static_cast<int>(random() % 4);
    for (int m = 0; m < mutations && !input.empty(); ++m) {
      const std::size_t at = random() % input.size();
      switch (random() % 3) {
        case 0:
          input[at] ^= static_cast<std::byte>(1U << (random() % 8));
          break;
        case 1:
          input.resize(at);
          break;
        default:
          input.insert(input.begin() + static_cast<std::ptrdiff_t>(at),
                       static_cast<std::byte>(random() & 0xFFU));
          break;
      }
    }
    run_one(input);
  }
}

}  // namespace
}  // namespace hft::journal
