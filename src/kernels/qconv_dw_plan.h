// The ISA-neutral half of the depthwise convolution kernels (x86_avx2/qconv_dw.cpp,
// x86_avx512vnni/qconv_dw.cpp): the plan made at prepare (tap pairs and their offsets in the
// polyphase planes, packed int16 weight pairs, row mode's horizontal pairs, scratch sizes),
// and run()'s split of (batch, channel block) tasks over the workers. Each ISA file derives
// its kernel from DwPlan<Kernel, lanes, tag> (CRTP) and supplies the per-channel SIMD code,
// channel_rows() (row mode) and channel() (general mode). Included only by those files:
// everything here is internal to each (anonymous namespace), and its vectors use the file's
// IsaVector tag (kernels/isa_vector.h says why).
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <string>

#include "kernels/isa_vector.h"
#include "kernels/qconv_kernel.h"
#include "kernels/qconv_kernel_internal.h"

namespace qmap::kernels {
namespace {

int64_t ceil_div(int64_t a, int64_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }
int64_t round_up(int64_t a, int64_t b) { return (a + b - 1) / b * b; }

// Row mode's geometry: stride_w 1 or 2, no column dilation.
inline bool dw_row_mode(const ref::ConvGeometry2d& g) { return g.dil_w == 1 && (g.stride_w == 1 || g.stride_w == 2); }

// Whether the depthwise kernels take p (every level's factory asks this): depthwise, a valid
// geometry, exact in int32; an int16 input or output in row mode only (build_p reads int16
// rows, rows_out stores int16), under the per-channel int32 bound.
inline bool dw_accepts(const QConvParams& p) {
  const auto& g = p.g;
  if (g.group != g.c || g.m != g.c) return false;
  const bool wide = p.x_wide || p.y_wide;
  if (wide && !dw_row_mode(g)) return false;
  if (wide ? !qconv_wide_int32_exact(p) : !qconv_int32_exact(p)) return false;
  return g.n >= 1 && g.c >= 1 && g.oh >= 1 && g.ow >= 1 && g.kh >= 1 && g.kw >= 1 && g.stride_h >= 1 &&
         g.stride_w >= 1 && g.dil_h >= 1 && g.dil_w >= 1;
}

// Derived: the ISA's kernel; kVec: its int32 lanes per vector; Tag: its IsaVector tag.
template <class Derived, int64_t kVec, int Tag>
class DwPlan : public QConvKernel {
 public:
  DwPlan(const QConvParams& p, const char* isa) : p_(p) {
    const auto& g = p.g;
    sh_ = g.stride_h, sw_ = g.stride_w;
    nph_ = sh_ * sw_;
    const int64_t hp = (g.oh - 1) * sh_ + (g.kh - 1) * g.dil_h + 1;
    const int64_t wp = (g.ow - 1) * sw_ + (g.kw - 1) * g.dil_w + 1;
    hq_ = ceil_div(hp, sh_), wq_ = ceil_div(wp, sw_);
    delta_ = g.dil_h / std::gcd(sh_, g.dil_h);
    f_ = (g.oh - 1) * wq_ + g.ow;
    fv_ = round_up(f_, kVec);
    const int64_t qmax = (g.kh - 1) * g.dil_h / sh_, cmax = (g.kw - 1) * g.dil_w / sw_;
    lv_ = round_up(fv_ + qmax * wq_ + cmax, kVec);
    lq_ = round_up(std::max(hq_ * wq_, lv_ + delta_ * wq_), 32);
    // The ops: per kx, the taps of each row phase in ascending ky, paired two by two.
    KVector<int64_t> wi_lo, wi_hi;  // weight indices (ky * kw + kx), -1 for none
    for (int64_t kx = 0; kx < g.kw; ++kx) {
      const int64_t b = kx * g.dil_w % sw_, c = kx * g.dil_w / sw_;
      for (int64_t a = 0; a < sh_; ++a) {
        KVector<int64_t> kys;
        for (int64_t ky = 0; ky < g.kh; ++ky)
          if (ky * g.dil_h % sh_ == a) kys.push_back(ky);
        for (size_t i = 0; i < kys.size(); i += 2) {
          const int64_t q = kys[i] * g.dil_h / sh_;
          off_.push_back((a * sw_ + b) * lv_ + q * wq_ + c);
          wi_lo.push_back(kys[i] * g.kw + kx);
          wi_hi.push_back(i + 1 < kys.size() ? kys[i + 1] * g.kw + kx : -1);
        }
      }
    }
    nops_ = static_cast<int64_t>(off_.size());
    wpair_.resize(static_cast<size_t>(g.c * nops_));
    for (int64_t ch = 0; ch < g.c; ++ch) {
      const int8_t* w = p.weights.data() + ch * g.kh * g.kw;
      for (int64_t o = 0; o < nops_; ++o) {
        const int32_t lo = w[wi_lo[static_cast<size_t>(o)]];
        const int32_t hi = wi_hi[static_cast<size_t>(o)] < 0 ? 0 : w[wi_hi[static_cast<size_t>(o)]];
        wpair_[static_cast<size_t>(ch * nops_ + o)] =
            static_cast<int32_t>((static_cast<uint32_t>(lo) & 0xffffu) | (static_cast<uint32_t>(hi) << 16));
      }
    }
    bias_.assign(static_cast<size_t>(g.c), 0);
    if (!p.bias.empty()) std::copy(p.bias.begin(), p.bias.end(), bias_.begin());
    if (p.float_out) scale_.assign(p.acc_scale.begin(), p.acc_scale.end());
    else mult_.assign(p.mult.begin(), p.mult.end());
    p_.weights = {}, p_.bias = {}, p_.mult = {}, p_.acc_scale = {};
    // Row mode (stride_w 1 or 2, no column dilation): horizontal tap pairs straight from a
    // padded int16 plane, no phase or pair planes.
    row_mode_ = dw_row_mode(g);
    if (row_mode_) {
      npairs_ = (g.kw + 1) / 2;
      ws_ = round_up(sw_ * round_up(g.ow, sw_ == 1 ? 2 * kVec : kVec) + g.kw + 1, 32);
      hp_ = (g.oh - 1) * sh_ + (g.kh - 1) * g.dil_h + 1;
      rpair_.resize(static_cast<size_t>(g.c * g.kh * npairs_));
      for (int64_t ch = 0; ch < g.c; ++ch)
        for (int64_t ky = 0; ky < g.kh; ++ky)
          for (int64_t pr = 0; pr < npairs_; ++pr) {
            const int8_t* w = p.weights.data() + (ch * g.kh + ky) * g.kw;
            const int32_t lo = w[2 * pr], hi = 2 * pr + 1 < g.kw ? w[2 * pr + 1] : 0;
            rpair_[static_cast<size_t>((ch * g.kh + ky) * npairs_ + pr)] =
                static_cast<int32_t>((static_cast<uint32_t>(lo) & 0xffffu) | (static_cast<uint32_t>(hi) << 16));
          }
      p_bytes_ = static_cast<size_t>(hp_ * ws_) * 2;
      acc_bytes_ = static_cast<size_t>(g.oh * g.ow + 2 * kVec) * 4;
    }
    q_bytes_ = static_cast<size_t>(nph_ * lq_) * 2;
    v_bytes_ = static_cast<size_t>(nph_ * lv_) * 4;
    stage_bytes_ = static_cast<size_t>(fv_) * 4;
    const bool k3 = g.kh == 3 && g.kw == 3, k5 = g.kh == 5 && g.kw == 5;
    std::string n = std::string(p.x_wide ? "qs16" : p.x_signed ? "qs8" : "qu8") + "_dwconv__" + isa;
    if (k3) n += "_3x3";
    else if (k5) n += "_5x5";
    name_ = n;
  }

