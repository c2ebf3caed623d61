// make_qconv_gemm_avx512vnni: the general int8 convolution (any group, kernel, stride,
// dilation, pad; Gemm/MatMul as 1x1) with AVX-512 VNNI, bit-exact with ref::qconv2d /
// qconv2d_float_out (qconv_kernel.h).
//
// Math: vpdpbusd multiplies unsigned bytes (activations) by signed bytes (weights). int8
// input is stored as x ^ 0x80 = x + 128 with zx_eff = zx + 128 (uint8: x, zx_eff = zx), and
// sum w * (x - zx) = sum w * x_stored - zx_eff * sum w, so prepare folds
// bias'[m] = bias[m] - zx_eff * sum_k w[m][k]; every padding tap (and every K-padding
// channel) is stored as zx_eff. The dispatcher only passes qconv_int32_exact parameters, so
// the true sum fits int32 and vpdpbusd's modular int32 arithmetic gives it exactly.
//
// Implicit GEMM on a padded "virtual" pixel grid (no im2col): per (batch item, group) the
// input is packed once into phase images, one per stride phase (py, px) a tap needs:
//   P[py,px][c4][i][j][4] = xpad[c = 4*c4 .. 4*c4+3][i*sh + py][j*sw + px]   (bytes)
// where xpad is the input with zx everywhere outside it. The phase width Wph = ow +
// (kw-1)*dw/sw, so output pixel (oy, ox) tap (ky, kx) reads phase ((ky*dh)%sh, (kx*dw)%sw) at
// (oy + ky*dh/sh, ox + kx*dw/sw): with the virtual pixel q = oy*Wph + ox, that is the fixed
// offset ((ky*dh/sh)*Wph + kx*dw/sw) from q. A run of 16 consecutive q is one contiguous
// 64-byte load for every tap, whatever the stride, dilation or pad; the columns
// ox in [ow, Wph) are computed and dropped (cheap: 2/58 for a 56-wide 3x3). A 1x1 stride-1
// unpadded conv packs to a plain 4-channel interleave of the input.
//
// Weights are packed at prepare per group and block of Mr = 8 output channels as
// [tap][c4][8][4] int8 (K = taps * C/group padded to a multiple of 4, M padded to 8 with
// zeros). The micro-kernel holds an 8 x (NV*16) int32 tile, NV <= 3 (8x48: 24 zmm
// accumulators): per K step of 4 it loads NV pixel vectors and does 8*NV vpdpbusd against
// broadcast 4-byte weights (8 + NV loads per 8*NV vpdpbusd, within 2 loads per cycle). The
// pixel tail is split evenly (63 pixels: 2 + 2 vectors, not 3 + 1). Mr = 8 divides every
// real channel count (64..2048), so M tails cost nothing there. The tile is requantized per
// output channel with avx512::requant16 (or converted exactly as float((double)acc * scale)
// and clamped) and stored with byte/float masked stores, one per output-row segment of each
// 16-pixel vector.
//
// Register requantization: when every channel's multiplier shift is in [32, 53] (real
// multipliers below ~1/2, i.e. nearly every real conv) the micro-kernel requantizes its own
// 8 x 48 tile from the zmm accumulators (dot_tile_q / fast_requant16: zy folded into the
// rounding constant, the products' high dwords gathered and shifted once, dword clamp skipped
// when [lo, hi] is the output type's range since the saturating packs do it), packs the
// row's 48 results to bytes with two packs + one vpermd, and stores them with one masked
// store per output row the tile touches (one for a 1x1 conv without padding). Other
// multipliers and float output keep the accumulator buffer and avx512::requant16 / to_float.
//
// int16 output (y_wide, the higher-precision form after an 8-bit input): the pixel-tile path
// with the general epilogue (requant16, then 16-bit masked stores); no register
// requantization, fully connected, channel-vectorized or batch-fold path (the factory declines
// the fold).
//
// Fully connected (h = w = kh = kw = oh = ow = 1, group 1, n <= 4 rows, i.e. Gemm with few
// rows): vectorized over output channels instead: weights packed [m/64][c4][64][4], each
// vpdpbusd does 16 channels x 4 inputs with the row's 4 input bytes broadcast, all rows share
// each weight load (the weights stream once; memory bound), per-lane requant16 / float.
//
// Packing: a channel's phase plane is built in scratch (vector pad fill, then each row's
// valid segment: copy for stride 1, vpmovwb even-byte gather for stride 2, scalar for 3+),
// then four planes are interleaved in one pass (unpack 8/16 + 128-bit transposes, ^0x80 for
// int8); 1x1-like inputs (stride 1, no column pad) interleave straight from x.
//
// Blocking and threads: a task is (batch item, group, chunk of output rows[, block of M]);
// it packs its rows (+ halo) into the worker's scratch (<= ~256 KB, stays in L2), then for
// each chunk of output channels whose packed weights fit in 512 KB: for each pixel tile (the
// X tile stays in L1/L2 across M): for each 8-channel block: micro-kernel + epilogue. With
// several workers the rows are cut finer (>= 4 tasks per worker when possible, each of at
// least kRowTaskPixels output pixels); images too small for that per worker share out the
// output channels instead (each share over every row chunk). Tasks write disjoint outputs;
// the split never changes a result. The channel-vectorized path (below) gives each worker an
// even share of an image's (48-channel block, pixel tile) units, so 3 blocks split 1.5 + 1.5,
// not 1 + 2.
//
// Gemm/MatMul (h = w = kh = kw = oh = ow = 1, n > 1 rows, not taken by the fully connected path) folds the batch into the pixel axis:
// pixel p is row p of x ([n][c], channels contiguous) and of y ([n][m]), stored by lanes.
//
// Small output images (channel-vectorized path, cv_): group 1, K = taps * C/4*4 >= 256 and
// either oh*ow <= 64 (ResNet's 7x7 stage, where 8 x 48 pixel tiles leave ~25% of the lanes
// idle: 49 or 63 virtual pixels in 64 lanes) or a 3x3+ kernel with K >= 1024 and oh*ow <=
// 1024 (3x3 @14 and stride-2 3x3 into 28/14/7). The image is packed channels-last once per
// task: xcl[i][j][c4][4] on the padded grid (1x1 strided: the subsampled grid, so stride 2
// packs only the pixels read), built as channel-quad planes (interleave4) then a 16x16
// dword transpose. Weights [m/48][tap][c4][48][4]; a tile is 48 channels x <= 8 consecutive
// output pixels (balanced: 49 = 7 x 7): per K step 3 weight loads and np broadcast 4-byte
// pixel loads feed 3 * np vpdpbusd (21 for np = 7, 100% lanes). Epilogue per 16 channels:
// per-lane register requantization (CvFastReq, same rule as fast_requant16) or
// avx512::requant_lanes / requant16 or per-lane float scales, then an 8 x 16 byte transpose
// and one masked np-byte store per channel (NCHW rows are consecutive pixels). Smaller K
// stays on the pixel tiles (the per-tile epilogue would dominate). With several workers, an
// image whose packed bytes exceed the weights' is split by row bands of pixel tiles instead
// of by units: each task packs only the rows of the grid its tiles read, then runs every
// block over them (no worker packs the whole image).
//
// Few input channels (C/group not a multiple of 4, K = C/group * taps <= 256, e.g. the
// 7x7 stem on 3 channels: K 147 -> 37 quads instead of 49 taps x 1 padded quad): im2col
// quads over (channel, tap) entries (tk_). The chunk's phase planes are built per channel,
// then quad k interleaves 4 planes read at their taps' virtual pixel offsets, so the
// micro-kernel sees a 1x1 conv with K/4 quads over the same virtual pixel grid.

// GCC 12's avx512fintrin.h seeds its "undefined" vectors with a self-initialization that
// -Wmaybe-uninitialized reports at every inlined use (GCC PR 105593, fixed in 13).
#if defined(__GNUC__) && !defined(__clang__) && __GNUC__ < 13
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#pragma GCC diagnostic ignored "-Wuninitialized"
#endif
#include <immintrin.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <vector>

#include "kernels/qconv_kernel_internal.h"
#include "kernels/weight_pack.h"
#include "kernels/x86_avx512vnni/requant.h"
#include "kernels/isa_vector.h"

// Vectors of this ISA folder (kernels/isa_vector.h says why).
template <class T>
using KVector = qmap::kernels::IsaVector<T, 512>;

namespace qmap::kernels {

namespace {

constexpr int kMr = 8;        // output channels per micro-tile
constexpr int kMaxNv = 3;     // 16-pixel vectors per micro-tile
constexpr int kTileP = kMaxNv * 16;
constexpr int64_t kRowTaskPixels = 384;  // 8 pixel tiles: the least a row-split task gets
constexpr int64_t kChunkBytes = 256 << 10;   // packed input per task, target (L2)
constexpr int64_t kWeightChunkBytes = 512 << 10;
constexpr int64_t kFcMaxRows = 4;  // fully connected path: at most this many rows
constexpr int64_t kFcMb = 64;      // output channels per fully connected block

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }

// The 8 x (NV*16) accumulator tile of both micro-kernels: bias, then every tap and channel
// quad. Always inlined, so `acc` stays in zmm registers in the caller.
template <int NV>
__attribute__((always_inline)) inline void accumulate_tile(__m512i (&acc)[kMr][NV], const uint8_t* xb,
                                                           const int64_t* tapoff, int ntaps, int c4n, int64_t plane,
                                                           const int8_t* w, const int32_t* bias) {
#pragma GCC unroll 8
  for (int r = 0; r < kMr; ++r) {
    const __m512i b = _mm512_set1_epi32(bias[r]);
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) acc[r][v] = b;
  }
  for (int t = 0; t < ntaps; ++t) {
    const uint8_t* xp = xb + tapoff[t];
    for (int c = 0; c < c4n; ++c, xp += plane, w += 4 * kMr) {
      __m512i xv[NV];
#pragma GCC unroll 3
      for (int v = 0; v < NV; ++v) xv[v] = _mm512_loadu_si512(xp + 64 * v);
#pragma GCC unroll 8
      for (int r = 0; r < kMr; ++r) {
        int32_t wr;
        std::memcpy(&wr, w + 4 * r, 4);
        const __m512i wb = _mm512_set1_epi32(wr);
#pragma GCC unroll 3
        for (int v = 0; v < NV; ++v) acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], xv[v], wb);
      }
    }
  }
}

// acc[8][NV*16] = bias + sum over taps t and channel quads c4 of w * x.
// xb: packed input at the tile's first virtual pixel; tapoff[t]: byte offset of tap t;
// plane: bytes between channel quads; w: the block's weights [taps][c4n][8][4].
template <int NV>
inline void dot_tile(const uint8_t* xb, const int64_t* tapoff, int ntaps, int c4n, int64_t plane,
                     const int8_t* w, const int32_t* bias, int32_t* out) {
  // Fully unrolled (GCC does not unroll these at -O2): the 8*NV accumulators live in zmm.
  __m512i acc[kMr][NV];
  accumulate_tile<NV>(acc, xb, tapoff, ntaps, c4n, plane, w, bias);
#pragma GCC unroll 8
  for (int r = 0; r < kMr; ++r)
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) _mm512_storeu_si512(out + (r * kMaxNv + v) * 16, acc[r][v]);
}

