// The convolution of the higher-precision form, an int16 input or output (docs/quantization.md,
// "Representation"), bit-exact with kernels::ref::qconv2d / qconv2d_float_out. Any geometry:
// group, kernel, stride, dilation, pads; Gemm/MatMul as 1x1. A template included by two levels'
// files, each compiled with its own flags (the anonymous namespace keeps their copies apart):
// x86_avx2/qconv_wide.cpp (make_qconv_wide_avx2: AVX2, also what avx2 and avxvnni run) and
// x86_avx512vnni/qconv_wide.cpp (make_qconv_wide_avx512vnni, with its Tile512).
//
// im2col then a GEMM on int16 pairs. Per task (image, group, tile of kTile output pixels,
// chunk of output channels):
//  1. The tile's columns: for each tap pair (k, k + 1) of the C/group * kh * kw taps, one
//     dword per pixel holding x[k] - zx and x[k + 1] - zx as int16 (0 in the padding and for
//     the odd tap count's last partner). |x - zx| <= 255 for 8-bit inputs; an int16 input has
//     zx = 0, so x - zx = x fits int16.
//  2. The weights were packed the same way at prepare: per output channel, one dword per tap
//     pair (w[k], w[k + 1]).
//  3. AVX2: vpmaddwd multiplies the pairs and adds each pair's two products into an int32 lane;
//     vpaddd accumulates; 4 output channels x 16 pixels are 8 accumulators in registers.
//     AVX-512 (Tile512): vpdpwssd does both in one instruction on 16 lanes; 8 output channels x
//     32 pixels are 16 zmm accumulators (per tap pair 2 loads, 8 broadcasts, 16 vpdpwssd).
//  4. Epilogue: the channel's multiplier, zero point and clamp (the 8-bit or int16 range
//     narrowed by a fused Relu/Clip) with avx2::ChannelRequant (AVX2) or avx512::requant16
//     (AVX-512), or float((double)acc * acc_scale) then min/max for a float output; lanes past
//     the tile's pixels are dropped.
// Exactness: every partial sum is bounded by |bias[m]| + sum_k |w[m][k]| * max|x - zx|; the
// factory declines (the step runs the reference kernel) when that is not below 2^31 for some
// channel, so the int32 lanes never wrap and every result is the reference's.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <type_traits>
#include <vector>

#include "kernels/qconv_kernel_internal.h"
#include "kernels/x86_avx2/requant.h"

namespace qmap::kernels {
namespace {

constexpr int64_t kTile = 64;      // output pixels per task (a multiple of 32)
constexpr int64_t kMChunk = 64;    // output channels per task

enum class Elem { kU8, kS8, kS16, kF32 };

// Tile512 (void: the AVX2 tile, gemm_tile): steps 3 and 4 as Tile512::tile<MR>, the AVX-512
// VNNI register tile and its epilogue, given by the including file
// (x86_avx512vnni/qconv_wide.cpp) so that this header needs no AVX-512 header.
template <class Tile512 = void>
class WideConvKernel final : public QConvKernel {
  static constexpr bool k512 = !std::is_void_v<Tile512>;
  static constexpr int64_t kMr = k512 ? 8 : 4;  // output channels per register tile

 public:
  explicit WideConvKernel(const QConvParams& p)
      : g_(p.g),
        x_(p.x_wide ? Elem::kS16 : p.x_signed ? Elem::kS8 : Elem::kU8),
        y_(p.float_out ? Elem::kF32 : p.y_wide ? Elem::kS16 : p.y_signed ? Elem::kS8 : Elem::kU8),
        zx_(p.zx), zy_(p.zy), lo_(p.lo), hi_(p.hi), float_min_(p.float_min), float_max_(p.float_max) {
    cg_ = g_.c / g_.group;
    mg_ = g_.m / g_.group;
    taps_ = cg_ * g_.kh * g_.kw;
    pairs_ = (taps_ + 1) / 2;
    pixels_ = g_.oh * g_.ow;
    bias_.assign(static_cast<size_t>(g_.m), 0);
    for (size_t i = 0; i < p.bias.size(); ++i) bias_[i] = p.bias[i];
    mult_.assign(p.mult.begin(), p.mult.end());
    acc_scale_.assign(p.acc_scale.begin(), p.acc_scale.end());
    // Weights as int16 pairs per output channel, padded to a multiple of kMr channels per
    // group (the padding channels have weight 0 and are never stored).
    mg_pad_ = (mg_ + kMr - 1) / kMr * kMr;
    w_.assign(static_cast<size_t>(g_.group * mg_pad_ * pairs_), 0);
    for (int64_t gi = 0; gi < g_.group; ++gi)
      for (int64_t mi = 0; mi < mg_; ++mi) {
        const int8_t* w = p.weights.data() + (gi * mg_ + mi) * taps_;
        int32_t* out = w_.data() + (gi * mg_pad_ + mi) * pairs_;
        for (int64_t k = 0; k < pairs_; ++k) {
          const int32_t lo = w[2 * k];
          const int32_t hi = 2 * k + 1 < taps_ ? w[2 * k + 1] : 0;
          out[k] = static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint16_t>(lo)) |
                                        (static_cast<uint32_t>(static_cast<uint16_t>(hi)) << 16));
        }
      }
  }

