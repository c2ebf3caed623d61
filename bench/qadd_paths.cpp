// The integer Add kernels' vector paths, same sizes, same bytes, interleaved in one process:
// the short form (qadd_q15: one 16-bit multiply-add per element, plan::q15_lanes; what the
// lowering emits for nearly every Add), and the exact form's two paths, the digit path (16-bit
// digit products in int32 lanes, plan::qadd_digits) and the 64-bit lanes (the path params
// outside the digit path's bounds keep; its cost does not depend on the multipliers' values,
// so a pair 18 shifts apart stands in for it). Per ISA this CPU has and ResNet-50's four Add
// sizes, prints the median us of each and the ratios, with ref::qadd's time for scale. Not run
// by ctest (docs/runtime.md, "The Add's digit path").
//   build/bench/qadd_paths [--rounds N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "kernels/isa.h"
#include "kernels/qelementwise_table.h"
#include "bench_stats.h"

namespace {

using namespace qmap;
namespace kr = kernels::ref;

}  // namespace

int main(int argc, char** argv) {
  int rounds = 15;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) rounds = std::max(1, std::atoi(argv[++i]));
    else {
      std::fprintf(stderr, "usage: qadd_paths [--rounds N]\n");
      return 2;
    }
  }
  const QMultiplier ra = quantize_multiplier(0.731);
  const QMultiplier rb_digits = quantize_multiplier(1.37), rb_wide = quantize_multiplier(0.731 / (1 << 18));
  AddQ15 f;
  if (!add_q15_form(ra, rb_digits, &f)) return 1;
  std::printf("| ISA | elements | add_q15 us | digit path us | 64-bit lanes us | add_q15 / digit | digit / 64-bit | ref us |\n");
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (kernels::Isa isa : kernels::host_isas()) {
    if (isa == kernels::Isa::kRef) continue;
    const auto& t = kernels::qelementwise_table(isa);
    for (int64_t n : {int64_t{802816}, int64_t{401408}, int64_t{200704}, int64_t{100352}}) {
      std::mt19937 rng(1);
      std::vector<uint8_t> a(static_cast<size_t>(n)), b(a.size()), y(a.size());
      for (auto& v : a) v = static_cast<uint8_t>(rng());
      for (auto& v : b) v = static_cast<uint8_t>(rng());
      const std::vector<int64_t> d{n};
      const kr::BinaryGeometry g{d, {1}, {1}};
      auto time_us = [&](decltype(t.qadd) f, QMultiplier rb) {
        const int reps = static_cast<int>(std::max<int64_t>(3, 20'000'000 / n));
        f(g, {a.data(), false}, 3, ra, {b.data(), false}, 5, rb, 0, 0, 255, {y.data(), false});
        const auto t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r) f(g, {a.data(), false}, 3, ra, {b.data(), false}, 5, rb, 0, 0, 255, {y.data(), false});
        return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / reps;
      };
      auto time_q15 = [&] {
        const int reps = static_cast<int>(std::max<int64_t>(3, 20'000'000 / n));
        t.qadd_q15(g, {a.data(), false}, 3, {b.data(), false}, 5, f, 0, 0, 255, {y.data(), false});
        const auto t0 = std::chrono::steady_clock::now();
        for (int r = 0; r < reps; ++r)
          t.qadd_q15(g, {a.data(), false}, 3, {b.data(), false}, 5, f, 0, 0, 255, {y.data(), false});
        return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / reps;
      };
      std::vector<double> q15, dig, wide, ref;
      for (int r = 0; r < rounds; ++r) {
        q15.push_back(time_q15());
        dig.push_back(time_us(t.qadd, rb_digits));
        wide.push_back(time_us(t.qadd, rb_wide));
        if (r < 3) ref.push_back(time_us(&kr::qadd, rb_digits));
      }
      std::printf("| %s | %lld | %.1f | %.1f | %.1f | %.2fx | %.2fx | %.0f |\n", kernels::isa_name(isa),
                  static_cast<long long>(n), middle_value(q15), middle_value(dig), middle_value(wide),
                  middle_value(q15) / middle_value(dig), middle_value(dig) / middle_value(wide), middle_value(ref));
    }
  }
  return 0;
}
