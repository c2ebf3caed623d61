// AVX-512 qadd / qmul against the references, bit for bit: every signedness combination,
// sizes around the 8-lane groups and 64-element blocks, extreme zero points, multipliers tiny,
// large and with very different shifts (qadd's operand swap and the scalar fallbacks), relu
// clamps, broadcasting shapes of rank 0..4 and general strides. Skipped on CPUs without
// AVX-512 VNNI. Compiled without ISA flags: only qelementwise.h's functions are called.
#include "kernels/x86_avx512vnni/qelementwise.h"

#include <algorithm>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/isa.h"
#include "kernels/ref/qelementwise.h"

namespace qmap::kernels::avx512 {
namespace {

using ref::BinaryGeometry;
using ref::broadcast_strides;
using ref::q8_max;
using ref::q8_min;

bool have_avx512() {
  const std::vector<Isa> isas = host_isas();
  return std::find(isas.begin(), isas.end(), Isa::kAvx512Vnni) != isas.end();
}
#define REQUIRE_AVX512() \
  if (!have_avx512()) GTEST_SKIP() << "this CPU has no AVX-512 VNNI"

const int64_t kSizes[] = {0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 1001, 77, 127, 129, 191};

// Random bytes, a quarter of them the type's extremes.
std::vector<uint8_t> random_bytes(std::mt19937& rng, int64_t n) {
  std::vector<uint8_t> v(static_cast<size_t>(n));
  for (auto& b : v) {
    const uint32_t r = rng();
    b = (r & 7) == 0 ? 0x80 : (r & 7) == 1 ? 0x7f : (r & 7) == 2 ? 0xff : (r & 7) == 3 ? 0x00 : static_cast<uint8_t>(r >> 8);
  }
  return v;
}

// Zero points worth testing for a type: its ends, 0, the middle and a random one.
std::vector<int32_t> zero_points(bool is_signed, std::mt19937& rng) {
  const int32_t lo = q8_min(is_signed), hi = q8_max(is_signed);
  return {lo, hi, 0, (lo + hi) / 2, lo + static_cast<int32_t>(rng() % 256)};
}

// -1 when equal, else the first differing index.
int64_t first_diff(const std::vector<uint8_t>& a, const std::vector<uint8_t>& b) {
  if (a.size() != b.size()) return 0;
  for (size_t i = 0; i < a.size(); ++i)
    if (a[i] != b[i]) return static_cast<int64_t>(i);
  return -1;
}

std::string dims_str(const std::vector<int64_t>& d) {
  std::string s = "[";
  for (size_t i = 0; i < d.size(); ++i) s += (i ? "," : "") + std::to_string(d[i]);
  return s + "]";
}

std::string mult_str(QMultiplier q) {
  return "{m=" + std::to_string(q.m) + ",shift=" + std::to_string(q.shift) + "}";
}

#define EXPECT_SAME_BYTES(want, got, what)                                                                    \
  do {                                                                                                        \
    const int64_t d_ = first_diff(want, got);                                                                 \
    ASSERT_EQ(d_, -1) << what << "; first difference at " << d_ << ": ref "                                   \
                      << (d_ >= 0 && static_cast<size_t>(d_) < (want).size() ? int((want)[size_t(d_)]) : -1) \
                      << " avx512 " << (d_ >= 0 && static_cast<size_t>(d_) < (got).size() ? int((got)[size_t(d_)]) : -1); \
  } while (0)

// Output dims of numpy broadcasting.
std::vector<int64_t> broadcast_dims(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  std::vector<int64_t> out(std::max(a.size(), b.size()), 1);
  for (size_t k = 0; k < out.size(); ++k) {
    const int64_t da = k < a.size() ? a[a.size() - 1 - k] : 1, db = k < b.size() ? b[b.size() - 1 - k] : 1;
    out[out.size() - 1 - k] = da == 1 ? db : da;
  }
  return out;
}
int64_t numel(const std::vector<int64_t>& d) {
  int64_t n = 1;
  for (int64_t v : d) n *= v;
  return n;
}

struct Shapes {
  std::vector<int64_t> a, b;
};
std::vector<Shapes> binary_shapes() {
  std::vector<Shapes> s;
  for (int64_t n : kSizes) s.push_back({{n}, {n}});                             // rank 1 same shape
  s.push_back({{1001}, {1}});                                                     // scalar
  s.push_back({{1}, {33}});
  s.push_back({{2, 9, 5, 7}, {}});                                                // rank 0 operand
  s.push_back({{}, {}});
  s.push_back({{2, 3, 7, 9}, {2, 3, 7, 9}});                                      // rank 4 same shape
  s.push_back({{1, 24, 14, 14}, {1, 24, 1, 1}});                                  // squeeze-excitation
  s.push_back({{1, 24, 1, 1}, {1, 24, 14, 14}});
  s.push_back({{2, 5, 3, 11}, {1, 5, 1, 1}});                                     // per channel, N = 2
  s.push_back({{2, 5, 6, 7}, {2, 1, 6, 7}});                                      // [N,1,H,W]
  s.push_back({{2, 1, 6, 7}, {2, 5, 6, 7}});
  s.push_back({{3, 4, 40}, {40}});                                                // last-axis vector
  s.push_back({{7, 1}, {1, 37}});                                                 // outer product
  s.push_back({{2, 1, 3, 1}, {1, 4, 1, 5}});                                      // general
  s.push_back({{6, 1, 9}, {6, 4, 1}});
  s.push_back({{33, 3}, {33, 1}});                                                // short runs
  s.push_back({{2, 3, 0, 4}, {2, 3, 1, 4}});                                      // empty
  s.push_back({{1, 1, 1}, {1}});
  s.push_back({{1, 40, 14, 14}, {1, 40, 1, 1}});                                  // 196 = 3 blocks + 4
  s.push_back({{2, 8, 9, 23}, {8, 1, 1}});                                        // rank 4 x rank 3
  s.push_back({{2, 3, 65}, {2, 1, 65}});                                          // 65-element runs
  s.push_back({{130}, {1}});
  s.push_back({{5, 1, 64}, {1, 3, 64}});                                          // whole blocks
  return s;
}

struct Clamp {
  int32_t lo, hi;
};
std::vector<Clamp> clamps(bool ys, int32_t zy) {
  const int32_t lo = q8_min(ys), hi = q8_max(ys);
  return {{lo, hi}, {zy, hi}, {std::clamp(zy + 3, lo, hi), std::clamp(zy + 40, lo, hi)}};
}

TEST(QElementwiseAvx512, Add) {
  REQUIRE_AVX512();
  const uint32_t seed = 104;
  std::mt19937 rng(seed);
  // (ra, rb): typical, equal, tiny, large, very different shifts, and ones that leave the
  // 64-bit lanes (scalar fallback).
  const std::pair<double, double> ratios[] = {{0.5, 0.25},   {0.731, 1.37},  {1.0, 1.0},     {1e-7, 3e-9},
                                              {40.0, 200.0}, {0.5, 1e-8},    {3e-9, 0.75},   {1e6, 1e-12},
                                              {2e9, 2e9},    {0.9, 4.6e-10}, {1e-3, 1e-3 / 3}};
  int cases = 0;
  for (const Shapes& sh : binary_shapes()) {
    const std::vector<int64_t> out = broadcast_dims(sh.a, sh.b);
    const BinaryGeometry g{out, broadcast_strides(sh.a, out), broadcast_strides(sh.b, out)};
    const std::vector<uint8_t> a = random_bytes(rng, numel(sh.a)), b = random_bytes(rng, numel(sh.b));
    for (bool as : {true, false})
      for (bool bs : {true, false})
        for (bool ys : {true, false})
          for (const auto& [r1, r2] : ratios) {
            const QMultiplier ra = quantize_multiplier(r1), rb = quantize_multiplier(r2);
            const int32_t za = zero_points(as, rng)[rng() % 5], zb = zero_points(bs, rng)[rng() % 5];
            const int32_t zy = zero_points(ys, rng)[rng() % 5];
            for (const Clamp& c : clamps(ys, zy)) {
              std::vector<uint8_t> want(static_cast<size_t>(numel(out)), 1), got(want.size(), 2);
              ref::qadd(g, {a.data(), as}, za, ra, {b.data(), bs}, zb, rb, zy, c.lo, c.hi, {want.data(), ys});
              avx512::qadd(g, {a.data(), as}, za, ra, {b.data(), bs}, zb, rb, zy, c.lo, c.hi, {got.data(), ys});
              EXPECT_SAME_BYTES(want, got,
                                "seed " << seed << " qadd a " << dims_str(sh.a) << (as ? " s8" : " u8") << " za " << za
                                        << " ra " << mult_str(ra) << " b " << dims_str(sh.b) << (bs ? " s8" : " u8")
                                        << " zb " << zb << " rb " << mult_str(rb) << " y" << (ys ? " s8" : " u8")
                                        << " zy " << zy << " clamp [" << c.lo << "," << c.hi << "]");
              ++cases;
            }
          }
  }
  // Random multipliers with shift differences 0..40 on a long run.
  for (int t = 0; t < 300; ++t) {
    const bool as = rng() & 1, bs = rng() & 1, ys = rng() & 1;
    const QMultiplier ra{static_cast<int32_t>((1u << 30) + rng() % (1u << 30)), 1 + static_cast<int32_t>(rng() % 62)};
    const QMultiplier rb{static_cast<int32_t>((1u << 30) + rng() % (1u << 30)),
                         std::clamp(ra.shift + static_cast<int32_t>(rng() % 81) - 40, 1, 62)};
    const int64_t n = 1 + static_cast<int64_t>(rng() % 300);
    const std::vector<int64_t> d{n};
    const BinaryGeometry g{d, {1}, {1}};
    const std::vector<uint8_t> a = random_bytes(rng, n), b = random_bytes(rng, n);
    const int32_t za = zero_points(as, rng)[rng() % 5], zb = zero_points(bs, rng)[rng() % 5];
    const int32_t zy = zero_points(ys, rng)[rng() % 5];
    std::vector<uint8_t> want(static_cast<size_t>(n)), got(want.size());
    ref::qadd(g, {a.data(), as}, za, ra, {b.data(), bs}, zb, rb, zy, q8_min(ys), q8_max(ys), {want.data(), ys});
    avx512::qadd(g, {a.data(), as}, za, ra, {b.data(), bs}, zb, rb, zy, q8_min(ys), q8_max(ys), {got.data(), ys});
    EXPECT_SAME_BYTES(want, got, "seed " << seed << " qadd random trial " << t << " ra " << mult_str(ra) << " rb "
                                         << mult_str(rb) << " za " << za << " zb " << zb << " zy " << zy);
    ++cases;
  }
  RecordProperty("cases", cases);
}

TEST(QElementwiseAvx512, Mul) {
  REQUIRE_AVX512();
  const uint32_t seed = 105;
  std::mt19937 rng(seed);
  const double ratios[] = {1e-4, 3.3e-3, 0.0117, 0.5, 1.0, 1e-12, 7e3, 2e6, 1e9};
  int cases = 0;
  for (const Shapes& sh : binary_shapes()) {
    const std::vector<int64_t> out = broadcast_dims(sh.a, sh.b);
    const BinaryGeometry g{out, broadcast_strides(sh.a, out), broadcast_strides(sh.b, out)};
    const std::vector<uint8_t> a = random_bytes(rng, numel(sh.a)), b = random_bytes(rng, numel(sh.b));
    for (bool as : {true, false})
      for (bool bs : {true, false})
        for (bool ys : {true, false})
          for (double rr : ratios) {
            const QMultiplier r = quantize_multiplier(rr);
            const int32_t za = zero_points(as, rng)[rng() % 5], zb = zero_points(bs, rng)[rng() % 5];
            const int32_t zy = zero_points(ys, rng)[rng() % 5];
            for (const Clamp& c : clamps(ys, zy)) {
              std::vector<uint8_t> want(static_cast<size_t>(numel(out)), 1), got(want.size(), 2);
              ref::qmul(g, {a.data(), as}, za, {b.data(), bs}, zb, r, zy, c.lo, c.hi, {want.data(), ys});
              avx512::qmul(g, {a.data(), as}, za, {b.data(), bs}, zb, r, zy, c.lo, c.hi, {got.data(), ys});
              EXPECT_SAME_BYTES(want, got,
                                "seed " << seed << " qmul a " << dims_str(sh.a) << (as ? " s8" : " u8") << " za " << za
                                        << " b " << dims_str(sh.b) << (bs ? " s8" : " u8") << " zb " << zb << " r "
                                        << mult_str(r) << " y" << (ys ? " s8" : " u8") << " zy " << zy << " clamp ["
                                        << c.lo << "," << c.hi << "]");
              ++cases;
            }
          }
  }
  RecordProperty("cases", cases);
}

TEST(QElementwiseAvx512, ZeroPointsOutsideTheTypeUseTheScalarPath) {
  REQUIRE_AVX512();
  // Not produced by the lowering, but the kernels must still agree with the reference.
  const std::vector<uint8_t> a = {0, 1, 127, 128, 200, 255, 3, 9, 17}, b = {255, 0, 1, 2, 3, 4, 5, 6, 7};
  const std::vector<int64_t> d{9};
  const BinaryGeometry g{d, {1}, {1}};
  for (int32_t z : {-70000, 100000, 40000}) {
    std::vector<uint8_t> want(9), got(9);
    ref::qmul(g, {a.data(), false}, z, {b.data(), true}, 3, quantize_multiplier(1e-6), 0, -128, 127, {want.data(), true});
    avx512::qmul(g, {a.data(), false}, z, {b.data(), true}, 3, quantize_multiplier(1e-6), 0, -128, 127, {got.data(), true});
    EXPECT_SAME_BYTES(want, got, "qmul za " << z);
    ref::qadd(g, {a.data(), false}, z, quantize_multiplier(1e-4), {b.data(), true}, 3, quantize_multiplier(0.5), 0, -128, 127,
              {want.data(), true});
    avx512::qadd(g, {a.data(), false}, z, quantize_multiplier(1e-4), {b.data(), true}, 3, quantize_multiplier(0.5), 0, -128, 127,
         {got.data(), true});
    EXPECT_SAME_BYTES(want, got, "qadd za " << z);
  }
}

TEST(QElementwiseAvx512, StridesOtherThanBroadcasting) {
  REQUIRE_AVX512();
  // A geometry broadcast_strides never makes (a transposed operand): the element loop.
  const uint32_t seed = 107;
  std::mt19937 rng(seed);
  const std::vector<uint8_t> a = random_bytes(rng, 12), b = random_bytes(rng, 12);
  const BinaryGeometry g{{3, 4}, {1, 3}, {4, 1}};
  for (bool s : {true, false}) {
    std::vector<uint8_t> want(12), got(12);
    ref::qadd(g, {a.data(), s}, 1, quantize_multiplier(0.3), {b.data(), !s}, 7, quantize_multiplier(0.6), 2, q8_min(s),
              q8_max(s), {want.data(), s});
    avx512::qadd(g, {a.data(), s}, 1, quantize_multiplier(0.3), {b.data(), !s}, 7, quantize_multiplier(0.6), 2, q8_min(s),
               q8_max(s), {got.data(), s});
    EXPECT_SAME_BYTES(want, got, "seed " << seed << " qadd transposed a, signed " << s);
    ref::qmul(g, {a.data(), s}, 1, {b.data(), !s}, 7, quantize_multiplier(0.01), 2, q8_min(s), q8_max(s), {want.data(), s});
    avx512::qmul(g, {a.data(), s}, 1, {b.data(), !s}, 7, quantize_multiplier(0.01), 2, q8_min(s), q8_max(s), {got.data(), s});
    EXPECT_SAME_BYTES(want, got, "seed " << seed << " qmul transposed a, signed " << s);
  }
}

}  // namespace
}  // namespace qmap::kernels::avx512
