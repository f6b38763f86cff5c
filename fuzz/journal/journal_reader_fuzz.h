// One fuzz input for the journal reader: the bytes become a journal segment file that is
// replayed. Shared by the libFuzzer target and a GoogleTest that runs the seed corpus.
//
// Aborts with a message on stderr when the reader breaks one of its invariants. Not
// thread-safe: every call reuses one temporary directory per process.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hft::journal {

int fuzz_journal_reader(const std::uint8_t* data, std::size_t size);

}  // namespace hft::journal
