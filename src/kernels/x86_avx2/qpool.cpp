// AVX2 integer pooling kernels (see qpool.h). Bit-exact with kernels/ref/qpool.cpp.
//
// Per plane and output row, the window's rows inside the input are reduced vertically into a
// row buffer indexed by input column + pad_left (byte max, or int32 sums of the raw values),
// whose padding and tail hold the neutral value (the type's lowest byte / 0). A block of
// output rows goes through each pass (vertical, phases, horizontal) before the next pass, so
// no load straddles the stores just made (failed store forwarding cost ~15 ns a row). The buffer is
// split into stride phases (P_r[j] = buf[j * stride_w + r]), so tap kx of output ox is
// P_r[ox + q] with kx * dil_w = q * stride_w + r: the column reduction is then unit-stride
// vector loads. Averages subtract zx * (taps inside) and requantize 8 outputs at once with
// per-lane multipliers mult[count] (requant8). GlobalAveragePool (the window is the whole
// plane, no padding) sums each plane with psadbw and requantizes 8 planes at once.
// Geometries whose sums could leave int32 (or invalid ones) run the reference.
#include "kernels/x86_avx2/qpool.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>
#include "kernels/x86_avx2/requant.h"
#include "kernels/isa_vector.h"

// Vectors of this ISA folder (kernels/isa_vector.h says why).
template <class T>
using KVector = qmap::kernels::IsaVector<T, 2>;


