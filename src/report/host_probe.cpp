// host_probe (host_probe.h). The int8 peak, after ../shared/tools/peak.cpp:
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
#include "report/host_probe.h"

#include "core/fixed_point.h"
#include "kernels/isa.h"
#include "kernels/parallel.h"
#include "kernels/qconv_kernel.h"
#include "kernels/qelementwise_table.h"
#include "kernels/ref/qconv.h"
#include "kernels/ref/qelementwise.h"
#include "kernels/ref/qpool.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QMAP_PEAK_X86 1
#else
#define QMAP_PEAK_X86 0
#endif

namespace qmap {

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

// memcpy of `src` into `dst`, `passes` times: the C library's copy uses the widest vectors
// the CPU has, as the runtime's data-movement and elementwise kernels do. Returns bytes moved
// (read + written) per second.
double copy_rate(const std::vector<uint8_t>& src, std::vector<uint8_t>& dst, int passes) {
  const auto t0 = clk::now();
  for (int p = 0; p < passes; ++p) {
    std::memcpy(dst.data(), src.data(), src.size());
    asm volatile("" : : "r"(dst.data()) : "memory");
  }
  const double s = seconds_since(t0);
  return 2.0 * static_cast<double>(src.size()) * passes / s;
}

int64_t read_l2_bytes() {
  // /sys/devices/system/cpu/cpu0/cache/indexN/{level,type,size}: "1024K".
  for (int i = 0; i < 8; ++i) {
    const std::string dir = "/sys/devices/system/cpu/cpu0/cache/index" + std::to_string(i) + "/";
    std::ifstream lf(dir + "level"), sf(dir + "size");
    int level = 0;
    std::string size;
    if (!(lf >> level) || !(sf >> size) || level != 2 || size.empty()) continue;
    int64_t v = std::atoll(size.c_str());
    const char unit = size.back();
    if (unit == 'K') v *= 1024;
    if (unit == 'M') v *= 1024 * 1024;
    if (v > 0) return v;
  }
  return 1 << 20;
}

// Seconds per call of f: the median of repeated batches filling about `seconds`. The median,
// not the best: `qmap perf --measure` reports medians, so on a shared machine the kernel rates
// and the measured layers see the same share of the CPU.
template <typename F>
double median_seconds(F&& f, double seconds) {
  f();  // warm-up: caches, packing, the AVX-512 power state
  int per_batch = 1;
  for (;;) {  // batches of >= 1 ms so the clock's resolution does not matter
    const auto t0 = clk::now();
    for (int i = 0; i < per_batch; ++i) f();
    if (seconds_since(t0) >= 1e-3 || per_batch >= (1 << 20)) break;
    per_batch *= 2;
  }
  std::vector<double> runs;
  const auto start = clk::now();
  do {
    const auto t0 = clk::now();
    for (int i = 0; i < per_batch; ++i) f();
    runs.push_back(seconds_since(t0) / per_batch);
  } while (seconds_since(start) < seconds || runs.size() < 5);
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

// Seconds per run of the best fast convolution kernel on geometry g (uint8 in and out).
double conv_seconds(const kernels::ref::ConvGeometry2d& g, double seconds) {
  const int64_t taps = g.c / g.group * g.kh * g.kw;
  std::vector<int8_t> w(static_cast<size_t>(g.m * taps));
  for (size_t i = 0; i < w.size(); ++i) w[i] = static_cast<int8_t>(static_cast<int>(i * 7 % 15) - 7);
  std::vector<int32_t> bias(static_cast<size_t>(g.m), 100);
  std::vector<QMultiplier> mult(static_cast<size_t>(g.m), quantize_multiplier(0.001));
  kernels::QConvParams p;
  p.g = g;
  p.weights = w;
  p.bias = bias;
  p.mult = mult;
  p.zx = 3;
  p.zy = 10;
  auto k = kernels::make_qconv(kernels::best_host_isa(), p);
  std::vector<uint8_t> x(static_cast<size_t>(g.n * g.c * g.h * g.w));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint8_t>(i * 31 % 251);
  std::vector<uint8_t> y(static_cast<size_t>(g.n * g.m * g.oh * g.ow));
  if (!k) {  // no fast kernel (a CPU below AVX2): the reference
    return median_seconds([&] {
      kernels::ref::qconv2d(g, {x.data(), false}, p.zx, w, bias, mult, p.zy, 0, 255, {y.data(), false});
    }, seconds);
  }
  std::vector<uint8_t> scratch(kernels::scratch_stride(k->scratch_bytes_per_worker()) + 64);
  void* s = scratch.data() + (64 - reinterpret_cast<uintptr_t>(scratch.data()) % 64) % 64;
  const kernels::SerialRunner one;
  return median_seconds([&] { k->run(x.data(), y.data(), s, one); }, seconds);
}

}  // namespace

KernelProbe measure_kernels(double seconds_per_test) {
  KernelProbe kp;
  kp.isa = kernels::isa_name(kernels::best_host_isa());
  auto geom = [](int64_t c, int64_t m, int64_t hw, int64_t k, int64_t group) {
    kernels::ref::ConvGeometry2d g;
    g.c = c, g.m = m, g.h = g.w = g.oh = g.ow = hw, g.kh = g.kw = k, g.group = group;
    g.pad_top = g.pad_left = k / 2;
    return g;
  };
  // A convolution's time is modelled as MACs / MAC rate + outputs / output rate (+ for
  // depthwise, channels x a per-channel cost); two or three shapes that weigh the terms
  // differently give each rate (docs/perf.md, "The host march").
  // Dense shapes count the pixels the kernel computes (kernels::conv_computed_pixels).
  const kernels::ConvPixelLayout layout = kernels::conv_pixel_layout(kernels::best_host_isa());
  kp.conv_pixel_vector = layout.vector;
  kp.conv_row_halo = layout.row_halo;
  auto pixels = [&](const kernels::ref::ConvGeometry2d& g) { return static_cast<double>(kernels::conv_computed_pixels(g, layout)); };
  auto macs = [&](const kernels::ref::ConvGeometry2d& g) { return pixels(g) * static_cast<double>(g.m * (g.c / g.group) * g.kh * g.kw); };
  auto outs = [&](const kernels::ref::ConvGeometry2d& g) { return pixels(g) * static_cast<double>(g.m); };
  const auto deep = geom(64, 64, 28, 3, 1), shallow = geom(16, 96, 56, 1, 1);
  const double td = conv_seconds(deep, seconds_per_test), ts = conv_seconds(shallow, seconds_per_test);
  // [macs_d outs_d; macs_s outs_s] [1/R; 1/V] = [td; ts]
  const double det = macs(deep) * outs(shallow) - macs(shallow) * outs(deep);
  double inv_r = (td * outs(shallow) - ts * outs(deep)) / det, inv_v = (macs(deep) * ts - macs(shallow) * td) / det;
  if (inv_r <= 0 || inv_v <= 0) inv_r = td / macs(deep), inv_v = 0;  // noise: the deep shape's plain rate
  kp.dense_gmacs = 1 / inv_r / 1e9;
  kp.conv_gouts = inv_v > 0 ? 1 / inv_v / 1e9 : 0;
  const auto dw_big = geom(144, 144, 56, 3, 144), dw_small = geom(960, 960, 7, 3, 960);
  const double ta = conv_seconds(dw_big, seconds_per_test) - outs(dw_big) * inv_v;
  const double tb = conv_seconds(dw_small, seconds_per_test) - outs(dw_small) * inv_v;
  const double det_dw = macs(dw_big) * 960 - macs(dw_small) * 144;
  double inv_dw = (ta * 960 - tb * 144) / det_dw, per_channel = (ta - macs(dw_big) * inv_dw) / 144;
  if (inv_dw <= 0 || per_channel < 0) inv_dw = ta / macs(dw_big), per_channel = 0;
  kp.depthwise_gmacs = 1 / inv_dw / 1e9;
  kp.depthwise_channel_us = per_channel * 1e6;

  const kernels::QElementwiseTable& ew = kernels::qelementwise_table(kernels::best_host_isa());
  auto add_seconds = [&](std::vector<int64_t> dims) {
    kernels::ref::BinaryGeometry g;
    g.out = dims;
    g.a_strides = g.b_strides = kernels::ref::broadcast_strides(dims, dims);
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    std::vector<uint8_t> a(static_cast<size_t>(n)), b(static_cast<size_t>(n)), y(static_cast<size_t>(n));
    for (size_t i = 0; i < a.size(); ++i) a[i] = static_cast<uint8_t>(i * 13 % 251), b[i] = static_cast<uint8_t>(i * 7 % 241);
    const QMultiplier r = quantize_multiplier(0.7);
    return std::pair{median_seconds([&] {
                       ew.qadd(g, {a.data(), false}, 5, r, {b.data(), false}, 9, r, 3, 0, 255, {y.data(), false});
                     }, seconds_per_test), n};
  };
  const auto [add_s, add_n] = add_seconds({1, 64, 56, 56});
  kp.add_gelems = static_cast<double>(add_n) / add_s / 1e9;
  {
    // 3x3 stride-1 max pool over 64x56x56 (padding 1): taps per second.
    kernels::ref::PoolGeometry2d g;
    g.c = 64, g.h = g.w = g.oh = g.ow = 56, g.kh = g.kw = 3, g.pad_top = g.pad_left = g.pad_bottom = g.pad_right = 1;
    std::vector<uint8_t> x(static_cast<size_t>(64 * 56 * 56)), y(x.size());
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<uint8_t>(i * 13 % 251);
    const double s = median_seconds([&] { ew.qmaxpool2d(g, {x.data(), false}, {y.data(), false}); }, seconds_per_test);
    kp.pool_gtaps = static_cast<double>(y.size() * 9) / s / 1e9;
  }
  kp.call_us = add_seconds({1, 64, 1, 1}).first * 1e6;

  std::vector<float> v(65536, 1.f);
  volatile float va = 0.999f, vb = 0.001f;
  const float fa = va, fb = vb;
  const double fs = median_seconds([&] {
    for (float& e : v) e = e * fa + fb;
    asm volatile("" : : "r"(v.data()) : "memory");
  }, seconds_per_test);
  kp.float_gflops = 2.0 * static_cast<double>(v.size()) / fs / 1e9;
  return kp;
}

MemoryProbe measure_memory(double seconds_per_test) {
  MemoryProbe m;
  m.l2_bytes = read_l2_bytes();
  // bytes: source + destination.
  auto best = [&](size_t bytes) {
    std::vector<uint8_t> src(bytes / 2), dst(bytes / 2);
    for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<uint8_t>(i * 31 + static_cast<size_t>(g_seed));
    const int passes = static_cast<int>(std::max<size_t>(1, (size_t{8} << 20) / bytes));  // >= 8 MiB per run
    copy_rate(src, dst, passes);  // warm-up: page faults, cache fill
    const auto t0 = clk::now();
    double r = 0;
    do r = std::max(r, copy_rate(src, dst, passes));
    while (seconds_since(t0) < seconds_per_test);
    return r / 1e9;
  };
  m.l2_copy_gbps = best(static_cast<size_t>(m.l2_bytes / 2));
  m.ddr_copy_gbps = best(size_t{128} << 20);
  return m;
}

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

}  // namespace qmap
