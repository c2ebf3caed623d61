// vnni_peak: the single-core int8 multiply-accumulate peak of this CPU, measured in the run
// that uses it (bench/int8_vs_ort's per-layer "% of peak"), after ../shared/tools/peak.cpp.
//
//   core clock  a chain of dependent 1-cycle integer adds (8 per loop iteration)
//   VNNI zmm    vpdpbusd zmm: 64 u8*s8 MACs per instruction (AVX-512 VNNI)
//   VNNI ymm    vpdpbusd ymm: 32 MACs per instruction (AVX-512 VL + VNNI)
//   AVX2        vpmaddwd ymm + vpaddd: 16 s16*s16 MACs per instruction pair, the widened
//               8-bit path an AVX2 kernel without VNNI has (vpmaddubsw saturates in 16 bits,
//               so an exact u8*s8 kernel cannot use it alone)
// Each loop keeps 12 (AVX2: 8) independent accumulator chains so the latency is hidden. Each level is
// compiled with a function target attribute (not with -m flags for the file), so nothing
// outside its function uses those instructions, and it is called only when the CPU (and the
// OS, through XGETBV: __builtin_cpu_supports checks it) supports the level. Best of many ~5 ms
// runs on the calling thread; the caller does not pin it. A MAC is one multiply + add.
#include "vnni_peak.h"

#include <algorithm>
#include <chrono>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QMAP_PEAK_X86 1
#else
#define QMAP_PEAK_X86 0
#endif

namespace qmap::bench {

namespace {

using clk = std::chrono::steady_clock;
volatile int g_seed = 1;  // defeats constant folding
constexpr int kAcc = 12;

double seconds_since(clk::time_point t0) { return std::chrono::duration<double>(clk::now() - t0).count(); }

#if QMAP_PEAK_X86
// Adds per second ~= cycles per second.
double add_chain(long iters) {
  unsigned long x = g_seed;
  const auto t0 = clk::now();
  for (long i = 0; i < iters; ++i) {
    asm volatile(
        "add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\t"
        "add %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\tadd %0, %0\n\t"
        : "+r"(x));
  }
  const double s = seconds_since(t0);
  if (x == 42) g_seed = 2;
  return 8.0 * iters / s;
}

// Each returns MACs per second.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) double vnni_zmm(long iters) {
  __m512i a = _mm512_set1_epi8(static_cast<char>(g_seed + 2)), b = _mm512_set1_epi8(static_cast<char>(g_seed + 1));
  __m512i acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_set1_epi32(i + g_seed);
  const auto t0 = clk::now();
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm512_dpbusd_epi32(acc[i], a, b);
    asm volatile("" : "+v"(a), "+v"(b));
  }
  const double s = seconds_since(t0);
  __m512i r = acc[0];
  for (int i = 1; i < kAcc; ++i) r = _mm512_add_epi32(r, acc[i]);
  alignas(64) int o[16];
  _mm512_store_si512(o, r);
  if (o[0] + o[15] == 42) g_seed = 2;
  return 64.0 * kAcc * iters / s;
}

__attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni"))) double vnni_ymm(long iters) {
  __m256i a = _mm256_set1_epi8(static_cast<char>(g_seed + 2)), b = _mm256_set1_epi8(static_cast<char>(g_seed + 1));
  __m256i acc[kAcc];
  for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_set1_epi32(i + g_seed);
  const auto t0 = clk::now();
  for (long it = 0; it < iters; ++it) {
#pragma GCC unroll 12
    for (int i = 0; i < kAcc; ++i) acc[i] = _mm256_dpbusd_epi32(acc[i], a, b);
    asm volatile("" : "+v"(a), "+v"(b));
  }
  const double s = seconds_since(t0);
  __m256i r = acc[0];
  for (int i = 1; i < kAcc; ++i) r = _mm256_add_epi32(r, acc[i]);
  alignas(32) int o[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(o), r);
  if (o[0] + o[7] == 42) g_seed = 2;
  return 32.0 * kAcc * iters / s;
}