  const char* name() const override {
    return k512 ? "qs16_conv_im2col__avx512vnni_8x32" : "qs16_conv_im2col__avx2_4x16";
  }

  size_t scratch_bytes_per_worker() const override {
    return static_cast<size_t>(pairs_ * kTile) * sizeof(int32_t) + 32 * sizeof(int32_t) * kMr;
  }

  void run(const void* x, void* y, void* scratch, const TaskRunner& tasks) const override {
    const int64_t tiles = (pixels_ + kTile - 1) / kTile;
    const int64_t chunks = (mg_ + kMChunk - 1) / kMChunk;
    const size_t per_worker = (scratch_bytes_per_worker() + 63) / 64 * 64;
    const size_t n_tasks = static_cast<size_t>(g_.n * g_.group * tiles * chunks);
    tasks.run(n_tasks, [&](size_t task, int worker) {
      int64_t t = static_cast<int64_t>(task);
      const int64_t chunk = t % chunks;
      t /= chunks;
      const int64_t tile = t % tiles;
      t /= tiles;
      const int64_t gi = t % g_.group;
      const int64_t n = t / g_.group;
      auto* col = reinterpret_cast<int32_t*>(static_cast<std::byte*>(scratch) + per_worker * static_cast<size_t>(worker));
      const int64_t p0 = tile * kTile, np = std::min(kTile, pixels_ - p0);
      fill_columns(x, n, gi, p0, np, col);
      const int64_t m0 = chunk * kMChunk, m1 = std::min(mg_, m0 + kMChunk);
      auto* acc_out = col + pairs_ * kTile;
      if (mg_ == 1)
        channel_tile<1>(y, n, gi, 0, 1, p0, np, col, acc_out);
      else
        for (int64_t mi = m0; mi < m1; mi += kMr) channel_tile<kMr>(y, n, gi, mi, std::min(kMr, m1 - mi), p0, np, col, acc_out);
    });
  }

 private:
  friend Tile512;

  // Steps 3 and 4 for MR channels at a time (1 for a group of one output channel: depthwise).
  template <int64_t MR>
  void channel_tile(void* y, int64_t n, int64_t gi, int64_t mi, int64_t mr, int64_t p0, int64_t np, const int32_t* col,
                    int32_t* acc_out) const {
    if constexpr (k512) Tile512::template tile<MR>(*this, y, n, gi, mi, mr, p0, np, col, acc_out);
    else gemm_tile<MR>(y, n, gi, mi, mr, p0, np, col, acc_out);
  }

  // The tile's tap-pair columns (step 1): col[k2 * kTile + j] for pixel p0 + j; the pixels
  // past np are zero.
  void fill_columns(const void* x, int64_t n, int64_t gi, int64_t p0, int64_t np, int32_t* col) const {
    std::memset(col, 0, static_cast<size_t>(pairs_ * kTile) * sizeof(int32_t));
    auto* c16 = reinterpret_cast<int16_t*>(col);
    switch (x_) {
      case Elem::kU8: fill_typed(static_cast<const uint8_t*>(x), n, gi, p0, np, c16); break;
      case Elem::kS8: fill_typed(static_cast<const int8_t*>(x), n, gi, p0, np, c16); break;
      default: fill_typed(static_cast<const int16_t*>(x), n, gi, p0, np, c16); break;
    }
  }

