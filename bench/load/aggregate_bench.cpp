// Measures `hft aggregate` on many client lines: writes N result lines (each with a histogram of
// 5,000 log-normal latencies) to a file, then times reading and aggregating that file in
// process. Usage: aggregate_bench [CLIENTS] [OUTPUT_FILE]; defaults 10000 and a temp file.
#include <fmt/format.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

#include "report/aggregate.h"
#include "report/client_result.h"
#include "report/histogram.h"

namespace {

constexpr int kSamplesPerClient = 5000;
constexpr double kTargetSeconds = 1.0;

hft::report::ClientResult make_client(int id, std::mt19937_64& rng) {
  std::lognormal_distribution<double> latency_us(7.0, 0.8);
  hft::report::Histogram histogram;
  for (int i = 0; i < kSamplesPerClient; ++i) {
    histogram.record(static_cast<std::int64_t>(latency_us(rng)));
  }
  hft::report::ClientResult result;
  result.client_id = std::to_string(id);
  result.orders_sent = kSamplesPerClient;
  result.orders_success = kSamplesPerClient;
  result.start_unix_ns = 1'733'300'000'000'000'000 + id * 1'000'000LL;
  result.end_unix_ns = result.start_unix_ns + 60'000'000'000LL;
  result.duration_s = 60.0;
  result.throughput = kSamplesPerClient / 60.0;
  result.connections = 4;
  result.latency.p99 = static_cast<double>(histogram.value_at_percentile(99.0)) / 1000.0;
  result.latency.mean = histogram.mean() / 1000.0;
  result.latency.max = static_cast<double>(histogram.max()) / 1000.0;
  result.histogram = histogram.encode_compressed_base64();
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  int clients = argc > 1 ? std::atoi(argv[1]) : 10'000;
  std::filesystem::path path =
      argc > 2 ? std::filesystem::path(argv[2])
               : std::filesystem::temp_directory_path() / "hft-aggregate-bench.txt";

  // Lines are generated once and reused, so the file contains `clients` distinct ids.
  std::mt19937_64 rng(1);
  {
    std::ofstream out(path);
    for (int id = 1; id <= clients; ++id) {
      out << "[pod/hft-load-test-" << id << "/load] client " << id << ": done\n";
      out << hft::report::format_result_line(make_client(id, rng)) << "\n";
    }
  }
  auto bytes = std::filesystem::file_size(path);

  auto started = std::chrono::steady_clock::now();
  std::ifstream in(path);
  std::ostringstream report;
  std::ostringstream errors;
  hft::report::AggregateOptions options;
  options.json = true;
  options.expect_clients = clients;
  int exit_code = hft::report::aggregate_stream(in, options, report, errors);
  double elapsed_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::cout << fmt::format(
      "aggregate: {} client lines ({:.1f} MB) in {:.3f} s in process, exit code {}; goal under "
      "{:.1f} s: {}\n",
      clients, static_cast<double>(bytes) / 1e6, elapsed_s, exit_code, kTargetSeconds,
      elapsed_s < kTargetSeconds ? "met" : "MISSED");
  std::cout << "aggregate: input file " << path.string() << "\n";
  return exit_code == 0 ? 0 : 1;
}
