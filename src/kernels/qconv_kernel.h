// The seam between the runtime and the fast integer convolution kernels of each ISA.
//
// A kConv / kConvFloatOut step (Conv, Gemm and MatMul lowered to NCHW convolutions, see
// kernels/ref/qconv.h for the exact semantics) is prepared once at load: the ISA's factory
// validates that it can run the step, packs the weights into its own layout, folds the input
// zero point into the bias (acc = bias - zx_eff * sum(w) + sum(w * x_stored)), and reports
// how much scratch memory one worker needs. run() then does integer math only and cannot
// fail. Every kernel is bit-exact with kernels::ref::qconv2d / qconv2d_float_out: that is
// the contract the kernel tester (kernels/qconv_kernel_test.cpp) checks.
//
// Tensors stay in the program's layout (NCHW, batch n); a kernel may convert to its own
// layout inside run() using scratch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

#include "core/fixed_point.h"
#include "kernels/isa.h"
#include "kernels/parallel.h"
#include "kernels/ref/qconv.h"

namespace qmap::kernels {

struct QConvParams {
  ref::ConvGeometry2d g;
  bool x_signed = false;  // int8 input when true, uint8 otherwise
  int32_t zx = 0;
  std::span<const int8_t> weights;  // [M][C/group][KH][KW]
  std::span<const int32_t> bias;    // [M] or empty
  // 8-bit output (float_out false): y = clamp(requantize(acc, mult[m]) + zy, lo, hi).
  bool y_signed = false;
  std::span<const QMultiplier> mult;  // [M]
  int32_t zy = 0, lo = 0, hi = 255;
  // Float output (kConvFloatOut): y = min(max(float((double)acc * acc_scale[m]), float_min), float_max).
  bool float_out = false;
  std::span<const double> acc_scale;  // [M]
  float float_min = 0, float_max = 0;
  // int16 input or output (the higher-precision form): make_qconv gives the level's depthwise
  // kernel (row mode), on avx512vnni the int8 GEMM kernel for an 8-bit input, else the im2col
  // kernel of x86_avx2/qconv_wide.h; or nullptr (the reference kernel).
  bool x_wide = false, y_wide = false;
  // Optional (docs/format.md, PACKED): what packed() of a kernel of layout `prepacked_layout`
  // returned for these same parameters. A kernel whose path has that layout, and whose sizes
  // agree, uses them in place (no copy: they must outlive the kernel) instead of packing; any
  // other kernel packs as usual.
  std::span<const std::byte> prepacked;      // 64-byte aligned
  std::span<const int64_t> prepacked_sums;   // [M]
  std::string_view prepacked_layout;
};

// A kernel's packed, input-independent state: what a `.bin` may store so that load need not
// pack. `layout` names the kernel path and its packing version ("avx512vnni.gemm.1"); a
// kernel adopts only a blob of its own layout.
struct QConvPacked {
  std::string_view layout;
  std::span<const std::byte> weights;  // the packed weights, as run() reads them
  std::span<const int64_t> row_sums;   // [M]: each output channel's sum of weights
};

class QConvKernel {
 public:
  virtual ~QConvKernel() = default;
  // The kernel's name for profiles and `qmap info`, "<dtype>_<op>__<isa>_<tile>" as in
  // DESIGN.md §6, e.g. "qu8_conv_gemm__avx512vnni_16x32".
  virtual const char* name() const = 0;
  // Scratch bytes one worker needs (64-byte aligned base given to run()).
  virtual size_t scratch_bytes_per_worker() const = 0;
  // x: the input tensor (n*c*h*w bytes), y: the output (n*m*oh*ow bytes, or floats).
  // scratch: num_workers() * scratch_bytes_per_worker() bytes, each worker's slice 64-byte aligned
  // (the slice of worker k starts at scratch + k * round_up(scratch_bytes_per_worker(), 64)).
  virtual void run(const void* x, void* y, void* scratch, const TaskRunner& tasks) const = 0;
  // The packed state (empty layout: the kernel keeps nothing worth storing, e.g. depthwise).
  virtual QConvPacked packed() const { return {}; }
  // True when prepare took QConvParams::prepacked instead of packing.
  virtual bool adopted() const { return false; }
};

// For a kernel of `layout` whose packed weights take weight_bytes, with M output channels:
// whether p.prepacked holds that layout and size, 64-byte aligned, with M row sums that int8
// weights could have and whose bias fold fits int32 (the kernel then runs on them; else it
// packs).
bool adopt_packed_conv(const QConvParams& p, std::string_view layout, size_t weight_bytes);

// Bytes between the scratch slices of two workers.
inline size_t scratch_stride(size_t per_worker) { return (per_worker + 63) / 64 * 64; }

// The factories of each ISA: nullptr when that ISA has no kernel for these parameters (the
// runtime then uses the reference), e.g. when the accumulator bound
// |bias| + taps * 255 * 128 >= 2^31 would need the reference's int64 path. The params'
// spans must outlive the kernel only during the call: kernels copy what they keep.
std::unique_ptr<QConvKernel> make_qconv_avx512vnni(const QConvParams& p);
std::unique_ptr<QConvKernel> make_qconv_avxvnni(const QConvParams& p);
std::unique_ptr<QConvKernel> make_qconv_avx2(const QConvParams& p);

// The factory of `isa` (null for Isa::kRef and for a level this build did not compile).
std::unique_ptr<QConvKernel> make_qconv(Isa isa, const QConvParams& p);

// How the dense (not depthwise) convolution kernel of `isa` covers the output pixels, for the
// host march's cost model (docs/perf.md): runs of `vector` pixels in row-major order whose last
// lanes past the pixels are computed and dropped, each output row widened by the window's halo
// when `row_halo` (the AVX-512 kernel's phase-image grid). vector 0: the reference, no lanes.
struct ConvPixelLayout {
  int64_t vector = 0;
  bool row_halo = false;
};
ConvPixelLayout conv_pixel_layout(Isa isa);
// Output pixels per batch item that a convolution of geometry g computes with layout l: oh*ow
// for a depthwise one (its own kernel), else oh*ow or the row-major run of oh rows (each
// widened by the window's halo, (kw-1)*dil_w / stride_w columns, when row_halo) rounded up to
// a multiple of l.vector. A fully connected layer (1x1 kernel, 1x1 output) computes its one
// pixel.
int64_t conv_computed_pixels(const ref::ConvGeometry2d& g, ConvPixelLayout l);

}  // namespace qmap::kernels
