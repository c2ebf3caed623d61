// AVX-512 qadd / qmul against the references, bit for bit: every signedness combination,
// sizes around the 8-lane groups and 64-element blocks, extreme zero points, multipliers tiny,
// large and with very different shifts (qadd's operand swap and the scalar fallbacks), relu
// clamps, broadcasting shapes of rank 0..4 and general strides. Skipped on CPUs without
// AVX-512 VNNI. Compiled without ISA flags: only qelementwise.h's functions are called.
#include "kernels/x86_avx512vnni/qelementwise.h"

#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "kernels/isa.h"
#include "kernels/qelementwise_test_util.h"

namespace qmap::kernels::avx512 {
namespace {

using testing::Shapes;

#define REQUIRE_AVX512() QMAP_REQUIRE_ISA(Isa::kAvx512Vnni, "AVX-512 VNNI")

const int64_t kSizes[] = {0, 1, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 1001, 77, 127, 129, 191};

// The shared shapes, then ones around the 64-element blocks.
std::vector<Shapes> binary_shapes() {
  std::vector<Shapes> s = testing::binary_shapes(kSizes);
  s.push_back({{1, 40, 14, 14}, {1, 40, 1, 1}});                                  // 196 = 3 blocks + 4
  s.push_back({{2, 8, 9, 23}, {8, 1, 1}});                                        // rank 4 x rank 3
  s.push_back({{2, 3, 65}, {2, 1, 65}});                                          // 65-element runs
  s.push_back({{130}, {1}});
  s.push_back({{5, 1, 64}, {1, 3, 64}});                                          // whole blocks
  return s;
}

TEST(QElementwiseAvx512, Add) {
  REQUIRE_AVX512();
  testing::check_qadd(&avx512::qadd, "avx512", binary_shapes(),
                      [](std::mt19937& rng) { return 1 + static_cast<int64_t>(rng() % 300); });
}

TEST(QElementwiseAvx512, AddEveryPairOfBytes) {
  REQUIRE_AVX512();
  testing::check_qadd_all_pairs(&avx512::qadd, "avx512");
}

TEST(QElementwiseAvx512, AddQ15) {
  REQUIRE_AVX512();
  testing::check_qadd_q15(&avx512::qadd_q15, "avx512", binary_shapes());
}

TEST(QElementwiseAvx512, Mul) {
  REQUIRE_AVX512();
  testing::check_qmul(&avx512::qmul, "avx512", binary_shapes());
}

TEST(QElementwiseAvx512, ZeroPointsOutsideTheTypeUseTheScalarPath) {
  REQUIRE_AVX512();
  testing::check_wide_zero_points(&avx512::qadd, &avx512::qmul, "avx512");
}

TEST(QElementwiseAvx512, StridesOtherThanBroadcasting) {
  REQUIRE_AVX512();
  testing::check_general_strides(&avx512::qadd, &avx512::qmul, "avx512");
}

}  // namespace
}  // namespace qmap::kernels::avx512