  template <typename T>
  void fill_typed(const T* x, int64_t n, int64_t gi, int64_t p0, int64_t np, int16_t* c16) const {
    const int16_t zx = static_cast<int16_t>(zx_);
    const bool pointwise = g_.kh == 1 && g_.kw == 1 && g_.stride_h == 1 && g_.stride_w == 1 && g_.pad_top == 0 &&
                           g_.pad_left == 0 && g_.oh == g_.h && g_.ow == g_.w;
    if (pointwise) {  // tap k is channel k: the tile's pixels are one contiguous run of its plane
      if constexpr (sizeof(T) == 2) {  // int16 (zx 0): pairs of channel rows interleaved 16 pixels at a time
        const int64_t full = np / 16 * 16;
        for (int64_t k2 = 0; k2 < pairs_ && full > 0; ++k2) {
          const T* a = x + ((n * g_.c) + gi * cg_ + 2 * k2) * g_.h * g_.w + p0;
          const T* b = 2 * k2 + 1 < taps_ ? a + g_.h * g_.w : nullptr;
          int32_t* dst = reinterpret_cast<int32_t*>(c16) + k2 * kTile;
          for (int64_t j = 0; j < full; j += 16) {
            const __m256i va = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + j));
            const __m256i vb = b ? _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + j)) : _mm256_setzero_si256();
            const __m256i lo = _mm256_unpacklo_epi16(va, vb), hi = _mm256_unpackhi_epi16(va, vb);
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + j), _mm256_permute2x128_si256(lo, hi, 0x20));
            _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + j + 8), _mm256_permute2x128_si256(lo, hi, 0x31));
          }
        }
        for (int64_t k = 0; k < taps_; ++k) {  // the tail pixels
          const T* src = x + ((n * g_.c) + gi * cg_ + k) * g_.h * g_.w + p0;
          int16_t* dst = c16 + (k / 2) * kTile * 2 + (k % 2);
          for (int64_t j = full; j < np; ++j) dst[2 * j] = static_cast<int16_t>(src[j] - zx);
        }
        return;
      }
      for (int64_t k = 0; k < taps_; ++k) {
        const T* src = x + ((n * g_.c) + gi * cg_ + k) * g_.h * g_.w + p0;
        int16_t* dst = c16 + (k / 2) * kTile * 2 + (k % 2);
        for (int64_t j = 0; j < np; ++j) dst[2 * j] = static_cast<int16_t>(src[j] - zx);
      }
      return;
    }
    // Each pixel's window origin, once per tile.
    int64_t y0[kTile], x0[kTile];
    for (int64_t j = 0, oy = p0 / g_.ow, ox = p0 % g_.ow; j < np; ++j) {
      y0[j] = oy * g_.stride_h - g_.pad_top;
      x0[j] = ox * g_.stride_w - g_.pad_left;
      if (++ox == g_.ow) ox = 0, ++oy;
    }
    for (int64_t k = 0; k < taps_; ++k) {
      const int64_t ci = k / (g_.kh * g_.kw), ky = k / g_.kw % g_.kh, kx = k % g_.kw;
      const T* plane = x + ((n * g_.c) + gi * cg_ + ci) * g_.h * g_.w;
      const int64_t dy = ky * g_.dil_h, dx = kx * g_.dil_w;
      // Even taps take the low int16 of each dword, odd taps the high one.
      int16_t* dst = c16 + (k / 2) * kTile * 2 + (k % 2);
      for (int64_t j = 0; j < np; ++j) {
        const int64_t iy = y0[j] + dy, ix = x0[j] + dx;
        if (static_cast<uint64_t>(iy) < static_cast<uint64_t>(g_.h) && static_cast<uint64_t>(ix) < static_cast<uint64_t>(g_.w))
          dst[2 * j] = static_cast<int16_t>(plane[iy * g_.w + ix] - zx);
      }
    }
  }

  // Output channels gi * mg + [mi, mi + mr) over the tile's pixels (steps 3 and 4), MR
  // channels at a time (1 for a group of one output channel: depthwise).
  template <int64_t MR>
  void gemm_tile(void* y, int64_t n, int64_t gi, int64_t mi, int64_t mr, int64_t p0, int64_t np, const int32_t* col,
                 int32_t* acc_out) const {
    const int32_t* w = w_.data() + (gi * mg_pad_ + mi) * pairs_;
    // The tile's requantizers, made once (not per 16 pixels); float outputs use none.
    alignas(avx2::ChannelRequant) unsigned char rq_mem[MR][sizeof(avx2::ChannelRequant)];
    const avx2::ChannelRequant* rqs[MR] = {};
    if (y_ != Elem::kF32)
      for (int64_t r = 0; r < mr; ++r)
        rqs[r] = new (rq_mem[r]) avx2::ChannelRequant(mult_[static_cast<size_t>(gi * mg_ + mi + r)], zy_, lo_, hi_);
    for (int64_t j = 0; j < np; j += 16) {
      __m256i acc[MR][2];
      for (int64_t r = 0; r < MR; ++r) {
        const int64_t m = gi * mg_ + mi + std::min(r, mr - 1);
        acc[r][0] = acc[r][1] = _mm256_set1_epi32(bias_[static_cast<size_t>(m)]);
      }
      const int32_t* c = col + j;
      for (int64_t k = 0; k < pairs_; ++k, c += kTile) {
        const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c));
        const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + 8));
        for (int64_t r = 0; r < MR; ++r) {
          const __m256i wv = _mm256_set1_epi32(w[r * pairs_ + k]);
          acc[r][0] = _mm256_add_epi32(acc[r][0], _mm256_madd_epi16(x0, wv));
          acc[r][1] = _mm256_add_epi32(acc[r][1], _mm256_madd_epi16(x1, wv));
        }
      }
      const int64_t lanes = std::min<int64_t>(16, np - j);
      for (int64_t r = 0; r < mr; ++r) {
        const int64_t m = gi * mg_ + mi + r;
        const int64_t base = (n * g_.m + m) * pixels_ + p0 + j;
        if (y_ == Elem::kF32) {
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc_out), acc[r][0]);
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc_out + 8), acc[r][1]);
          const double s = acc_scale_[static_cast<size_t>(m)];
          float* out = static_cast<float*>(y) + base;
          for (int64_t l = 0; l < lanes; ++l)
            out[l] = std::min(std::max(static_cast<float>(static_cast<double>(acc_out[l]) * s), float_min_), float_max_);
          continue;
        }
        const __m256i q0 = (*rqs[r])(acc[r][0]), q1 = (*rqs[r])(acc[r][1]);
        if (lanes == 16 && y_ == Elem::kS16) {  // the clamped lanes fit: packing does not saturate
          const __m256i packed = _mm256_permute4x64_epi64(_mm256_packs_epi32(q0, q1), 0xD8);
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(static_cast<int16_t*>(y) + base), packed);
          continue;
        }
        if (lanes == 16) {  // 8-bit: the low byte of each lane (two's complement for int8)
          const __m128i b = _mm_unpacklo_epi64(avx2::narrow8(q0), avx2::narrow8(q1));
          _mm_storeu_si128(reinterpret_cast<__m128i*>(static_cast<uint8_t*>(y) + base), b);
          continue;
        }
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc_out), q0);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(acc_out + 8), q1);
        switch (y_) {
          case Elem::kU8:
            for (int64_t l = 0; l < lanes; ++l) static_cast<uint8_t*>(y)[base + l] = static_cast<uint8_t>(acc_out[l]);
            break;
          case Elem::kS8:
            for (int64_t l = 0; l < lanes; ++l) static_cast<int8_t*>(y)[base + l] = static_cast<int8_t>(acc_out[l]);
            break;
          default:
            for (int64_t l = 0; l < lanes; ++l) static_cast<int16_t*>(y)[base + l] = static_cast<int16_t>(acc_out[l]);
        }
      }
    }
  }

  ref::ConvGeometry2d g_;
  Elem x_, y_;
  int32_t zx_, zy_, lo_, hi_;
  float float_min_, float_max_;
  int64_t cg_ = 0, mg_ = 0, mg_pad_ = 0, taps_ = 0, pairs_ = 0, pixels_ = 0;
  std::vector<int32_t> bias_;
  std::vector<QMultiplier> mult_;
  std::vector<double> acc_scale_;
  std::vector<int32_t> w_;  // [group][mg_pad][pairs] int16 pairs
};

}  // namespace
}  // namespace qmap::kernels
