// QConvGemm<Fmt>: the general int8 convolution of the 256-bit levels (any group, kernel,
// stride, dilation, begin pad; Gemm/MatMul as 1x1 on h = w = 1), bit-exact with
// kernels::ref::qconv2d / qconv2d_float_out. Included only by the files that instantiate it,
// each compiled with its level's flags; everything here is internal to each of them
// (anonymous namespace):
//   x86_avx2/qconv_gemm.cpp     make_qconv_gemm_avx2     Int16Pairs<avx2::Dot>     vpmaddwd + vpaddd
//   x86_avxvnni/qconv_gemm.cpp  make_qconv_gemm_avxvnni  U8Quads<avxvnni::Dot>     vpdpbusd
//
// Operand formats (Fmt): one 32-bit lane of a packed operand holds kK consecutive taps (K
// entries) of one pixel (X) or one output channel (W), so a K group is 4 bytes either way and
// the blocking, packing order and micro-kernel are the same code:
//   Int16Pairs (AVX2): vpmaddubsw (u8 x s8) saturates its int16 pair sums, so it is not used.
//     Inputs are stored as int16 (x - zx) in [-255, 255] (padding taps are plain 0: no bias
//     fold) and weights as int16; vpmaddwd multiplies int16 pairs and sums each pair into
//     int32 exactly, vpaddd accumulates. kK = 2.
//   U8Quads (AVX-VNNI): vpdpbusd multiplies unsigned bytes (activations) by signed bytes
//     (weights), 4 per lane. int8 input is stored as x ^ 0x80 = x + 128 with zx_eff = zx + 128
//     (uint8: x, zx_eff = zx), and sum w * (x - zx) = sum w * x_stored - zx_eff * sum w, so
//     prepare folds bias'[m] = bias[m] - zx_eff * sum_k w[m][k] and padding taps are stored
//     as zx_eff (K-padding entries have weight 0, any value does). kK = 4: half the bytes
//     packed per K entry and twice the products per instruction.
// Either way the int32 accumulation is modular, and exact: the dispatcher declines params
// failing qconv_int32_exact, so every final sum (and the folded bias' difference) fits.
//
// GEMM view per batch item and group: C[Mg][P] = W[Mg][K] * X[K][P], K = (C/group)*kh*kw in
// (c, ky, kx) order, P = oh*ow. Vectorized over P: an accumulator row is one output
// channel's contiguous NCHW output segment, so the per-channel multiplier is a broadcast.
// Gemm/MatMul (1x1 on h = w = 1 with n > 1 rows) runs in "rows" mode: the batch rows are the
// pixels (x read with stride C, y written with stride M), so rows share packed weights.
//   weights (prepare): per group, per K block, per 6-channel tile: [kcb/kK][6][kK] W (a K
//                      block's weights are one contiguous stream), zero padded (rows past
//                      Mg, the last K group's missing taps).
//   X block (run):     [16-pixel panels][kc/kK][16][kK] X, im2col of one K block of one
//                      task's pixel range, padding value past the pixel range and past K.
//                      1x1 stride-1 unpadded layers convert + interleave kK channel planes
//                      in one pass; others build X rows (vector loads for stride 1 and 2,
//                      overlapping tails) and interleave them.
// Micro-kernel: 6 channels x 16 pixels (12 ymm accumulators, 2 X vectors, 1 broadcast weight
// lane, 1 product = 16 registers): per K group 2 loads + 6 vpbroadcastd and 12 Fmt::dot
// (12 vpmaddwd + 12 vpaddd, or 12 vpdpbusd). Tails: 1..5 channels and 8-pixel panels have
// their own instances (a P tail of 1..8 pixels costs a half panel).
// Blocking: K is cut into blocks kc so one group's weight block (Mg x kc) is <= 256 KB (L2);
// the task's pixel block pc (<= 512) keeps its X block (kc x pc) <= 256 KB. Per K block the
// task packs its X block once, then for each 16-pixel panel (in L1) runs every channel tile
// (weights streaming from L2). With more than one K block the int32 partial sums of the task
// live in scratch. After the last block each 6x16 tile gets its bias and is requantized in
// registers (store_fast: each channel's avx2::FastChannel constants made at load, half up
// where no negative tie can occur, the clamp left to saturating packs when [lo, hi] is the
// type's range; the variant chosen once per tile, tileq_), or by avx2::ChannelRequant for
// shifts outside 32..53, or scaled to float (double multiply as the reference, then the
// clamp), and stored.
// Implicit GEMM (more than one tap, C/group a multiple of kK, or on u8 quads padded to one
// when that adds at most a third: ResNet's 3x3 layers, 3-channel stems as 4 channels): instead
// of an im2col row per tap, a task packs its band of output rows' input once, one image per
// stride phase (py, px) a tap needs, on a padded "virtual" grid of width wv = ow + (kw-1) *
// dil_w / sw: P[phase][c/kK][r][j][kK] = xpad[(oy0 + r) * sh + py][j * sw + px] (the padding
// value outside the input). Output (oy, ox) is virtual pixel q = (oy - oy0) * wv + ox, and tap
// (ky, kx) reads phase ((ky*dil_h) % sh, (kx*dil_w) % sw) at q + (ky*dil_h / sh) * wv +
// kx*dil_w / sw: 16 consecutive q are 64 contiguous bytes for every K group, at a fixed offset
// per group (koff). K is tap-major, (tap, channel), so a K group is kK channels of one tap; the
// micro-kernel (micro_kernel with kOff) reads each group at its offset, the columns ox in [ow, wv)
// are computed and dropped, and the stores follow the output rows a panel touches. The bands
// hold at most 512 virtual pixels and their images fit 256 KB, plus halo rows below and slack
// rows for the last panel's reads. Measured on ResNet-50 (2026-12-07, paired A/B pinned to
// one CPU, with the fully connected path below): the whole network 0.945x on avxvnni, where
// im2col's copies of every tap weighed most once vpdpbusd halved the arithmetic, 0.987x on
// avx2 (its vpmaddwd micro-kernel dominates).
// Fully connected (h = w = kh = kw = oh = ow = 1, group 1, n <= 4 rows: a classifier's Gemm):
// a pixel tile would leave 15 of 16 lanes idle, so this path vectorizes over output channels
// as the AVX-512 one does. Weights [m/32][K/kK][32][kK] int8 (Int16Pairs sign-extends them at
// the load: half the stream of int16); each vector is 8 channels x one K group, multiplied by
// the row's K group broadcast, all rows sharing each weight load; per-lane multipliers
// (avx2::requant8) or scales at the end. Tasks are blocks of 32 channels.
// Threads: tasks are (batch, group, pixel block, channel block) with disjoint outputs; the
// channel split is only used when the other dimensions give fewer than 2 tasks per worker.
// Each worker uses only its own scratch slice, and every output is computed the same way on
// any split.
#pragma once

#include <immintrin.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kernels/isa_vector.h"
#include "kernels/qconv_kernel_internal.h"
#include "kernels/x86_avx2/requant.h"

