// One .bin's latency through the runtime's public API (qmap::rt::Model::load, Context::run):
// the median and min ms of --runs runs after --warmup, on --threads intra-op threads, as one
// line "median_ms min_ms runs". The unit bench/ab_runtime.sh alternates between two builds of
// libqmap_runtime (it links the shared library, so LD_LIBRARY_PATH picks the build). Not run
// by ctest.
//   build/bench/bin_latency MODEL.bin [--threads N] [--runs N] [--warmup N] [--input FILE]
//   build/bench/bin_latency MODEL.bin --load-only
// --no-map loads with LoadOptions::map_file = false (the file read into a huge-page copy
// instead of run where it is mapped).
// --input gives the first input's bytes (numpy tofile, e.g. bench_int8_vs_ort's input.bin);
// without it the inputs are zeros. --load-only times the process's first Model::load and prints
// "load_ms": what a program that loads its model once waits (bench_int8_vs_ort's load column
// is the median of many loads in one process, whose heap and caches are warm by then).
#include <qmap/runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

constexpr const char* kUsage =
    "usage: bin_latency MODEL.bin [--threads N] [--runs N] [--warmup N] [--input FILE] [--load-only] [--no-map]\n";

int main(int argc, char** argv) {
  std::string path, input;
  int threads = 1, runs = 15, warmup = 3;
  bool load_only = false, map_file = true;
  for (int i = 1; i < argc; ++i) {
    auto num = [&](const char* opt) {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "bin_latency: %s: missing value\n", opt);
        std::exit(2);
      }
      const int v = std::atoi(argv[++i]);
      if (v < (std::strcmp(opt, "--warmup") == 0 ? 0 : 1)) {
        std::fprintf(stderr, "bin_latency: %s %s: out of range\n", opt, argv[i]);
        std::exit(2);
      }
      return v;
    };
    if (std::strcmp(argv[i], "--threads") == 0) threads = num("--threads");
    else if (std::strcmp(argv[i], "--runs") == 0) runs = num("--runs");
    else if (std::strcmp(argv[i], "--warmup") == 0) warmup = num("--warmup");
    else if (std::strcmp(argv[i], "--input") == 0 && i + 1 < argc) input = argv[++i];
    else if (std::strcmp(argv[i], "--load-only") == 0) load_only = true;
    else if (std::strcmp(argv[i], "--no-map") == 0) map_file = false;
    else if (argv[i][0] == '-' || !path.empty()) {
      std::fputs(kUsage, stderr);
      return 2;
    } else {
      path = argv[i];
    }
  }
  if (path.empty()) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  try {
    const auto l0 = std::chrono::steady_clock::now();
    qmap::rt::LoadOptions lo;
    lo.map_file = map_file;
    const qmap::rt::Model m = qmap::rt::Model::load(path, lo);
    if (load_only) {
      std::printf("%.4f\n", std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - l0).count());
      return 0;
    }
    qmap::rt::Context c(m, qmap::rt::ContextOptions{.threads = threads});
    // Zeros unless --input. The kernels have no data-dependent paths but the exact Add's rare
    // tie pass, yet a constant image is not what the runtime meets (ResNet-50 ran 1-2% faster on
    // zeros than on bench_int8_vs_ort's input, 2026-12-06): A/B decisions should pass --input.
    for (size_t i = 0; i < m.inputs().size(); ++i) {
      std::vector<char> bytes(m.inputs()[i].input_bytes(), 0);
      if (i == 0 && !input.empty()) {
        std::ifstream f(input, std::ios::binary);
        const std::vector<char> got((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        if (!f.good() && !f.eof()) throw std::runtime_error("cannot read --input '" + input + "'");
        if (got.size() != bytes.size())
          throw std::runtime_error("--input '" + input + "': " + std::to_string(got.size()) + " bytes, the input needs " +
                                   std::to_string(bytes.size()));
        bytes = got;
      }
      c.set_input(i, bytes.data(), bytes.size());
    }
    for (int k = 0; k < warmup; ++k) c.run();
    std::vector<double> t;
    for (int k = 0; k < runs; ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      c.run();
      t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    std::printf("%.4f %.4f %d\n", t[t.size() / 2], t[0], runs);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bin_latency: %s\n", e.what());
    return 1;
  }
  return 0;
}