namespace qmap::kernels::avx2 {
namespace {

using ref::PoolGeometry2d;
using ref::Q8In;
using ref::q8_max;
using ref::q8_min;
using ref::Q8Out;

template <bool S>
inline __m256i vmax(__m256i a, __m256i b) {
  return S ? _mm256_max_epi8(a, b) : _mm256_max_epu8(a, b);
}
template <bool S>
inline __m128i vmax(__m128i a, __m128i b) {
  return S ? _mm_max_epi8(a, b) : _mm_max_epu8(a, b);
}
template <bool S>
inline uint8_t smax(uint8_t a, uint8_t b) {
  if constexpr (S) return static_cast<int8_t>(a) < static_cast<int8_t>(b) ? b : a;
  else return a < b ? b : a;
}
inline __m256i loadu(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
inline void storeu(void* p, __m256i v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }

bool valid(const PoolGeometry2d& g) {
  return g.n >= 0 && g.c >= 0 && g.h >= 1 && g.w >= 1 && g.oh >= 0 && g.ow >= 0 && g.kh >= 1 && g.kw >= 1 &&
         g.stride_h >= 1 && g.stride_w >= 1 && g.dil_h >= 1 && g.dil_w >= 1 && g.pad_top >= 0 && g.pad_left >= 0 &&
         g.pad_bottom >= 0 && g.pad_right >= 0;
}

// The row buffer and phase layout shared by both pools.
struct Columns {
  int64_t len = 0;         // buffer entries: input columns [-pad_left, len - pad_left)
  int64_t phase_len = 0;   // entries per phase (with slack for 32-wide reads)
  KVector<int64_t> tap_r, tap_q;  // per kx: phase and offset inside it
  KVector<bool> used;  // phases some tap reads
};

Columns columns(const PoolGeometry2d& g) {
  Columns c;
  c.len = std::max(g.pad_left + g.w, (g.ow - 1) * g.stride_w + (g.kw - 1) * g.dil_w + 1);
  c.phase_len = c.len / g.stride_w + 1 + 64;
  c.used.assign(static_cast<size_t>(g.stride_w), false);
  for (int64_t kx = 0; kx < g.kw; ++kx) {
    const int64_t t = kx * g.dil_w;
    c.tap_r.push_back(t % g.stride_w);
    c.tap_q.push_back(t / g.stride_w);
    c.used[static_cast<size_t>(t % g.stride_w)] = true;
  }
  return c;
}

// Input rows of output row oy inside [0, h); *padded counts those inside the padded range.
int64_t window_rows(const PoolGeometry2d& g, int64_t oy, int64_t* rows, int64_t* padded) {
  int64_t n = 0, p = 0;
  const int64_t y0 = oy * g.stride_h - g.pad_top;
  for (int64_t ky = 0; ky < g.kh; ++ky) {
    const int64_t iy = y0 + ky * g.dil_h;
    if (iy >= -g.pad_top && iy < g.h + g.pad_bottom) ++p;
    if (iy >= 0 && iy < g.h) rows[n++] = iy;
  }
  if (padded) *padded = p;
  return n;
}

// Stride phases of a row buffer, element by element (strides above 2): phase r gets
// row[r], row[r + sw], ... at `off` (phases no tap reads are empty and skipped).
template <class T>
void split_phases(const T* row, int64_t len, KVector<KVector<T>>& phase, int64_t off) {
  const int64_t sw = static_cast<int64_t>(phase.size());
  for (int64_t r = 0; r < sw; ++r) {
    if (phase[static_cast<size_t>(r)].empty()) continue;
    T* ph = phase[static_cast<size_t>(r)].data() + off;
    for (int64_t j = 0, i = r; i < len; ++j, i += sw) ph[j] = row[i];
  }
}

// The buffers of a block of output rows, which both pools take through each pass (vertical
// reduction into a row of buf, stride phases, horizontal reduction from the taps) before the
// next pass starts: a pass's loads then read vectors stored a whole pass earlier, where one
// row at a time had every load of the phase and horizontal passes straddle the unaligned
// stores just before it (store-to-load forwarding fails on those: ~15 ns per output row).
// Blocks keep the buffers near 16 KB. Pads and tails hold `neutral` throughout.
template <class T>
struct RowBlocks {
  int64_t rstride = 0, pstride = 0, block = 1, tap_stride = 0;  // buf / phase row strides, rows
  KVector<T> buf;
  KVector<KVector<T>> phase;  // per stride phase (empty when no tap reads it; none for stride 1)
  KVector<const T*> tap;      // tap kx of block row b reads tap[kx] + b * tap_stride
  // Per output row: its window rows inside the input (kh slots each), their count, and the
  // count inside the padded input (window_rows).
  KVector<int64_t> rows_of, nr_of, padded_of;

  RowBlocks(const PoolGeometry2d& g, const Columns& c, T neutral) : rstride(c.len + 64), pstride(c.phase_len) {
    const int64_t sw = g.stride_w;
    block = std::clamp<int64_t>(
        16384 / (static_cast<int64_t>(sizeof(T)) * (rstride + (sw > 1 ? sw * pstride : 0))), 1, g.oh);
    buf.assign(static_cast<size_t>(block * rstride), neutral);
    phase.resize(static_cast<size_t>(sw));
    if (sw > 1)
      for (int64_t r = 0; r < sw; ++r)
        if (c.used[static_cast<size_t>(r)]) phase[static_cast<size_t>(r)].assign(static_cast<size_t>(block * pstride), neutral);
    tap.resize(static_cast<size_t>(g.kw));
    for (int64_t kx = 0; kx < g.kw; ++kx)
      tap[static_cast<size_t>(kx)] =
          (sw == 1 ? buf.data() : phase[static_cast<size_t>(c.tap_r[static_cast<size_t>(kx)])].data()) +
          c.tap_q[static_cast<size_t>(kx)];
    tap_stride = sw == 1 ? rstride : pstride;
    rows_of.resize(static_cast<size_t>(g.oh * g.kh));
    nr_of.resize(static_cast<size_t>(g.oh));
    padded_of.resize(static_cast<size_t>(g.oh));
    for (int64_t oy = 0; oy < g.oh; ++oy)
      nr_of[static_cast<size_t>(oy)] = window_rows(g, oy, rows_of.data() + oy * g.kh, &padded_of[static_cast<size_t>(oy)]);
  }
  T* row(int64_t b) { return buf.data() + b * rstride; }
};

// ---------------------------------------------------------------------------------------
// MaxPool

template <bool S>
void maxpool_t(const PoolGeometry2d& g, const uint8_t* x, uint8_t* y) {
  const uint8_t low = S ? 0x80 : 0x00;
  const Columns c = columns(g);
  const int64_t sw = g.stride_w, w = g.w, ow = g.ow;
  RowBlocks<uint8_t> rb(g, c, low);
  // A row's last vector may be stored whole when its 32 bytes end inside the output: the bytes
  // past the row belong to rows written after it (small planes: no copy through a buffer).
  const uint8_t* y_end = y + g.n * g.c * g.oh * ow;
  const __m256i sh = _mm256_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15,
                                      0, 2, 4, 6, 8, 10, 12, 14, 1, 3, 5, 7, 9, 11, 13, 15);
  for (int64_t p = 0; p < g.n * g.c; ++p) {
    const uint8_t* plane = x + p * g.h * w;
    for (int64_t oy0 = 0; oy0 < g.oh; oy0 += rb.block) {
      const int64_t nb = std::min(rb.block, g.oh - oy0);
      // Vertical: the max of each row's window rows, into its buffer row at pad_left.
      for (int64_t b = 0; b < nb; ++b) {
        const int64_t* rows = rb.rows_of.data() + (oy0 + b) * g.kh;
        const int64_t nr = rb.nr_of[static_cast<size_t>(oy0 + b)];
        if (nr == 0) continue;
        uint8_t* col = rb.row(b) + g.pad_left;
        const uint8_t* r0 = plane + rows[0] * w;
        if (nr == 1) {
          std::memcpy(col, r0, static_cast<size_t>(w));
        } else if (w >= 32) {
          for (int64_t i = 0;; i += 32) {
            if (i + 32 > w) i = w - 32;  // the last chunk overlaps the previous one
            __m256i m = loadu(r0 + i);
            for (int64_t k = 1; k < nr; ++k) m = vmax<S>(m, loadu(plane + rows[k] * w + i));
            storeu(col + i, m);
            if (i + 32 >= w) break;
          }
        } else if (w >= 16) {
          for (int64_t i = 0;; i += 16) {
            if (i + 16 > w) i = w - 16;
            __m128i m = _mm_loadu_si128(reinterpret_cast<const __m128i*>(r0 + i));
            for (int64_t k = 1; k < nr; ++k)
              m = vmax<S>(m, _mm_loadu_si128(reinterpret_cast<const __m128i*>(plane + rows[k] * w + i)));
            _mm_storeu_si128(reinterpret_cast<__m128i*>(col + i), m);
            if (i + 16 >= w) break;
          }
        } else {
          for (int64_t i = 0; i < w; ++i) {
            uint8_t m = r0[i];
            for (int64_t k = 1; k < nr; ++k) m = smax<S>(m, plane[rows[k] * w + i]);
            col[i] = m;
          }
        }
      }
      // Stride phases.
      if (sw == 2) {
        uint8_t* e = rb.phase[0].empty() ? nullptr : rb.phase[0].data();  // phases no tap reads stay empty
        uint8_t* o = rb.phase[1].empty() ? nullptr : rb.phase[1].data();
        for (int64_t b = 0; b < nb; ++b) {
          if (rb.nr_of[static_cast<size_t>(oy0 + b)] == 0) continue;
          const uint8_t* row = rb.row(b);
          for (int64_t i = 0; i < c.len; i += 32) {
            const __m256i v = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(loadu(row + i), sh), 0xD8);
            if (e) _mm_storeu_si128(reinterpret_cast<__m128i*>(e + b * rb.pstride + i / 2), _mm256_castsi256_si128(v));
            if (o) _mm_storeu_si128(reinterpret_cast<__m128i*>(o + b * rb.pstride + i / 2), _mm256_extracti128_si256(v, 1));
          }
        }
      } else if (sw > 2) {
        for (int64_t b = 0; b < nb; ++b)
          if (rb.nr_of[static_cast<size_t>(oy0 + b)] != 0) split_phases(rb.row(b), c.len, rb.phase, b * rb.pstride);
      }
      // Horizontal: out[ox] = max over taps of tap[kx][ox].
      for (int64_t b = 0; b < nb; ++b, y += ow) {
        if (rb.nr_of[static_cast<size_t>(oy0 + b)] == 0) {
          std::memset(y, low, static_cast<size_t>(ow));
          continue;
        }
        const int64_t off = b * rb.tap_stride;
        for (int64_t ox = 0; ox < ow; ox += 32) {
          __m256i m = loadu(rb.tap[0] + off + ox);
          for (int64_t kx = 1; kx < g.kw; ++kx) m = vmax<S>(m, loadu(rb.tap[static_cast<size_t>(kx)] + off + ox));
          if (ox + 32 <= ow || (y_end - y) - ox >= 32) {
            storeu(y + ox, m);
          } else {
            alignas(32) uint8_t t[32];
            storeu(t, m);
            std::memcpy(y + ox, t, static_cast<size_t>(ow - ox));
          }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// AveragePool

// Sum of n bytes (their int8 or uint8 values). psadbw sums unsigned bytes; int8 bytes are
// biased by 0x80 first and the bias taken off at the end.
template <bool S>
int64_t plane_sum(const uint8_t* p, int64_t n) {
  const __m256i flip = _mm256_set1_epi8(S ? static_cast<char>(0x80) : 0), zero = _mm256_setzero_si256();
  const __m128i flip128 = _mm256_castsi256_si128(flip);
  __m256i acc0 = zero, acc1 = zero;
  int64_t i = 0;
  for (; i + 64 <= n; i += 64) {
    acc0 = _mm256_add_epi64(acc0, _mm256_sad_epu8(_mm256_xor_si256(loadu(p + i), flip), zero));
    acc1 = _mm256_add_epi64(acc1, _mm256_sad_epu8(_mm256_xor_si256(loadu(p + i + 32), flip), zero));
  }
  if (i + 32 <= n) {
    acc0 = _mm256_add_epi64(acc0, _mm256_sad_epu8(_mm256_xor_si256(loadu(p + i), flip), zero));
    i += 32;
  }
  acc0 = _mm256_add_epi64(acc0, acc1);
  __m128i a = _mm_add_epi64(_mm256_castsi256_si128(acc0), _mm256_extracti128_si256(acc0, 1));
  if (i + 16 <= n) {
    const __m128i v = _mm_xor_si128(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + i)), flip128);
    a = _mm_add_epi64(a, _mm_sad_epu8(v, _mm_setzero_si128()));
    i += 16;
  }
  if (i + 8 <= n) {  // only the low sum: the high 8 bytes are the xor'ed zero fill
    const __m128i v = _mm_xor_si128(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p + i)), flip128);
    a = _mm_add_epi64(a, _mm_move_epi64(_mm_sad_epu8(v, _mm_setzero_si128())));
    i += 8;
  }
  int64_t sum = _mm_cvtsi128_si64(a) + _mm_extract_epi64(a, 1) - (S ? 128 * i : 0);
  for (; i < n; ++i) sum += S ? static_cast<int8_t>(p[i]) : p[i];
  return sum;
}

// The plane sums minus zx * h * w fit int32 (qavgpool2d checks the bound) and are
// requantized 8 planes at a time.
template <bool S>
void global_avgpool_t(const PoolGeometry2d& g, const uint8_t* x, int32_t zx, QMultiplier q, int32_t zy, int32_t lo,
                      int32_t hi, uint8_t* y) {
  const int64_t hw = g.h * g.w, planes = g.n * g.c;
  const RequantLanes lanes = requant_broadcast(q);
  alignas(32) int32_t acc[64];
  for (int64_t p0 = 0; p0 < planes; p0 += 64) {
    const int64_t np = std::min<int64_t>(64, planes - p0);
    for (int64_t k = 0; k < np; ++k)
      acc[k] = static_cast<int32_t>(plane_sum<S>(x + (p0 + k) * hw, hw) - int64_t{zx} * hw);
    for (int64_t k = np; k < 64; ++k) acc[k] = 0;
    for (int64_t k = 0; k < np; k += 8) {
      const __m128i b = narrow8(requant8(loadu(acc + k), lanes, zy, lo, hi));
      if (k + 8 <= np) {
        _mm_storel_epi64(reinterpret_cast<__m128i*>(y + p0 + k), b);
      } else {
        alignas(16) uint8_t t[16];
        _mm_store_si128(reinterpret_cast<__m128i*>(t), b);
        std::memcpy(y + p0 + k, t, static_cast<size_t>(np - k));
      }
    }
  }
}

// Per distinct (rows inside, rows padded) pair of an output row: per output column the
// multiplier lanes and zx * taps inside, padded to whole vectors.
struct AvgClass {
  int64_t rows_in = -1, rows_pad = -1;
  KVector<int32_t> m, shift, zsum;
};

template <bool S>
void avgpool_t(const PoolGeometry2d& g, bool count_include_pad, const uint8_t* x, int32_t zx,
               std::span<const QMultiplier> mult, int32_t zy, int32_t lo, int32_t hi, uint8_t* y) {
  const Columns c = columns(g);
  const int64_t sw = g.stride_w, w = g.w, ow = g.ow, ow8 = (ow + 7) / 8 * 8;
  // Taps per output column inside the input and inside the padded input.
  KVector<int32_t> cols_in(static_cast<size_t>(ow)), cols_pad(static_cast<size_t>(ow));
  for (int64_t ox = 0; ox < ow; ++ox) {
    const int64_t x0 = ox * sw - g.pad_left;
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      const int64_t ix = x0 + kx * g.dil_w;
      cols_pad[static_cast<size_t>(ox)] += ix >= -g.pad_left && ix < w + g.pad_right;
      cols_in[static_cast<size_t>(ox)] += ix >= 0 && ix < w;
    }
  }
  RowBlocks<int32_t> rb(g, c, 0);
  KVector<AvgClass> classes;
  KVector<size_t> row_class(static_cast<size_t>(g.oh));
  for (int64_t oy = 0; oy < g.oh; ++oy) {
    const int64_t nr = rb.nr_of[static_cast<size_t>(oy)], padded = rb.padded_of[static_cast<size_t>(oy)];
    size_t k = 0;
    while (k < classes.size() && (classes[k].rows_in != nr || classes[k].rows_pad != padded)) ++k;
    if (k == classes.size()) {
      AvgClass a;
      a.rows_in = nr;
      a.rows_pad = padded;
      a.m.assign(static_cast<size_t>(ow8), 1 << 30);
      a.shift.assign(static_cast<size_t>(ow8), 1);
      a.zsum.assign(static_cast<size_t>(ow8), 0);
      for (size_t ox = 0; ox < static_cast<size_t>(ow); ++ox) {
        const int64_t inside = nr * cols_in[ox];
        const int64_t count = count_include_pad ? padded * cols_pad[ox] : inside;
        a.zsum[ox] = static_cast<int32_t>(zx * inside);
        if (count > 0) {  // an empty window sums to 0: any multiplier gives clamp(zy)
          a.m[ox] = mult[static_cast<size_t>(count)].m;
          a.shift[ox] = mult[static_cast<size_t>(count)].shift;
        }
      }
      classes.push_back(std::move(a));
    }
    row_class[static_cast<size_t>(oy)] = k;
  }