namespace qmap::kernels {
namespace {

constexpr int64_t kMr = 6;         // channels per micro tile
constexpr int64_t kNr = 16;        // pixels per panel
constexpr int64_t kTile = kMr * kNr;  // int32 per accumulator tile
constexpr int64_t kFcMaxRows = 4;     // fully connected path: at most this many rows
constexpr int64_t kFcMb = 32;         // output channels per fully connected block (4 vectors of 8)

int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }
int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// The operand formats (see the file comment). Each has X and W (the stored element types), kK
// (K entries per 32-bit lane), Row (16 stored X elements in registers), kTag (the level's
// IsaVector tag, from Dot), and:
//   Fmt(x_signed, zx)     zx_fold(): the zx_eff folded into the bias (0: none), pad(): the
//                         stored value of a padding tap;
//   one<kSigned>(raw)     one input byte stored;
//   store<kSigned>(dst, raw16)  16 input bytes stored at dst;
//   raw_row / load_row / pad_row  a Row from 16 input bytes, from 16 stored elements, of pad();
//   interleave(rows[kK], dst)   kK rows of 16 pixels -> dst[16][kK] (64 bytes, any alignment);
//   dot(acc, x, w)        acc + the kK products of each lane;
//   fc_w(p)               the W vector of 8 channels x kK taps from the fully connected
//                         path's int8 weights ([8][kK] bytes at p).
template <class Dot>
struct Int16Pairs {
  using X = int16_t;
  using W = int16_t;
  using Row = __m256i;
  static constexpr int kK = 2;
  static constexpr int kTag = Dot::kTag;

  Int16Pairs(bool /*x_signed*/, int32_t zx) : zx_(zx), z_(_mm256_set1_epi16(static_cast<int16_t>(zx))) {}
  int32_t zx_fold() const { return 0; }
  X pad() const { return 0; }
  template <bool kSigned>
  X one(uint8_t raw) const {
    return static_cast<X>((kSigned ? int32_t{static_cast<int8_t>(raw)} : int32_t{raw}) - zx_);
  }
  template <bool kSigned>
  Row widen(__m128i b) const {
    return _mm256_sub_epi16(kSigned ? _mm256_cvtepi8_epi16(b) : _mm256_cvtepu8_epi16(b), z_);
  }
  template <bool kSigned>
  void store(X* dst, __m128i raw) const {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), widen<kSigned>(raw));
  }
  template <bool kSigned>
  Row raw_row(const uint8_t* src) const {
    return widen<kSigned>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)));
  }
  static Row load_row(const X* src) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(src)); }
  Row pad_row() const { return _mm256_setzero_si256(); }
  static void interleave(const Row (&r)[kK], X* dst) {
    const __m256i lo = _mm256_unpacklo_epi16(r[0], r[1]), hi = _mm256_unpackhi_epi16(r[0], r[1]);  // pixels 0-3,8-11 / 4-7,12-15
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), _mm256_permute2x128_si256(lo, hi, 0x20));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + 16), _mm256_permute2x128_si256(lo, hi, 0x31));
  }
  __attribute__((always_inline)) static __m256i dot(__m256i acc, __m256i x, __m256i w) { return Dot::madd16(acc, w, x); }
  // Fully connected weights stay int8 in memory ([8 channels][kK] = 16 bytes a vector, half
  // the stream of int16): sign-extended to the int16 pairs at the load.
  static __m256i fc_w(const int8_t* p) { return _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }

 private:
  int32_t zx_;
  __m256i z_;
};

template <class Dot>
struct U8Quads {
  using X = uint8_t;
  using W = int8_t;
  using Row = __m128i;
  static constexpr int kK = 4;
  static constexpr int kTag = Dot::kTag;

  U8Quads(bool x_signed, int32_t zx)
      : zx_eff_(x_signed ? zx + 128 : zx), flip_(_mm_set1_epi8(static_cast<char>(0x80))),
        padv_(_mm_set1_epi8(static_cast<char>(zx_eff_))) {}
  int32_t zx_fold() const { return zx_eff_; }
  X pad() const { return static_cast<X>(zx_eff_); }
  template <bool kSigned>
  X one(uint8_t raw) const {
    return static_cast<X>(kSigned ? raw ^ 0x80 : raw);
  }
  template <bool kSigned>
  Row flip(__m128i b) const {
    return kSigned ? _mm_xor_si128(b, flip_) : b;
  }
  template <bool kSigned>
  void store(X* dst, __m128i raw) const {
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), flip<kSigned>(raw));
  }
  template <bool kSigned>
  Row raw_row(const uint8_t* src) const {
    return flip<kSigned>(_mm_loadu_si128(reinterpret_cast<const __m128i*>(src)));
  }
  static Row load_row(const X* src) { return _mm_loadu_si128(reinterpret_cast<const __m128i*>(src)); }
  Row pad_row() const { return padv_; }
  static void interleave(const Row (&r)[kK], X* dst) {
    const __m128i ab0 = _mm_unpacklo_epi8(r[0], r[1]), ab1 = _mm_unpackhi_epi8(r[0], r[1]);  // pixels 0-7 / 8-15
    const __m128i cd0 = _mm_unpacklo_epi8(r[2], r[3]), cd1 = _mm_unpackhi_epi8(r[2], r[3]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_unpacklo_epi16(ab0, cd0));  // pixels 0-3
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), _mm_unpackhi_epi16(ab0, cd0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 32), _mm_unpacklo_epi16(ab1, cd1));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 48), _mm_unpackhi_epi16(ab1, cd1));
  }
  __attribute__((always_inline)) static __m256i dot(__m256i acc, __m256i x, __m256i w) { return Dot::dpbusd(acc, x, w); }
  static __m256i fc_w(const int8_t* p) { return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)); }

 private:
  int32_t zx_eff_;
  __m128i flip_, padv_;
};

// acc[MR][NV*8] (+)= W tile * X panel over kgroups K groups; c: int32 [6][16] (row stride 16).
// Per K group the tile's weights are [6][kK] W and the panel's inputs [16][kK] X: 4 bytes a
// channel or a pixel whatever the format. kOff false: the panel's K groups follow each other
// (an im2col block, 64 bytes a group); kOff true: an implicit GEMM's packed image, K group
// k's 16 pixels are the 64 bytes at x + koff[k] (its channel group's plane shifted by its
// tap's offset), so nothing is copied per tap.
template <class Fmt, int MR, int NV, bool kOff>
void micro_kernel(const void* wv, const void* xv0, const int32_t* koff, int64_t kgroups, int32_t* c, bool first) {
  const auto* w = static_cast<const uint8_t*>(wv);
  const auto* x = static_cast<const uint8_t*>(xv0);
  __m256i acc[MR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v)
      acc[r][v] = first ? _mm256_setzero_si256() : _mm256_load_si256(reinterpret_cast<const __m256i*>(c + r * kNr + v * 8));
  for (int64_t k = 0; k < kgroups; ++k) {
    const uint8_t* xk = kOff ? x + koff[k] : x + k * 4 * kNr;
    __m256i xv[NV];
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) xv[v] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xk + v * 32));
#pragma GCC unroll 8
    for (int r = 0; r < MR; ++r) {
      int32_t lane;
      std::memcpy(&lane, w + 4 * r, 4);
      const __m256i wb = _mm256_set1_epi32(lane);
#pragma GCC unroll 2
      for (int v = 0; v < NV; ++v) acc[r][v] = Fmt::dot(acc[r][v], xv[v], wb);
    }
    w += 4 * kMr;
  }
#pragma GCC unroll 8
  for (int r = 0; r < MR; ++r)
#pragma GCC unroll 2
    for (int v = 0; v < NV; ++v) _mm256_store_si256(reinterpret_cast<__m256i*>(c + r * kNr + v * 8), acc[r][v]);
}

using MicroKernel = void (*)(const void*, const void*, const int32_t*, int64_t, int32_t*, bool);
template <class Fmt, bool kOff>
constexpr MicroKernel kMicro[kMr][2] = {
    {micro_kernel<Fmt, 1, 1, kOff>, micro_kernel<Fmt, 1, 2, kOff>}, {micro_kernel<Fmt, 2, 1, kOff>, micro_kernel<Fmt, 2, 2, kOff>},
    {micro_kernel<Fmt, 3, 1, kOff>, micro_kernel<Fmt, 3, 2, kOff>}, {micro_kernel<Fmt, 4, 1, kOff>, micro_kernel<Fmt, 4, 2, kOff>},
    {micro_kernel<Fmt, 5, 1, kOff>, micro_kernel<Fmt, 5, 2, kOff>}, {micro_kernel<Fmt, 6, 1, kOff>, micro_kernel<Fmt, 6, 2, kOff>}};

