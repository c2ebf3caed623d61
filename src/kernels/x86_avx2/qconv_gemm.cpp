// make_qconv_gemm_avx2: the general int8 convolution for AVX2 CPUs without AVX-512 (any
// group, kernel, stride, dilation, begin pad; Gemm/MatMul as 1x1 on h = w = 1), bit-exact
// with kernels::ref::qconv2d / qconv2d_float_out.
//
// Arithmetic: vpmaddubsw (u8 x s8) saturates its int16 pair sums, so it is not used. Inputs
// are stored as int16 (x - zx) in [-255, 255] (padding taps are plain 0: no bias fold) and
// weights as int16; vpmaddwd multiplies int16 pairs and sums each pair into int32 exactly,
// vpaddd accumulates (modular int32, exact: the dispatcher declines params failing
// qconv_int32_exact).
//
// GEMM view per batch item and group: C[Mg][P] = W[Mg][K] * X[K][P], K = (C/group)*kh*kw in
// (c, ky, kx) order, P = oh*ow. Vectorized over P: an accumulator row is one output
// channel's contiguous NCHW output segment, so the per-channel multiplier is a broadcast.
// Gemm/MatMul (1x1 on h = w = 1 with n > 1 rows) runs in "rows" mode: the batch rows are the
// pixels (x read with stride C, y written with stride M), so rows share packed weights.
//   weights (prepare): per group, per K block, per 6-channel tile: [kcb/2][6][2] int16
//                      (a K block's weights are one contiguous stream), zero padded (rows
//                      past Mg, the odd K's last tap).
//   X block (run):     [16-pixel panels][kc/2][16][2] int16, im2col of one K block of one
//                      task's pixel range, zero past the pixel range and past K. 1x1 stride-1
//                      unpadded layers convert + interleave channel-plane pairs in one pass;
//                      others build int16 rows (vector loads for stride 1 and 2, overlapping
//                      tails) and interleave them.
// Micro-kernel: 6 channels x 16 pixels (12 ymm accumulators, 2 X vectors, 1 broadcast weight
// pair, 1 product = 16 registers): per K pair 2 loads + 6 vpbroadcastd, 12 vpmaddwd + 12
// vpaddd. Tails: 1..5 channels and 8-pixel panels have their own instances (a P tail of 1..8
// pixels costs a half panel).
// Blocking: K is cut into blocks kc so one group's weight block (Mg x kc int16) is <= 256 KB
// (L2); the task's pixel block pc (<= 512) keeps its X block (kc x pc int16) <= 256 KB. Per
// K block the task packs its X block once, then for each 16-pixel panel (in L1) runs every
// channel tile (weights streaming from L2). With more than one K block the int32 partial
// sums of the task live in scratch. After the last block each 6x16 tile gets its bias and is
// requantized (avx2::requant8, broadcast multiplier; narrow8) or scaled to float (double
// multiply as the reference, then the clamp) and stored.
// Threads: tasks are (batch, group, pixel block, channel block) with disjoint outputs; the
// channel split is only used when the other dimensions give fewer than 2 tasks per worker.
// Each worker uses only its own scratch slice, and every output is computed the same way on
// any split.
#include <immintrin.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kernels/qconv_kernel_internal.h"
#include "kernels/x86_avx2/requant.h"
#include "kernels/isa_vector.h"

// Vectors of this ISA folder (kernels/isa_vector.h says why).
template <class T>
using KVector = qmap::kernels::IsaVector<T, 2>;

namespace qmap::kernels {
namespace {

constexpr int64_t kMr = 6;         // channels per micro tile
constexpr int64_t kNr = 16;        // pixels per panel
constexpr int64_t kTile = kMr * kNr;  // int32 per accumulator tile

int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// acc[MR][NV*8] (+)= W tile * X panel over kpairs K pairs; c: int32 [6][16] (row stride 16).
template <int MR, int NV>
void micro_kernel(const int16_t* w, const int16_t* x, int64_t kpairs, int32_t* c, bool first) {
  __m256i acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      acc[r][v] = first ? _mm256_setzero_si256() : _mm256_load_si256(reinterpret_cast<const __m256i*>(c + r * kNr + v * 8));
  for (int64_t k = 0; k < kpairs; ++k) {
    __m256i xv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) xv[v] = _mm256_load_si256(reinterpret_cast<const __m256i*>(x + v * 16));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      int32_t pair;
      std::memcpy(&pair, w + 2 * r, 4);
      const __m256i wb = _mm256_set1_epi32(pair);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[r][v] = _mm256_add_epi32(acc[r][v], _mm256_madd_epi16(wb, xv[v]));
    }
    w += 2 * kMr;
    x += 2 * kNr;
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) _mm256_store_si256(reinterpret_cast<__m256i*>(c + r * kNr + v * 8), acc[r][v]);
}