using DotFn = void (*)(const uint8_t*, const int64_t*, int, int, int64_t, const int8_t*, const int32_t*, int32_t*);
constexpr DotFn kDot[kMaxNv + 1] = {nullptr, dot_tile<1>, dot_tile<2>, dot_tile<3>};

// One output segment of a pixel tile: byte l of the tile's packed output (lane l of vector
// l / 16) goes to plane offset base + l for the lanes set in mask.
struct Seg64 {
  int64_t base;
  uint64_t mask;
};

// Up to 3 vectors of int32 results -> bytes 0..16*NV-1 of one zmm (vector v in bytes
// 16v..16v+15), saturated to int8 (pack_bytes) or uint8 (pack_bytes_u): exact for results
// already in [lo, hi], and the clamp itself when [lo, hi] is the type's range.
template <int NV>
inline __m512i pack_bytes(const __m512i* r) {
  const __m512i w01 = _mm512_packs_epi32(r[0], r[NV > 1 ? 1 : 0]);
  const __m512i w2 = NV > 2 ? _mm512_packs_epi32(r[NV > 2 ? 2 : 0], r[NV > 2 ? 2 : 0]) : w01;
  const __m512i b = _mm512_packs_epi16(w01, w2);
  return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), b);
}

template <int NV>
inline __m512i pack_bytes_u(const __m512i* r) {
  const __m512i w01 = _mm512_packs_epi32(r[0], r[NV > 1 ? 1 : 0]);
  const __m512i w2 = NV > 2 ? _mm512_packs_epi32(r[NV > 2 ? 2 : 0], r[NV > 2 ? 2 : 0]) : w01;
  const __m512i b = _mm512_packus_epi16(w01, w2);
  return _mm512_permutexvar_epi32(_mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15), b);
}

// dot_tile followed by the register requantization and byte stores of rows [0, mrows):
// row r goes to the plane y + r * plane_bytes, through the tile's segments. kAway: see
// fast_requant16 (false only for blocks whose 8 channels rule ties out).
template <int NV, bool kUnsigned, bool kClamp, bool kAway>
void dot_tile_q(const uint8_t* xb, const int64_t* tapoff, int ntaps, int c4n, int64_t plane, const int8_t* w,
                const int32_t* bias, const avx512::FastReq* fq, int32_t lo, int32_t hi, int mrows, uint8_t* y,
                int64_t plane_bytes, const Seg64* segs, int nseg) {
  __m512i acc[kMr][NV];
  accumulate_tile<NV>(acc, xb, tapoff, ntaps, c4n, plane, w, bias);
  const __m512i vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
#pragma GCC unroll 8
  for (int r = 0; r < kMr; ++r) {
    if (r >= mrows) break;
    __m512i q[NV];
#pragma GCC unroll 3
    for (int v = 0; v < NV; ++v) q[v] = avx512::fast_requant16<kClamp, kAway>(acc[r][v], fq[r], vlo, vhi);
    const __m512i b = kUnsigned ? pack_bytes_u<NV>(q) : pack_bytes<NV>(q);
    uint8_t* yp = y + r * plane_bytes;
    for (int s = 0; s < nseg; ++s)
      _mm512_mask_storeu_epi8(reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(yp) + segs[s].base), segs[s].mask, b);
  }
}

using DotQFn = void (*)(const uint8_t*, const int64_t*, int, int, int64_t, const int8_t*, const int32_t*,
                        const avx512::FastReq*, int32_t, int32_t, int, uint8_t*, int64_t, const Seg64*, int);
template <bool U, bool C, bool A>
constexpr DotQFn kDotQRow[kMaxNv + 1] = {nullptr, dot_tile_q<1, U, C, A>, dot_tile_q<2, U, C, A>,
                                         dot_tile_q<3, U, C, A>};
// [unsigned pack][clamp][away]
constexpr const DotQFn* kDotQ[2][2][2] = {
    {{kDotQRow<false, false, false>, kDotQRow<false, false, true>},
     {kDotQRow<false, true, false>, kDotQRow<false, true, true>}},
    {{kDotQRow<true, false, false>, kDotQRow<true, false, true>},
     {kDotQRow<true, true, false>, kDotQRow<true, true, true>}}};

// a, b, c, d: n bytes each -> dst: n groups of 4 bytes (a[i], b[i], c[i], d[i]), each byte
// xor `flip`. Reads and writes exactly the n (4n) bytes (masked tails).
void interleave4(const uint8_t* a, const uint8_t* b, const uint8_t* c, const uint8_t* d, int64_t n, uint8_t flip,
                 uint8_t* dst) {
  const __m512i fx = _mm512_set1_epi8(static_cast<char>(flip));
  for (int64_t i = 0; i < n; i += 64, dst += 256) {
    const int64_t rem = n - i;
    __m512i va, vb, vc, vd;
    if (rem >= 64) {
      va = _mm512_loadu_si512(a + i), vb = _mm512_loadu_si512(b + i);
      vc = _mm512_loadu_si512(c + i), vd = _mm512_loadu_si512(d + i);
    } else {
      const __mmask64 k = (__mmask64{1} << rem) - 1;
      va = _mm512_maskz_loadu_epi8(k, a + i), vb = _mm512_maskz_loadu_epi8(k, b + i);
      vc = _mm512_maskz_loadu_epi8(k, c + i), vd = _mm512_maskz_loadu_epi8(k, d + i);
    }
    const __m512i ab_lo = _mm512_unpacklo_epi8(va, vb), ab_hi = _mm512_unpackhi_epi8(va, vb);
    const __m512i cd_lo = _mm512_unpacklo_epi8(vc, vd), cd_hi = _mm512_unpackhi_epi8(vc, vd);
    // t_k holds pixels 4k..4k+3 of every 16-pixel 128-bit lane.
    const __m512i t0 = _mm512_unpacklo_epi16(ab_lo, cd_lo), t1 = _mm512_unpackhi_epi16(ab_lo, cd_lo);
    const __m512i t2 = _mm512_unpacklo_epi16(ab_hi, cd_hi), t3 = _mm512_unpackhi_epi16(ab_hi, cd_hi);
    const __m512i u0 = _mm512_shuffle_i64x2(t0, t1, 0x44), u1 = _mm512_shuffle_i64x2(t0, t1, 0xEE);
    const __m512i u2 = _mm512_shuffle_i64x2(t2, t3, 0x44), u3 = _mm512_shuffle_i64x2(t2, t3, 0xEE);
    __m512i f[4] = {_mm512_shuffle_i64x2(u0, u2, 0x88), _mm512_shuffle_i64x2(u0, u2, 0xDD),
                    _mm512_shuffle_i64x2(u1, u3, 0x88), _mm512_shuffle_i64x2(u1, u3, 0xDD)};
    for (int k = 0; k < 4; ++k) {
      f[k] = _mm512_xor_si512(f[k], fx);
      const int64_t px = std::clamp<int64_t>(rem - 16 * k, 0, 16);
      if (px == 16) _mm512_storeu_si512(dst + 64 * k, f[k]);
      else if (px > 0) _mm512_mask_storeu_epi8(dst + 64 * k, (__mmask64{1} << (4 * px)) - 1, f[k]);
    }
  }
}

// dst[j] = src[2 * j] for j < n; reads only src[0 .. 2n-2].
void gather_even(const uint8_t* src, int64_t n, uint8_t* dst) {
  for (int64_t j = 0; j < n; j += 32) {
    const int64_t k = std::min<int64_t>(32, n - j);
    __m512i v;
    if (k == 32 && j + 32 < n) v = _mm512_loadu_si512(src + 2 * j);
    else v = _mm512_maskz_loadu_epi8((~__mmask64{0}) >> (65 - 2 * k), src + 2 * j);
    const __m256i e = _mm512_cvtepi16_epi8(v);  // the low (even) byte of every word
    if (k == 32) _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + j), e);
    else _mm256_mask_storeu_epi8(dst + j, (1u << k) - 1, e);
  }
}

// p[0, n) = v.
inline void fill(uint8_t* p, int64_t n, __m512i v) {
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) _mm512_storeu_si512(p + i, v);
  if (i < n) _mm512_mask_storeu_epi8(p + i, (~__mmask64{0}) >> (64 - (n - i)), v);
}

// dst[0, n) = src[0, n).
inline void copy(const uint8_t* src, int64_t n, uint8_t* dst) {
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) _mm512_storeu_si512(dst + i, _mm512_loadu_si512(src + i));
  if (i < n) {
    const __mmask64 k = (~__mmask64{0}) >> (64 - (n - i));
    _mm512_mask_storeu_epi8(dst + i, k, _mm512_maskz_loadu_epi8(k, src + i));
  }
}

// Row `row` of the input (x's element index of its column 0, which lies before the row or
// before x itself when the window starts in the padding) into d[jlo, jhi): d[j] = x[row + j *
// stride_w]. Pointers are formed only for the valid columns (forming one outside x is
// undefined behaviour, and a crafted .bin's large pads made the old pointer wrap).
inline void copy_row_segment(const uint8_t* x, int64_t row, int64_t jlo, int64_t jhi, int64_t stride_w, uint8_t* d) {
  if (stride_w == 1) copy(x + (row + jlo), jhi - jlo, d + jlo);
  else if (stride_w == 2) gather_even(x + (row + 2 * jlo), jhi - jlo, d + jlo);
  else
    for (int64_t j = jlo; j < jhi; ++j) d[j] = x[row + j * stride_w];
}

// Vectors in the next pixel tile when `rest` pixels remain: the fewest tiles of at most
// kMaxNv vectors, as even as possible (63 pixels: 2 + 2 vectors, not 3 + 1, whose 8x16 tile
// needs 9 loads per 8 vpdpbusd).
inline int64_t balanced_nv(int64_t rest) {
  const int64_t vecs = ceil_div(rest, 16);
  return ceil_div(vecs, ceil_div(vecs, kMaxNv));
}

// ---- Channel-vectorized tiles (small output images, see the header) ----
constexpr int kCvMv = 3;               // 16-channel vectors per tile (48 output channels)
constexpr int kCvMb = 16 * kCvMv;      // output channels per block
constexpr int kCvMaxNp = 8;            // output pixels per tile
constexpr int64_t kCvMaxPix = 1024;  // output pixels per image, 3x3+ with K >= 1024
constexpr int64_t kCvMaxPackBytes = 1 << 20;
constexpr int64_t kTkMaxK = 256;  // im2col quads (pack_tk) up to this K

