// One .bin's latency through the runtime's public API (qmap::rt::Model::load, Context::run):
// the median and min ms of --runs runs after --warmup, on --threads intra-op threads, as one
// line "median_ms min_ms runs". The unit bench/ab_runtime.sh alternates between two builds of
// libqmap_runtime (it links the shared library, so LD_LIBRARY_PATH picks the build). Not run
// by ctest.
//   build/bench/bin_latency MODEL.bin [--threads N] [--runs N] [--warmup N]
#include <qmap/runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  std::string path;
  int threads = 1, runs = 15, warmup = 3;
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
    else if (argv[i][0] == '-' || !path.empty()) {
      std::fprintf(stderr, "usage: bin_latency MODEL.bin [--threads N] [--runs N] [--warmup N]\n");
      return 2;
    } else {
      path = argv[i];
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: bin_latency MODEL.bin [--threads N] [--runs N] [--warmup N]\n");
    return 2;
  }
  try {
    const qmap::rt::Model m = qmap::rt::Model::load(path);
    qmap::rt::Context c(m, qmap::rt::ContextOptions{.threads = threads});
    // Zero inputs: latency does not depend on the values (no data-dependent paths but rare
    // ties, which zeros do not make more frequent).
    for (size_t i = 0; i < m.inputs().size(); ++i) {
      const std::vector<char> zeros(m.inputs()[i].input_bytes(), 0);
      c.set_input(i, zeros.data(), zeros.size());
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