using MicroKernel = void (*)(const int16_t*, const int16_t*, int64_t, int32_t*, bool);
constexpr MicroKernel kMicro[kMr][2] = {
    {micro_kernel<1, 1>, micro_kernel<1, 2>}, {micro_kernel<2, 1>, micro_kernel<2, 2>},
    {micro_kernel<3, 1>, micro_kernel<3, 2>}, {micro_kernel<4, 1>, micro_kernel<4, 2>},
    {micro_kernel<5, 1>, micro_kernel<5, 2>}, {micro_kernel<6, 1>, micro_kernel<6, 2>}};

// dst[i] = src[i * stride] - zx for i in [0, n); src[0, avail) may be read (avail >= (n-1)*stride+1).
template <bool kSigned>
void convert_row(const uint8_t* src, int64_t stride, int64_t n, int64_t avail, int32_t zx, int16_t* dst) {
  int64_t i = 0;
  const __m256i z = _mm256_set1_epi16(static_cast<int16_t>(zx));
  auto widen = [&](__m128i b) {
    return _mm256_sub_epi16(kSigned ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b), z);
  };
  if (stride == 1 && n >= 16) {
    for (; i + 16 <= n; i += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + i),
                          widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i))));
    if (i < n)  // the tail as one vector overlapping the last: rewrites equal values
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + n - 16),
                          widen(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src + n - 16))));
    return;
  } else if (stride == 2) {
    // 32 bytes -> the 16 even ones: per-lane byte shuffle, then the two low quadwords together.
    const __m256i even = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1, 0, 2, 4, 6, 8, 10,
                                          12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
    auto vec = [&](int64_t at) {
      const __m256i b = _mm256_shuffle_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * at)), even);
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + at),
                          widen(_mm256_castsi256_si128(_mm256_permute4x64_epi64(b, 0x08))));
    };
    for (; i + 16 <= n && 2 * i + 32 <= avail; i += 16) vec(i);
    if (i < n && i >= 16 && 2 * (n - 16) + 32 <= avail) {  // overlapping tail vector
      vec(n - 16);
      return;
    }
  }
  for (; i < n; ++i) {
    const int32_t v = kSigned ? static_cast<int32_t>(static_cast<int8_t>(src[i * stride])) : src[i * stride];
    dst[i] = static_cast<int16_t>(v - zx);
  }
}

class QConvGemmAvx2 final : public QConvKernel {
 public:
  explicit QConvGemmAvx2(const QConvParams& p);
  const char* name() const override { return name_; }
  size_t scratch_bytes_per_worker() const override;
  void run(const void* x, void* y, void* scratch, const TaskRunner& tasks) const override;

 private:
  struct Scratch {
    int16_t* xblock;  // [pc/16][kc/2][16][2]
    int16_t* rows;    // [2][pc]
    int32_t* acc;     // [mt][pc/16][6][16] when nkb_ > 1, else [6][16]
  };
  Scratch carve(void* base) const;
  // Start of the packed weights of group gi, K block kb, channel tile t: the blocks of one
  // group follow each other, each [tile][kcb/2][6][2] with kcb its (even) length.
  int64_t w_offset(int64_t gi, int64_t kb, int64_t t) const {
    return (gi * mt_ * kp_ + kb * kc_ * mt_ + t * std::min(kc_, kp_ - kb * kc_)) * kMr;
  }
  void pack_row(const uint8_t* x, int64_t n, int64_t g, int64_t k, int64_t p0, int64_t p1, int16_t* dst) const;
  void pack_block(const uint8_t* x, int64_t n, int64_t g, int64_t k0, int64_t kpairs, int64_t p0, int64_t p1,
                  const Scratch& s) const;
  void store_tile(const int32_t* c, int mr, int64_t n, int64_t mabs, int64_t pp, int64_t cnt, void* y) const;
  void run_task(const uint8_t* x, void* y, int64_t n, int64_t g, int64_t p0, int64_t p1, int64_t t0, int64_t t1,
                const Scratch& s) const;