// acc[NP][MV] = bias + sum over K steps of w (16 channels per vector) * x (pixel's 4 bytes
// broadcast). xp[j]: pixel j's packed channels-last row; koff[t]: tap t's byte offset;
// w: the block's weights [taps][c4][48][4]; out: [NP][48] int32. pf: pf_lines cache lines
// (of the next block's weights) to prefetch into L2, one per K step.
template <int MV, int NP>
void cv_tile(const uint8_t* const* xp, const int64_t* koff, int ntaps, int c4n, const int8_t* w,
             const int32_t* bias, int32_t* out, const char* pf, int64_t pf_lines) {
  const char* const pf_end = pf + 64 * pf_lines;
  __m512i acc[NP][MV];
#pragma GCC unroll 3
  for (int v = 0; v < MV; ++v) {
    const __m512i b = _mm512_loadu_si512(bias + 16 * v);
#pragma GCC unroll 8
    for (int j = 0; j < NP; ++j) acc[j][v] = b;
  }
  const uint8_t* p[NP];
#pragma GCC unroll 8
  for (int j = 0; j < NP; ++j) p[j] = xp[j];
  for (int t = 0; t < ntaps; ++t) {
    const int64_t o0 = koff[t];
    for (int64_t o = o0, oe = o0 + 4 * int64_t{c4n}; o < oe; o += 4, w += 4 * kCvMb) {
      if (pf < pf_end) {
        _mm_prefetch(pf, _MM_HINT_T1);
        pf += 64;
      }
      __m512i wv[MV];
#pragma GCC unroll 3
      for (int v = 0; v < MV; ++v) wv[v] = _mm512_loadu_si512(w + 64 * v);
#pragma GCC unroll 8
      for (int j = 0; j < NP; ++j) {
        int32_t xr;
        std::memcpy(&xr, p[j] + o, 4);
        const __m512i xb = _mm512_set1_epi32(xr);
#pragma GCC unroll 3
        for (int v = 0; v < MV; ++v) acc[j][v] = _mm512_dpbusd_epi32(acc[j][v], xb, wv[v]);
      }
    }
  }
#pragma GCC unroll 8
  for (int j = 0; j < NP; ++j)
#pragma GCC unroll 3
    for (int v = 0; v < MV; ++v) _mm512_storeu_si512(out + j * kCvMb + 16 * v, acc[j][v]);
}

using CvFn = void (*)(const uint8_t* const*, const int64_t*, int, int, const int8_t*, const int32_t*, int32_t*,
                     const char*, int64_t);
template <int MV>
constexpr CvFn kCvRow[kCvMaxNp + 1] = {nullptr,          cv_tile<MV, 1>, cv_tile<MV, 2>, cv_tile<MV, 3>,
                                       cv_tile<MV, 4>, cv_tile<MV, 5>, cv_tile<MV, 6>, cv_tile<MV, 7>,
                                       cv_tile<MV, 8>};
constexpr const CvFn* kCv[kCvMv + 1] = {nullptr, kCvRow<1>, kCvRow<2>, kCvRow<3>};

// Per-lane constants of the register requantization of 16 channels (FastReq by lanes):
// even / odd channel mantissas (low dword of each qword), rounding+zero point constants, and
// each lane's shift - 32.
struct alignas(64) CvFastReq {
  int64_t me[8], mo[8], he[8], ho[8];
  int32_t s32[16];
};

// avx512::fast_requant16's rule with per-lane constants: the products' high dwords gathered
// by one vpermt2d, then one per-lane arithmetic shift.
template <bool kAway>
inline __m512i cv_fast_requant16(__m512i acc, const CvFastReq& q) {
  const __m512i pe = _mm512_mul_epi32(acc, _mm512_load_si512(q.me));
  const __m512i po = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), _mm512_load_si512(q.mo));
  const __m512i hi_dwords = _mm512_setr_epi32(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
  return _mm512_srav_epi32(_mm512_permutex2var_epi32(avx512::rounding_add<kAway>(pe, _mm512_load_si512(q.he)), hi_dwords,
                                                     avx512::rounding_add<kAway>(po, _mm512_load_si512(q.ho))),
                           _mm512_load_si512(q.s32));
}

// 16 x 16 dword transpose: r[i] lane j -> r[j] lane i.
inline void transpose16x16_epi32(__m512i* r) {
  __m512i t[16], u[16];
  for (int i = 0; i < 8; ++i) {
    t[2 * i] = _mm512_unpacklo_epi32(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_epi32(r[2 * i], r[2 * i + 1]);
  }
  // u[4g + c]: lane L holds column 4L + c of rows 4g..4g+3.
  for (int g = 0; g < 4; ++g) {
    u[4 * g + 0] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
    u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1], t[4 * g + 3]);
    u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1], t[4 * g + 3]);
  }
  for (int c = 0; c < 4; ++c) {
    const __m512i a = _mm512_shuffle_i32x4(u[c], u[4 + c], 0x88), b = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0x88);
    const __m512i a2 = _mm512_shuffle_i32x4(u[c], u[4 + c], 0xDD), b2 = _mm512_shuffle_i32x4(u[8 + c], u[12 + c], 0xDD);
    r[c] = _mm512_shuffle_i32x4(a, b, 0x88);
    r[8 + c] = _mm512_shuffle_i32x4(a, b, 0xDD);
    r[4 + c] = _mm512_shuffle_i32x4(a2, b2, 0x88);
    r[12 + c] = _mm512_shuffle_i32x4(a2, b2, 0xDD);
  }
}

// src: rows x cols dwords (row stride = cols) -> dst: cols x rows (row stride = rows).
// Only columns [cb, ce) when given (the rest of dst is left as it is).
void transpose_dwords(const uint32_t* src, int64_t rows, int64_t cols, uint32_t* dst, int64_t cb = 0, int64_t ce = -1) {
  if (ce < 0) ce = cols;
  for (int64_t r0 = 0; r0 < rows; r0 += 16)
    for (int64_t c0 = cb; c0 < ce; c0 += 16) {
      const int64_t nr = std::min<int64_t>(16, rows - r0), nc = std::min<int64_t>(16, ce - c0);
      const __mmask16 kc = static_cast<__mmask16>((1u << nc) - 1), kr = static_cast<__mmask16>((1u << nr) - 1);
      __m512i v[16];
      for (int i = 0; i < 16; ++i)
        v[i] = i < nr ? _mm512_maskz_loadu_epi32(kc, src + (r0 + i) * cols + c0) : _mm512_setzero_si512();
      transpose16x16_epi32(v);
      for (int i = 0; i < nc; ++i) _mm512_mask_storeu_epi32(dst + (c0 + i) * rows + r0, kr, v[i]);
    }
}

struct Seg {
  int64_t base;  // output element offset (within an output channel plane) of lane 0
  uint16_t mask;
};