// dst[i] = the stored src[i * stride] for i in [0, n); src[0, avail) may be read (avail >= (n-1)*stride+1).
template <class Fmt, bool kSigned>
void convert_row(const Fmt& fmt, const uint8_t* src, int64_t stride, int64_t n, int64_t avail, typename Fmt::X* dst) {
  int64_t i = 0;
  if (stride == 1 && n >= 16) {
    for (; i + 16 <= n; i += 16) fmt.template store<kSigned>(dst + i, _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + i)));
    if (i < n)  // the tail as one vector overlapping the last: rewrites equal values
      fmt.template store<kSigned>(dst + n - 16, _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + n - 16)));
    return;
  } else if (stride == 2) {
    // 32 bytes -> the 16 even ones: per-lane byte shuffle, then the two low quadwords together.
    const __m256i even = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1, 0, 2, 4, 6, 8, 10,
                                          12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
    auto vec = [&](int64_t at) {
      const __m256i b = _mm256_shuffle_epi8(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(src + 2 * at)), even);
      fmt.template store<kSigned>(dst + at, _mm256_castsi256_si128(_mm256_permute4x64_epi64(b, 0x08)));
    };
    for (; i + 16 <= n && 2 * i + 32 <= avail; i += 16) vec(i);
    if (i < n && i >= 16 && 2 * (n - 16) + 32 <= avail) {  // overlapping tail vector
      vec(n - 16);
      return;
    }
  }
  for (; i < n; ++i) dst[i] = fmt.template one<kSigned>(src[i * stride]);
}

template <class Fmt>
class QConvGemm final : public QConvKernel {
  using X = typename Fmt::X;
  using W = typename Fmt::W;
  static constexpr int64_t kK = Fmt::kK;
  // Vectors of this ISA folder (kernels/isa_vector.h says why).
  template <class T>
  using KVector = IsaVector<T, Fmt::kTag>;

 public:
  QConvGemm(const QConvParams& p, const char* isa);
  const char* name() const override { return name_; }
  size_t scratch_bytes_per_worker() const override;
  void run(const void* x, void* y, void* scratch, const TaskRunner& tasks) const override;
  QConvPacked packed() const override {
    if (fc_)
      return {layout_, {reinterpret_cast<const std::byte*>(wfcp_), static_cast<size_t>(round_up(g_.m, kFcMb) * kp_)},
              {sp_, static_cast<size_t>(g_.m)}};
    return {layout_, {reinterpret_cast<const std::byte*>(wp_), static_cast<size_t>(g_.group * mt_ * kp_ * kMr) * sizeof(W)},
            {sp_, static_cast<size_t>(g_.m)}};
  }
  bool adopted() const override { return adopted_; }

 private:
  struct Scratch {
    X* xblock;       // [pc/16][kc/kK][16][kK]
    X* rows;         // [kK][pc]
    int32_t* acc;    // [mt][pc/16][6][16] when nkb_ > 1, else [6][16]
  };
  Scratch carve(void* base) const;
  // Start of the packed weights of group gi, K block kb, channel tile t: the blocks of one
  // group follow each other, each [tile][kcb/kK][6][kK] with kcb its length (a multiple of kK).
  int64_t w_offset(int64_t gi, int64_t kb, int64_t t) const {
    return (gi * mt_ * kp_ + kb * kc_ * mt_ + t * std::min(kc_, kp_ - kb * kc_)) * kMr;
  }
  void pack_row(const uint8_t* x, int64_t n, int64_t g, int64_t k, int64_t p0, int64_t p1, X* dst) const;
  template <bool kSigned>
  void pack_block(const uint8_t* x, int64_t n, int64_t g, int64_t k0, int64_t kgroups, int64_t p0, int64_t p1,
                  const Scratch& s) const;
  void store_tile(const int32_t* c, int mr, int64_t n, int64_t mabs, int64_t pp, int64_t cnt, void* y,
                  int64_t src0 = 0) const;
  // store_tile for a tile whose channels all take the register requantization (tileq_).
  template <bool kAway, bool kClamp, bool kUnsigned>
  void store_fast(const int32_t* c, int mr, int64_t n, int64_t mabs, int64_t pp, int64_t cnt, void* y) const;
  // The implicit GEMM path (file comment): output rows [oy0, oy1) of image n, group gi.
  struct BandScratch {
    X* image;       // [phase][cgp_ / kK][hb][wv_][kK], hb = rows + halo_ + slack_
    X* rows;        // [kK][round_up(wv_, 16)]
    int32_t* koff;  // [kp / kK] byte offsets
    int32_t* acc;   // as Scratch::acc
  };
  BandScratch carve_band(void* base) const;
  template <bool kSigned>
  void pack_band(const uint8_t* x, int64_t n, int64_t gi, int64_t oy0, int64_t hb, const BandScratch& s) const;
  void run_band(const uint8_t* x, void* y, int64_t n, int64_t gi, int64_t oy0, int64_t oy1, int64_t t0, int64_t t1,
                const BandScratch& s) const;
  void run_task(const uint8_t* x, void* y, int64_t n, int64_t g, int64_t p0, int64_t p1, int64_t t0, int64_t t1,
                const Scratch& s) const;
  // out[m] = bias[m] - zx_fold * sum(w[m]) (modular) for m < M, 0 up to n (padded lanes); needs sp_.
  void fold_bias(const QConvParams& p, int64_t n, KVector<int32_t>& out) const {
    out.assign(static_cast<size_t>(n), 0);
    const int64_t zx_fold = fmt_.zx_fold();
    for (int64_t m = 0; m < g_.m; ++m) {
      const int64_t b = p.bias.empty() ? 0 : p.bias[static_cast<size_t>(m)];
      out[static_cast<size_t>(m)] = static_cast<int32_t>(static_cast<uint32_t>(b - zx_fold * sp_[m]));
    }
  }
  // The fully connected path (file comment).
  void init_fc(const QConvParams& p, const char* isa);
  template <int NR, int V0, int NV>
  void fc_block(const X* xr, void* y, int64_t mblk) const;
  void run_fc(const uint8_t* x, void* y, X* xr, int64_t b0, int64_t b1) const;