  ref::ConvGeometry2d g_;
  bool x_signed_, y_signed_, float_out_;
  int32_t zx_, zy_, lo_, hi_;
  float float_min_, float_max_;
  int64_t cg_, mg_, k_, kp_, mt_, p_;
  int64_t kc_, nkb_, pc_;
  bool contiguous_;
  bool rows_;       // Gemm rows mode: pixel q is batch row q (x[q][c], y[q][m])
  int64_t nimg_;    // images looped over: n, or 1 in rows mode  // 1x1, stride 1, no pad, oh == h, ow == w: X rows are channel planes
  KVector<int16_t> w_;  // [group][mt][kp/2][6][2]
  KVector<int32_t> bias_;
  KVector<QMultiplier> mult_;
  KVector<double> scale_;
  KVector<int32_t> k_c_, k_dy_, k_dx_;  // per tap k: channel in group, ky*dil_h - pad_top, kx*dil_w - pad_left
  char name_[48];
};

QConvGemmAvx2::QConvGemmAvx2(const QConvParams& p)
    : g_(p.g), x_signed_(p.x_signed), y_signed_(p.y_signed), float_out_(p.float_out), zx_(p.zx), zy_(p.zy),
      lo_(p.lo), hi_(p.hi), float_min_(p.float_min), float_max_(p.float_max) {
  const auto& g = g_;
  cg_ = g.c / g.group;
  mg_ = g.m / g.group;
  k_ = cg_ * g.kh * g.kw;
  kp_ = round_up(k_, 2);
  mt_ = ceil_div(mg_, kMr);
  // Gemm/MatMul (1x1 over h = w = 1, rows as the batch): the rows are the GEMM's pixels, so
  // one task covers up to a block of rows instead of one row each.
  rows_ = g.n > 1 && g.h == 1 && g.w == 1 && g.oh == 1 && g.ow == 1 && g.kh == 1 && g.kw == 1 && g.pad_top == 0 &&
          g.pad_left == 0;
  p_ = rows_ ? g.n : g.oh * g.ow;
  nimg_ = rows_ ? 1 : g.n;
  contiguous_ = !rows_ && g.kh == 1 && g.kw == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 && g.pad_left == 0 &&
                g.oh == g.h && g.ow == g.w;
  // K block: the group's weight block (Mg x kc int16) within 256 KB of L2.
  const int64_t wbudget = 256 * 1024 / 2, xbudget = 256 * 1024 / 2, pmax = 512;  // int16 elements, pixels
  const int64_t kc_max = std::max<int64_t>(64, wbudget / round_up(mg_, kMr)) / 2 * 2;
  nkb_ = ceil_div(kp_, kc_max);
  kc_ = round_up(ceil_div(kp_, nkb_), 2);
  nkb_ = ceil_div(kp_, kc_);
  // Pixel block: the X block (kc x pc int16) within 256 KB, 32..512 pixels.
  pc_ = std::clamp<int64_t>(xbudget / kc_ / kNr * kNr, 2 * kNr, pmax);
  pc_ = std::min(pc_, round_up(p_, kNr));

  w_.assign(static_cast<size_t>(g.group * mt_ * kp_ * kMr), 0);
  for (int64_t gi = 0; gi < g.group; ++gi)
    for (int64_t m = 0; m < mg_; ++m) {
      const int8_t* src = p.weights.data() + (gi * mg_ + m) * k_;
      for (int64_t k = 0; k < k_; ++k) {
        const int64_t kb = k / kc_, kk = k - kb * kc_;
        w_[static_cast<size_t>(w_offset(gi, kb, m / kMr) + (kk / 2) * 2 * kMr + (m % kMr) * 2 + kk % 2)] = src[k];
      }
    }
  bias_.assign(static_cast<size_t>(g.m), 0);
  if (!p.bias.empty()) std::copy(p.bias.begin(), p.bias.end(), bias_.begin());
  if (float_out_) scale_.assign(p.acc_scale.begin(), p.acc_scale.end());
  else mult_.assign(p.mult.begin(), p.mult.end());
  for (int64_t c = 0; c < cg_; ++c)
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        k_c_.push_back(static_cast<int32_t>(c));
        k_dy_.push_back(static_cast<int32_t>(ky * g.dil_h - g.pad_top));
        k_dx_.push_back(static_cast<int32_t>(kx * g.dil_w - g.pad_left));
      }
  std::snprintf(name_, sizeof name_, "%s_conv_gemm__avx2_6x16", x_signed_ ? "qs8" : "qu8");
}

