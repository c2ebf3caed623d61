// Shared by the convolution kernel testers (x86_*/qconv_*_test.cpp): builds one random case
// of given geometry and signedness, runs the reference (kernels/ref/qconv.h) and a fast
// kernel from a factory, and asserts bit equality, printing the seed, the geometry and the
// first differing index with its neighbourhood on a mismatch.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <cstring>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kernels/isa.h"
#include "kernels/isa_test_util.h"
#include "kernels/qconv_kernel.h"
#include "kernels/ref/qconv.h"

namespace qmap::kernels::testing {

using ConvFactory = std::unique_ptr<QConvKernel> (*)(const QConvParams&);

// Runs tasks on `workers` std::threads (worker k takes tasks k, k + workers, ...): checks
// that a kernel's result does not depend on the split.
class ThreadRunner final : public TaskRunner {
 public:
  explicit ThreadRunner(int workers) : workers_(workers) {}
  int num_workers() const override { return workers_; }
  void run(size_t n, const std::function<void(size_t, int)>& fn) const override {
    std::vector<std::thread> ts;
    for (int w = 1; w < workers_; ++w)
      ts.emplace_back([&, w] {
        for (size_t i = static_cast<size_t>(w); i < n; i += static_cast<size_t>(workers_)) fn(i, w);
      });
    for (size_t i = 0; i < n; i += static_cast<size_t>(workers_)) fn(i, 0);
    for (auto& t : ts) t.join();
  }

