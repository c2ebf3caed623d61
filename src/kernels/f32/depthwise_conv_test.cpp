// The depthwise kernel against the reference conv loop (group = channels): 3x3 and 5x5 (the
// MobileNet cases) and other sizes, strides 1/2/3, dilation, symmetric and one-sided pads,
// widths around vector boundaries (1, 7, 8, 9, 16, 17, 31).
#include "kernels/f32/depthwise_conv.h"

#include "kernels/f32/conv.h"
#include "test_util.h"

namespace qmap::kernels::f32 {
namespace {

TEST(KernelDepthwiseConv2d, MatchesReference) {
  uint32_t seed = 1;
  for (int64_t k : {1, 2, 3, 5})
    for (int64_t s : {1, 2, 3})
      for (int64_t d : {1, 2})
        for (int64_t w : {1, 7, 8, 9, 16, 17, 31})
          for (int pad_mode = 0; pad_mode < 3; ++pad_mode) {
            WindowGeometry g;
            g.batch = 2;
            g.in_channels = g.out_channels = g.group = 3;
            g.in = {w / 2 + 3, w};
            g.kernel = {k, k};
            g.strides = {s, s};
            g.dilations = {d, d};
            const int64_t p = (k - 1) * d / 2;
            g.pads = pad_mode == 0 ? std::vector<int64_t>{0, 0, 0, 0}
                     : pad_mode == 1 ? std::vector<int64_t>{p, p, p, p}
                                     : std::vector<int64_t>{0, p + 1, p, 0};
            bool ok = true;
            for (int i = 0; i < 2; ++i) {
              const int64_t span = g.in[i] + g.pad_begin(i) + g.pad_end(i) - (k - 1) * d - 1;
              ok = ok && span >= 0;
              g.out.push_back(span / s + 1);
            }
            if (!ok) continue;
            Tensor x = testing::random_tensor({2, 3, g.in[0], g.in[1]}, seed++);
            Tensor wt = testing::random_tensor({3, 1, k, k}, seed++);
            Tensor b = testing::random_tensor({3}, seed++);
            Tensor ref(DType::kFloat32, {2, 3, g.out[0], g.out[1]});
            Tensor got(DType::kFloat32, ref.dims());
            conv_ref(g, x.data<float>().data(), wt.data<float>().data(), b.data<float>().data(),
                     ref.data<float>().data());
            depthwise_conv2d(g, x.data<float>().data(), wt.data<float>().data(),
                             b.data<float>().data(), got.data<float>().data());
            EXPECT_TRUE(testing::tensors_near(got, ref, 1e-5, 1e-5))
                << "seed " << seed << " k " << k << " s " << s << " d " << d << " w " << w
                << " pad_mode " << pad_mode;
          }
}

}  // namespace
}  // namespace qmap::kernels::f32