size_t QConvGemmAvx2::scratch_bytes_per_worker() const {
  const int64_t acc = nkb_ > 1 ? mt_ * (pc_ / kNr) * kTile : kTile;
  return static_cast<size_t>(kc_ * pc_ * 2 + 2 * pc_ * 2 + acc * 4 + 64);
}

QConvGemmAvx2::Scratch QConvGemmAvx2::carve(void* base) const {
  Scratch s;
  auto* b = static_cast<uint8_t*>(base);
  s.xblock = reinterpret_cast<int16_t*>(b);
  b += kc_ * pc_ * 2;
  s.rows = reinterpret_cast<int16_t*>(b);
  b += 2 * pc_ * 2;
  b += (64 - reinterpret_cast<uintptr_t>(b) % 64) % 64;
  s.acc = reinterpret_cast<int32_t*>(b);
  return s;
}

// One im2col row: dst[p - p0] = x[tap k at output pixel p] - zx for p in [p0, p1), zero past p1
// up to the panel boundary.
void QConvGemmAvx2::pack_row(const uint8_t* x, int64_t n, int64_t gi, int64_t k, int64_t p0, int64_t p1,
                             int16_t* dst) const {
  const auto& g = g_;
  const int64_t np = p1 - p0, npad = round_up(np, kNr);
  if (k >= k_) {
    std::memset(dst, 0, static_cast<size_t>(npad) * 2);
    return;
  }
  std::memset(dst + np, 0, static_cast<size_t>(npad - np) * 2);
  auto convert = x_signed_ ? convert_row<true> : convert_row<false>;
  if (rows_) {
    convert(x + p0 * g.c + gi * cg_ + k, g.c, np, (np - 1) * g.c + 1, zx_, dst);
    return;
  }
  const uint8_t* plane = x + ((n * g.c + gi * cg_ + k_c_[static_cast<size_t>(k)]) * g.h) * g.w;
  if (contiguous_) {
    convert(plane + p0, 1, np, np, zx_, dst);
    return;
  }
  const int64_t dy = k_dy_[static_cast<size_t>(k)], dx = k_dx_[static_cast<size_t>(k)];
  // Output columns whose tap column ox*stride_w + dx lies in [0, w): [lo, hi).
  int64_t lo = dx >= 0 ? 0 : (-dx + g.stride_w - 1) / g.stride_w;
  int64_t hi = g.w - dx <= 0 ? 0 : (g.w - dx + g.stride_w - 1) / g.stride_w;
  lo = std::min(lo, g.ow);
  hi = std::max(std::min(hi, g.ow), lo);
  for (int64_t p = p0; p < p1;) {
    const int64_t oy = p / g.ow, oxa = p % g.ow, oxb = std::min(g.ow, oxa + (p1 - p));
    int16_t* d = dst + (p - p0) - oxa;  // d[ox]
    const int64_t iy = oy * g.stride_h + dy;
    if (iy < 0 || iy >= g.h) {
      std::memset(d + oxa, 0, static_cast<size_t>(oxb - oxa) * 2);
    } else {
      const int64_t a = std::clamp(lo, oxa, oxb), b = std::clamp(hi, a, oxb);
      for (int64_t i = oxa; i < a; ++i) d[i] = 0;
      if (b > a) convert(plane + iy * g.w + a * g.stride_w + dx, g.stride_w, b - a, g.w - (a * g.stride_w + dx), zx_, d + a);
      for (int64_t i = b; i < oxb; ++i) d[i] = 0;
    }
    p += oxb - oxa;
  }
}

