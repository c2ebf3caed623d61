// AVX2 integer elementwise kernels against the references, bit for bit: every signedness
// combination, vector-tail sizes, extreme zero points and multipliers (qadd's different
// shifts and the scalar fallbacks), broadcasting shapes, float specials for quantize.
// Skipped on CPUs without AVX2.
#include "kernels/x86_avx2/qelementwise.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/isa.h"
#include "kernels/qelementwise_test_util.h"
#include "kernels/ref/qelementwise.h"

namespace qmap::kernels::avx2 {
namespace {

using testing::binary_shapes;
using testing::mult_str;
using testing::pick_zero_point;
using testing::random_bytes;
using testing::zero_points;

#define REQUIRE_AVX2() QMAP_REQUIRE_ISA(Isa::kAvx2, "AVX2")
#define EXPECT_SAME_BYTES(want, got, what) QMAP_EXPECT_SAME_BYTES(want, got, "avx2", what)

const int64_t kSizes[] = {0, 1, 7, 8, 9, 31, 32, 33, 1000, 1001, 77};

TEST(QElementwiseAvx2, Quantize) {
  REQUIRE_AVX2();
  const uint32_t seed = 101;
  std::mt19937 rng(seed);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float specials[] = {nan, -nan, inf, -inf, 3.4e38f, -3.4e38f, 1e30f, -1e30f, 0.f, -0.f, 1e-45f, -1e-45f,
                            2.1e9f, -2.1e9f, 5e9f, 127.5f, 128.5f, -128.5f, 255.5f, 254.5f, 0.5f, -0.5f, 1.5f, -1.5f};
  int cases = 0;
  for (bool s : {true, false})
    for (float scale : {1.f, 0.5f, 0.25f, 0.1f, 3.7e-3f, 2.f, 1e-30f, 1e30f, 0.0078125f})
      for (int32_t zp : zero_points(s, rng))
        for (int64_t n : kSizes) {
          std::vector<float> x(static_cast<size_t>(n));
          std::normal_distribution<float> nd(0.f, 100.f * scale);
          for (auto& v : x) {
            const uint32_t r = rng() % 8;
            if (r == 0) v = specials[rng() % std::size(specials)];
            else if (r <= 2) v = (static_cast<float>(static_cast<int>(rng() % 600) - 300) + 0.5f) * scale;  // ties
            else v = nd(rng);
          }
          std::vector<uint8_t> want(x.size(), 0xAA), got(x.size(), 0x55);
          ref::quantize(x, scale, zp, {want.data(), s});
          avx2::quantize(x, scale, zp, {got.data(), s});
          EXPECT_SAME_BYTES(want, got, "seed " << seed << " quantize signed " << s << " scale " << scale << " zp " << zp << " n " << n);
          ++cases;
        }
  // Every float special at every vector position.
  for (bool s : {true, false})
    for (float sp : specials) {
      std::vector<float> x(40, 1.f);
      for (size_t i = 0; i < x.size(); i += 3) x[i] = sp;
      std::vector<uint8_t> want(x.size()), got(x.size());
      ref::quantize(x, 0.5f, 3, {want.data(), s});
      avx2::quantize(x, 0.5f, 3, {got.data(), s});
      EXPECT_SAME_BYTES(want, got, "special " << sp << " signed " << s);
      ++cases;
    }
  RecordProperty("cases", cases);
}

TEST(QElementwiseAvx2, Dequantize) {
  REQUIRE_AVX2();
  const uint32_t seed = 102;
  std::mt19937 rng(seed);
  for (bool s : {true, false})
    for (float scale : {1.f, 0.1f, 3.7e-3f, 1e-30f, 1e30f, 0.0078125f, 7.123e-5f})
      for (int32_t zp : zero_points(s, rng))
        for (int64_t n : kSizes) {
          const std::vector<uint8_t> q = random_bytes(rng, n);
          std::vector<float> want(q.size(), 1.f), got(q.size(), 2.f);
          ref::dequantize({q.data(), s}, n, scale, zp, want.data());
          avx2::dequantize({q.data(), s}, n, scale, zp, got.data());
          for (size_t i = 0; i < q.size(); ++i)
            ASSERT_EQ(std::memcmp(&want[i], &got[i], sizeof(float)), 0)
                << "seed " << seed << " dequantize signed " << s << " scale " << scale << " zp " << zp << " n " << n
                << "; first difference at " << i << ": ref " << want[i] << " avx2 " << got[i];
        }
}

TEST(QElementwiseAvx2, Lut8) {
  REQUIRE_AVX2();
  const uint32_t seed = 103;
  std::mt19937 rng(seed);
  for (int t = 0; t < 4; ++t) {
    std::vector<uint8_t> table(256);
    for (int k = 0; k < 256; ++k)
      table[static_cast<size_t>(k)] = t == 0 ? static_cast<uint8_t>(k) : t == 1 ? static_cast<uint8_t>(255 - k)
                                                                                : static_cast<uint8_t>(rng());
    for (bool xs : {true, false})
      for (bool ys : {true, false}) {
        std::vector<int64_t> sizes(std::begin(kSizes), std::end(kSizes));
        sizes.push_back(256);
        for (int64_t n : sizes) {
          std::vector<uint8_t> x = random_bytes(rng, n);
          if (n == 256)
            for (int k = 0; k < 256; ++k) x[static_cast<size_t>(k)] = static_cast<uint8_t>(k);  // every value
          std::vector<uint8_t> want(x.size(), 1), got(x.size(), 2);
          ref::lut8({x.data(), xs}, n, table, {want.data(), ys});
          avx2::lut8({x.data(), xs}, n, table, {got.data(), ys});
          EXPECT_SAME_BYTES(want, got, "seed " << seed << " lut8 table " << t << " x signed " << xs << " y signed " << ys << " n " << n);
        }
      }
  }
}

TEST(QElementwiseAvx2, Add) {
  REQUIRE_AVX2();
  testing::check_qadd(&avx2::qadd, "avx2", binary_shapes(kSizes), [](std::mt19937&) -> int64_t { return 97; });
}

TEST(QElementwiseAvx2, AddEveryPairOfBytes) {
  REQUIRE_AVX2();
  testing::check_qadd_all_pairs(&avx2::qadd, "avx2");
}

TEST(QElementwiseAvx2, AddQ15) {
  REQUIRE_AVX2();
  testing::check_qadd_q15(&avx2::qadd_q15, "avx2", binary_shapes(kSizes));
}

TEST(QElementwiseAvx2, Mul) {
  REQUIRE_AVX2();
  testing::check_qmul(&avx2::qmul, "avx2", binary_shapes(kSizes));
}

TEST(QElementwiseAvx2, ZeroPointsOutsideTheTypeUseTheScalarPath) {
  REQUIRE_AVX2();
  testing::check_wide_zero_points(&avx2::qadd, &avx2::qmul, "avx2");
}

TEST(QElementwiseAvx2, StridesOtherThanBroadcasting) {
  REQUIRE_AVX2();
  testing::check_general_strides(&avx2::qadd, &avx2::qmul, "avx2");
}

TEST(QElementwiseAvx2, Concat) {
  REQUIRE_AVX2();
  const uint32_t seed = 106;
  std::mt19937 rng(seed);
  for (int t = 0; t < 200; ++t) {
    const bool ys = rng() & 1;
    const int64_t outer = 1 + rng() % 3;
    const size_t k = 1 + rng() % 4;
    const int32_t zy = pick_zero_point(ys, rng);
    std::vector<std::vector<uint8_t>> data(k);
    std::vector<ref::ConcatInput> in(k);
    int64_t total = 0;
    std::string what = "seed " + std::to_string(seed) + " trial " + std::to_string(t) + " outer " +
                       std::to_string(outer) + " zy " + std::to_string(zy) + (ys ? " y s8" : " y u8") + " inputs:";
    for (size_t i = 0; i < k; ++i) {
      const bool xs = rng() & 1;
      const int64_t block = kSizes[rng() % std::size(kSizes)];
      data[i] = random_bytes(rng, block * outer);
      in[i].x = {data[i].data(), xs};
      in[i].block = block;
      in[i].requant = rng() % 3 != 0;
      in[i].zx = pick_zero_point(xs, rng);
      const double r[] = {1.0, 0.37, 2.5, 1e-6, 300.0, 0.999};
      in[i].mult = quantize_multiplier(r[rng() % std::size(r)]);
      total += block * outer;
      what += " {block " + std::to_string(block) + (xs ? " s8" : " u8") + (in[i].requant ? " requant zx " : " copy zx ") +
              std::to_string(in[i].zx) + " mult " + mult_str(in[i].mult) + "}";
    }
    std::vector<uint8_t> want(static_cast<size_t>(total), 1), got(want.size(), 2);
    ref::qconcat(in, outer, zy, {want.data(), ys});
    avx2::qconcat(in, outer, zy, {got.data(), ys});
    EXPECT_SAME_BYTES(want, got, what);
  }
}

}  // namespace
}  // namespace qmap::kernels::avx2
