// The integer pooling kernels of the element-wise table (kernels/qelementwise_table.h: the
// AVX2 max and average pools on every x86 level) against the reference kernel, interleaved
// in one process, on pool geometries of common CNNs. Prints the median us per call, the ns
// per output row (per plane: the pools work row by row) and the ratio to the reference.
// Not run by ctest (docs/runtime.md, "MaxPool by blocks of rows").
//   build/bench/qpool_kernels [--rounds N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "core/fixed_point.h"
#include "kernels/isa.h"
#include "kernels/qelementwise_table.h"
#include "bench_stats.h"

namespace {

using namespace qmap;
namespace kr = kernels::ref;

struct Case {
  const char* what;
  int64_t c, h, k, s, p;
};

}  // namespace

int main(int argc, char** argv) {
  int rounds = 15;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: qpool_kernels [--rounds N]\n");
      return 2;
    }
  }
  const Case cases[] = {{"ResNet stem pool, 3x3 s2 p1", 64, 112, 3, 2, 1},
                        {"SqueezeNet-like, 3x3 s2", 96, 111, 3, 2, 0},
                        {"DenseNet transition, 2x2 s2", 128, 56, 2, 2, 0},
                        {"Inception branch, 3x3 s1 p1", 256, 28, 3, 1, 1}};
  const kernels::Isa isa = kernels::host_isas().back();  // the best level this CPU has
  const auto& t = kernels::qelementwise_table(isa);
  std::printf("kernels: %s\n\n", kernels::isa_name(isa));
  std::printf("| pool | C x H x W | max us | max ns/row | max / ref | avg us | avg ns/row | avg / ref |\n");
  std::printf("|---|---|---:|---:|---:|---:|---:|---:|\n");
  for (const Case& c : cases) {
    const int64_t o = (c.h + 2 * c.p - c.k) / c.s + 1;
    const kr::PoolGeometry2d g{1, c.c, c.h, c.h, o, o, c.k, c.k, c.s, c.s, 1, 1, c.p, c.p, c.p, c.p};
    std::mt19937 rng(1);
    std::vector<uint8_t> x(static_cast<size_t>(c.c * c.h * c.h)), y(static_cast<size_t>(c.c * o * o));
    for (auto& v : x) v = static_cast<uint8_t>(rng());
    const std::vector<QMultiplier> mult(static_cast<size_t>(c.k * c.k + 1), quantize_multiplier(0.1));
    auto time_us = [&](auto f) {
      const int reps = static_cast<int>(std::max<int64_t>(3, 20'000'000 / static_cast<int64_t>(x.size())));
      f();
      const auto t0 = std::chrono::steady_clock::now();
      for (int r = 0; r < reps; ++r) f();
      return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / reps;
    };
    auto max_of = [&](decltype(t.qmaxpool2d) f) { return [&, f] { f(g, {x.data(), false}, {y.data(), false}); }; };
    auto avg_of = [&](decltype(t.qavgpool2d) f) {
      return [&, f] { f(g, false, {x.data(), false}, 3, mult, 5, 0, 255, {y.data(), false}); };
    };
    std::vector<double> mx, av, mref, aref;
    for (int r = 0; r < rounds; ++r) {
      mx.push_back(time_us(max_of(t.qmaxpool2d)));
      av.push_back(time_us(avg_of(t.qavgpool2d)));
      if (r < 3) {
        mref.push_back(time_us(max_of(&kr::qmaxpool2d)));
        aref.push_back(time_us(avg_of(&kr::qavgpool2d)));
      }
    }
    const double rows = static_cast<double>(c.c * o) / 1000.0;
    std::printf("| %s | %lld x %lld x %lld | %.1f | %.1f | %.3f | %.1f | %.1f | %.3f |\n", c.what,
                static_cast<long long>(c.c), static_cast<long long>(c.h), static_cast<long long>(c.h), middle_value(mx),
                middle_value(mx) / rows, middle_value(mx) / middle_value(mref), middle_value(av),
                middle_value(av) / rows, middle_value(av) / middle_value(aref));
  }
  return 0;
}