  ref::ConvGeometry2d g_;
  Fmt fmt_;
  bool x_signed_, y_signed_, float_out_;
  int32_t zy_, lo_, hi_;
  float float_min_, float_max_;
  int64_t cg_, mg_, k_, kp_, mt_, p_;
  int64_t kc_, nkb_, pc_;
  bool contiguous_;  // 1x1, stride 1, no pad, oh == h, ow == w: X rows are channel planes
  bool rows_;        // Gemm rows mode: pixel q is batch row q (x[q][c], y[q][m])
  int64_t nimg_;     // images looped over: n, or 1 in rows mode
  KVector<W> w_;     // [group][mt][kp/kK][6][kK]
  const W* wp_ = nullptr;  // the weights run() reads: w_, or adopted bytes of a .bin
  KVector<int64_t> sums_;  // [M] each output channel's sum of weights, when packed here
  const int64_t* sp_ = nullptr;  // the sums: sums_ or adopted ones (packed())
  char layout_[40] = {};   // packed()'s layout
  bool adopted_ = false;
  KVector<int32_t> bias_;  // bias - zx_fold * sum(w), modular
  KVector<QMultiplier> mult_;
  KVector<avx2::FastChannel> fastc_;  // [M]: the register requantization's constants
  // [M], at each 6-channel tile's first channel: 0 some channel needs avx2::requant8, 1 all
  // fast and none can meet a tie (half up), 2 all fast, some may (half away from zero).
  KVector<uint8_t> tileq_;
  bool qclamp_ = false;               // [lo, hi] narrower than the output type's range
  KVector<double> scale_;
  KVector<int32_t> k_c_, k_dy_, k_dx_;  // per tap k: channel in group, ky*dil_h - pad_top, kx*dil_w - pad_left
  // Implicit GEMM path: more than one tap, C/group padded to a multiple of kK. K is tap-major
  // (tap, channel), each K group kK channels of one tap.
  bool implicit_ = false;
  int64_t cgp_ = 0;    // channels per group padded to kK (their weights 0, their inputs the padding value)
  int64_t nph_ = 1;    // stride phases: stride_h * stride_w
  int64_t wv_ = 0;     // virtual row width: ow + (kw - 1) * dil_w / stride_w
  int64_t halo_ = 0;   // extra packed rows below a band: (kh - 1) * dil_h / stride_h
  int64_t slack_ = 0;  // rows past them, read by a band's last panel: ceil(16 / wv_)
  int64_t rb_ = 0;     // output rows per band
  std::vector<bool> phase_used_;  // [py * stride_w + px]: some tap reads that phase
  // Fully connected path: h = w = kh = kw = oh = ow = 1, group 1, at most kFcMaxRows rows.
  bool fc_ = false;
  KVector<int8_t> wfc_;         // [mp / kFcMb][kp / kK][kFcMb][kK] int8, mp = M rounded up to kFcMb
  const int8_t* wfcp_ = nullptr;  // wfc_ or adopted bytes
  KVector<int32_t> fcb_, fcm_, fcs_;  // [mp]: bias - zx_fold * sum(w) (modular), multiplier mantissa, shift
  KVector<double> fcscale_;     // [mp]: float output scales
  char name_[48];
};

template <class Fmt>
QConvGemm<Fmt>::QConvGemm(const QConvParams& p, const char* isa)
    : g_(p.g), fmt_(p.x_signed, p.zx), x_signed_(p.x_signed), y_signed_(p.y_signed), float_out_(p.float_out),
      zy_(p.zy), lo_(p.lo), hi_(p.hi), float_min_(p.float_min), float_max_(p.float_max) {
  const auto& g = g_;
  cg_ = g.c / g.group;
  mg_ = g.m / g.group;
  k_ = cg_ * g.kh * g.kw;
  kp_ = round_up(k_, kK);
  mt_ = ceil_div(mg_, kMr);
  // Gemm/MatMul (1x1 over h = w = 1, rows as the batch): the rows are the GEMM's pixels, so
  // one task covers up to a block of rows instead of one row each.
  rows_ = g.n > 1 && g.h == 1 && g.w == 1 && g.oh == 1 && g.ow == 1 && g.kh == 1 && g.kw == 1 && g.pad_top == 0 &&
          g.pad_left == 0;
  p_ = rows_ ? g.n : g.oh * g.ow;
  nimg_ = rows_ ? 1 : g.n;
  contiguous_ = !rows_ && g.kh == 1 && g.kw == 1 && g.stride_h == 1 && g.stride_w == 1 && g.pad_top == 0 && g.pad_left == 0 &&
                g.oh == g.h && g.ow == g.w;
  fc_ = g.h == 1 && g.w == 1 && g.kh == 1 && g.kw == 1 && g.oh == 1 && g.ow == 1 && g.pad_top == 0 && g.pad_left == 0 &&
        g.group == 1 && g.n <= kFcMaxRows;
  if (fc_) {
    init_fc(p, isa);
    return;
  }
  // Implicit GEMM for several taps. Channels per group are padded to the K group of quads
  // when that adds at most a third (the 3-channel stems: 3 -> 4; ResNet-50's stem on avxvnni
  // 1.12-1.28 -> 0.96 ms); on int16 pairs, whose vpmaddwd products cost twice as much, the
  // third more MACs outweighed the saved im2col (1.75-1.85 -> 1.95 ms), so those stay im2col.
  const int64_t cgp = round_up(cg_, kK);
  implicit_ = !rows_ && g.kh * g.kw > 1 && (cg_ % kK == 0 || (kK == 4 && cgp * 3 <= cg_ * 4));
  if (implicit_) {
    // A band's image holds at least one output row with its halo for every channel and stride
    // phase; a layer where that alone passes 4 MB (thousands of channels on wide rows, large
    // dilations) keeps the im2col, whose scratch stays within its 256 KB blocks.
    const int64_t wv = g.ow + (g.kw - 1) * g.dil_w / g.stride_w;
    const int64_t rows = 1 + (g.kh - 1) * g.dil_h / g.stride_h + ceil_div(kNr, wv);
    const int64_t bytes = g.stride_h * g.stride_w * cgp * rows * wv * static_cast<int64_t>(sizeof(X));
    implicit_ = bytes <= (int64_t{4} << 20);
  }
  if (implicit_) {
    cgp_ = cgp;
    kp_ = g.kh * g.kw * cgp_;
  }
  // K block: the group's weight block (Mg x kc) within 256 KB of L2.
  const int64_t wbudget = 256 * 1024 / sizeof(W), xbudget = 256 * 1024 / sizeof(X), pmax = 512;  // elements, pixels
  const int64_t kc_max = std::max<int64_t>(64, wbudget / round_up(mg_, kMr)) / kK * kK;
  nkb_ = ceil_div(kp_, kc_max);
  kc_ = round_up(ceil_div(kp_, nkb_), kK);
  nkb_ = ceil_div(kp_, kc_);
  // Pixel block: the X block (kc x pc) within 256 KB, 32..512 pixels.
  pc_ = std::clamp<int64_t>(xbudget / kc_ / kNr * kNr, 2 * kNr, pmax);
  pc_ = std::min(pc_, round_up(p_, kNr));
  if (implicit_) {
    // Bands of output rows: at most pmax virtual pixels, the packed image within xbudget.
    wv_ = g.ow + (g.kw - 1) * g.dil_w / g.stride_w;
    halo_ = (g.kh - 1) * g.dil_h / g.stride_h;
    slack_ = ceil_div(kNr, wv_);
    nph_ = g.stride_h * g.stride_w;
    const int64_t by_pixels = std::max<int64_t>(1, pmax / wv_);
    const int64_t by_bytes = xbudget / std::max<int64_t>(1, nph_ * cgp_ * wv_) - halo_ - slack_;
    rb_ = std::clamp<int64_t>(std::min(by_pixels, by_bytes), 1, g.oh);
    pc_ = round_up(rb_ * wv_, kNr);  // the accumulators' pixel extent (scratch)
    phase_used_.assign(static_cast<size_t>(nph_), false);
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx)
        phase_used_[static_cast<size_t>((ky * g.dil_h % g.stride_h) * g.stride_w + kx * g.dil_w % g.stride_w)] = true;
  }

  // The weights: adopted from p.prepacked when it holds this layout (docs/format.md, PACKED),
  // else packed here. The K block kc_ is part of the layout's name: it follows from the shape.
  std::snprintf(layout_, sizeof layout_, "%s.gemm%dx%d.k%d%s.1", isa, static_cast<int>(kMr),
                static_cast<int>(sizeof(W)), static_cast<int>(kc_), implicit_ ? ".tap" : "");
  const int64_t wcount = g.group * mt_ * kp_ * kMr;
  if (adopt_packed_conv(p, layout_, static_cast<size_t>(wcount) * sizeof(W))) {
    wp_ = reinterpret_cast<const W*>(p.prepacked.data());
    sp_ = p.prepacked_sums.data();
    adopted_ = true;
  } else {
    sums_.assign(static_cast<size_t>(g.m), 0);
    w_.assign(static_cast<size_t>(wcount), 0);
    // Row by row, one K block at a time (no division per weight: packing ResNet-50 for AVX2
    // took 100 ms with one per weight).
    const int64_t taps = g.kh * g.kw;
    std::vector<int8_t> tap_major(implicit_ ? static_cast<size_t>(kp_) : 0);  // padded channels: 0
    for (int64_t gi = 0; gi < g.group; ++gi)
      for (int64_t m = 0; m < mg_; ++m) {
        const int8_t* src = p.weights.data() + (gi * mg_ + m) * k_;
        if (implicit_) {  // (c, tap) -> (tap, c)
          for (int64_t c = 0; c < cg_; ++c)
            for (int64_t t = 0; t < taps; ++t) tap_major[static_cast<size_t>(t * cgp_ + c)] = src[c * taps + t];
          src = tap_major.data();
        }
        int64_t sum = 0;
        for (int64_t kb = 0; kb < nkb_; ++kb) {
          W* dst = w_.data() + w_offset(gi, kb, m / kMr) + (m % kMr) * kK;
          const int64_t k0 = kb * kc_, n = std::min(kc_, (implicit_ ? kp_ : k_) - k0);
          for (int64_t kk = 0; kk < n; ++kk) {
            dst[(kk / kK) * (kK * kMr) + kk % kK] = src[k0 + kk];
            sum += src[k0 + kk];
          }
        }
        sums_[static_cast<size_t>(gi * mg_ + m)] = sum;
      }
    wp_ = w_.data();
    sp_ = sums_.data();
  }
  fold_bias(p, g.m, bias_);
  if (float_out_) {
    scale_.assign(p.acc_scale.begin(), p.acc_scale.end());
  } else {
    mult_.assign(p.mult.begin(), p.mult.end());
    const int64_t bound = qconv_acc_bound(p);
    for (const QMultiplier& q : p.mult) fastc_.push_back(avx2::fast_channel(q, zy_, ties_possible(q, bound)));
    qclamp_ = !((lo_ == 0 && hi_ == 255 && !y_signed_) || (lo_ == -128 && hi_ == 127 && y_signed_));
    tileq_.assign(static_cast<size_t>(g.m), 0);
    for (int64_t gi = 0; gi < g.group; ++gi)
      for (int64_t m0 = 0; m0 < mg_; m0 += kMr) {
        bool fast = true, away = false;
        for (int64_t m = gi * mg_ + m0; m < gi * mg_ + std::min(mg_, m0 + kMr); ++m) {
          fast = fast && fastc_[static_cast<size_t>(m)].fast;
          away = away || fastc_[static_cast<size_t>(m)].away;
        }
        tileq_[static_cast<size_t>(gi * mg_ + m0)] = fast ? (away ? 2 : 1) : 0;
      }
  }
  for (int64_t c = 0; c < cg_; ++c)
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        k_c_.push_back(static_cast<int32_t>(c));
        k_dy_.push_back(static_cast<int32_t>(ky * g.dil_h - g.pad_top));
        k_dx_.push_back(static_cast<int32_t>(kx * g.dil_w - g.pad_left));
      }
  std::snprintf(name_, sizeof name_, "%s_conv_gemm__%s_6x16", x_signed_ ? "qs8" : "qu8", isa);
}