class QConvGemmAvx512Vnni final : public QConvKernel {
 public:
  explicit QConvGemmAvx512Vnni(const QConvParams& p) : g_(p.g) {
    const auto& g = g_;
    float_out_ = p.float_out;
    y_wide_ = p.y_wide && !p.float_out;
    zy_ = p.zy;
    lo_ = p.lo;
    hi_ = p.hi;
    fmin_ = p.float_min;
    fmax_ = p.float_max;
    cg_ = g.c / g.group;
    mg_ = g.m / g.group;
    c4n_ = ceil_div(cg_, 4);
    taps_ = g.kh * g.kw;
    mb_ = ceil_div(mg_, kMr);
    fold_ = g.h == 1 && g.w == 1 && g.kh == 1 && g.kw == 1 && g.oh == 1 && g.ow == 1 && g.pad_top == 0 &&
            g.pad_left == 0 && g.n > 1;
    const int32_t zx_eff = p.x_signed ? p.zx + 128 : p.zx;
    pad_byte_ = static_cast<uint8_t>(p.zx);  // raw domain: ^ flip gives zx_eff
    flip_ = p.x_signed ? 0x80 : 0;
    snprintf(name_, sizeof(name_), "%s_conv_gemm__avx512vnni_%dx%d", p.x_signed ? "qs8" : "qu8", kMr, kTileP);

    // Folded bias and per-channel output parameters, per row [group][mb * 8]. The weights
    // are packed below, once, in the layout of the path this shape takes.
    const int64_t rows = g.group * mb_ * kMr;
    const int64_t row_weights = cg_ * taps_;  // weights per output channel
    // sums: each output channel's sum of weights, filled by the packing of the path taken.
    // The weights of the path taken and each output channel's sum of them: adopted from
    // p.prepacked when it holds this path's layout (docs/format.md, PACKED), else packed into
    // `own` and sums_.
    auto place_weights = [&](KVector<int8_t>& own, const char* path, int64_t block, int64_t bytes, auto&& pack) {
      snprintf(layout_, sizeof(layout_), "avx512vnni.%s%d.1", path, static_cast<int>(block));
      if (adopt_packed_conv(p, layout_, static_cast<size_t>(bytes))) {
        wp_ = reinterpret_cast<const int8_t*>(p.prepacked.data());
        sp_ = p.prepacked_sums.data();
        adopted_ = true;
      } else {
        own.resize(static_cast<size_t>(bytes));
        sums_.assign(static_cast<size_t>(g.m), 0);
        pack(own.data(), sums_.data());
        wp_ = own.data();
        sp_ = sums_.data();
      }
      wbytes_ = bytes;
    };
    auto fold_bias = [&] {
      bias_.assign(static_cast<size_t>(rows), 0);
      for (int64_t gi = 0; gi < g.group; ++gi)
        for (int64_t mi = 0; mi < mg_; ++mi) {
          const int64_t m = gi * mg_ + mi;
          const int64_t b = p.bias.empty() ? 0 : p.bias[static_cast<size_t>(m)];
          bias_[static_cast<size_t>(gi * mb_ * kMr + mi)] =
              static_cast<int32_t>(b - int64_t{zx_eff} * sp_[m]);
        }
    };
    // Per-row output scales (float output only; the fully connected and general paths read
    // them then).
    if (p.float_out) {
      scale_.assign(static_cast<size_t>(rows), 0.0);
      for (int64_t gi = 0; gi < g.group; ++gi)
        for (int64_t mi = 0; mi < mg_; ++mi)
          scale_[static_cast<size_t>(gi * mb_ * kMr + mi)] = p.acc_scale[static_cast<size_t>(gi * mg_ + mi)];
    }
    // Register requantization when every channel's shift allows it (fast_requant16), rounding
    // half up in the blocks of channels that can never meet a tie (ties_possible) for an
    // accumulator within the int32 bound of qconv_int32_exact. The general path's tables of
    // it are built below, once that path is taken (the others build their own).
    const int64_t acc_bound = qconv_acc_bound(p);
    fastq_ = !p.float_out && !y_wide_;
    qclamp_ = !((p.lo == 0 && p.hi == 255) || (p.lo == -128 && p.hi == 127));
    if (fastq_)
      for (const QMultiplier& q : p.mult)
        if (!avx512::fast_req_ok(q)) fastq_ = false;

    // Fully connected (a few rows of one pixel): vectorized over output channels.
    fc_ = !y_wide_ && g.h == 1 && g.w == 1 && g.kh == 1 && g.kw == 1 && g.oh == 1 && g.ow == 1 && g.pad_top == 0 &&
          g.pad_left == 0 && g.group == 1 && g.n <= kFcMaxRows;
    if (fc_) {
      fold_ = false;
      const int64_t mp = round_up(g.m, kFcMb);
      place_weights(wfc_, "fc", kFcMb, c4n_ * mp * 4, [&](int8_t* dst, int64_t* sums) {  // [m / 64][c4][64][4]
        pack_weight_quads(dst, p.weights.data(), g.m, cg_, 1, kFcMb, PackOrder::kTapMajor, sums);
      });
      fold_bias();
      bias_.resize(static_cast<size_t>(mp), 0);
      fcm_.assign(static_cast<size_t>(mp), 1 << 30);
      fcs_.assign(static_cast<size_t>(mp), 1);
      if (p.float_out) {
        scale_.resize(static_cast<size_t>(mp), 0.0);
      } else {
        for (int64_t m = 0; m < g.m; ++m) {
          fcm_[static_cast<size_t>(m)] = p.mult[static_cast<size_t>(m)].m;
          fcs_[static_cast<size_t>(m)] = p.mult[static_cast<size_t>(m)].shift;
        }
      }
      xbuf_bytes_ = kFcMaxRows * c4n_ * 4;
      return;
    }

    // Small output images: channel-vectorized tiles over a channels-last packed input.
    {
      const bool one = g.kh == 1 && g.kw == 1;
      cv_gsh_ = one ? g.stride_h : 1;
      cv_gsw_ = one ? g.stride_w : 1;
      cv_ph_ = cv_rows_through(g.oh - 1);
      cv_pw_ = (g.ow - 1) * g.stride_w / cv_gsw_ + (g.kw - 1) * g.dil_w + 1;
      const int64_t cb = c4n_ * 4;
      cv_ = !y_wide_ && g.group == 1 && !fold_ && g.oh * g.ow <= kCvMaxPix && g.m >= 16 && cv_ph_ * cv_pw_ * cb <= kCvMaxPackBytes &&
            taps_ * cb >= 256 && (g.oh * g.ow <= 64 || (taps_ >= 9 && taps_ * cb >= 1024 && g.oh * g.ow <= kCvMaxPix));
    }
    if (cv_) {
      const int64_t cb = c4n_ * 4;
      cv_nmb_ = ceil_div(g.m, kCvMb);
      const int64_t mp = cv_nmb_ * kCvMb, k4 = taps_ * c4n_;
      place_weights(wcv_, "cv", kCvMb, mp * k4 * 4, [&](int8_t* dst, int64_t* sums) {  // [m / 48][tap][c4][48][4]
        pack_weight_quads(dst, p.weights.data(), g.m, cg_, taps_, kCvMb, PackOrder::kTapMajor, sums);
      });
      fold_bias();
      bcv_.assign(static_cast<size_t>(mp), 0);
      // The register requantization's constants, or the general path's multipliers (only the
      // one the epilogue reads is built).
      if (!p.float_out && !fastq_) {
        cvm_.assign(static_cast<size_t>(mp), 1 << 30);
        cvs_.assign(static_cast<size_t>(mp), 31);
      }
      if (p.float_out) cvscale_.assign(static_cast<size_t>(mp), 0.0);
      if (fastq_) {
        cvq_.assign(static_cast<size_t>(mp / 16), CvFastReq{});
        cv_away_.assign(static_cast<size_t>(mp / 16), 0);
      }
      for (int64_t m = 0; m < g.m; ++m) {
        bcv_[static_cast<size_t>(m)] = bias_[static_cast<size_t>((m / kMr) * kMr + m % kMr)];
        if (p.float_out) {
          cvscale_[static_cast<size_t>(m)] = p.acc_scale[static_cast<size_t>(m)];
          continue;
        }
        const QMultiplier q = p.mult[static_cast<size_t>(m)];
        if (!fastq_) {
          cvm_[static_cast<size_t>(m)] = q.m;
          cvs_[static_cast<size_t>(m)] = q.shift;
        } else {
          if (ties_possible(q, acc_bound)) cv_away_[static_cast<size_t>(m / 16)] = 1;
          CvFastReq& f = cvq_[static_cast<size_t>(m / 16)];
          const int l = static_cast<int>(m % 16) / 2;
          const int64_t h = avx512::fast_round_const(q, p.zy);
          if (m % 2 == 0) f.me[l] = q.m, f.he[l] = h;
          else f.mo[l] = q.m, f.ho[l] = h;
          f.s32[m % 16] = q.shift - 32;
        }
      }
      for (int64_t ky = 0; ky < g.kh; ++ky)
        for (int64_t kx = 0; kx < g.kw; ++kx) cv_koff_.push_back(((ky * g.dil_h) * cv_pw_ + kx * g.dil_w) * cb);
      const int64_t pix = cv_ph_ * cv_pw_;
      cv_bands_ = pix * cb > mp * k4 * 4;
      cv_xcl_bytes_ = round_up(pix * cb + 64, 64);
      cv_tq_bytes_ = round_up(pix * cb, 64);
      cv_tplane_ = round_up(pix, 64);
      snprintf(name_, sizeof(name_), "%s_conv_gemm__avx512vnni_%dx%d", p.x_signed ? "qs8" : "qu8", kCvMb, kCvMaxNp);
      return;
    }

    // The general path's requantization tables, per row [group][mb * 8].
    // mult_ for the general epilogues (requant16: not fastq_, and the folded batch's always),
    // fq_ and away_ for the register requantization.
    const bool general_q = !p.float_out && (!fastq_ || fold_);
    if (general_q) mult_.assign(static_cast<size_t>(rows), QMultiplier{});
    away_.assign(static_cast<size_t>(g.group * mb_), 0);
    if (fastq_) fq_.assign(static_cast<size_t>(rows), avx512::FastReq{0, 0, 0, 0});
    if (!p.float_out)
      for (int64_t gi = 0; gi < g.group; ++gi)
        for (int64_t mi = 0; mi < mg_; ++mi) {
          const QMultiplier q = p.mult[static_cast<size_t>(gi * mg_ + mi)];
          const size_t row = static_cast<size_t>(gi * mb_ * kMr + mi);
          if (general_q) mult_[row] = q;
          if (fastq_)
            fq_[row] = avx512::FastReq{q.m, avx512::fast_round_const(q, p.zy), q.shift, q.shift - 32};
          if (ties_possible(q, acc_bound)) away_[static_cast<size_t>(gi * mb_ + mi / kMr)] = 1;
        }

    // The general path's weights: [group][mb][quad][8][4]. Few channels (not a multiple of
    // 4): quads over (channel, tap) instead (tk_, im2col, see pack_tk), K = C/group * taps
    // padded to 4 instead of taps * (C/group padded to 4).
    tk_ = !fold_ && cg_ % 4 != 0 && taps_ > 1 && cg_ * taps_ <= kTkMaxK && ceil_div(cg_ * taps_, 4) < taps_ * c4n_;
    if (tk_) tk_c4n_ = ceil_div(cg_ * taps_, 4);
    const PackOrder order = tk_ ? PackOrder::kFlat : PackOrder::kTapMajor;
    wblock_ = packed_quads(cg_, taps_, order) * 4 * kMr;
    place_weights(w_, tk_ ? "gemm-tk" : "gemm", kMr, g.group * mb_ * wblock_, [&](int8_t* dst, int64_t* sums) {
      for (int64_t gi = 0; gi < g.group; ++gi)
        pack_weight_quads(dst + gi * mb_ * wblock_, p.weights.data() + gi * mg_ * row_weights, mg_, cg_, taps_, kMr,
                          order, sums + gi * mg_);
    });
    fold_bias();

    // Phase images and tap offsets.
    if (fold_) {
      wph_ = 0;
      rowoff_ = 0;
      nph_ = 1;
      // Pixels (batch rows) per task.
      rmax_ = std::max<int64_t>(16, std::min<int64_t>(round_up(g.n, 16), kChunkBytes / (4 * c4n_) / 16 * 16));
      plane_pix_max_ = round_up(rmax_, 16) + 16;
      xbuf_bytes_ = c4n_ * plane_pix_max_ * 4;
      return;
    }
    for (int64_t ky = 0; ky < g.kh; ++ky) add_unique(&pys_, (ky * g.dil_h) % g.stride_h);
    for (int64_t kx = 0; kx < g.kw; ++kx) add_unique(&pxs_, (kx * g.dil_w) % g.stride_w);
    nph_ = static_cast<int64_t>(pys_.size() * pxs_.size());
    wph_ = g.ow + (g.kw - 1) * g.dil_w / g.stride_w;
    rowoff_ = (g.kh - 1) * g.dil_h / g.stride_h;
    const int64_t bytes_per_row = (tk_ ? tk_c4n_ : nph_ * c4n_) * 4 * wph_;
    rmax_ = std::clamp<int64_t>(kChunkBytes / bytes_per_row - rowoff_ - 1, 1, g.oh);
    plane_pix_max_ = round_up((rmax_ + rowoff_ + 1) * wph_ + 16, 16);
    xbuf_bytes_ = (tk_ ? tk_c4n_ : nph_ * c4n_) * plane_pix_max_ * 4;
    tplane_ = round_up(plane_pix_max_, 64);
    if (tk_) {
      tk_tplane_ = round_up(plane_pix_max_ + 64, 64);
      tk_tmp_bytes_ = (cg_ * nph_ + 1) * tk_tplane_;
    }
    for (int64_t ky = 0; ky < g.kh; ++ky)
      for (int64_t kx = 0; kx < g.kw; ++kx) {
        const int64_t sy = index_of(pys_, (ky * g.dil_h) % g.stride_h), sx = index_of(pxs_, (kx * g.dil_w) % g.stride_w);
        tap_slot_.push_back(sy * static_cast<int64_t>(pxs_.size()) + sx);
        tap_pix_.push_back((ky * g.dil_h / g.stride_h) * wph_ + kx * g.dil_w / g.stride_w);
      }
  }

  const char* name() const override { return name_; }
  // False for an int16 output on the Gemm batch fold (its epilogue writes bytes); the other
  // paths an int16 output could take are turned off in the constructor.
  bool takes_wide_output() const { return !y_wide_ || !fold_; }

  QConvPacked packed() const override {
    return {layout_, {reinterpret_cast<const std::byte*>(wp_), static_cast<size_t>(wbytes_)}, {sp_, static_cast<size_t>(g_.m)}};
  }
  bool adopted() const override { return adopted_; }

  size_t scratch_bytes_per_worker() const override {
    if (cv_) return static_cast<size_t>(cv_xcl_bytes_ + cv_tq_bytes_ + 4 * cv_tplane_ + 64);
    return static_cast<size_t>(xbuf_bytes_ + 256 + std::max(4 * tplane_, tk_tmp_bytes_) + 64);
  }

