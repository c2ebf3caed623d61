// 2-D pooling fast paths against the N-D reference loops (max for every dtype, average with
// and without count_include_pad), including ceil-mode-like windows that run past the padded
// end, dilations and one-sided pads; plus the Indices layout on a hand-checked case.
#include "kernels/f32/pool.h"

#include <random>

#include "test_util.h"

namespace qmap::kernels::f32 {
namespace {

// Output size with ceil rounding and ONNX Runtime's drop rule, as the ops compute it.
WindowGeometry geometry(int64_t h, int64_t w, int64_t k, int64_t s, int64_t d,
                        std::vector<int64_t> pads, bool ceil_mode) {
  WindowGeometry g;
  g.batch = 2;
  g.in_channels = 3;
  g.in = {h, w};
  g.kernel = {k, k};
  g.strides = {s, s};
  g.dilations = {d, d};
  g.pads = std::move(pads);
  for (int i = 0; i < 2; ++i) {
    const int64_t span = g.in[i] + g.pad_begin(i) + g.pad_end(i) - (k - 1) * d - 1;
    if (span < 0) return {};
    int64_t o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= g.in[i] + g.pad_begin(i)) --o;
    g.out.push_back(o);
  }
  return g;
}

template <typename T>
Tensor random_of(Dims dims, uint32_t seed) {
  Tensor t(dtype_of<T>(), std::move(dims));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> dist(-100, 100);
  for (T& v : t.data<T>()) v = static_cast<T>(std::is_unsigned_v<T> ? dist(rng) + 100 : dist(rng));
  return t;
}

template <typename T>
void check_max(const WindowGeometry& g, uint32_t seed) {
  Tensor x = random_of<T>({g.batch, g.in_channels, g.in[0], g.in[1]}, seed);
  Tensor ref(dtype_of<T>(), {g.batch, g.in_channels, g.out[0], g.out[1]});
  Tensor got(dtype_of<T>(), ref.dims());
  max_pool_ref<T>(g, x.data<T>().data(), ref.data<T>().data(), nullptr, false);
  max_pool_2d<T>(g, x.data<T>().data(), got.data<T>().data());
  EXPECT_TRUE(testing::tensors_near(got, ref, 0, 0)) << "seed " << seed << " " << dtype_name(dtype_of<T>());
}

TEST(KernelPool, FastPathsMatchReference) {
  uint32_t seed = 1;
  for (int64_t h : {1, 4, 7, 12})
    for (int64_t k : {1, 2, 3, 5})
      for (int64_t s : {1, 2, 3})
        for (int64_t d : {1, 2})
          for (bool ceil_mode : {false, true})
            for (int pm = 0; pm < 3; ++pm) {
              const int64_t p = k / 2;
              std::vector<int64_t> pads = pm == 0 ? std::vector<int64_t>{0, 0, 0, 0}
                                          : pm == 1 ? std::vector<int64_t>{p, p, p, p}
                                                    : std::vector<int64_t>{0, p, p, 0};
              const WindowGeometry g = geometry(h, h + 3, k, s, d, pads, ceil_mode);
              if (g.out.size() != 2) continue;
              check_max<float>(g, seed++);
              check_max<uint8_t>(g, seed++);
              check_max<int8_t>(g, seed++);
              check_max<double>(g, seed++);
              if (d != 1) continue;  // AveragePool-11 has no dilations
              for (bool cip : {false, true}) {
                Tensor x = testing::random_tensor({2, 3, g.in[0], g.in[1]}, seed++);
                Tensor ref(DType::kFloat32, {2, 3, g.out[0], g.out[1]});
                Tensor got(DType::kFloat32, ref.dims());
                avg_pool_ref(g, x.data<float>().data(), ref.data<float>().data(), cip);
                avg_pool_2d(g, x.data<float>().data(), got.data<float>().data(), cip);
                EXPECT_TRUE(testing::tensors_near(got, ref, 1e-5, 1e-5)) << "seed " << seed << " cip " << cip;
              }
            }
}

TEST(KernelPool, AverageDivisorRules) {
  // 1x1x3x3 of ones, kernel 2, stride 2, ceil mode -> output 2x2; pads 0.
  // count_include_pad 0: every window averages ones -> 1.
  // The last window [2, 4) is clipped to the input (no padding to count) -> still 1.
  WindowGeometry g = geometry(3, 3, 2, 2, 1, {0, 0, 0, 0}, true);
  g.batch = 1;
  g.in_channels = 1;
  ASSERT_EQ(g.out, (std::vector<int64_t>{2, 2}));
  Tensor x = Tensor::from_vector<float>({9}, std::vector<float>(9, 1.f));
  Tensor y(DType::kFloat32, {4});
  avg_pool_ref(g, x.data<float>().data(), y.data<float>().data(), true);
  EXPECT_TRUE(testing::tensors_near(y, Tensor::from_vector<float>({4}, {1, 1, 1, 1})));
  // With pads 1 on each side, count_include_pad 1: window (0,0) covers rows/cols [-1, 1):
  // one input element over a divisor of 4 -> 0.25 (hand computation).
  g = geometry(3, 3, 2, 2, 1, {1, 1, 1, 1}, false);
  g.batch = 1;
  g.in_channels = 1;
  Tensor y2(DType::kFloat32, {g.out[0] * g.out[1]});
  avg_pool_ref(g, x.data<float>().data(), y2.data<float>().data(), true);
  EXPECT_FLOAT_EQ(y2.data<float>()[0], 0.25f);
  avg_pool_ref(g, x.data<float>().data(), y2.data<float>().data(), false);
  EXPECT_FLOAT_EQ(y2.data<float>()[0], 1.f);
}

TEST(KernelPool, MaxIndicesRowAndColumnMajor) {
  // x = 0..11 over 1x1x3x4, kernel 2, stride 2 -> out 1x2; maxima at (1,1)=5 and (1,3)=7.
  // Row-major indices 5, 7; column-major (h + w*H) 1+1*3 = 4 and 1+3*3 = 10 (hand computation).
  WindowGeometry g = geometry(3, 4, 2, 2, 1, {0, 0, 0, 0}, false);
  g.batch = 1;
  g.in_channels = 1;
  std::vector<float> xs(12);
  for (int i = 0; i < 12; ++i) xs[static_cast<size_t>(i)] = static_cast<float>(i);
  std::vector<float> y(2);
  std::vector<int64_t> idx(2);
  max_pool_ref<float>(g, xs.data(), y.data(), idx.data(), false);
  EXPECT_EQ(y, (std::vector<float>{5, 7}));
  EXPECT_EQ(idx, (std::vector<int64_t>{5, 7}));
  max_pool_ref<float>(g, xs.data(), y.data(), idx.data(), true);
  EXPECT_EQ(idx, (std::vector<int64_t>{4, 10}));
}

TEST(KernelPool, GlobalPools) {
  const std::vector<float> x{1, 2, 3, 4, -1, -5, 0, 2};
  std::vector<float> y(2);
  global_avg_pool(x.data(), y.data(), 2, 4);
  EXPECT_EQ(y, (std::vector<float>{2.5f, -1.f}));
  global_max_pool(x.data(), y.data(), 2, 4);
  EXPECT_EQ(y, (std::vector<float>{4.f, 2.f}));
}

}  // namespace
}  // namespace qmap::kernels::f32