template <class Fmt>
typename QConvGemm<Fmt>::BandScratch QConvGemm<Fmt>::carve_band(void* base) const {
  BandScratch s;
  auto* b = static_cast<uint8_t*>(base);
  const int64_t hb = rb_ + halo_ + slack_;
  s.image = reinterpret_cast<X*>(b);
  b += (nph_ * cgp_ * hb * wv_ + kNr * kK) * static_cast<int64_t>(sizeof(X));  // + one interleave's overrun
  b += (32 - reinterpret_cast<uintptr_t>(b) % 32) % 32;
  s.rows = reinterpret_cast<X*>(b);
  b += kK * round_up(wv_, kNr) * static_cast<int64_t>(sizeof(X));
  s.koff = reinterpret_cast<int32_t*>(b);
  b += kp_ / kK * 4;
  b += (64 - reinterpret_cast<uintptr_t>(b) % 64) % 64;
  s.acc = reinterpret_cast<int32_t*>(b);
  return s;
}

// The band's image, one per stride phase (py, px): packed row r, column j of a phase are
// input row (oy0 + r) * sh + py - pad_top, column j * sw + px - pad_left (the padding value
// outside the input); kK channels interleaved. Output (oy, ox), tap (ky, kx) reads phase
// ((ky * dil_h) % sh, (kx * dil_w) % sw) at row oy - oy0 + ky * dil_h / sh, column ox + kx * dil_w / sw.
template <class Fmt>
template <bool kSigned>
void QConvGemm<Fmt>::pack_band(const uint8_t* x, int64_t n, int64_t gi, int64_t oy0, int64_t hb,
                               const BandScratch& s) const {
  const auto& g = g_;
  const int64_t wr = round_up(wv_, kNr), sh = g.stride_h, sw = g.stride_w;
  const X pad = fmt_.pad();
  typename Fmt::Row r[kK];
  for (int64_t py = 0; py < sh; ++py)
    for (int64_t px = 0; px < sw; ++px) {
      if (!phase_used_[static_cast<size_t>(py * sw + px)]) continue;
      // Columns j in [j0, j0 + nin) are inside the input, from input column ix0.
      const int64_t lead = g.pad_left - px;  // input column of j = 0 is -lead
      const int64_t j0 = std::min(wv_, lead > 0 ? ceil_div(lead, sw) : 0);
      const int64_t last = g.w - 1 + lead;  // j * sw <= last
      const int64_t nin = last < 0 ? 0 : std::clamp<int64_t>(last / sw + 1 - j0, 0, wv_ - j0);
      const int64_t ix0 = j0 * sw - lead;
      X* image = s.image + (py * sw + px) * cgp_ * hb * wv_;
      for (int64_t cq = 0; cq < cgp_ / kK; ++cq)
        for (int64_t row = 0; row < hb; ++row) {
          const int64_t iy = (oy0 + row) * sh + py - g.pad_top;
          for (int64_t i = 0; i < kK; ++i) {
            X* d = s.rows + i * wr;
            if (iy < 0 || iy >= g.h || nin == 0 || cq * kK + i >= cg_) {  // padding, or a padded channel
              std::fill(d, d + wr, pad);
              continue;
            }
            const uint8_t* src = x + ((n * g.c + gi * cg_ + cq * kK + i) * g.h + iy) * g.w + ix0;
            std::fill(d, d + j0, pad);
            convert_row<Fmt, kSigned>(fmt_, src, sw, nin, g.w - ix0, d + j0);
            std::fill(d + j0 + nin, d + wr, pad);
          }
          X* dst = image + ((cq * hb + row) * wv_) * kK;
          for (int64_t j = 0; j < wv_; j += kNr) {  // the last chunk runs past the row: the next one overwrites it
#pragma GCC unroll 4
            for (int64_t i = 0; i < kK; ++i) r[i] = Fmt::load_row(s.rows + i * wr + j);
            Fmt::interleave(r, dst + j * kK);
          }
        }
    }
}

