// libFuzzer entry point for the journal reader.
#include <cstddef>
#include <cstdint>

#include "journal/journal_reader_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return hft::journal::fuzz_journal_reader(data, size);
}