  void run(const void* x, void* y, void* scratch, const TaskRunner& tasks) const override {
    const auto& g = g_;
    const int workers = tasks.num_workers();
    if (fc_) {
      const int workers = tasks.num_workers();
      const size_t stride = scratch_stride(scratch_bytes_per_worker());
      const int64_t nblk = ceil_div(g.m, kFcMb), ntask = workers == 1 ? 1 : std::min<int64_t>(nblk, 4 * workers);
      tasks.run(static_cast<size_t>(ntask), [&](size_t task, int worker) {
        const int64_t t = static_cast<int64_t>(task);
        run_fc(static_cast<const uint8_t*>(x), y, static_cast<uint8_t*>(scratch) + static_cast<size_t>(worker) * stride,
               nblk * t / ntask, nblk * (t + 1) / ntask);
      });
      return;
    }
    if (cv_) {
      const size_t stride = scratch_stride(scratch_bytes_per_worker());
      // An image's work is cv_nmb_ x ntile units (a 48-channel block on one pixel tile), in
      // block-major order; each task packs its image once and runs an even share of them
      // (splitting whole blocks left ResNet-50's 128-channel 28x28 layers at 1 + 2 blocks).
      // Images whose packed form outweighs the weights (ResNet-50's stride-2 3x3 into 28x28:
      // 430 KB packed, 147 KB of weights) split by row bands instead, two per worker: each
      // task packs only its rows (the ones a row-split producer mostly wrote on that core) and
      // runs every block on them. That layer at 2 threads: 267-303 -> 216-231 us.
      if (workers > 1 && cv_bands_) {
        const int64_t ntile = cv_ntile(), nb = std::min<int64_t>(ntile, ceil_div(2 * workers, g.n));
        tasks.run(static_cast<size_t>(g.n * nb), [&](size_t task, int worker) {
          const int64_t t = static_cast<int64_t>(task), b = t % nb, n = t / nb;
          run_cv(static_cast<const uint8_t*>(x), y, static_cast<uint8_t*>(scratch) + static_cast<size_t>(worker) * stride,
                 n, ntile * b / nb, ntile * (b + 1) / nb, true);
        });
        return;
      }
      const int64_t units = cv_nmb_ * cv_ntile(), msplit = workers > 1 ? std::min(units, ceil_div(workers, g.n)) : 1;
      tasks.run(static_cast<size_t>(g.n * msplit), [&](size_t task, int worker) {
        const int64_t t = static_cast<int64_t>(task), ms = t % msplit, n = t / msplit;
        run_cv(static_cast<const uint8_t*>(x), y, static_cast<uint8_t*>(scratch) + static_cast<size_t>(worker) * stride,
               n, units * ms / msplit, units * (ms + 1) / msplit);
      });
      return;
    }
    const int64_t nimg = fold_ ? g.group : g.n * g.group;
    const int64_t extent = fold_ ? g.n : g.oh;  // rows (or batch pixels) to chunk
    int64_t r = rmax_;
    // A row split gives each task at least kRowTaskPixels output pixels (ResNet's 28x28 stage:
    // two 14-row halves, not 4-row slivers that leave a third of a tile's lanes idle). Images
    // too small for that per worker (ResNet's 14x14 and 7x7 stages) share out the output
    // channels of whole images instead: cutting rows would give each task a sliver of pixels
    // and make every task stream all the weights again. Rows keep more of the data local:
    // each worker packs only its rows, which a row-split producer mostly wrote on that core,
    // where every channel share packs (and reads) the whole image. Paired A/B on ResNet-50 at
    // 2 threads against channel shares at 28x28: 0.981x (12 rounds).
    const int64_t min_rows = fold_ ? 1 : ceil_div(kRowTaskPixels, g.ow);
    const bool split_channels =
        workers > 1 && !fold_ && extent * wph_ <= 1024 && mb_ >= 2 && nimg * extent < min_rows * workers;
    if (workers > 1 && !split_channels) {
      const int64_t want = ceil_div(4 * workers, nimg);
      r = std::clamp<int64_t>(std::max(ceil_div(extent, want), min_rows), 1, rmax_);
      if (fold_) r = std::min(rmax_, round_up(r, 16));
    }
    const int64_t nchunks = ceil_div(extent, r);
    int64_t msplit = 1;
    if (split_channels) msplit = std::min(mb_, ceil_div(workers, nimg));  // each task packs its image once
    else if (workers > 1 && nimg * nchunks < workers) msplit = std::min(mb_, ceil_div(2 * workers, nimg * nchunks));
    const int64_t plane_pix = fold_ ? round_up(r, 16) + 16 : round_up((r + rowoff_ + 1) * wph_ + 16, 16);
    const size_t stride = scratch_stride(scratch_bytes_per_worker());
    tasks.run(static_cast<size_t>(nimg * nchunks * msplit), [&](size_t task, int worker) {
      const int64_t t = static_cast<int64_t>(task);
      // Splitting channels: a worker's contiguous range of tasks is one share of the channels over
      // all the rows (the same channels of every chunk); otherwise a range of rows.
      const int64_t ms = split_channels ? t / (nimg * nchunks) : t % msplit;
      const int64_t rest = split_channels ? t % (nimg * nchunks) : t / msplit;
      const int64_t chunk = rest % nchunks, img = rest / nchunks;
      uint8_t* ws = static_cast<uint8_t*>(scratch) + static_cast<size_t>(worker) * stride;
      const int64_t r0 = chunk * r, rn = std::min(r, extent - r0);
      const int64_t mb0 = mb_ * ms / msplit, mb1 = mb_ * (ms + 1) / msplit;
      if (fold_) run_fold(static_cast<const uint8_t*>(x), y, ws, plane_pix, img, r0, rn, mb0, mb1);
      else run_conv(static_cast<const uint8_t*>(x), y, ws, plane_pix, img / g.group, img % g.group, r0, rn, mb0, mb1);
    });
  }

 private:
  static void add_unique(KVector<int64_t>* v, int64_t x) {
    if (std::find(v->begin(), v->end(), x) == v->end()) v->push_back(x);
  }
  static int64_t index_of(const KVector<int64_t>& v, int64_t x) {
    return std::find(v.begin(), v.end(), x) - v.begin();
  }

  // Packs output rows [oy0, oy0 + rn) of image (n, gi) (plus halo) into xb. Each channel's
  // phase plane is first built in tmp (pad fill, then the valid segment of every row), then
  // four planes are interleaved in one pass; a 1x1-like case (stride 1, no column padding,
  // Wph == w) interleaves straight from x, whose rows are then contiguous.
  void pack_conv(const uint8_t* x, uint8_t* xb, uint8_t* tmp, int64_t plane_pix, int64_t n, int64_t gi, int64_t oy0,
                 int64_t rn) const {
    const auto& g = g_;
    const int64_t prow = rn + rowoff_ + 1;  // rows packed (the last one is slack for tail vectors)
    const int64_t npix = prow * wph_;
    const int64_t sy = static_cast<int64_t>(pxs_.size());
    const __m512i padv = _mm512_set1_epi8(static_cast<char>(pad_byte_));
    const bool contiguous = g.stride_w == 1 && g.stride_h == 1 && wph_ == g.w && g.pad_left == 0;
    for (size_t iy_i = 0; iy_i < pys_.size(); ++iy_i)
      for (size_t ix_i = 0; ix_i < pxs_.size(); ++ix_i) {
        const int64_t py = pys_[iy_i], px = pxs_[ix_i];
        const int64_t slot = static_cast<int64_t>(iy_i) * sy + static_cast<int64_t>(ix_i);
        // Valid columns j: 0 <= j*sw + px - pl < w.
        const int64_t off = px - g.pad_left;
        int64_t jlo = off >= 0 ? 0 : ceil_div(-off, g.stride_w);
        int64_t jhi = g.w - off <= 0 ? 0 : ceil_div(g.w - off, g.stride_w);
        jlo = std::min(jlo, wph_);
        jhi = std::clamp(jhi, jlo, wph_);
        // Rows i in [ilo, ihi) read input rows iy = (oy0 + i)*sh + py - pt inside [0, h).
        const int64_t ybase = oy0 * g.stride_h + py - g.pad_top;
        const int64_t ilo = std::min(prow, ybase >= 0 ? 0 : ceil_div(-ybase, g.stride_h));
        const int64_t ihi = std::clamp<int64_t>(g.h - ybase <= 0 ? 0 : ceil_div(g.h - ybase, g.stride_h), ilo, prow);
        for (int64_t c4 = 0; c4 < c4n_; ++c4) {
          uint8_t* dst = xb + ((slot * c4n_ + c4) * plane_pix) * 4;
          if (contiguous && 4 * c4 + 3 < cg_) {
            fill(tmp, std::max(ilo, prow - ihi) * wph_, padv);
            if (ilo > 0) interleave4(tmp, tmp, tmp, tmp, ilo * wph_, flip_, dst);
            if (ihi > ilo) {  // else the window misses the input: no pointer into it is formed
              const uint8_t* src = x + ((n * g.c + gi * cg_ + 4 * c4) * g.h + ybase + ilo) * g.w;
              const int64_t cs = g.h * g.w;
              interleave4(src, src + cs, src + 2 * cs, src + 3 * cs, (ihi - ilo) * wph_, flip_, dst + ilo * wph_ * 4);
            }
            if (ihi < prow) interleave4(tmp, tmp, tmp, tmp, (prow - ihi) * wph_, flip_, dst + ihi * wph_ * 4);
          } else {
            const uint8_t* planes[4];
            for (int k = 0; k < 4; ++k) {
              const int64_t ci = 4 * c4 + k;
              uint8_t* t = tmp + k * tplane_;
              planes[k] = t;
              fill(t, npix, padv);
              if (ci >= cg_ || jhi <= jlo) continue;
              const int64_t base = ((n * g.c + gi * cg_ + ci) * g.h + ybase) * g.w + off;
              for (int64_t i = ilo; i < ihi; ++i)
                copy_row_segment(x, base + i * g.stride_h * g.w, jlo, jhi, g.stride_w, t + i * wph_);
            }
            interleave4(planes[0], planes[1], planes[2], planes[3], npix, flip_, dst);
          }
          std::memset(dst + npix * 4, pad_byte_ ^ flip_, 64);  // slack pixels
        }
      }
  }