template <class Fmt>
void QConvGemm<Fmt>::run_band(const uint8_t* x, void* y, int64_t n, int64_t gi, int64_t oy0, int64_t oy1, int64_t t0,
                              int64_t t1, const BandScratch& s) const {
  const auto& g = g_;
  const int64_t rows = oy1 - oy0, hb = rows + halo_ + slack_;
  if (x_signed_) pack_band<true>(x, n, gi, oy0, hb, s);
  else pack_band<false>(x, n, gi, oy0, hb, s);
  // K group (tap t, channels cq*kK..) reads plane cq at the tap's shift.
  const int64_t cqn = cgp_ / kK;
  for (int64_t t = 0; t < g.kh * g.kw; ++t) {
    const int64_t dy = (t / g.kw) * g.dil_h, dx = (t % g.kw) * g.dil_w;
    const int64_t phase = (dy % g.stride_h) * g.stride_w + dx % g.stride_w;
    const int64_t shift = (phase * cqn * hb + dy / g.stride_h) * wv_ + dx / g.stride_w;
    for (int64_t cq = 0; cq < cqn; ++cq)
      s.koff[t * cqn + cq] = static_cast<int32_t>((cq * hb * wv_ + shift) * kK * static_cast<int64_t>(sizeof(X)));
  }
  const int64_t nv = rows * wv_, npan = ceil_div(nv, kNr);
  for (int64_t kb = 0; kb < nkb_; ++kb) {
    const int64_t k0 = kb * kc_, kgroups = std::min(kc_, kp_ - k0) / kK;
    const bool first = kb == 0, last = kb == nkb_ - 1;
    for (int64_t j = 0; j < npan; ++j) {
      const int64_t q0 = j * kNr, cnt = std::min(kNr, nv - q0);
      const X* xp = s.image + q0 * kK;
      for (int64_t t = t0; t < t1; ++t) {
        const int mr = static_cast<int>(std::min(kMr, mg_ - t * kMr));
        int32_t* c = nkb_ > 1 ? s.acc + ((t - t0) * npan + j) * kTile : s.acc;
        kMicro<Fmt, true>[mr - 1][cnt > 8 ? 1 : 0](wp_ + w_offset(gi, kb, t), xp, s.koff + k0 / kK, kgroups, c, first);
        if (!last) continue;
        // Virtual pixels [q0, q0 + cnt) -> one output segment per output row they touch
        // (columns past ow are computed and dropped).
        for (int64_t q = q0; q < q0 + cnt;) {
          const int64_t oyr = q / wv_, ox = q - oyr * wv_, row_end = oyr * wv_ + g.ow;
          if (ox < g.ow)
            store_tile(c, mr, n, gi * mg_ + t * kMr, (oy0 + oyr) * g.ow + ox, std::min(row_end, q0 + cnt) - q, y, q - q0);
          q = (oyr + 1) * wv_;
        }
      }
    }
  }
}

template <class Fmt>
void QConvGemm<Fmt>::init_fc(const QConvParams& p, const char* isa) {
  const auto& g = g_;
  const int64_t mp = round_up(g.m, kFcMb);
  std::snprintf(layout_, sizeof layout_, "%s.fc%dx%d.1", isa, static_cast<int>(kFcMb), static_cast<int>(kK));
  const auto bytes = static_cast<size_t>(mp * kp_);
  if (adopt_packed_conv(p, layout_, bytes)) {
    wfcp_ = reinterpret_cast<const int8_t*>(p.prepacked.data());
    sp_ = p.prepacked_sums.data();
    adopted_ = true;
  } else {
    wfc_.assign(bytes, 0);
    sums_.assign(static_cast<size_t>(g.m), 0);
    for (int64_t m = 0; m < g.m; ++m) {  // row by row: no division per weight
      const int8_t* src = p.weights.data() + m * k_;
      int8_t* dst = wfc_.data() + (m / kFcMb) * kFcMb * kp_ + (m % kFcMb) * kK;
      int64_t sum = 0;
      for (int64_t k = 0; k < k_; ++k) {
        dst[(k / kK) * (kFcMb * kK) + k % kK] = src[k];
        sum += src[k];
      }
      sums_[static_cast<size_t>(m)] = sum;
    }
    wfcp_ = wfc_.data();
    sp_ = sums_.data();
  }
  // Per-channel tables padded to whole blocks (the padded lanes are computed, never stored).
  fold_bias(p, mp, fcb_);
  if (float_out_) {
    fcscale_.assign(static_cast<size_t>(mp), 0.0);
    std::copy(p.acc_scale.begin(), p.acc_scale.end(), fcscale_.begin());
  } else {
    fcm_.assign(static_cast<size_t>(mp), 0);
    fcs_.assign(static_cast<size_t>(mp), 31);
    for (int64_t m = 0; m < g.m; ++m) {
      fcm_[static_cast<size_t>(m)] = p.mult[static_cast<size_t>(m)].m;
      fcs_[static_cast<size_t>(m)] = p.mult[static_cast<size_t>(m)].shift;
    }
  }
  std::snprintf(name_, sizeof name_, "%s_conv_gemm__%s_fc%d", x_signed_ ? "qs8" : "qu8", isa, static_cast<int>(kFcMb));
}

// Vectors [V0, V0 + NV) of output channel block mblk (8 channels each) for NR rows: each
// weight vector (8 channels x kK taps) is loaded once for every row, the row's kK inputs
// broadcast, so the weights stream through once.
template <class Fmt>
template <int NR, int V0, int NV>
void QConvGemm<Fmt>::fc_block(const X* xr, void* y, int64_t mblk) const {
  const int64_t m0 = mblk * kFcMb, kg = kp_ / kK, m = g_.m;
  __m256i acc[NR][NV];
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const __m256i b = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(fcb_.data() + m0 + 8 * (V0 + v)));
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) acc[j][v] = b;
  }
  const int8_t* w = wfcp_ + m0 * kp_ + V0 * 8 * kK;
  const auto* xb = reinterpret_cast<const uint8_t*>(xr);  // row j's K group c: 4 bytes at (j * kp_ + c * kK) elements
  for (int64_t c = 0; c < kg; ++c, w += kFcMb * kK) {
    __m256i wv[NV];
#pragma GCC unroll 4
    for (int v = 0; v < NV; ++v) wv[v] = Fmt::fc_w(w + v * 8 * kK);
#pragma GCC unroll 4
    for (int j = 0; j < NR; ++j) {
      int32_t lane;
      std::memcpy(&lane, xb + (j * kp_ + c * kK) * static_cast<int64_t>(sizeof(X)), 4);
      const __m256i xv = _mm256_set1_epi32(lane);
#pragma GCC unroll 4
      for (int v = 0; v < NV; ++v) acc[j][v] = Fmt::dot(acc[j][v], xv, wv[v]);
    }
  }
#pragma GCC unroll 4
  for (int v = 0; v < NV; ++v) {
    const int64_t mv = m0 + 8 * (V0 + v);
    if (mv >= m) break;
    const int64_t cnt = std::min<int64_t>(8, m - mv);
    if (float_out_) {
      const __m256d s0 = _mm256_loadu_pd(fcscale_.data() + mv), s1 = _mm256_loadu_pd(fcscale_.data() + mv + 4);
      const __m256 fmin = _mm256_set1_ps(float_min_), fmax = _mm256_set1_ps(float_max_);
      for (int j = 0; j < NR; ++j) {
        const __m256i a = acc[j][v];
        const __m128 f0 = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(a)), s0));
        const __m128 f1 = _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(a, 1)), s1));
        const __m256 f = _mm256_min_ps(fmax, _mm256_max_ps(fmin, _mm256_set_m128(f1, f0)));  // as store_tile
        float* yr = static_cast<float*>(y) + j * m + mv;
        if (cnt == 8) {
          _mm256_storeu_ps(yr, f);
        } else {
          alignas(32) float t[8];
          _mm256_store_ps(t, f);
          std::memcpy(yr, t, static_cast<size_t>(cnt) * sizeof(float));
        }
      }
    } else {
      const avx2::RequantLanes rq{_mm256_loadu_si256(reinterpret_cast<const __m256i*>(fcm_.data() + mv)),
                                  _mm256_loadu_si256(reinterpret_cast<const __m256i*>(fcs_.data() + mv))};
      for (int j = 0; j < NR; ++j) {
        const __m128i bytes = avx2::narrow8(avx2::requant8(acc[j][v], rq, zy_, lo_, hi_));
        uint8_t* yr = static_cast<uint8_t*>(y) + j * m + mv;
        if (cnt == 8) {
          _mm_storel_epi64(reinterpret_cast<__m128i*>(yr), bytes);
        } else {
          alignas(16) uint8_t t[16];
          _mm_store_si128(reinterpret_cast<__m128i*>(t), bytes);
          std::memcpy(yr, t, static_cast<size_t>(cnt));
        }
      }
    }
  }
}

