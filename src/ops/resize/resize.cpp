// Resize (ONNX Resize-13, the opset 13-17 form): inputs X, roi (optional, float, [starts...,
// ends...] per axis, tf_crop_and_resize only), scales (optional float, one per axis) and sizes
// (optional int64); exactly one of scales/sizes. Output dim = floor(in * scale) or sizes.
// Modes nearest (any dtype), linear and cubic (float32), over every axis whose size or mapping
// changes (N-linear / N-cubic, separable). Coordinates follow the ONNX reference
// (onnx/backend/test/case/node/resize.py) in double precision:
//   half_pixel          x_in = (x + 0.5) / s - 0.5
//   pytorch_half_pixel  same, but -0.5 when the output length is 1
//   align_corners       x_in = x * (L_in - 1) / (s * L_in - 1)   (0 when s * L_in == 1)
//   asymmetric          x_in = x / s
//   tf_crop_and_resize  x_in = roi_start * (L_in-1) + x * (roi_end-roi_start) * (L_in-1) / (s*L_in-1);
//                       outside [0, L_in-1] the output is extrapolation_value
//   tf_half_pixel_for_nn (Resize-11 only, kept for old models) x_in = (x + 0.5) / s
// where s is the given scale, or L_out / L_in with sizes. Neighbours outside the input are
// clamped to the edge (the reference's edge padding); exclude_outside drops them and
// renormalizes the cubic weights.
// The upgrade hook maps Upsample-7/9 and Resize-10 (asymmetric, scales only) to this form.
#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/limits.h"
#include "ops/common/helpers.h"
#include "ops/common/tensor_args.h"
#include "ops/common/tensor_copy.h"