  auto load8 = [](const uint8_t* p) {
    const __m128i v = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
    return S ? _mm256_cvtepi8_epi32(v) : _mm256_cvtepu8_epi32(v);
  };
  const __m256i split = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);

  for (int64_t p = 0; p < g.n * g.c; ++p) {
    const uint8_t* plane = x + p * g.h * w;
    for (int64_t oy0 = 0; oy0 < g.oh; oy0 += rb.block) {
      const int64_t nb = std::min(rb.block, g.oh - oy0);
      // Vertical: sums of each row's window rows' values, into its buffer row at pad_left.
      for (int64_t b = 0; b < nb; ++b) {
        const int64_t* rows = rb.rows_of.data() + (oy0 + b) * g.kh;
        const int64_t nr = rb.nr_of[static_cast<size_t>(oy0 + b)];
        int32_t* col = rb.row(b) + g.pad_left;
        if (nr == 0) {
          std::fill(col, col + w, 0);
        } else if (w >= 8) {
          for (int64_t i = 0;; i += 8) {
            if (i + 8 > w) i = w - 8;  // the last chunk overlaps the previous one
            __m256i sum = load8(plane + rows[0] * w + i);
            for (int64_t k = 1; k < nr; ++k) sum = _mm256_add_epi32(sum, load8(plane + rows[k] * w + i));
            storeu(col + i, sum);
            if (i + 8 >= w) break;
          }
        } else {
          for (int64_t i = 0; i < w; ++i) {
            int32_t sum = 0;
            for (int64_t k = 0; k < nr; ++k) {
              const uint8_t v = plane[rows[k] * w + i];
              sum += S ? static_cast<int8_t>(v) : v;
            }
            col[i] = sum;
          }
        }
      }
      // Stride phases.
      if (sw == 2) {
        int32_t* e = rb.phase[0].empty() ? nullptr : rb.phase[0].data();  // phases no tap reads stay empty
        int32_t* o = rb.phase[1].empty() ? nullptr : rb.phase[1].data();
        for (int64_t b = 0; b < nb; ++b) {
          const int32_t* row = rb.row(b);
          for (int64_t i = 0; i < c.len; i += 16) {
            const __m256i a = _mm256_permutevar8x32_epi32(loadu(row + i), split);
            const __m256i bb = _mm256_permutevar8x32_epi32(loadu(row + i + 8), split);
            if (e) storeu(e + b * rb.pstride + i / 2, _mm256_permute2x128_si256(a, bb, 0x20));
            if (o) storeu(o + b * rb.pstride + i / 2, _mm256_permute2x128_si256(a, bb, 0x31));
          }
        }
      } else if (sw > 2) {
        for (int64_t b = 0; b < nb; ++b) split_phases(rb.row(b), c.len, rb.phase, b * rb.pstride);
      }
      // Horizontal sums, minus zx per tap inside, requantized with mult[count].
      for (int64_t b = 0; b < nb; ++b, y += ow) {
        const AvgClass& cl = classes[row_class[static_cast<size_t>(oy0 + b)]];
        const int64_t off = b * rb.tap_stride;
        for (int64_t ox = 0; ox < ow; ox += 8) {
          __m256i sum = loadu(rb.tap[0] + off + ox);
          for (int64_t kx = 1; kx < g.kw; ++kx) sum = _mm256_add_epi32(sum, loadu(rb.tap[static_cast<size_t>(kx)] + off + ox));
          sum = _mm256_sub_epi32(sum, loadu(cl.zsum.data() + ox));
          const RequantLanes q{loadu(cl.m.data() + ox), loadu(cl.shift.data() + ox)};
          const __m128i v = narrow8(requant8(sum, q, zy, lo, hi));
          if (ox + 8 <= ow) {
            _mm_storel_epi64(reinterpret_cast<__m128i*>(y + ox), v);
          } else {
            alignas(16) uint8_t t[16];
            _mm_store_si128(reinterpret_cast<__m128i*>(t), v);
            std::memcpy(y + ox, t, static_cast<size_t>(ow - ox));
          }
        }
      }
    }
  }
}

}  // namespace