// Output channel blocks [b0, b1) of every row; xr: the worker's [kFcMaxRows][kp] X.
template <class Fmt>
void QConvGemm<Fmt>::run_fc(const uint8_t* x, void* y, X* xr, int64_t b0, int64_t b1) const {
  const auto& g = g_;
  for (int64_t j = 0; j < g.n; ++j) {  // the rows as stored inputs, the padding value past K
    const uint8_t* src = x + j * g.c;
    X* dst = xr + j * kp_;
    int64_t k = 0;
    if (x_signed_) {
      for (; k + 16 <= k_; k += 16) fmt_.template store<true>(dst + k, _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k)));
      for (; k < k_; ++k) dst[k] = fmt_.template one<true>(src[k]);
    } else {
      for (; k + 16 <= k_; k += 16) fmt_.template store<false>(dst + k, _mm_loadu_si128(reinterpret_cast<const __m128i*>(src + k)));
      for (; k < k_; ++k) dst[k] = fmt_.template one<false>(src[k]);
    }
    for (; k < kp_; ++k) dst[k] = fmt_.pad();
  }
  for (int64_t mblk = b0; mblk < b1; ++mblk) switch (g.n) {
      case 1: fc_block<1, 0, 4>(xr, y, mblk); break;
      case 2: fc_block<2, 0, 4>(xr, y, mblk); break;
      case 3:  // 4 vectors x 3 rows would take 12 of the 16 registers for accumulators: two halves
        fc_block<3, 0, 2>(xr, y, mblk);
        fc_block<3, 2, 2>(xr, y, mblk);
        break;
      default:
        fc_block<4, 0, 2>(xr, y, mblk);
        fc_block<4, 2, 2>(xr, y, mblk);
        break;
    }
}

template <class Fmt>
size_t QConvGemm<Fmt>::scratch_bytes_per_worker() const {
  if (fc_) return static_cast<size_t>(kFcMaxRows * kp_) * sizeof(X) + 64;
  if (implicit_) {
    const int64_t hb = rb_ + halo_ + slack_, npan = ceil_div(rb_ * wv_, kNr);
    const int64_t acc = (nkb_ > 1 ? mt_ * npan * kTile : kTile) + kNr;  // + a segment's overread (store_tile)
    return static_cast<size_t>((nph_ * cgp_ * hb * wv_ + kNr * kK + kK * round_up(wv_, kNr)) * static_cast<int64_t>(sizeof(X)) +
                               kp_ / kK * 4 + acc * 4 + 128);
  }
  const int64_t acc = nkb_ > 1 ? mt_ * (pc_ / kNr) * kTile : kTile;
  return static_cast<size_t>((kc_ * pc_ + kK * pc_) * static_cast<int64_t>(sizeof(X)) + acc * 4 + 64);
}

template <class Fmt>
typename QConvGemm<Fmt>::Scratch QConvGemm<Fmt>::carve(void* base) const {
  Scratch s;
  auto* b = static_cast<uint8_t*>(base);
  s.xblock = reinterpret_cast<X*>(b);
  b += kc_ * pc_ * static_cast<int64_t>(sizeof(X));
  s.rows = reinterpret_cast<X*>(b);
  b += kK * pc_ * static_cast<int64_t>(sizeof(X));
  b += (64 - reinterpret_cast<uintptr_t>(b) % 64) % 64;
  s.acc = reinterpret_cast<int32_t*>(b);
  return s;
}

// One im2col row: dst[p - p0] = the stored x[tap k at output pixel p] for p in [p0, p1), the
// padding value past p1 up to the panel boundary (and for every tap k >= K).
template <class Fmt>
void QConvGemm<Fmt>::pack_row(const uint8_t* x, int64_t n, int64_t gi, int64_t k, int64_t p0, int64_t p1,
                              X* dst) const {
  const auto& g = g_;
  const int64_t np = p1 - p0, npad = round_up(np, kNr);
  const X pad = fmt_.pad();
  if (k >= k_) {
    std::fill(dst, dst + npad, pad);
    return;
  }
  std::fill(dst + np, dst + npad, pad);
  auto convert = x_signed_ ? convert_row<Fmt, true> : convert_row<Fmt, false>;
  if (rows_) {
    convert(fmt_, x + p0 * g.c + gi * cg_ + k, g.c, np, (np - 1) * g.c + 1, dst);
    return;
  }
  const uint8_t* plane = x + ((n * g.c + gi * cg_ + k_c_[static_cast<size_t>(k)]) * g.h) * g.w;
  if (contiguous_) {
    convert(fmt_, plane + p0, 1, np, np, dst);
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
    X* d = dst + (p - p0) - oxa;  // d[ox]
    const int64_t iy = oy * g.stride_h + dy;
    if (iy < 0 || iy >= g.h) {
      std::fill(d + oxa, d + oxb, pad);
    } else {
      const int64_t a = std::clamp(lo, oxa, oxb), b = std::clamp(hi, a, oxb);
      std::fill(d + oxa, d + a, pad);
      if (b > a)
        convert(fmt_, plane + iy * g.w + a * g.stride_w + dx, g.stride_w, b - a, g.w - (a * g.stride_w + dx), d + a);
      std::fill(d + b, d + oxb, pad);
    }
    p += oxb - oxa;
  }
}

// X block for taps [k0, k0 + kK*kgroups) and pixels [p0, p1): [panel][kgroup][16][kK].
template <class Fmt>
template <bool kSigned>
void QConvGemm<Fmt>::pack_block(const uint8_t* x, int64_t n, int64_t gi, int64_t k0, int64_t kgroups, int64_t p0,
                                int64_t p1, const Scratch& s) const {
  const int64_t npan = ceil_div(p1 - p0, kNr);
  typename Fmt::Row r[kK];
  if (contiguous_ && (p1 - p0) % kNr == 0) {
    // 1x1 stride 1: rows are channel planes; convert and interleave in one pass.
    const uint8_t* plane0 = x + (n * g_.c + gi * cg_ + k0) * p_ + p0;
    for (int64_t kk = 0; kk < kgroups; ++kk) {
      const uint8_t* src = plane0 + kK * kk * p_;
      const int64_t real = std::min<int64_t>(kK, k_ - (k0 + kK * kk));  // planes of this group inside K
      for (int64_t j = 0; j < npan; ++j) {
#pragma GCC unroll 4
        for (int i = 0; i < kK; ++i) r[i] = i < real ? fmt_.template raw_row<kSigned>(src + i * p_ + j * kNr) : fmt_.pad_row();
        Fmt::interleave(r, s.xblock + (j * kgroups + kk) * kK * kNr);
      }
    }
    return;
  }
  for (int64_t kk = 0; kk < kgroups; ++kk) {
    for (int i = 0; i < kK; ++i) pack_row(x, n, gi, k0 + kK * kk + i, p0, p1, s.rows + i * pc_);
    for (int64_t j = 0; j < npan; ++j) {
#pragma GCC unroll 4
      for (int i = 0; i < kK; ++i) r[i] = Fmt::load_row(s.rows + i * pc_ + j * kNr);
      Fmt::interleave(r, s.xblock + (j * kgroups + kk) * kK * kNr);
    }
  }
}