 private:
  int workers_;
};

// One level's factory, the parameter of the testers run once per level (TEST_P over
// ::testing::ValuesIn of these, instances named by isa_param_name).
struct IsaFactory {
  Isa isa;
  ConvFactory factory;
  const char* family;  // for messages
};
inline void PrintTo(const IsaFactory& i, std::ostream* os) { *os << i.family; }  // gtest's failure lines
inline std::string isa_param_name(const ::testing::TestParamInfo<IsaFactory>& i) { return isa_name(i.param.isa); }

struct ConvCase {
  ref::ConvGeometry2d g;  // n, c, h, w, m, kh, kw, strides, dilations, begin pads, group; oh/ow derived
  int64_t pad_bottom = 0, pad_right = 0;
  bool x_signed = false, y_signed = false;
  bool x_wide = false, y_wide = false;  // int16 (the higher-precision form; zero point 0)
  int32_t zx = 0, zy = 0;
  bool relu = false;        // lo = zy (else the type's range)
  bool float_out = false;
  bool has_bias = true;
  int32_t bias_range = 1 << 16;   // bias uniform in [-range, range]
  bool extreme_weights = false;   // weights only -128 / 127
  bool extreme_inputs = false;    // inputs only the type's min / max
  double mult_lo = 1e-4, mult_hi = 0.05;  // real multipliers, log-uniform
  int tie_every = 0;  // > 0: channels m % tie_every == 0 get tie_mult (mantissa 2^30: ties reachable)
  double tie_mult = 0x1p-12;
  int x_low_zero_bits = 0;  // > 0: every input a multiple of 2^x_low_zero_bits (sums land on ties)
  uint32_t seed = 1;
  // Run a second kernel that adopts the first one's packed state (packed_conv_blob, as a .bin
  // stores it), with the canonical weights overwritten first, so that it can only be right
  // through the blob.
  bool prepacked = false;
};

inline std::string describe(const ConvCase& c) {
  std::ostringstream o;
  const auto& g = c.g;
  o << "seed " << c.seed << " n" << g.n << " c" << g.c << " h" << g.h << " w" << g.w << " m" << g.m << " k" << g.kh
    << "x" << g.kw << " s" << g.stride_h << "x" << g.stride_w << " d" << g.dil_h << "x" << g.dil_w << " pad "
    << g.pad_top << "," << g.pad_left << "," << c.pad_bottom << "," << c.pad_right << " group " << g.group
    << " x " << (c.x_wide ? "s16" : c.x_signed ? "s8" : "u8") << " zx " << c.zx << " y "
    << (c.float_out ? "f32" : c.y_wide ? "s16" : c.y_signed ? "s8" : "u8")
    << " zy " << c.zy << (c.relu ? " relu" : "") << (c.has_bias ? "" : " nobias")
    << (c.extreme_weights ? " extreme-w" : "") << (c.extreme_inputs ? " extreme-x" : "")
    << (c.tie_every > 0 ? " tie-every " + std::to_string(c.tie_every) : "");
  return o.str();
}

// Runs the case through the reference and the factory's kernel; returns false (with a
// message) when the factory declined. `require` makes declining a test failure.
inline void expect_matches_ref(ConvFactory factory, const char* kernel_family, ConvCase c, bool require = true,
                               int workers = 1) {
  auto& g = c.g;
  g.oh = (g.h + g.pad_top + c.pad_bottom - g.dil_h * (g.kh - 1) - 1) / g.stride_h + 1;
  g.ow = (g.w + g.pad_left + c.pad_right - g.dil_w * (g.kw - 1) - 1) / g.stride_w + 1;
  ASSERT_GT(g.oh, 0) << describe(c);
  ASSERT_GT(g.ow, 0) << describe(c);
  std::mt19937 rng(c.seed);
  const int32_t xmin = ref::q_min(c.x_signed || c.x_wide, c.x_wide), xmax = ref::q_max(c.x_signed || c.x_wide, c.x_wide);
  const size_t xsz = c.x_wide ? 2 : 1;
  std::vector<uint8_t> x(static_cast<size_t>(g.n * g.c * g.h * g.w) * xsz);
  for (size_t i = 0; i < x.size() / xsz; ++i) {
    int32_t q = c.extreme_inputs ? (rng() & 1 ? xmax : xmin)
                                 : xmin + static_cast<int32_t>(rng() % static_cast<uint32_t>(xmax - xmin + 1));
    if (c.x_low_zero_bits > 0) q = std::max(xmin, q & ~((1 << c.x_low_zero_bits) - 1));
    if (c.x_wide) {
      const int16_t q16 = static_cast<int16_t>(q);
      std::memcpy(x.data() + 2 * i, &q16, 2);
    } else {
      x[i] = static_cast<uint8_t>(q);
    }
  }
  std::vector<int8_t> w(static_cast<size_t>(g.m * (g.c / g.group) * g.kh * g.kw));
  for (auto& v : w) v = static_cast<int8_t>(c.extreme_weights ? (rng() & 1 ? 127 : -128) : static_cast<int32_t>(rng() % 256) - 128);
  std::vector<int32_t> bias;
  if (c.has_bias)
    for (int64_t m = 0; m < g.m; ++m)
      bias.push_back(static_cast<int32_t>(static_cast<int64_t>(rng() % (2u * static_cast<uint32_t>(c.bias_range) + 1)) - c.bias_range));
  std::vector<QMultiplier> mult;
  std::vector<double> acc_scale;
  std::uniform_real_distribution<double> u(std::log(c.mult_lo), std::log(c.mult_hi));
  for (int64_t m = 0; m < g.m; ++m) {
    const double r = c.tie_every > 0 && m % c.tie_every == 0 ? c.tie_mult : std::exp(u(rng));
    mult.push_back(quantize_multiplier(r));
    acc_scale.push_back(r * 0.37);
  }
  const int32_t ymin = ref::q_min(c.y_signed || c.y_wide, c.y_wide), ymax = ref::q_max(c.y_signed || c.y_wide, c.y_wide);
  QConvParams p;
  p.g = g;
  p.x_signed = c.x_signed || c.x_wide;
  p.x_wide = c.x_wide;
  p.y_wide = c.y_wide && !c.float_out;
  p.zx = c.zx;
  p.weights = w;
  p.bias = bias;
  p.y_signed = c.y_signed || c.y_wide;
  p.mult = mult;
  p.zy = c.zy;
  p.lo = c.relu ? c.zy : ymin;
  p.hi = ymax;
  p.float_out = c.float_out;
  p.acc_scale = acc_scale;
  p.float_min = c.relu ? 0.f : -std::numeric_limits<float>::infinity();
  p.float_max = std::numeric_limits<float>::infinity();

  const int64_t ny = g.n * g.m * g.oh * g.ow;
  const size_t esz = c.float_out ? 4 : c.y_wide ? 2 : 1;
  std::vector<uint8_t> want(static_cast<size_t>(ny) * esz), got(want.size(), 0xA5);
  const ref::Q8In xin{x.data(), p.x_signed, c.x_wide};
  if (c.float_out) {
    float* yf = reinterpret_cast<float*>(want.data());
    ref::qconv2d_float_out(g, xin, c.zx, w, bias, acc_scale, yf);
    for (int64_t i = 0; i < ny; ++i) yf[i] = std::min(std::max(yf[i], p.float_min), p.float_max);
  } else {
    ref::qconv2d(g, xin, c.zx, w, bias, mult, c.zy, p.lo, p.hi, ref::Q8Out{want.data(), p.y_signed, p.y_wide});
  }
  std::unique_ptr<QConvKernel> k = factory(p);
  if (!k) {
    if (require) ADD_FAILURE() << kernel_family << " declined " << describe(c);
    return;
  }
  std::vector<std::byte> blob_buf;
  std::vector<int64_t> sums;
  std::string layout;
  if (c.prepacked) {
    const QConvPacked packed = k->packed();
    ASSERT_FALSE(packed.layout.empty()) << k->name() << " packs nothing to store, " << describe(c);
    layout = std::string(packed.layout);
    sums.assign(packed.row_sums.begin(), packed.row_sums.end());
    blob_buf.resize(packed.weights.size() + 64);
    std::byte* at = blob_buf.data() + (64 - reinterpret_cast<uintptr_t>(blob_buf.data()) % 64) % 64;
    std::memcpy(at, packed.weights.data(), packed.weights.size());
    std::fill(w.begin(), w.end(), int8_t{0x33});
    p.prepacked = {at, packed.weights.size()};
    p.prepacked_sums = sums;
    p.prepacked_layout = layout;
    // Weights one byte short, or of another layout, are not adopted: the kernel packs instead.
    QConvParams short_p = p;
    short_p.prepacked = p.prepacked.first(p.prepacked.size() - 1);
    const auto packs = factory(short_p);
    ASSERT_TRUE(packs && !packs->adopted()) << "a short blob was adopted, " << describe(c);
    QConvParams other = p;
    other.prepacked_layout = "other.1";
    ASSERT_FALSE(factory(other)->adopted()) << "a blob of another layout was adopted, " << describe(c);
    k = factory(p);
    ASSERT_TRUE(k && k->adopted()) << "the blob of layout " << layout << " was not adopted, " << describe(c);
  }
  // Clobber the parameter buffers: a kernel must have copied what it keeps.
  std::fill(w.begin(), w.end(), int8_t{0x55});
  std::fill(bias.begin(), bias.end(), 0x5555);
  std::fill(mult.begin(), mult.end(), QMultiplier{});
  const size_t stride = scratch_stride(k->scratch_bytes_per_worker());
  std::vector<uint8_t> scratch_buf(stride * static_cast<size_t>(workers) + 64, 0xCD);
  void* scratch = scratch_buf.data() + (64 - reinterpret_cast<uintptr_t>(scratch_buf.data()) % 64) % 64;
  ThreadRunner runner(workers);
  k->run(x.data(), got.data(), scratch, runner);
  if (std::memcmp(want.data(), got.data(), want.size()) == 0) return;
  size_t first = 0;
  while (std::memcmp(want.data() + first * esz, got.data() + first * esz, esz) == 0) ++first;
  auto val = [&](const std::vector<uint8_t>& v, size_t i) -> std::string {
    if (c.float_out) {
      float f;
      std::memcpy(&f, v.data() + i * 4, 4);
      return std::to_string(f);
    }
    if (c.y_wide) {
      int16_t q;
      std::memcpy(&q, v.data() + i * 2, 2);
      return std::to_string(q);
    }
    return std::to_string(c.y_signed ? static_cast<int>(static_cast<int8_t>(v[i])) : static_cast<int>(v[i]));
  };
  std::ostringstream o;
  const int64_t i = static_cast<int64_t>(first);
  o << k->name() << " differs from the reference, " << describe(c) << " workers " << workers << ": first at index "
    << first << " (n " << i / (g.m * g.oh * g.ow) << " m " << i / (g.oh * g.ow) % g.m << " oy " << i / g.ow % g.oh
    << " ox " << i % g.ow << "); want/got around it:";
  for (size_t j = first >= 3 ? first - 3 : 0; j < std::min<size_t>(first + 4, static_cast<size_t>(ny)); ++j)
    o << " [" << j << "] " << val(want, j) << "/" << val(got, j);
  ADD_FAILURE() << o.str();
}

}  // namespace qmap::kernels::testing