  const char* name() const override { return name_.c_str(); }
  size_t scratch_bytes_per_worker() const override {
    return row_mode_ ? p_bytes_ + acc_bytes_ + 64 : q_bytes_ + v_bytes_ + stage_bytes_ + 64;
  }

  void run(const void* x, void* y, void* scratch, const TaskRunner& tasks) const override {
    const auto& g = p_.g;
    const int64_t plane = g.oh * g.ow;
    int64_t cb = std::max<int64_t>(1, std::min<int64_t>(g.c, 4096 / std::max<int64_t>(plane, 1)));
    const int64_t want_tasks = 4 * tasks.num_workers();
    while (cb > 1 && g.n * ceil_div(g.c, cb) < want_tasks) cb = (cb + 1) / 2;
    const int64_t nblk = ceil_div(g.c, cb);
    const size_t stride = scratch_stride(scratch_bytes_per_worker());
    tasks.run(static_cast<size_t>(g.n * nblk), [&](size_t t, int worker) {
      uint8_t* s = static_cast<uint8_t*>(scratch) + static_cast<size_t>(worker) * stride;
      const int64_t n = static_cast<int64_t>(t) / nblk, c0 = static_cast<int64_t>(t) % nblk * cb;
      const int64_t c1 = std::min(g.c, c0 + cb);
      for (int64_t ch = c0; ch < c1; ++ch) {
        if (row_mode_) static_cast<const Derived*>(this)->channel_rows(x, y, n, ch, s);
        else static_cast<const Derived*>(this)->channel(x, y, n, ch, s);
      }
    });
  }

 protected:
  template <class T>
  using KVector = IsaVector<T, Tag>;

  QConvParams p_;
  bool row_mode_ = false;
  int64_t npairs_ = 0, ws_ = 0, hp_ = 0;
  KVector<int32_t> rpair_;  // row mode: [c][kh][npairs] (w[kx] & 0xffff) | w[kx + 1] << 16
  size_t p_bytes_ = 0, acc_bytes_ = 0;
  int64_t sh_ = 1, sw_ = 1, nph_ = 1, hq_ = 0, wq_ = 0, delta_ = 1, f_ = 0, fv_ = 0, lv_ = 0, lq_ = 0, nops_ = 0;
  KVector<int64_t> off_;     // per op: offset into the pair planes
  KVector<int32_t> wpair_;   // [c][nops]: (w_lo & 0xffff) | w_hi << 16
  KVector<int32_t> bias_;
  KVector<QMultiplier> mult_;
  KVector<double> scale_;
  size_t q_bytes_ = 0, v_bytes_ = 0, stage_bytes_ = 0;
  std::string name_;
};

}  // namespace
}  // namespace qmap::kernels