// X block for taps [k0, k0 + 2*kpairs) and pixels [p0, p1): [panel][kpair][16][2].
void QConvGemmAvx2::pack_block(const uint8_t* x, int64_t n, int64_t gi, int64_t k0, int64_t kpairs, int64_t p0,
                               int64_t p1, const Scratch& s) const {
  const int64_t npan = ceil_div(p1 - p0, kNr);
  int16_t* ra = s.rows;
  int16_t* rb = s.rows + pc_;
  if (contiguous_ && (p1 - p0) % kNr == 0) {
    // 1x1 stride 1: rows are channel planes; convert and interleave in one pass.
    const __m256i z = _mm256_set1_epi16(static_cast<int16_t>(zx_));
    const uint8_t* plane0 = x + (n * g_.c + gi * cg_ + k0) * p_ + p0;
    for (int64_t kk = 0; kk < kpairs; ++kk) {
      const int64_t k = k0 + 2 * kk;
      const uint8_t* sa = plane0 + 2 * kk * p_;
      const uint8_t* sb = sa + p_;
      const bool has_b = k + 1 < k_;
      for (int64_t j = 0; j < npan; ++j) {
        const __m128i ba = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sa + j * kNr));
        const __m256i a = _mm256_sub_epi16(x_signed_ ? _mm256_cvtepi8_epi16(ba) : _mm256_cvtepu8_epi16(ba), z);
        __m256i b = _mm256_setzero_si256();
        if (has_b) {
          const __m128i bb = _mm_loadu_si128(reinterpret_cast<const __m128i*>(sb + j * kNr));
          b = _mm256_sub_epi16(x_signed_ ? _mm256_cvtepi8_epi16(bb) : _mm256_cvtepu8_epi16(bb), z);
        }
        const __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);
        int16_t* d = s.xblock + (j * kpairs + kk) * 2 * kNr;
        _mm256_store_si256(reinterpret_cast<__m256i*>(d), _mm256_permute2x128_si256(lo, hi, 0x20));
        _mm256_store_si256(reinterpret_cast<__m256i*>(d + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
      }
    }
    return;
  }
  for (int64_t kk = 0; kk < kpairs; ++kk) {
    pack_row(x, n, gi, k0 + 2 * kk, p0, p1, ra);
    pack_row(x, n, gi, k0 + 2 * kk + 1, p0, p1, rb);
    for (int64_t j = 0; j < npan; ++j) {
      const __m256i a = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(ra + j * kNr));
      const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(rb + j * kNr));
      const __m256i lo = _mm256_unpacklo_epi16(a, b), hi = _mm256_unpackhi_epi16(a, b);  // pixels 0-3,8-11 / 4-7,12-15
      int16_t* d = s.xblock + (j * kpairs + kk) * 2 * kNr;
      _mm256_store_si256(reinterpret_cast<__m256i*>(d), _mm256_permute2x128_si256(lo, hi, 0x20));
      _mm256_store_si256(reinterpret_cast<__m256i*>(d + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
    }
  }
}

// Requantizes (or scales to float) rows [0, mr) of the int32 tile c (+ bias) and stores
// pixels [pp, pp + cnt) of output channels mabs.. of batch item n.
void QConvGemmAvx2::store_tile(const int32_t* c, int mr, int64_t n, int64_t mabs, int64_t pp, int64_t cnt,
                               void* y) const {
  for (int r = 0; r < mr; ++r) {
    const int64_t m = mabs + r;
    // Element (pixel pp + i, channel m) at off + i * pstride.
    const int64_t off = rows_ ? pp * g_.m + m : (n * g_.m + m) * p_ + pp, pstride = rows_ ? g_.m : 1;
    const __m256i b = _mm256_set1_epi32(bias_[static_cast<size_t>(m)]);
    if (float_out_) {
      const __m256d sc = _mm256_set1_pd(scale_[static_cast<size_t>(m)]);
      const __m256 fmin = _mm256_set1_ps(float_min_), fmax = _mm256_set1_ps(float_max_);
      float* yr = static_cast<float*>(y) + off;
      for (int64_t v = 0; v * 8 < cnt; ++v) {
        const __m256i a = _mm256_add_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(c + r * kNr + v * 8)), b);
        const __m128 f0 = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(a)), sc));
        const __m128 f1 = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(a, 1)), sc));
        __m256 f = _mm256_set_m128(f1, f0);
        f = _mm256_min_ps(fmax, _mm256_max_ps(fmin, f));  // as std::min(std::max(f, fmin), fmax)
        const int64_t k = std::min<int64_t>(8, cnt - v * 8);
        if (k == 8 && pstride == 1) {
          _mm256_storeu_ps(yr + v * 8, f);
        } else {
          alignas(32) float t[8];
          _mm256_store_ps(t, f);
          for (int64_t i = 0; i < k; ++i) yr[(v * 8 + i) * pstride] = t[i];
        }
      }
    } else {
      const avx2::RequantLanes q = avx2::requant_broadcast(mult_[static_cast<size_t>(m)]);
      uint8_t* yr = static_cast<uint8_t*>(y) + off;
      for (int64_t v = 0; v * 8 < cnt; ++v) {
        const __m256i a = _mm256_add_epi32(_mm256_load_si256(reinterpret_cast<const __m256i*>(c + r * kNr + v * 8)), b);
        const __m128i bytes = avx2::narrow8(avx2::requant8(a, q, zy_, lo_, hi_));
        const int64_t k = std::min<int64_t>(8, cnt - v * 8);
        if (k == 8 && pstride == 1) {
          _mm_storel_epi64(reinterpret_cast<__m128i*>(yr + v * 8), bytes);
        } else {
          alignas(16) uint8_t t[16];
          _mm_store_si128(reinterpret_cast<__m128i*>(t), bytes);
          for (int64_t i = 0; i < k; ++i) yr[(v * 8 + i) * pstride] = t[i];
        }
      }
    }
  }
}