void qmaxpool2d(const PoolGeometry2d& g, Q8In x, Q8Out y) {
  if (!valid(g)) return ref::qmaxpool2d(g, x, y);
  // The output bytes are the input's (the reference's int32 round trip truncates back).
  const auto* in = static_cast<const uint8_t*>(x.data);
  auto* out = static_cast<uint8_t*>(y.data);
  if (g.n * g.c == 0 || g.oh == 0 || g.ow == 0) return;
  if (x.is_signed) maxpool_t<true>(g, in, out);
  else maxpool_t<false>(g, in, out);
}

void qavgpool2d(const PoolGeometry2d& g, bool count_include_pad, Q8In x, int32_t zx,
                std::span<const QMultiplier> mult, int32_t zy, int32_t lo, int32_t hi, Q8Out y) {
  if (!valid(g)) return ref::qavgpool2d(g, count_include_pad, x, zx, mult, zy, lo, hi, y);
  if (g.n * g.c == 0 || g.oh == 0 || g.ow == 0) return;
  const auto* in = static_cast<const uint8_t*>(x.data);
  auto* out = static_cast<uint8_t*>(y.data);
  // Every partial sum (raw values, zx * taps) must stay inside int32 for the vector paths.
  const int64_t taps = g.kh * g.kw;
  const bool fits32 = taps <= (int64_t{1} << 22) && taps * (255 + std::abs(int64_t{zx})) < (int64_t{1} << 31);
  const bool global = g.oh == 1 && g.ow == 1 && g.kh == g.h && g.kw == g.w && g.pad_top == 0 && g.pad_left == 0 &&
                      (g.dil_h == 1 || g.kh == 1) && (g.dil_w == 1 || g.kw == 1);
  if (global) {
    const QMultiplier q = mult[static_cast<size_t>(taps)];
    if (!fits32) {  // int64 plane sums and the core function
      for (int64_t p = 0; p < g.n * g.c; ++p) {
        const uint8_t* plane = in + p * taps;
        const int64_t sum = x.is_signed ? plane_sum<true>(plane, taps) : plane_sum<false>(plane, taps);
        y.set(p, requantize(sum - int64_t{zx} * taps, q, zy, lo, hi));
      }
    } else if (x.is_signed) {
      global_avgpool_t<true>(g, in, zx, q, zy, lo, hi, out);
    } else {
      global_avgpool_t<false>(g, in, zx, q, zy, lo, hi, out);
    }
    return;
  }
  if (!fits32) return ref::qavgpool2d(g, count_include_pad, x, zx, mult, zy, lo, hi, y);
  if (x.is_signed) avgpool_t<true>(g, count_include_pad, in, zx, mult, zy, lo, hi, out);
  else avgpool_t<false>(g, count_include_pad, in, zx, mult, zy, lo, hi, out);
}

}  // namespace qmap::kernels::avx2
