// make_qconv: the convolution factory of an ISA level (qconv_kernel.h), compiled without ISA
// flags; the levels this build compiled are the QMAP_HAVE_* definitions of qmap_kernels.
#include "kernels/qconv_kernel.h"

#include "kernels/qconv_kernel_internal.h"

namespace qmap::kernels {

bool adopt_packed_conv(const QConvParams& p, std::string_view layout, size_t weight_bytes) {
  if (p.prepacked.empty() || p.prepacked_layout != layout || p.prepacked.size() != weight_bytes ||
      p.prepacked_sums.size() != static_cast<size_t>(p.g.m) || reinterpret_cast<uintptr_t>(p.prepacked.data()) % 64 != 0)
    return false;
  // The row sums come from the file unchecked (its weights are mapped, not read). Each kernel
  // folds bias[m] - zx_eff * sum[m] (zx_eff <= 255) into an int32 bias: adopt only sums that
  // int8 weights could have (|sum| <= 128 per weight) and that keep that fold inside int32,
  // so a damaged PACKED section costs the adoption (the kernel packs the step's own weights)
  // and never an overflow. Found by fuzz/bin_fuzz.cpp (a row sum near 2^56).
  const int64_t per_row = p.g.c / p.g.group * p.g.kh * p.g.kw;
  for (int64_t m = 0; m < p.g.m; ++m) {
    const int64_t sum = p.prepacked_sums[static_cast<size_t>(m)];
    const int64_t bias = p.bias.empty() ? 0 : p.bias[static_cast<size_t>(m)];
    if (sum < -128 * per_row || sum > 128 * per_row) return false;
    if ((bias < 0 ? -bias : bias) + (sum < 0 ? -sum : sum) * 255 >= (int64_t{1} << 31)) return false;
  }
  return true;
}

std::unique_ptr<QConvKernel> make_qconv(Isa isa, const QConvParams& p) {
  if (p.x_wide || p.y_wide) {
#if QMAP_HAVE_AVX2
    if (isa == Isa::kRef) return nullptr;
#if QMAP_HAVE_AVX512VNNI
    if (isa == Isa::kAvx512Vnni) {
      if (auto k = make_qconv_dw_avx512vnni(p)) return k;  // depthwise, row mode
      // An 8-bit input with an int16 output: the int8 GEMM kernel (vpdpbusd), int16 stores.
      if (auto k = make_qconv_gemm_avx512vnni(p)) return k;
      return make_qconv_wide_avx512vnni(p);
    }
#endif
    if (auto k = make_qconv_dw_avx2(p)) return k;  // depthwise, row mode (x86_avx2/qconv_dw.h)
    return make_qconv_wide_avx2(p);
#endif
    return nullptr;
  }
  switch (isa) {
    case Isa::kRef: return nullptr;
    case Isa::kAvx2:
#if QMAP_HAVE_AVX2
      return make_qconv_avx2(p);
#else
      return nullptr;
#endif
    case Isa::kAvxVnni:
#if QMAP_HAVE_AVXVNNI
      return make_qconv_avxvnni(p);
#else
      return nullptr;
#endif
    case Isa::kAvx512Vnni:
#if QMAP_HAVE_AVX512VNNI
      return make_qconv_avx512vnni(p);
#else
      return nullptr;
#endif
  }
  return nullptr;
}

ConvPixelLayout conv_pixel_layout(Isa isa) {
  switch (isa) {
    case Isa::kRef: return {};
    // x86_avx2/qconv_gemm.h: im2col pixels in 16-pixel panels, a tail of 1..8 costs 8.
    case Isa::kAvx2:
    case Isa::kAvxVnni: return {8, false};
    // x86_avx512vnni/qconv_gemm.cpp: 16-pixel vectors over the virtual grid of rows
    // ow + (kw-1)*dw/sw wide.
    case Isa::kAvx512Vnni: return {16, true};
  }
  return {};
}

int64_t conv_computed_pixels(const ref::ConvGeometry2d& g, ConvPixelLayout l) {
  const bool depthwise = g.group > 1 && g.group == g.c;  // its own kernel, vectorized over channels
  if (l.vector <= 0 || depthwise || (g.oh == 1 && g.ow == 1 && g.kh == 1 && g.kw == 1)) return g.oh * g.ow;
  const int64_t row = g.ow + (l.row_halo ? (g.kw - 1) * g.dil_w / g.stride_w : 0);
  return (g.oh * row + l.vector - 1) / l.vector * l.vector;
}

}  // namespace qmap::kernels