// Batch item n, group gi, pixels [p0, p1), channel tiles [t0, t1) of the group.
void QConvGemmAvx2::run_task(const uint8_t* x, void* y, int64_t n, int64_t gi, int64_t p0, int64_t p1, int64_t t0,
                             int64_t t1, const Scratch& s) const {
  const int64_t npan = ceil_div(p1 - p0, kNr);
  for (int64_t kb = 0; kb < nkb_; ++kb) {
    const int64_t k0 = kb * kc_, kpairs = std::min(kc_, kp_ - k0) / 2;
    pack_block(x, n, gi, k0, kpairs, p0, p1, s);
    const bool first = kb == 0, last = kb == nkb_ - 1;
    auto tile = [&](int64_t j, int64_t t) {
      const int64_t pp = p0 + j * kNr, cnt = std::min(kNr, p1 - pp);
      const int16_t* xp = s.xblock + j * kpairs * 2 * kNr;
      const int mr = static_cast<int>(std::min(kMr, mg_ - t * kMr));
      const int16_t* wp = w_.data() + w_offset(gi, kb, t);
      int32_t* c = nkb_ > 1 ? s.acc + ((t - t0) * npan + j) * kTile : s.acc;
      kMicro[mr - 1][cnt > 8 ? 1 : 0](wp, xp, kpairs, c, first);
      if (last) store_tile(c, mr, n, gi * mg_ + t * kMr, pp, cnt, y);
    };
    // The X panel stays in L1 while the K block's weights stream from L2 (measured about
    // equal to channel tiles outermost).
    for (int64_t j = 0; j < npan; ++j)
      for (int64_t t = t0; t < t1; ++t) tile(j, t);
  }
}

void QConvGemmAvx2::run(const void* x, void* y, void* scratch, const TaskRunner& tasks) const {
  const int64_t npb = ceil_div(p_, pc_);
  const int64_t outer = nimg_ * g_.group * npb;
  // Split the channel tiles only when the rest gives fewer than ~2 tasks per worker.
  const int64_t want = tasks.num_workers() > 1 ? 2 * tasks.num_workers() : 1;
  const int64_t nmb = std::clamp<int64_t>(ceil_div(want, outer), 1, mt_);
  const size_t stride = scratch_stride(scratch_bytes_per_worker());
  const auto* xb = static_cast<const uint8_t*>(x);
  tasks.run(static_cast<size_t>(outer * nmb), [&](size_t task, int worker) {
    const int64_t ti = static_cast<int64_t>(task);
    const int64_t mb = ti % nmb, pb = ti / nmb % npb, gi = ti / (nmb * npb) % g_.group, n = ti / (nmb * npb * g_.group);
    const Scratch s = carve(static_cast<uint8_t*>(scratch) + static_cast<size_t>(worker) * stride);
    const int64_t p0 = pb * pc_, p1 = std::min(p_, p0 + pc_);
    run_task(xb, y, n, gi, p0, p1, mt_ * mb / nmb, mt_ * (mb + 1) / nmb, s);
  });
}

}  // namespace

std::unique_ptr<QConvKernel> make_qconv_gemm_avx2(const QConvParams& p) {
  const auto& g = p.g;
  if (g.group < 1 || g.c % g.group != 0 || g.m % g.group != 0 || g.n < 1 || g.oh < 1 || g.ow < 1 || g.kh < 1 ||
      g.kw < 1)
    return nullptr;
  if (!qconv_int32_exact(p)) return nullptr;
  return std::make_unique<QConvGemmAvx2>(p);
}

}  // namespace qmap::kernels
