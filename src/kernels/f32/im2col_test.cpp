// im2col against its definition, element by element, and col2im as its exact adjoint
// (<im2col(x), c> == <x, col2im(c)>), across pads, strides and dilations.
#include "kernels/f32/im2col.h"

#include "test_util.h"

namespace qmap::kernels::f32 {
namespace {

WindowGeometry geometry(int64_t h, int64_t w, int64_t k, int64_t s, int64_t d, int64_t p0, int64_t p1) {
  WindowGeometry g;
  g.in = {h, w};
  g.kernel = {k, k + 1};
  g.strides = {s, s};
  g.dilations = {d, d};
  g.pads = {p0, p1, p1, p0};
  for (int i = 0; i < 2; ++i)
    g.out.push_back((g.in[i] + g.pad_begin(i) + g.pad_end(i) - (g.kernel[i] - 1) * d - 1) / s + 1);
  return g;
}

TEST(KernelIm2col, MatchesDefinitionAndAdjoint) {
  uint32_t seed = 1;
  const int64_t ch = 3;
  for (int64_t h : {1, 4, 7})
    for (int64_t k : {1, 2, 3})
      for (int64_t s : {1, 2, 3})
        for (int64_t d : {1, 2})
          for (int64_t p : {0, 1, 2}) {
            WindowGeometry g = geometry(h, h + 2, k, s, d, p, p / 2);
            if (g.out[0] < 1 || g.out[1] < 1) continue;
            const int64_t rows = ch * g.kernel[0] * g.kernel[1], cols = g.out[0] * g.out[1];
            Tensor x = testing::random_tensor({ch, g.in[0], g.in[1]}, seed++);
            Tensor col(DType::kFloat32, {rows, cols});
            im2col_2d(g, ch, x.data<float>().data(), col.data<float>().data());
            auto xv = x.data<float>();
            auto cv = col.data<float>();
            for (int64_t c = 0; c < ch; ++c)
              for (int64_t ky = 0; ky < g.kernel[0]; ++ky)
                for (int64_t kx = 0; kx < g.kernel[1]; ++kx)
                  for (int64_t oy = 0; oy < g.out[0]; ++oy)
                    for (int64_t ox = 0; ox < g.out[1]; ++ox) {
                      const int64_t iy = oy * s - g.pad_begin(0) + ky * d;
                      const int64_t ix = ox * s - g.pad_begin(1) + kx * d;
                      const bool in = iy >= 0 && iy < g.in[0] && ix >= 0 && ix < g.in[1];
                      const float want = in ? xv[(c * g.in[0] + iy) * g.in[1] + ix] : 0.f;
                      const int64_t row = (c * g.kernel[0] + ky) * g.kernel[1] + kx;
                      ASSERT_EQ(cv[row * cols + oy * g.out[1] + ox], want)
                          << "seed " << seed << " row " << row << " oy " << oy << " ox " << ox;
                    }
            // Adjoint: <im2col(x), r> == <x, col2im(r)>.
            Tensor r = testing::random_tensor({rows, cols}, seed++);
            Tensor back(DType::kFloat32, x.dims());
            col2im_2d_add(g, ch, r.data<float>().data(), back.data<float>().data());
            double lhs = 0, rhs = 0;
            for (int64_t i = 0; i < rows * cols; ++i) lhs += double(cv[i]) * r.data<float>()[i];
            for (int64_t i = 0; i < x.numel(); ++i) rhs += double(xv[i]) * back.data<float>()[i];
            EXPECT_NEAR(lhs, rhs, 1e-3) << "seed " << seed;
          }
}

}  // namespace
}  // namespace qmap::kernels::f32