  // im2col packing (tk_): every input channel's phase planes of the chunk are built in tmp
  // (pad fill, then each row's valid segment), then quad k4 of the K entries
  // e = ci * taps + t interleaves, over the chunk's virtual pixels, the 4 planes of its
  // entries read at their taps' pixel offsets (a plane of zx for the K padding).
  void pack_tk(const uint8_t* x, uint8_t* xb, uint8_t* tmp, int64_t plane_pix, int64_t n, int64_t gi, int64_t oy0,
               int64_t rn) const {
    const auto& g = g_;
    const int64_t prow = rn + rowoff_ + 1;
    const int64_t npl = prow * wph_ + 64;
    const int64_t sy = static_cast<int64_t>(pxs_.size());
    const __m512i padv = _mm512_set1_epi8(static_cast<char>(pad_byte_));
    const int64_t nq = round_up(rn * wph_, 16);
    uint8_t* padplane = tmp + cg_ * nph_ * tk_tplane_;
    fill(padplane, nq, padv);
    for (size_t iy_i = 0; iy_i < pys_.size(); ++iy_i)
      for (size_t ix_i = 0; ix_i < pxs_.size(); ++ix_i) {
        const int64_t py = pys_[iy_i], px = pxs_[ix_i];
        const int64_t slot = static_cast<int64_t>(iy_i) * sy + static_cast<int64_t>(ix_i);
        const int64_t off = px - g.pad_left;
        int64_t jlo = off >= 0 ? 0 : ceil_div(-off, g.stride_w);
        int64_t jhi = g.w - off <= 0 ? 0 : ceil_div(g.w - off, g.stride_w);
        jlo = std::min(jlo, wph_);
        jhi = std::clamp(jhi, jlo, wph_);
        const int64_t ybase = oy0 * g.stride_h + py - g.pad_top;
        const int64_t ilo = std::min(prow, ybase >= 0 ? 0 : ceil_div(-ybase, g.stride_h));
        const int64_t ihi = std::clamp<int64_t>(g.h - ybase <= 0 ? 0 : ceil_div(g.h - ybase, g.stride_h), ilo, prow);
        for (int64_t ci = 0; ci < cg_; ++ci) {
          uint8_t* t = tmp + (ci * nph_ + slot) * tk_tplane_;
          fill(t, npl, padv);
          if (jhi <= jlo) continue;
          const int64_t base = ((n * g.c + gi * cg_ + ci) * g.h + ybase) * g.w + off;
          for (int64_t i = ilo; i < ihi; ++i)
            copy_row_segment(x, base + i * g.stride_h * g.w, jlo, jhi, g.stride_w, t + i * wph_);
        }
      }
    for (int64_t k4 = 0; k4 < tk_c4n_; ++k4) {
      const uint8_t* src[4];
      for (int k = 0; k < 4; ++k) {
        const int64_t e = 4 * k4 + k;
        if (e >= cg_ * taps_) {
          src[k] = padplane;
          continue;
        }
        const int64_t ci = e / taps_, t = e % taps_;
        src[k] = tmp + (ci * nph_ + tap_slot_[static_cast<size_t>(t)]) * tk_tplane_ + tap_pix_[static_cast<size_t>(t)];
      }
      uint8_t* dst = xb + k4 * plane_pix * 4;
      interleave4(src[0], src[1], src[2], src[3], nq, flip_, dst);
    }
  }

  void run_conv(const uint8_t* x, void* y, uint8_t* ws, int64_t plane_pix, int64_t n, int64_t gi, int64_t oy0,
                int64_t rn, int64_t mb0, int64_t mb1) const {
    const auto& g = g_;
    uint8_t* xb = ws;
    uint8_t* tmp = ws + xbuf_bytes_ + 256;
    int64_t tapoff[256];
    KVector<int64_t> tapoff_big;
    int64_t* to = tapoff;
    if (taps_ > 256) {
      tapoff_big.resize(static_cast<size_t>(taps_));
      to = tapoff_big.data();
    }
    // K as taps x channel quads, or one "tap" of im2col quads (tk_).
    const int ktaps = tk_ ? 1 : static_cast<int>(taps_), kc4n = static_cast<int>(tk_ ? tk_c4n_ : c4n_);
    if (tk_) {
      pack_tk(x, xb, tmp, plane_pix, n, gi, oy0, rn);
      to[0] = 0;
    } else {
      pack_conv(x, xb, tmp, plane_pix, n, gi, oy0, rn);
      for (int64_t t = 0; t < taps_; ++t) to[t] = (tap_slot_[t] * c4n_ * plane_pix + tap_pix_[t]) * 4;
    }

    const int64_t nq = rn * wph_;  // virtual pixels of the chunk
    const int64_t ohow = g.oh * g.ow;
    const int64_t wchunk = std::max<int64_t>(1, kWeightChunkBytes / wblock_);
    Seg segs[kMaxNv][17];
    int nseg[kMaxNv];
    alignas(64) int32_t acc[kMr * kTileP];
    for (int64_t mc0 = mb0; mc0 < mb1; mc0 += wchunk) {
      const int64_t mc1 = std::min(mb1, mc0 + wchunk);
      for (int64_t q0 = 0, nv = 0; q0 < nq; q0 += 16 * nv) {
        nv = balanced_nv(nq - q0);
        // Output segments of each vector: lanes in one output row with ox < ow.
        for (int v = 0; v < nv && !fastq_; ++v) {
          nseg[v] = 0;
          const int64_t qv = q0 + 16 * v;
          for (int64_t l = 0; l < 16;) {
            const int64_t q = qv + l;
            if (q >= nq) break;
            const int64_t row = q / wph_, ox = q % wph_;
            const int64_t lend = std::min<int64_t>(16, l + (wph_ - ox));
            const int64_t vend = std::min<int64_t>(lend, l + std::max<int64_t>(0, g.ow - ox));
            if (vend > l) {
              const uint16_t mask = static_cast<uint16_t>(((1u << vend) - 1) & ~((1u << l) - 1));
              const int64_t base = (oy0 + row) * g.ow + ox - l;
              if (nseg[v] > 0 && segs[v][nseg[v] - 1].base == base) segs[v][nseg[v] - 1].mask |= mask;
              else segs[v][nseg[v]++] = Seg{base, mask};
            }
            l = lend;
          }
        }
        const uint8_t* xq = xb + q0 * 4;
        if (fastq_) {
          // The tile's segments over its 16*nv lanes (one per output row touched).
          Seg64 s64[2 * kTileP];
          int ns = 0;
          for (int64_t l = 0; l < 16 * nv;) {
            const int64_t q = q0 + l;
            if (q >= nq) break;
            const int64_t row = q / wph_, ox = q % wph_;
            const int64_t lend = std::min<int64_t>(16 * nv, l + (wph_ - ox));
            const int64_t vend = std::min<int64_t>(lend, l + std::max<int64_t>(0, g.ow - ox));
            if (vend > l) {
              const uint64_t mask = ((uint64_t{1} << vend) - 1) & ~((uint64_t{1} << l) - 1);
              const int64_t base = (oy0 + row) * g.ow + ox - l;
              if (ns > 0 && s64[ns - 1].base == base) s64[ns - 1].mask |= mask;
              else s64[ns++] = Seg64{base, mask};
            }
            l = lend;
          }
          for (int64_t mb = mc0; mb < mc1; ++mb) {
            const int64_t row0 = (gi * mb_ + mb) * kMr;
            const int64_t mrows = std::min<int64_t>(kMr, mg_ - mb * kMr);
            uint8_t* yp = static_cast<uint8_t*>(y) + (n * g.m + gi * mg_ + mb * kMr) * ohow;
            const bool away = away_[static_cast<size_t>(gi * mb_ + mb)] != 0;
            kDotQ[lo_ >= 0][qclamp_][away][nv](xq, to, ktaps, kc4n, plane_pix * 4,
                                wp_ + (gi * mb_ + mb) * wblock_, bias_.data() + row0, fq_.data() + row0, lo_,
                                hi_, static_cast<int>(mrows), yp, ohow, s64, ns);
          }
          continue;
        }
        for (int64_t mb = mc0; mb < mc1; ++mb) {
          const int64_t row0 = (gi * mb_ + mb) * kMr;
          kDot[nv](xq, to, ktaps, kc4n, plane_pix * 4,
                   wp_ + (gi * mb_ + mb) * wblock_, bias_.data() + row0, acc);
          const int64_t mrows = std::min<int64_t>(kMr, mg_ - mb * kMr);
          for (int64_t rr = 0; rr < mrows; ++rr) {
            const int64_t m = gi * mg_ + mb * kMr + rr;
            const int64_t yoff = (n * g.m + m) * ohow;
            if (float_out_) {
              float* yp = static_cast<float*>(y) + yoff;
              for (int v = 0; v < nv; ++v) {
                const __m512 f = to_float(_mm512_load_si512(acc + (rr * kMaxNv + v) * 16), row0 + rr);
                for (int s = 0; s < nseg[v]; ++s) _mm512_mask_storeu_ps(yp + segs[v][s].base, segs[v][s].mask, f);
              }
            } else if (y_wide_) {  // int16 output: requant16 clamps to [lo, hi], then 16-bit stores
              int16_t* yp = static_cast<int16_t*>(y) + yoff;
              const avx512::RequantLanes rq = avx512::requant_broadcast(mult_[static_cast<size_t>(row0 + rr)]);
              for (int v = 0; v < nv; ++v) {
                const __m256i h = _mm512_cvtepi32_epi16(
                    avx512::requant16(_mm512_load_si512(acc + (rr * kMaxNv + v) * 16), rq, zy_, lo_, hi_));
                for (int s = 0; s < nseg[v]; ++s) _mm256_mask_storeu_epi16(yp + segs[v][s].base, segs[v][s].mask, h);
              }
            } else {
              uint8_t* yp = static_cast<uint8_t*>(y) + yoff;
              const avx512::RequantLanes rq = avx512::requant_broadcast(mult_[static_cast<size_t>(row0 + rr)]);
              for (int v = 0; v < nv; ++v) {
                const __m128i b = avx512::narrow16(
                    avx512::requant16(_mm512_load_si512(acc + (rr * kMaxNv + v) * 16), rq, zy_, lo_, hi_));
                for (int s = 0; s < nseg[v]; ++s) _mm_mask_storeu_epi8(yp + segs[v][s].base, segs[v][s].mask, b);
              }
            }
          }
        }
      }
    }
  }

  // Channel-vectorized path: image n packed channels-last, then output channel blocks
  // [blk0, blk1) of 48 channels, each over all pixel tiles (<= 8 consecutive output pixels).
  int64_t cv_ntile() const { return ceil_div(g_.oh * g_.ow, kCvMaxNp); }
  // Rows of the packed grid that output rows [0, oy] read.
  int64_t cv_rows_through(int64_t oy) const { return oy * g_.stride_h / cv_gsh_ + (g_.kh - 1) * g_.dil_h + 1; }

