// Each ISA's vectorized requantization against core/fixed_point.h's requantize, exactly:
// random accumulators over the whole int32 range, the extremes, every shift 1..62, mantissas
// at both ends of [2^30, 2^31), ties (acc * m an odd multiple of 2^(shift-1)), and clamps.
// Each (shift, mantissa) covers 69 consecutive entries and each tie shift 8 aligned ones, so
// requantize_avx2's one-multiplier groups (avx2::ChannelRequant, fast for shifts 32..53) are
// checked on every shift, extreme and clamp too.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "kernels/isa.h"
#include "kernels/requant_simd.h"

namespace qmap::kernels {
namespace {

using Fn = void (*)(const int32_t*, const QMultiplier*, size_t, int32_t, int32_t, int32_t, int32_t*);

void check(Isa isa, Fn fn) {
  bool have = false;
  for (Isa h : host_isas()) have |= h == isa;
  if (!have) GTEST_SKIP() << "this CPU has no " << isa_name(isa);
  std::mt19937 rng(1234);
  std::vector<int32_t> acc;
  std::vector<QMultiplier> q;
  const int32_t extremes[] = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX, INT32_MAX - 1, 1 << 20, -(1 << 20)};
  for (int32_t shift = 1; shift <= 62; ++shift)
    for (int32_t m : {1 << 30, (1 << 30) + 1, 0x7fffffff, 0x5a827999}) {
      for (int32_t a : extremes) acc.push_back(a), q.push_back({m, shift});
      for (int k = 0; k < 40; ++k) acc.push_back(static_cast<int32_t>(rng())), q.push_back({m, shift});
      for (int k = 0; k < 20; ++k) acc.push_back(static_cast<int32_t>(rng() % 20001) - 10000), q.push_back({m, shift});
    }
  // Exact ties: acc * 2^30 with shift s is a tie when acc * 2^30 = (2j + 1) * 2^(s-1).
  for (int32_t s = 1; s <= 40; ++s)
    for (int32_t a : {1, -1, 3, -3, 5, -5, 1001, -1001}) acc.push_back(a), q.push_back({1 << 30, s});
  struct Clamp { int32_t zp, lo, hi; };
  for (Clamp c : {Clamp{0, -128, 127}, Clamp{-128, -128, 127}, Clamp{127, -128, 127}, Clamp{0, 0, 255},
                  Clamp{255, 0, 255}, Clamp{37, 37, 200}, Clamp{-5, -5, 6}}) {
    std::vector<int32_t> got(acc.size(), 12345);
    fn(acc.data(), q.data(), acc.size(), c.zp, c.lo, c.hi, got.data());
    for (size_t i = 0; i < acc.size(); ++i) {
      const int32_t want = requantize(acc[i], q[i], c.zp, c.lo, c.hi);
      ASSERT_EQ(got[i], want) << isa_name(isa) << " index " << i << " acc " << acc[i] << " m " << q[i].m << " shift "
                              << q[i].shift << " zp " << c.zp << " clamp [" << c.lo << ", " << c.hi << "]";
    }
  }
}

TEST(RequantSimd, Avx512VnniEqualsCore) { check(Isa::kAvx512Vnni, requantize_avx512vnni); }
TEST(RequantSimd, Avx2EqualsCore) { check(Isa::kAvx2, requantize_avx2); }

}  // namespace
}  // namespace qmap::kernels