// Requantizes (or scales to float) rows [0, mr) of the int32 tile c (+ bias) and stores
// pixels [pp, pp + cnt) of output channels mabs.. of batch item n.
template <class Fmt>
void QConvGemm<Fmt>::store_tile(const int32_t* c, int mr, int64_t n, int64_t mabs, int64_t pp, int64_t cnt, void* y,
                                int64_t src0) const {
  c += src0;  // lanes [src0, src0 + cnt) of each row (vectors past cnt read lanes that are not stored)
  if (!float_out_)
    if (const uint8_t q = tileq_[static_cast<size_t>(mabs)]; q != 0) {
      using Fn = void (QConvGemm::*)(const int32_t*, int, int64_t, int64_t, int64_t, int64_t, void*) const;
      static constexpr Fn kFast[2][2][2] = {  // [away][clamp][unsigned]
          {{&QConvGemm::store_fast<false, false, false>, &QConvGemm::store_fast<false, false, true>},
           {&QConvGemm::store_fast<false, true, false>, &QConvGemm::store_fast<false, true, true>}},
          {{&QConvGemm::store_fast<true, false, false>, &QConvGemm::store_fast<true, false, true>},
           {&QConvGemm::store_fast<true, true, false>, &QConvGemm::store_fast<true, true, true>}}};
      (this->*kFast[q == 2][qclamp_][!y_signed_])(c, mr, n, mabs, pp, cnt, y);
      return;
    }
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
        const __m256i a = _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + r * kNr + v * 8)), b);
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
      const avx2::ChannelRequant rq(mult_[static_cast<size_t>(m)], zy_, lo_, hi_);
      uint8_t* yr = static_cast<uint8_t*>(y) + off;
      for (int64_t v = 0; v * 8 < cnt; ++v) {
        const __m256i a = _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + r * kNr + v * 8)), b);
        const __m128i bytes = avx2::narrow8(rq(a));
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

// Each row's 16 lanes (cnt <= 16) requantized in registers and packed with saturation.
template <class Fmt>
template <bool kAway, bool kClamp, bool kUnsigned>
void QConvGemm<Fmt>::store_fast(const int32_t* c, int mr, int64_t n, int64_t mabs, int64_t pp, int64_t cnt,
                                void* y) const {
  const __m256i vlo = _mm256_set1_epi32(lo_), vhi = _mm256_set1_epi32(hi_);
  const int64_t pstride = rows_ ? g_.m : 1;
  for (int r = 0; r < mr; ++r) {
    const int64_t m = mabs + r;
    const __m256i b = _mm256_set1_epi32(bias_[static_cast<size_t>(m)]);
    const __m256i a0 = _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + r * kNr)), b);
    const __m256i a1 = _mm256_add_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(c + r * kNr + 8)), b);
    const __m128i bytes =
        avx2::requant16_bytes<kAway, kClamp, kUnsigned>(a0, a1, fastc_[static_cast<size_t>(m)], vlo, vhi);
    uint8_t* yr = static_cast<uint8_t*>(y) + (rows_ ? pp * g_.m + m : (n * g_.m + m) * p_ + pp);
    if (cnt == 16 && pstride == 1) {
      _mm_storeu_si128(reinterpret_cast<__m128i*>(yr), bytes);
    } else {
      alignas(16) uint8_t t[16];
      _mm_store_si128(reinterpret_cast<__m128i*>(t), bytes);
      if (pstride == 1) std::memcpy(yr, t, static_cast<size_t>(cnt));
      else
        for (int64_t i = 0; i < cnt; ++i) yr[i * pstride] = t[i];
    }
  }
}

// Batch item n, group gi, pixels [p0, p1), channel tiles [t0, t1) of the group.
template <class Fmt>
void QConvGemm<Fmt>::run_task(const uint8_t* x, void* y, int64_t n, int64_t gi, int64_t p0, int64_t p1, int64_t t0,
                             int64_t t1, const Scratch& s) const {
  const int64_t npan = ceil_div(p1 - p0, kNr);
  for (int64_t kb = 0; kb < nkb_; ++kb) {
    const int64_t k0 = kb * kc_, kgroups = std::min(kc_, kp_ - k0) / kK;
    if (x_signed_) pack_block<true>(x, n, gi, k0, kgroups, p0, p1, s);
    else pack_block<false>(x, n, gi, k0, kgroups, p0, p1, s);
    const bool first = kb == 0, last = kb == nkb_ - 1;
    auto tile = [&](int64_t j, int64_t t) {
      const int64_t pp = p0 + j * kNr, cnt = std::min(kNr, p1 - pp);
      const X* xp = s.xblock + j * kgroups * kK * kNr;
      const int mr = static_cast<int>(std::min(kMr, mg_ - t * kMr));
      const W* wp = wp_ + w_offset(gi, kb, t);
      int32_t* c = nkb_ > 1 ? s.acc + ((t - t0) * npan + j) * kTile : s.acc;
      kMicro<Fmt, false>[mr - 1][cnt > 8 ? 1 : 0](wp, xp, nullptr, kgroups, c, first);
      if (last) store_tile(c, mr, n, gi * mg_ + t * kMr, pp, cnt, y);
    };
    // The X panel stays in L1 while the K block's weights stream from L2 (measured about
    // equal to channel tiles outermost).
    for (int64_t j = 0; j < npan; ++j)
      for (int64_t t = t0; t < t1; ++t) tile(j, t);
  }
}

template <class Fmt>
void QConvGemm<Fmt>::run(const void* x, void* y, void* scratch, const TaskRunner& tasks) const {
  if (implicit_) {
    const int64_t nband = ceil_div(g_.oh, rb_), outer = g_.n * g_.group * nband;
    const int64_t want = tasks.num_workers() > 1 ? 2 * tasks.num_workers() : 1;
    const int64_t nmb = std::clamp<int64_t>(ceil_div(want, outer), 1, mt_);
    const size_t stride = scratch_stride(scratch_bytes_per_worker());
    tasks.run(static_cast<size_t>(outer * nmb), [&](size_t task, int worker) {
      const auto ti = static_cast<int64_t>(task);
      const int64_t mb = ti % nmb, band = ti / nmb % nband, gi = ti / (nmb * nband) % g_.group,
                    n = ti / (nmb * nband * g_.group);
      const BandScratch s = carve_band(static_cast<uint8_t*>(scratch) + static_cast<size_t>(worker) * stride);
      const int64_t oy0 = band * rb_, oy1 = std::min(g_.oh, oy0 + rb_);
      run_band(static_cast<const uint8_t*>(x), y, n, gi, oy0, oy1, mt_ * mb / nmb, mt_ * (mb + 1) / nmb, s);
    });
    return;
  }
  if (fc_) {
    const int workers = tasks.num_workers();
    const size_t stride = scratch_stride(scratch_bytes_per_worker());
    const int64_t nblk = ceil_div(g_.m, kFcMb), ntask = workers == 1 ? 1 : std::min<int64_t>(nblk, 4 * workers);
    tasks.run(static_cast<size_t>(ntask), [&](size_t task, int worker) {
      const auto t = static_cast<int64_t>(task);
      X* xr = reinterpret_cast<X*>(static_cast<uint8_t*>(scratch) + static_cast<size_t>(worker) * stride);
      run_fc(static_cast<const uint8_t*>(x), y, xr, nblk * t / ntask, nblk * (t + 1) / ntask);
    });
    return;
  }
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

// The factory of one level: nullptr for parameters it does not take.
template <class Fmt>
std::unique_ptr<QConvKernel> make_qconv_gemm(const QConvParams& p, const char* isa) {
  const auto& g = p.g;
  if (g.group < 1 || g.c % g.group != 0 || g.m % g.group != 0 || g.n < 1 || g.oh < 1 || g.ow < 1 || g.kh < 1 ||
      g.kw < 1)
    return nullptr;
  if (!qconv_int32_exact(p)) return nullptr;
  return std::make_unique<QConvGemm<Fmt>>(p, isa);
}

}  // namespace
}  // namespace qmap::kernels