  // Units [u0, u1) of image n: unit u is pixel tile u % cv_ntile() of block u / cv_ntile().
  // With `bands`, [u0, u1) are pixel tiles instead, each run for every block, and only the
  // rows of the packed grid those tiles read are packed (a row band of the image per task).
  void run_cv(const uint8_t* x, void* y, uint8_t* ws, int64_t n, int64_t u0, int64_t u1, bool bands = false) const {
    const auto& g = g_;
    const int64_t cb = c4n_ * 4, pix = cv_ph_ * cv_pw_;
    const int64_t ohow = g.oh * g.ow, ntile = cv_ntile();
    // Rows [r0, r1) of the packed grid: pixels [q0, q1).
    int64_t r0 = 0, r1 = cv_ph_;
    if (bands) {
      const int64_t oy0 = (ohow * u0 / ntile) / g.ow, oy1 = (ohow * u1 / ntile - 1) / g.ow;
      r0 = oy0 * g.stride_h / cv_gsh_;
      r1 = std::min(cv_ph_, cv_rows_through(oy1));
    }
    const int64_t q0 = r0 * cv_pw_, q1 = r1 * cv_pw_;
    uint8_t* xcl = ws;
    uint8_t* tq = ws + cv_xcl_bytes_;
    uint8_t* tmp = tq + cv_tq_bytes_;
    // Channel quads interleaved per pixel: tq[c4][pix][4].
    const __m512i padv = _mm512_set1_epi8(static_cast<char>(pad_byte_));
    const bool direct = cv_gsh_ == 1 && cv_gsw_ == 1 && g.pad_top == 0 && g.pad_left == 0 && cv_ph_ == g.h &&
                        cv_pw_ == g.w;
    const int64_t jlo = std::min(cv_pw_, ceil_div(g.pad_left, cv_gsw_));
    const int64_t jhi = std::clamp(ceil_div(g.w + g.pad_left, cv_gsw_), jlo, cv_pw_);
    const int64_t ilo = std::clamp(ceil_div(g.pad_top, cv_gsh_), r0, r1);
    const int64_t ihi = std::clamp(ceil_div(g.h + g.pad_top, cv_gsh_), ilo, r1);
    for (int64_t c4 = 0; c4 < c4n_; ++c4) {
      uint8_t* dst = tq + (c4 * pix + q0) * 4;
      if (direct && 4 * c4 + 3 < cg_) {
        const uint8_t* src = x + (n * g.c + 4 * c4) * g.h * g.w + q0;
        const int64_t cs = g.h * g.w;
        interleave4(src, src + cs, src + 2 * cs, src + 3 * cs, q1 - q0, flip_, dst);
        continue;
      }
      const uint8_t* planes[4];
      for (int k = 0; k < 4; ++k) {
        const int64_t ci = 4 * c4 + k;
        uint8_t* t = tmp + k * cv_tplane_;
        planes[k] = t + q0;
        fill(t + q0, q1 - q0, padv);
        if (ci >= cg_ || jhi <= jlo) continue;
        const int64_t plane = (n * g.c + ci) * g.h * g.w;
        for (int64_t i = ilo; i < ihi; ++i)
          copy_row_segment(x, plane + (i * cv_gsh_ - g.pad_top) * g.w - g.pad_left, jlo, jhi, cv_gsw_, t + i * cv_pw_);
      }
      interleave4(planes[0], planes[1], planes[2], planes[3], q1 - q0, flip_, dst);
    }
    transpose_dwords(reinterpret_cast<const uint32_t*>(tq), c4n_, pix, reinterpret_cast<uint32_t*>(xcl), q0, q1);

    const int64_t pstep = (g.stride_w / cv_gsw_) * cb, rstep = (g.stride_h / cv_gsh_) * cv_pw_ * cb;
    const int64_t k4 = taps_ * c4n_;
    // A block's weights are read once per pixel tile: from L2 after the first tile, from DRAM
    // (or L3) in it, since a model's weights do not stay cached between runs (ResNet-50's 7x7
    // stage ran 15-29% slower in the network than alone). So while a block runs, its tiles
    // prefetch the next block's weights into L2, each tile its share, one line per K step.
    const int64_t block_lines = kCvMb * k4 * 4 / 64;
    alignas(64) int32_t acc[kCvMaxNp * kCvMb];
    const int64_t blk0 = bands ? 0 : u0 / ntile, blk1 = bands ? cv_nmb_ : ceil_div(u1, ntile);
    for (int64_t blk = blk0; blk < blk1; ++blk) {
      const int64_t mrem = g.m - blk * kCvMb;
      const int mv = static_cast<int>(std::min<int64_t>(kCvMv, ceil_div(mrem, 16)));
      const int8_t* wb = wp_ + blk * kCvMb * k4 * 4;
      const int32_t* bb = bcv_.data() + blk * kCvMb;
      const char* next = reinterpret_cast<const char*>(wb + kCvMb * k4 * 4);
      const int64_t next_lines = blk + 1 < cv_nmb_ ? block_lines : 0;
      // A band runs its tiles of every block and prefetches the next block over them.
      const int64_t ts = bands ? u0 : std::max<int64_t>(0, u0 - blk * ntile), te = bands ? u1 : std::min(ntile, u1 - blk * ntile);
      const int64_t pf0 = bands ? u0 : 0, pfn = bands ? u1 - u0 : ntile;
      for (int64_t tile = ts; tile < te; ++tile) {
        const int64_t p0 = ohow * tile / ntile, np = ohow * (tile + 1) / ntile - p0;
        const uint8_t* xp[kCvMaxNp];
        for (int64_t j = 0; j < np; ++j) {
          const int64_t oy = (p0 + j) / g.ow, ox = (p0 + j) % g.ow;
          xp[j] = xcl + oy * rstep + ox * pstep;
        }
        const int64_t l0 = next_lines * (tile - pf0) / pfn, l1 = next_lines * (tile - pf0 + 1) / pfn;
        kCv[mv][np](xp, cv_koff_.data(), static_cast<int>(taps_), static_cast<int>(c4n_), wb, bb, acc, next + 64 * l0,
                    l1 - l0);
        cv_store(acc, y, n, blk, mv, p0, static_cast<int>(np));
      }
    }
  }