namespace qmap::ops::resize {

static const AttrSpec kAttrs[] = {
    {"coordinate_transformation_mode", AttrType::kString, "half_pixel",
     "half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_crop_and_resize"},
    {"cubic_coeff_a", AttrType::kFloat, "-0.75", "the cubic kernel's a (-0.5 TensorFlow, -0.75 PyTorch)"},
    {"exclude_outside", AttrType::kInt, "0", "1: weights of taps outside the input are zeroed and renormalized"},
    {"extrapolation_value", AttrType::kFloat, "0", "output value outside the roi (tf_crop_and_resize)"},
    {"mode", AttrType::kString, "nearest", "nearest, linear or cubic"},
    {"nearest_mode", AttrType::kString, "round_prefer_floor", "round_prefer_floor, round_prefer_ceil, floor, ceil"},
};

struct Params {
  std::string mode, coord, nearest;
  float cubic_a = -0.75f;
  bool exclude_outside = false;
  float extrapolation = 0.f;
};

static Params params_of(const Node& n) {
  Params p;
  p.mode = attr_string(n, "mode", "nearest");
  p.coord = attr_string(n, "coordinate_transformation_mode", "half_pixel");
  p.nearest = attr_string(n, "nearest_mode", "round_prefer_floor");
  p.cubic_a = attr_float(n, "cubic_coeff_a", -0.75f);
  p.exclude_outside = attr_int(n, "exclude_outside", 0) != 0;
  p.extrapolation = attr_float(n, "extrapolation_value", 0.f);
  return p;
}

static bool one_of(const std::string& v, std::initializer_list<const char*> allowed) {
  for (const char* a : allowed)
    if (v == a) return true;
  return false;
}

// An optional input counts as given only if it is present and not an empty tensor (Resize-11
// models pass empty roi/scales when they give sizes).
static bool given(const Tensor* t) { return t != nullptr && t->numel() > 0; }

// Per-axis scale and output length, from scales or sizes.
struct AxisScale {
  double scale;
  int64_t out;
  double out_width;  // the reference's output_width: s * L_in (exactly L_out with sizes)
};

static std::vector<AxisScale> axis_scales(const Dims& in, const Tensor* scales, const Tensor* sizes) {
  std::vector<AxisScale> a(in.size());
  if (given(scales)) {
    auto s = scales->data<float>();
    for (size_t d = 0; d < in.size(); ++d) {
      const double sd = static_cast<double>(s[d]);
      const double w = sd * static_cast<double>(in[d]);
      // Beyond one tensor's element limit the length only matters for the error infer gives;
      // clamped first, since converting a double past int64's range is undefined.
      const double capped = std::min(std::floor(w), static_cast<double>(kMaxTensorElements) + 1);
      a[d] = {sd, static_cast<int64_t>(capped), w};
    }
  } else {
    const auto z = sizes->to_int64();
    for (size_t d = 0; d < in.size(); ++d) {
      const double sd = in[d] == 0 ? 1.0 : static_cast<double>(z[d]) / static_cast<double>(in[d]);
      a[d] = {sd, z[d], static_cast<double>(z[d])};
    }
  }
  return a;
}

static Status infer(InferCtx& ctx) {
  const Params p = params_of(ctx.node());
  if (!one_of(p.mode, {"nearest", "linear", "cubic"}))
    return ctx.error("mode '{}' is not valid: supported modes are nearest, linear, cubic", p.mode);
  if (!one_of(p.coord, {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric", "tf_crop_and_resize",
                        "tf_half_pixel_for_nn"}))
    return ctx.error("coordinate_transformation_mode '{}' is not valid: supported modes are half_pixel, "
                     "pytorch_half_pixel, align_corners, asymmetric, tf_crop_and_resize (and Resize-11's "
                     "tf_half_pixel_for_nn)", p.coord);
  if (!one_of(p.nearest, {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"}))
    return ctx.error("nearest_mode '{}' is not valid: supported modes are round_prefer_floor, round_prefer_ceil, "
                     "floor, ceil", p.nearest);
  const int64_t excl = attr_int(ctx.node(), "exclude_outside", 0);
  if (excl != 0 && excl != 1) return ctx.error("exclude_outside {} is not valid: must be 0 or 1", excl);
  const DType dt = ctx.dtype(0);
  if (p.mode != "nearest" && dt != DType::kFloat32)
    return ctx.error("input has type {}: mode '{}' supports float32 only", dtype_name(dt), p.mode);
  if (ctx.has_input(1) && ctx.dtype(1) != DType::kFloat32 && ctx.dtype(1) != DType::kFloat64)
    return ctx.error("roi has type {}: must be float32 or float64", dtype_name(ctx.dtype(1)));
  if (ctx.has_input(2) && ctx.dtype(2) != DType::kFloat32)
    return ctx.error("scales has type {}: must be float32", dtype_name(ctx.dtype(2)));
  QMAP_RETURN_IF_ERROR(expect_int_list(ctx, 3, "sizes"));

  // Which of scales/sizes is given may depend on whether a present input is empty.
  auto empty_known = [&](int i) { return !ctx.has_input(i) || (ctx.dims_known(i) && num_elements(ctx.dims(i)) == 0); };
  auto nonempty_known = [&](int i) { return ctx.dims_known(i) && num_elements(ctx.dims(i)) > 0; };
  if (nonempty_known(2) && nonempty_known(3))
    return ctx.error("both scales and sizes are given: exactly one of them may be set");
  if (empty_known(2) && empty_known(3))
    return ctx.error("neither scales nor sizes is given: exactly one of them must be set");
  const bool use_scales = nonempty_known(2);
  const int data_input = use_scales ? 2 : 3;
  if (!ctx.dims_known(0) || !(use_scales || nonempty_known(3)) || ctx.value(data_input) == nullptr)
    return set_unknown_output(ctx, dt);
  const Dims& in = ctx.dims(0);
  const Tensor& v = *ctx.value(data_input);
  if (v.numel() != static_cast<int64_t>(in.size()))
    return ctx.error("{} has {} entries for a rank-{} input: must have one per axis", use_scales ? "scales" : "sizes",
                     v.numel(), in.size());
  if (use_scales) {
    for (float s : v.data<float>())
      if (!(s > 0.f)) return ctx.error("scales [{}] has {}: scales must be > 0", fmt::join(v.data<float>(), ","), s);
  } else {
    for (int64_t s : v.to_int64())
      if (s <= 0) return ctx.error("sizes [{}] has {}: sizes must be > 0", fmt::join(v.to_int64(), ","), s);
  }
  if (p.coord == "tf_crop_and_resize") {
    if (!ctx.has_input(1)) return ctx.error("roi is not given: tf_crop_and_resize needs it");
    if (ctx.dims_known(1) && num_elements(ctx.dims(1)) != 2 * static_cast<int64_t>(in.size()))
      return ctx.error("roi has {} entries for a rank-{} input: tf_crop_and_resize needs 2 * rank",
                       num_elements(ctx.dims(1)), in.size());
  }
  Dims out;
  for (const AxisScale& a : axis_scales(in, use_scales ? &v : nullptr, use_scales ? nullptr : &v)) {
    if (a.out <= 0)
      return ctx.error("scales [{}] give an empty output for input {}: each output dim must be >= 1",
                       fmt::join(v.to_double(), ","), dims_str(in));
    if (a.out > kMaxTensorElements)
      return ctx.error("scales [{}] give an output dim of {:.6g} for input {}: more than 2^29 elements, over "
                       "qmap's limit for one tensor", fmt::join(v.to_double(), ","), a.out_width, dims_str(in));
    out.push_back(a.out);
  }
  ctx.set_output(0, dt, out);
  return ok_status();
}

// The input coordinate that output index x maps to on one axis (see the file header).
static double source_coord(const Params& p, int64_t x, const AxisScale& a, int64_t in_len, double roi_start,
                           double roi_end) {
  const double xd = static_cast<double>(x);
  const double lin = static_cast<double>(in_len);
  if (p.coord == "align_corners") return a.out_width == 1 ? 0.0 : xd * (lin - 1) / (a.out_width - 1);
  if (p.coord == "asymmetric") return xd / a.scale;
  if (p.coord == "tf_crop_and_resize") {
    const double c = a.out_width == 1 ? (roi_end - roi_start) * (lin - 1) / 2
                                      : xd * (roi_end - roi_start) * (lin - 1) / (a.out_width - 1);
    return c + roi_start * (lin - 1);
  }
  if (p.coord == "pytorch_half_pixel") return a.out_width == 1 ? -0.5 : (xd + 0.5) / a.scale - 0.5;
  if (p.coord == "tf_half_pixel_for_nn") return (xd + 0.5) / a.scale;
  return (xd + 0.5) / a.scale - 0.5;  // half_pixel
}

// The cubic convolution weights of the 4 taps at offsets -1, 0, 1, 2 from floor, for the
// fractional position r in (0, 1] (ONNX reference cubic_coeffs).
static void cubic_weights(double r, double A, double w[4]) {
  const double r1 = r + 1, s = 1 - r, s1 = s + 1;
  w[0] = ((A * r1 - 5 * A) * r1 + 8 * A) * r1 - 4 * A;
  w[1] = ((A + 2) * r - (A + 3)) * r * r + 1;
  w[2] = ((A + 2) * s - (A + 3)) * s * s + 1;
  w[3] = ((A * s1 - 5 * A) * s1 + 8 * A) * s1 - 4 * A;
}

// Interpolation taps of one axis: for output index j, `taps` (index, weight) pairs, the
// indices already clamped into [0, in_len); outside[j] marks tf_crop_and_resize extrapolation.
struct AxisTaps {
  int taps = 1;
  std::vector<int64_t> index;
  std::vector<double> weight;
  std::vector<char> outside;
  bool identity = false;
};

static AxisTaps axis_taps(const Params& p, const AxisScale& a, int64_t in_len, double roi_start, double roi_end) {
  AxisTaps t;
  t.taps = p.mode == "nearest" ? 1 : p.mode == "linear" ? 2 : 4;
  const auto n = static_cast<size_t>(a.out);
  t.index.resize(n * static_cast<size_t>(t.taps));
  t.weight.resize(n * static_cast<size_t>(t.taps));
  t.outside.assign(n, 0);
  auto clamp_idx = [in_len](int64_t i) { return std::clamp<int64_t>(i, 0, in_len - 1); };
  t.identity = a.out == in_len;
  for (int64_t j = 0; j < a.out; ++j) {
    const double x = source_coord(p, j, a, in_len, roi_start, roi_end);
    int64_t* idx = &t.index[static_cast<size_t>(j) * static_cast<size_t>(t.taps)];
    double* w = &t.weight[static_cast<size_t>(j) * static_cast<size_t>(t.taps)];
    if (p.coord == "tf_crop_and_resize" && (x < 0 || x > static_cast<double>(in_len - 1))) {
      t.outside[static_cast<size_t>(j)] = 1;
      t.identity = false;
    }
    const double fl = std::floor(x);
    int64_t f = static_cast<int64_t>(fl);
    double r = x - fl;
    if (p.mode == "nearest") {
      int64_t k = f;
      if (r != 0) {
        if (p.nearest == "round_prefer_floor") k = r <= 0.5 ? f : f + 1;
        else if (p.nearest == "round_prefer_ceil") k = r < 0.5 ? f : f + 1;
        else if (p.nearest == "ceil") k = f + 1;
      }
      idx[0] = clamp_idx(k);
      w[0] = 1;
      t.identity = t.identity && idx[0] == j;
      continue;
    }
    // Prefer the left neighbour: an exact integer position uses r = 1 from the index below.
    if (r == 0) {
      f -= 1;
      r = 1;
    }
    if (p.mode == "linear") {
      idx[0] = f;
      idx[1] = f + 1;
      w[0] = 1 - r;
      w[1] = r;
    } else {
      for (int k = 0; k < 4; ++k) idx[k] = f - 1 + k;
      cubic_weights(r, static_cast<double>(p.cubic_a), w);
      if (p.exclude_outside) {
        double sum = 0;
        for (int k = 0; k < 4; ++k) {
          if (idx[k] < 0 || idx[k] >= in_len) w[k] = 0;
          sum += w[k];
        }
        for (int k = 0; k < 4; ++k) w[k] /= sum;
      }
    }
    for (int k = 0; k < t.taps; ++k) {
      idx[k] = clamp_idx(idx[k]);
      const bool at_j = idx[k] == j;
      if ((at_j && w[k] != 1) || (!at_j && w[k] != 0)) t.identity = false;
    }
  }
  return t;
}

// Interpolates `cur` (dims `dims`) along axis `axis` with `t`, in double.
static std::vector<double> interpolate_axis(const std::vector<double>& cur, Dims& dims, size_t axis,
                                            const AxisTaps& t, int64_t out_len) {
  int64_t outer = 1, inner = 1;
  for (size_t d = 0; d < axis; ++d) outer *= dims[d];
  for (size_t d = axis + 1; d < dims.size(); ++d) inner *= dims[d];
  const int64_t in_len = dims[axis];
  std::vector<double> next(static_cast<size_t>(outer * out_len * inner), 0.0);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < out_len; ++j) {
      double* dst = &next[static_cast<size_t>((o * out_len + j) * inner)];
      for (int k = 0; k < t.taps; ++k) {
        const size_t tk = static_cast<size_t>(j * t.taps + k);
        const double w = t.weight[tk];
        if (w == 0) continue;
        const double* src = &cur[static_cast<size_t>((o * in_len + t.index[tk]) * inner)];
        for (int64_t i = 0; i < inner; ++i) dst[i] += w * src[i];
      }
    }
  dims[axis] = out_len;
  return next;
}

static Status eval(EvalCtx& ctx) {
  const Params p = params_of(ctx.node);
  const Tensor& x = ctx.in(0);
  Tensor& y = ctx.out(0);
  const Dims& in = x.dims();
  const size_t r = in.size();
  const Tensor* scales = ctx.has(2) && ctx.in(2).numel() > 0 ? &ctx.in(2) : nullptr;
  const Tensor* sizes = scales == nullptr ? &ctx.in(3) : nullptr;
  const auto as = axis_scales(in, scales, sizes);
  std::vector<double> roi(2 * r, 0.0);
  for (size_t d = 0; d < r; ++d) roi[r + d] = 1.0;
  if (p.coord == "tf_crop_and_resize") roi = ctx.in(1).to_double();

  std::vector<AxisTaps> taps;
  for (size_t d = 0; d < r; ++d) taps.push_back(axis_taps(p, as[d], in[d], roi[d], roi[r + d]));
  if (y.numel() == 0) return ok_status();

  if (p.mode == "nearest") {
    AxisMaps maps(r);
    for (size_t d = 0; d < r; ++d) {
      maps[d] = taps[d].index;
      for (size_t j = 0; j < maps[d].size(); ++j)
        if (taps[d].outside[j]) maps[d][j] = -1;
    }
    const Tensor fill = cast_tensor(Tensor::scalar<float>(p.extrapolation), x.dtype());
    gather_by_axis_maps(x, y, maps, fill.raw());
    return ok_status();
  }

  // Separable N-linear / N-cubic: one 1-D pass per axis that changes.
  auto xs = x.data<float>();
  std::vector<double> cur(xs.begin(), xs.end());
  Dims dims = in;
  for (size_t d = 0; d < r; ++d)
    if (!taps[d].identity) cur = interpolate_axis(cur, dims, d, taps[d], as[d].out);
  // tf_crop_and_resize: positions outside the roi on any axis take extrapolation_value.
  for (size_t d = 0; d < r; ++d) {
    int64_t outer = 1, inner = 1;
    for (size_t k = 0; k < d; ++k) outer *= dims[k];
    for (size_t k = d + 1; k < r; ++k) inner *= dims[k];
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < dims[d]; ++j)
        if (taps[d].outside[static_cast<size_t>(j)])
          std::fill_n(&cur[static_cast<size_t>((o * dims[d] + j) * inner)], inner,
                      static_cast<double>(p.extrapolation));
  }
  auto ys = y.data<float>();
  for (size_t i = 0; i < cur.size(); ++i) ys[i] = static_cast<float>(cur[i]);
  return ok_status();
}

// Upsample-7 (scales attribute), Upsample-9 and Resize-10 (X, scales) -> Resize-13 inputs
// (X, "", scales) with their fixed semantics: asymmetric coordinates; nearest picks floor
// when upsampling and ceil when downsampling (ONNX Runtime's rule for these opsets, matched by
// test_upsample_nearest). With scales unknown at import, upsampling is assumed (floor).
static Status upgrade(Graph& graph, int64_t opset, std::vector<Node>& nodes) {
  Node& n = nodes[0];
  const bool upsample = n.op_type == "Upsample";
  if (!upsample && opset >= 11) return ok_status();
  n.op = OpId::Resize;
  std::string mode = "nearest";
  if (n.has_attr("mode")) {
    const auto* m = std::get_if<std::string>(&n.attrs.at("mode"));
    if (m == nullptr) return error("{} '{}': attribute mode must be a string", n.op_type, n.name);
    mode = *m;
  }
  if (mode == "bilinear") mode = "linear";  // Upsample-7's alias accepted by its implementations
  if (mode != "nearest" && mode != "linear")
    return error("{} '{}': mode '{}' is not valid: supported modes are nearest, linear", n.op_type, n.name, mode);
  // Move the scales to input 2.
  ValueId scales = kNoValue;
  if (upsample && opset < 9) {
    if (!n.has_attr("scales")) return error("Upsample '{}': attribute scales is required in Upsample-7", n.name);
    const auto* s = std::get_if<std::vector<float>>(&n.attrs.at("scales"));
    if (s == nullptr) return error("Upsample '{}': attribute scales must be floats", n.name);
    scales = graph.add_constant(graph.unique_value_name((n.name.empty() ? "Upsample" : n.name) + "_scales"),
                                Tensor::from_vector<float>({static_cast<int64_t>(s->size())}, *s));
    n.attrs.erase("scales");
  } else {
    if (n.inputs.size() != 2) return error("{} '{}': expected inputs X, scales", n.op_type, n.name);
    scales = n.inputs[1];
  }
  n.inputs.resize(1);
  n.inputs.push_back(kNoValue);  // roi
  n.inputs.push_back(scales);
  n.attrs["mode"] = mode;
  n.attrs["coordinate_transformation_mode"] = std::string("asymmetric");
  if (mode == "nearest") {
    bool up = false, down = false;
    if (const auto& c = graph.value(scales).constant)
      for (double s : c->to_double()) {
        up = up || s > 1;
        down = down || s < 1;
      }
    if (up && down)
      return error("{} '{}': nearest scales mix up- and downsampling: not supported (the IR's nearest_mode is one "
                   "rule for all axes)", n.op_type, n.name);
    n.attrs["nearest_mode"] = std::string(down ? "ceil" : "floor");
  }
  return ok_status();
}

// Targets limit the mode, the coordinate mode (many NPUs only do asymmetric/half_pixel) and
// the resize factors (`scale`: out/in per axis, rounded; e.g. only 2x nearest).
static void npu_params(const InferCtx& ctx, std::span<const std::optional<Dims>> outputs, OpParams& params) {
  const Params p = params_of(ctx.node());
  params.push_back({"mode", {}, p.mode});
  params.push_back({"coordinate_mode", {}, p.coord});
  if (!ctx.dims_known(0) || !outputs[0]) return;
  std::vector<int64_t> scale;
  for (size_t d = 0; d < outputs[0]->size(); ++d) {
    const int64_t i = ctx.dims(0)[d];
    scale.push_back(i == 0 ? 1 : std::llround(static_cast<double>((*outputs[0])[d]) / static_cast<double>(i)));
  }
  params.push_back({"scale", scale, ""});
}

static QuantKind quant_rule(const Graph&, const Node& n, std::string* why) {
  const std::string mode = attr_string(n, "mode", "nearest");
  if (mode == "nearest") return QuantKind::kPassThrough;
  *why = "Resize mode " + mode + " (only nearest moves 8-bit values unchanged)";
  return QuantKind::kFloat;
}

// Nearest and linear interpolation stay within the inputs' range; cubic overshoots below the
// smallest input.
static bool non_negative(const Graph&, const Node& n, const InputSigns& in) {
  return attr_string(n, "mode", "nearest") != "cubic" && in.non_negative(0);
}

extern const OpDef kDef = {
    .name = "Resize",
    .summary = "Resizes a tensor by nearest, N-linear or cubic interpolation.",
    .min_inputs = 1, .max_inputs = 4, .min_outputs = 1, .max_outputs = 1,
    .attrs = kAttrs,
    .infer = infer,
    .eval = eval,
    .upgrade_onnx = upgrade,
    .npu_params = npu_params,
    .quant_rule = quant_rule,
    .lowering = Int8Lowering::kMove,
    .output_non_negative = non_negative,
};

}  // namespace qmap::ops::resize