// 8 chains in inline assembly: AVX2 has 16 ymm registers, and compilers spill some of 8-12
// accumulators + products to the stack, which puts store-to-load latency into a chain. Here:
// 8 accumulators, a, b and 4 product registers (ymm12-15) = 14.
__attribute__((target("avx2"))) double avx2_vpmaddwd(long iters) {
  const __m256i a = _mm256_set1_epi16(static_cast<short>(g_seed + 2)), b = _mm256_set1_epi16(static_cast<short>(g_seed + 1));
  __m256i c0 = _mm256_set1_epi32(g_seed), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
  const auto t0 = clk::now();
  for (long it = 0; it < iters; ++it) {
    asm volatile(
        "vpmaddwd %[b], %[a], %%ymm12\n\tvpaddd %%ymm12, %[c0], %[c0]\n\t"
        "vpmaddwd %[b], %[a], %%ymm13\n\tvpaddd %%ymm13, %[c1], %[c1]\n\t"
        "vpmaddwd %[b], %[a], %%ymm14\n\tvpaddd %%ymm14, %[c2], %[c2]\n\t"
        "vpmaddwd %[b], %[a], %%ymm15\n\tvpaddd %%ymm15, %[c3], %[c3]\n\t"
        "vpmaddwd %[b], %[a], %%ymm12\n\tvpaddd %%ymm12, %[c4], %[c4]\n\t"
        "vpmaddwd %[b], %[a], %%ymm13\n\tvpaddd %%ymm13, %[c5], %[c5]\n\t"
        "vpmaddwd %[b], %[a], %%ymm14\n\tvpaddd %%ymm14, %[c6], %[c6]\n\t"
        "vpmaddwd %[b], %[a], %%ymm15\n\tvpaddd %%ymm15, %[c7], %[c7]\n\t"
        : [c0] "+x"(c0), [c1] "+x"(c1), [c2] "+x"(c2), [c3] "+x"(c3), [c4] "+x"(c4), [c5] "+x"(c5), [c6] "+x"(c6),
          [c7] "+x"(c7)
        : [a] "x"(a), [b] "x"(b)
        : "xmm12", "xmm13", "xmm14", "xmm15");
  }
  const double s = seconds_since(t0);
  __m256i r = _mm256_add_epi32(_mm256_add_epi32(_mm256_add_epi32(c0, c1), _mm256_add_epi32(c2, c3)),
                               _mm256_add_epi32(_mm256_add_epi32(c4, c5), _mm256_add_epi32(c6, c7)));
  alignas(32) int o[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(o), r);
  if (o[0] + o[7] == 42) g_seed = 2;
  return 16.0 * 8 * iters / s;
}

// Best rate over short runs of ~5 ms filling about `seconds` (after a warm-up run for the
// clock ramp and the AVX-512 power state): on a shared machine a short run is more likely to
// get a whole time slice, and the peak is the best any run reaches.
double best_rate(double (*f)(long), double seconds, double units_per_iter) {
  const double trial = f(20000);
  const long iters = std::max(1000L, static_cast<long>(trial * 0.005 / units_per_iter));
  f(iters * 4);
  const int reps = std::max(5, static_cast<int>(seconds / 0.005));
  double best = 0;
  for (int rep = 0; rep < reps; ++rep) best = std::max(best, f(iters));
  return best;
}
#endif

}  // namespace

Int8Peak measure_int8_peak(double seconds_per_test) {
  Int8Peak p;
#if QMAP_PEAK_X86
  __builtin_cpu_init();
  p.core_ghz = best_rate(add_chain, seconds_per_test, 8.0) / 1e9;
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512vnni")) {
    p.vnni_zmm_gmacs = best_rate(vnni_zmm, seconds_per_test, 64.0 * kAcc) / 1e9;
    p.vnni_ymm_gmacs = best_rate(vnni_ymm, seconds_per_test, 32.0 * kAcc) / 1e9;
  }
  if (__builtin_cpu_supports("avx2")) p.avx2_vpmaddwd_gmacs = best_rate(avx2_vpmaddwd, seconds_per_test, 16.0 * 8) / 1e9;
#else
  (void)seconds_per_test;
#endif
  return p;
}

}  // namespace qmap::bench