  // Epilogue of one tile: acc[j][48] for pixels p0 + j -> y (NCHW).
  void cv_store(const int32_t* acc, void* y, int64_t n, int64_t blk, int mv, int64_t p0, int np) const {
    const auto& g = g_;
    const int64_t ohow = g.oh * g.ow;
    const __m512i vlo = _mm512_set1_epi32(lo_), vhi = _mm512_set1_epi32(hi_);
    for (int v = 0; v < mv; ++v) {
      const int64_t m0 = blk * kCvMb + 16 * v;
      const int nch = static_cast<int>(std::min<int64_t>(16, g.m - m0));
      if (float_out_) {
        const __m512d s0 = _mm512_loadu_pd(cvscale_.data() + m0), s1 = _mm512_loadu_pd(cvscale_.data() + m0 + 8);
        alignas(64) float fb[kCvMaxNp][16];
        for (int j = 0; j < np; ++j) {
          const __m512i a = _mm512_load_si512(acc + j * kCvMb + 16 * v);
          const __m256 lo = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(a)), s0));
          const __m256 hi = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(a, 1)), s1));
          __m512 f = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
          f = _mm512_min_ps(_mm512_set1_ps(fmax_), _mm512_max_ps(_mm512_set1_ps(fmin_), f));
          _mm512_store_ps(fb[j], f);
        }
        float* yp = static_cast<float*>(y) + (n * g.m + m0) * ohow + p0;
        for (int l = 0; l < nch; ++l)
          for (int j = 0; j < np; ++j) yp[l * ohow + j] = fb[j][l];
        continue;
      }
      __m128i r[8];
      if (fastq_) {
        const CvFastReq& q = cvq_[static_cast<size_t>(m0 / 16)];
        auto requant = [&]<bool kAway>() {
          for (int j = 0; j < np; ++j)
            r[j] = _mm512_cvtepi32_epi8(_mm512_min_epi32(
                _mm512_max_epi32(cv_fast_requant16<kAway>(_mm512_load_si512(acc + j * kCvMb + 16 * v), q), vlo), vhi));
        };
        if (cv_away_[static_cast<size_t>(m0 / 16)]) requant.template operator()<true>();
        else requant.template operator()<false>();
      } else {
        const avx512::RequantLanes rq =
            avx512::requant_lanes(_mm512_loadu_si512(cvm_.data() + m0), _mm512_loadu_si512(cvs_.data() + m0));
        for (int j = 0; j < np; ++j)
          r[j] = avx512::narrow16(avx512::requant16(_mm512_load_si512(acc + j * kCvMb + 16 * v), rq, zy_, lo_, hi_));
      }
      for (int j = np; j < 8; ++j) r[j] = _mm_setzero_si128();
      // 8 pixels x 16 channels -> q[i]: channel 2i (bytes 0..7), channel 2i + 1 (8..15).
      const __m128i a0 = _mm_unpacklo_epi8(r[0], r[1]), a1 = _mm_unpackhi_epi8(r[0], r[1]);
      const __m128i b0 = _mm_unpacklo_epi8(r[2], r[3]), b1 = _mm_unpackhi_epi8(r[2], r[3]);
      const __m128i c0 = _mm_unpacklo_epi8(r[4], r[5]), c1 = _mm_unpackhi_epi8(r[4], r[5]);
      const __m128i d0 = _mm_unpacklo_epi8(r[6], r[7]), d1 = _mm_unpackhi_epi8(r[6], r[7]);
      const __m128i e[4] = {_mm_unpacklo_epi16(a0, b0), _mm_unpackhi_epi16(a0, b0), _mm_unpacklo_epi16(a1, b1),
                            _mm_unpackhi_epi16(a1, b1)};
      const __m128i f[4] = {_mm_unpacklo_epi16(c0, d0), _mm_unpackhi_epi16(c0, d0), _mm_unpacklo_epi16(c1, d1),
                            _mm_unpackhi_epi16(c1, d1)};
      uint8_t* yp = static_cast<uint8_t*>(y) + (n * g.m + m0) * ohow + p0;
      const __mmask16 k = static_cast<__mmask16>((1u << np) - 1);
      for (int i = 0; i < 4; ++i) {
        const __m128i q0 = _mm_unpacklo_epi32(e[i], f[i]), q1 = _mm_unpackhi_epi32(e[i], f[i]);
        const __m128i qs[4] = {q0, _mm_srli_si128(q0, 8), q1, _mm_srli_si128(q1, 8)};
        for (int l = 0; l < 4; ++l)
          if (4 * i + l < nch) _mm_mask_storeu_epi8(yp + (4 * i + l) * ohow, k, qs[l]);
      }
    }
  }

  // Fully connected: output channels [64 * mblk, +64) of every row; each vpdpbusd does 16
  // channels x 4 inputs (the row's 4 bytes broadcast), so the weights stream once.
  template <int NR>
  void fc_block(const uint32_t* xq, void* y, int64_t mblk) const {
    const auto& g = g_;
    const int64_t m0 = mblk * kFcMb;
    constexpr int kV = kFcMb / 16;
    __m512i acc[NR][kV];
#pragma GCC unroll 4
    for (int v = 0; v < kV; ++v) {
      const __m512i b = _mm512_loadu_si512(bias_.data() + m0 + 16 * v);
#pragma GCC unroll 4
      for (int j = 0; j < NR; ++j) acc[j][v] = b;
    }
    const int8_t* w = wp_ + m0 * c4n_ * 4;
    for (int64_t c = 0; c < c4n_; ++c, w += kFcMb * 4) {
      __m512i wv[kV];
#pragma GCC unroll 4
      for (int v = 0; v < kV; ++v) wv[v] = _mm512_loadu_si512(w + 64 * v);
#pragma GCC unroll 4
      for (int j = 0; j < NR; ++j) {
        const __m512i xb = _mm512_set1_epi32(static_cast<int32_t>(xq[j * c4n_ + c]));
#pragma GCC unroll 4
        for (int v = 0; v < kV; ++v) acc[j][v] = _mm512_dpbusd_epi32(acc[j][v], xb, wv[v]);
      }
    }
#pragma GCC unroll 4
    for (int v = 0; v < kV; ++v) {
      const int64_t mv = m0 + 16 * v;
      if (mv >= g.m) break;
      const __mmask16 k = g.m - mv >= 16 ? __mmask16(0xFFFF) : static_cast<__mmask16>((1u << (g.m - mv)) - 1);
      if (float_out_) {
        const __m512d s0 = _mm512_loadu_pd(scale_.data() + mv), s1 = _mm512_loadu_pd(scale_.data() + mv + 8);
        for (int j = 0; j < NR; ++j) {
          const __m512i a = acc[j][v];
          const __m256 lo = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(a)), s0));
          const __m256 hi = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(a, 1)), s1));
          __m512 f = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
          f = _mm512_min_ps(_mm512_set1_ps(fmax_), _mm512_max_ps(_mm512_set1_ps(fmin_), f));
          _mm512_mask_storeu_ps(static_cast<float*>(y) + j * g.m + mv, k, f);
        }
      } else {
        const avx512::RequantLanes rq = avx512::requant_lanes(_mm512_loadu_si512(fcm_.data() + mv),
                                                              _mm512_loadu_si512(fcs_.data() + mv));
#pragma GCC unroll 4
        for (int j = 0; j < NR; ++j)
          _mm_mask_storeu_epi8(static_cast<uint8_t*>(y) + j * g.m + mv, k,
                               avx512::narrow16(avx512::requant16(acc[j][v], rq, zy_, lo_, hi_)));
      }
    }
  }

  void run_fc(const uint8_t* x, void* y, uint8_t* ws, int64_t b0, int64_t b1) const {
    const auto& g = g_;
    // Rows as channel quads (x ^ flip; zx_eff in the K padding).
    uint32_t* xq = reinterpret_cast<uint32_t*>(ws);
    const uint8_t pad = pad_byte_ ^ flip_;
    for (int64_t j = 0; j < g.n; ++j) {
      uint8_t* d = reinterpret_cast<uint8_t*>(xq + j * c4n_);
      for (int64_t ci = 0; ci < c4n_ * 4; ++ci) d[ci] = ci < g.c ? static_cast<uint8_t>(x[j * g.c + ci] ^ flip_) : pad;
    }
    for (int64_t mblk = b0; mblk < b1; ++mblk) switch (g.n) {
        case 1: fc_block<1>(xq, y, mblk); break;
        case 2: fc_block<2>(xq, y, mblk); break;
        case 3: fc_block<3>(xq, y, mblk); break;
        default: fc_block<4>(xq, y, mblk); break;
      }
  }

  // Gemm mode: batch rows [p0, p0 + pn) of group gi as pixels.
  void run_fold(const uint8_t* x, void* y, uint8_t* ws, int64_t plane_pix, int64_t gi, int64_t p0, int64_t pn,
                int64_t mb0, int64_t mb1) const {
    const auto& g = g_;
    uint8_t* xb = ws;
    const uint8_t pad = pad_byte_ ^ flip_;
    for (int64_t c4 = 0; c4 < c4n_; ++c4) {
      uint8_t* dst = xb + c4 * plane_pix * 4;
      for (int64_t p = 0; p < pn; ++p) {
        const uint8_t* src = x + (p0 + p) * g.c + gi * cg_ + 4 * c4;
        for (int k = 0; k < 4; ++k) dst[p * 4 + k] = 4 * c4 + k < cg_ ? static_cast<uint8_t>(src[k] ^ flip_) : pad;
      }
      std::memset(dst + pn * 4, pad, static_cast<size_t>((plane_pix - pn) * 4));
    }
    const int64_t tapoff0 = 0;
    alignas(64) int32_t acc[kMr * kTileP];
    const int64_t wchunk = std::max<int64_t>(1, kWeightChunkBytes / wblock_);
    for (int64_t mc0 = mb0; mc0 < mb1; mc0 += wchunk) {
      const int64_t mc1 = std::min(mb1, mc0 + wchunk);
      for (int64_t q0 = 0, nv = 0; q0 < pn; q0 += 16 * nv) {
        nv = balanced_nv(pn - q0);
        const int64_t lanes = std::min<int64_t>(16 * nv, pn - q0);
        for (int64_t mb = mc0; mb < mc1; ++mb) {
          const int64_t row0 = (gi * mb_ + mb) * kMr;
          kDot[nv](xb + q0 * 4, &tapoff0, 1, static_cast<int>(c4n_), plane_pix * 4,
                   wp_ + (gi * mb_ + mb) * wblock_, bias_.data() + row0, acc);
          const int64_t mrows = std::min<int64_t>(kMr, mg_ - mb * kMr);
          for (int64_t rr = 0; rr < mrows; ++rr) {
            const int64_t m = gi * mg_ + mb * kMr + rr;
            for (int v = 0; v < nv; ++v) {
              const __m512i a = _mm512_load_si512(acc + (rr * kMaxNv + v) * 16);
              const int64_t nl = std::min<int64_t>(16, lanes - 16 * v);
              const int64_t pbase = p0 + q0 + 16 * v;
              if (float_out_) {
                alignas(64) float f[16];
                _mm512_store_ps(f, to_float(a, row0 + rr));
                float* yp = static_cast<float*>(y);
                for (int64_t l = 0; l < nl; ++l) yp[(pbase + l) * g.m + m] = f[l];
              } else {
                alignas(16) uint8_t b[16];
                const avx512::RequantLanes rq = avx512::requant_broadcast(mult_[static_cast<size_t>(row0 + rr)]);
                _mm_store_si128(reinterpret_cast<__m128i*>(b), avx512::narrow16(avx512::requant16(a, rq, zy_, lo_, hi_)));
                uint8_t* yp = static_cast<uint8_t*>(y);
                for (int64_t l = 0; l < nl; ++l) yp[(pbase + l) * g.m + m] = b[l];
              }
            }
          }
        }
      }
    }
  }


  // float((double)acc * scale) for 16 lanes, clamped to [float_min, float_max] like
  // std::min(std::max(y, lo), hi).
  __m512 to_float(__m512i a, int64_t row) const {
    const __m512d s = _mm512_set1_pd(scale_[static_cast<size_t>(row)]);
    const __m256 lo = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(a)), s));
    const __m256 hi = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(a, 1)), s));
    __m512 f = _mm512_insertf32x8(_mm512_castps256_ps512(lo), hi, 1);
    f = _mm512_max_ps(_mm512_set1_ps(fmin_), f);  // (fmin > f) ? fmin : f
    return _mm512_min_ps(_mm512_set1_ps(fmax_), f);
  }

  ref::ConvGeometry2d g_;
  int64_t cg_ = 0, mg_ = 0, c4n_ = 0, taps_ = 0, mb_ = 0, wblock_ = 0;
  bool fold_ = false;
  bool fastq_ = false, qclamp_ = true;
  bool fc_ = false;
  bool tk_ = false;                    // im2col quads over (channel, tap)
  int64_t tk_c4n_ = 0, tk_tplane_ = 0, tk_tmp_bytes_ = 0;
  bool cv_ = false;                    // channel-vectorized small-image path
  bool cv_bands_ = false;              // with several workers, split it by row bands
  int64_t cv_gsh_ = 1, cv_gsw_ = 1, cv_ph_ = 0, cv_pw_ = 0, cv_nmb_ = 0;
  int64_t cv_xcl_bytes_ = 0, cv_tq_bytes_ = 0, cv_tplane_ = 64;
  KVector<int8_t> wcv_;            // [m / 48][tap][c4][48][4]
  KVector<int32_t> bcv_, cvm_, cvs_;
  KVector<double> cvscale_;
  KVector<CvFastReq> cvq_;
  KVector<uint8_t> cv_away_;       // per 16 channels: some channel may meet a tie (ties_possible)
  KVector<int64_t> cv_koff_;
  KVector<int8_t> wfc_;            // fully connected: [m / kFcMb][c4][kFcMb][4]
  KVector<int32_t> fcm_, fcs_;     // per channel mantissas and shifts, padded
  KVector<avx512::FastReq> fq_;
  KVector<uint8_t> away_;          // per [group][block of 8]: some channel may meet a tie
  uint8_t pad_byte_ = 0, flip_ = 0;
  KVector<int8_t> w_;
  // The weights run() reads: one of w_, wcv_, wfc_ (the path's), or adopted bytes of a .bin.
  const int8_t* wp_ = nullptr;
  int64_t wbytes_ = 0;
  KVector<int64_t> sums_;  // [M] each output channel's sum of weights, when packed here
  const int64_t* sp_ = nullptr;  // the sums: sums_ or adopted ones (packed())
  char layout_[32] = {};   // packed()'s layout: path, block, packing version
  bool adopted_ = false;
  KVector<int32_t> bias_;
  KVector<QMultiplier> mult_;
  KVector<double> scale_;
  KVector<int64_t> pys_, pxs_, tap_slot_, tap_pix_;
  int64_t nph_ = 1, wph_ = 0, rowoff_ = 0, rmax_ = 1, plane_pix_max_ = 0, xbuf_bytes_ = 0, tplane_ = 64;
  bool float_out_ = false;
  bool y_wide_ = false;  // int16 output (8-bit input): the pixel-tile path's general epilogue only
  int32_t zy_ = 0, lo_ = 0, hi_ = 255;
  float fmin_ = 0, fmax_ = 0;
  char name_[64] = {};
};

}  // namespace

std::unique_ptr<QConvKernel> make_qconv_gemm_avx512vnni(const QConvParams& p) {
  const auto& g = p.g;
  if (g.n < 1 || g.c < 1 || g.m < 1 || g.group < 1 || g.c % g.group != 0 || g.m % g.group != 0 || g.oh < 1 ||
      g.ow < 1 || g.kh < 1 || g.kw < 1 || g.stride_h < 1 || g.stride_w < 1 || g.dil_h < 1 || g.dil_w < 1 ||
      g.pad_top < 0 || g.pad_left < 0)
    return nullptr;
  if (!qconv_int32_exact(p)) return nullptr;
  if (p.x_wide) return nullptr;
  if (p.weights.size() != static_cast<size_t>(g.m * (g.c / g.group) * g.kh * g.kw)) return nullptr;
  if (!p.bias.empty() && p.bias.size() != static_cast<size_t>(g.m)) return nullptr;
  if (p.float_out ? p.acc_scale.size() != static_cast<size_t>(g.m) : p.mult.size() != static_cast<size_t>(g.m))
    return nullptr;
  auto k = std::make_unique<QConvGemmAvx512Vnni>(p);
  // An int16 output (the higher-precision form after an 8-bit input) on the pixel tiles only.
  if (!k->takes_wide_output()) return nullptr;
  return k;
}

}  // namespace qmap::kernels
