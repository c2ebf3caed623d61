// The preprocess node at image inputs; see preprocess.h and docs/quantization.md.
#include "passes/preprocess.h"

#include "image/color.h"
#include "passes/graph_edit.h"

namespace qmap {

namespace {

// How the runtime colors become the training colors, as y[o] = sum_i m[o][i] x[i] + bias[o]
// over channels (m row-major [C_out][C_in], 0..255 units).
enum class ColorStep { kNone, kPermute, kConvert };
struct ColorPlan {
  ColorStep step = ColorStep::kNone;
  std::vector<double> m;
  std::vector<double> bias;
};

// nv12 reaches the graph as yuv444 (the runtime upsamples chroma), so it converts as yuv444.
ColorType graph_type(ColorType t) { return t == ColorType::kNv12 ? ColorType::kYuv444 : t; }

Result<ColorPlan> plan_color(const InputSpec& s) {
  const ColorType rt = graph_type(s.type_rt), train = s.type_train;
  ColorPlan p;
  if (rt == train) return p;
  const bool rgb_like_train = train == ColorType::kRgb || train == ColorType::kBgr;
  if (rgb_like_train && (rt == ColorType::kRgb || rt == ColorType::kBgr)) {
    p.step = ColorStep::kPermute;  // reverse the channel order
    p.m = {0, 0, 1, 0, 1, 0, 1, 0, 0};
    p.bias = {0, 0, 0};
    return p;
  }
  if (rgb_like_train && rt == ColorType::kYuv444) {
    // rgb = M * (yuv - offset) = M * yuv - M * offset (BT.601 inverse, image/color.h);
    // bgr takes the rows in reverse order.
    const color::Mat3& m = color::yuv_to_rgb(s.range);
    const color::Vec3& off = color::yuv_offset(s.range);
    p.step = ColorStep::kConvert;
    for (int o = 0; o < 3; ++o) {
      const auto& row = m[static_cast<size_t>(train == ColorType::kBgr ? 2 - o : o)];
      double b = 0;
      for (int i = 0; i < 3; ++i) {
        p.m.push_back(row[static_cast<size_t>(i)]);
        b -= row[static_cast<size_t>(i)] * off[static_cast<size_t>(i)];
      }
      p.bias.push_back(b);
    }
    return p;
  }
  return error("preprocess: input '{}': input_type_rt {} cannot feed input_type_train {}: supported are "
               "the same type, rgb <-> bgr, and yuv444/nv12 -> rgb/bgr/yuv444",
               s.name, color_type_name(s.type_rt), color_type_name(s.type_train));
}

// mean_value / scale_value expanded to one value per channel (1 value = every channel).
Result<std::vector<double>> per_channel(const InputSpec& s, const std::vector<float>& v, const char* key,
                                        int64_t channels) {
  if (v.size() == 1) return std::vector<double>(static_cast<size_t>(channels), v[0]);
  if (static_cast<int64_t>(v.size()) == channels) return std::vector<double>(v.begin(), v.end());
  return error("preprocess: input '{}': {} has {} values: needs 1 or {} (the channels of input_type_train {})",
               s.name, key, v.size(), channels, color_type_name(s.type_train));
}

// The training-layout shape of the input, checked against the model and the spec.
Result<Dims> training_dims(const InputSpec& s, const Value& v) {
  if (v.dtype != DType::kFloat32)
    return error("preprocess: input '{}' is {} in the model: an image input must be float32", s.name,
                 dtype_name(v.dtype));
  if (!v.dims || v.dims->size() != 4)
    return error("preprocess: input '{}' has shape {}: an image input must be 4-D (N, C, H, W in "
                 "input_layout_train {})", s.name, v.dims ? dims_str(*v.dims) : "unknown", layout_name(s.layout_train));
  Dims d = *v.dims;
  if (!s.shape.empty()) {
    bool match = s.shape.size() == d.size();
    for (size_t i = 0; match && i < d.size(); ++i) match = d[i] < 0 || d[i] == s.shape[i];
    if (!match)
      return error("preprocess: input '{}': input_shape {} does not match the model's input shape {}", s.name,
                   dims_str(s.shape), dims_str(d));
    d = s.shape;
  }
  for (int64_t e : d)
    if (e <= 0)
      return error("preprocess: input '{}' has shape {}: dynamic or empty dims need input_shape", s.name,
                   dims_str(d));
  if (s.type_train == ColorType::kFeaturemap)
    return error("preprocess: input '{}': input_type_rt {} needs an image input_type_train, not featuremap",
                 s.name, color_type_name(s.type_rt));
  const int64_t c = s.layout_train == Layout::kNCHW ? d[1] : d[3];
  if (color_channels(s.type_train) != c)
    return error("preprocess: input '{}' has {} channels in shape {} ({}): input_type_train {} has {}", s.name, c,
                 dims_str(d), layout_name(s.layout_train), color_type_name(s.type_train),
                 color_channels(s.type_train));
  const int64_t h = s.layout_train == Layout::kNCHW ? d[2] : d[1];
  const int64_t w = s.layout_train == Layout::kNCHW ? d[3] : d[2];
  if (s.type_rt == ColorType::kNv12 && (h % 2 != 0 || w % 2 != 0))
    return error("preprocess: nv12 needs even height and width: input '{}' is {}", s.name, dims_str(d));
  return d;
}

// Builds the chain's nodes (not yet in the graph) from `cur` onwards.
struct Chain {
  Graph& g;
  std::string prefix;  // "PREPROCESS_<input>"
  ValueId cur;
  std::vector<Node> nodes;

  ValueId constant(const std::string& step, Tensor t) { return add_initializer(g, prefix + "_" + step, std::move(t)); }
  void emit(const std::string& op, const std::string& step, std::vector<ValueId> extra,
            std::map<std::string, AttrValue> attrs = {}) {
    const ValueId out = g.add_value(g.unique_value_name(prefix + "_" + step));
    extra.insert(extra.begin(), cur);
    nodes.push_back(make_node(op, prefix + "_" + step, std::move(extra), {out}, std::move(attrs)));
    cur = out;
  }
};

Status insert_one(Graph& g, const InputSpec& s, ValueId x) {
  QMAP_ASSIGN_OR_RETURN(const Dims train, training_dims(s, g.value(x)));
  if (is_graph_output(g, x))
    return error("preprocess: input '{}' is also a graph output: an image input must feed the model", s.name);
  QMAP_ASSIGN_OR_RETURN(const ColorPlan plan, plan_color(s));
  const bool nchw = s.layout_train == Layout::kNCHW;
  const int64_t c = nchw ? train[1] : train[3];
  const bool has_mean = s.norm == NormType::kMeanAndScale || s.norm == NormType::kMean;
  const bool has_scale = s.norm == NormType::kMeanAndScale || s.norm == NormType::kScale;
  std::vector<double> mean(static_cast<size_t>(c), 0.0), scale(static_cast<size_t>(c), 1.0);
  if (has_mean) { QMAP_ASSIGN_OR_RETURN(mean, per_channel(s, s.mean, "mean_value", c)); }
  if (has_scale) { QMAP_ASSIGN_OR_RETURN(scale, per_channel(s, s.scale, "scale_value", c)); }
  std::vector<double> neg_mean_scale(static_cast<size_t>(c));
  for (size_t i = 0; i < neg_mean_scale.size(); ++i) neg_mean_scale[i] = -mean[i] * scale[i];

  // The graph input: uint8 in the runtime layout and channel count.
  const int64_t n = train[0], h = nchw ? train[2] : train[1], w = nchw ? train[3] : train[2];
  const int64_t crt = color_channels(s.type_rt);
  Value& in = g.value(x);
  in.dtype = DType::kUInt8;
  in.dims = s.layout_rt == Layout::kNCHW ? Dims{n, crt, h, w} : Dims{n, h, w, crt};
  in.dim_params.clear();

  Chain ch{g, preprocess_node_name(s.name), x, {}};
  ch.emit("Cast", "cast", {}, {{"to", int64_t{static_cast<int64_t>(DType::kFloat32)}}});
  if (s.layout_rt != s.layout_train)
    ch.emit("Transpose", "transpose", {}, {{"perm", nchw ? Dims{0, 3, 1, 2} : Dims{0, 2, 3, 1}}});
  const Dims nhwc_vec = {1, 1, 1, c};  // per-channel constants broadcast over N, H, W
  // Matrix m[o][i] with the normalization folded in when it can be (no clamp in between).
  const bool fold_norm = plan.step == ColorStep::kPermute;
  std::vector<double> m = plan.m;
  if (fold_norm)
    for (size_t o = 0; o < static_cast<size_t>(c); ++o)
      for (size_t i = 0; i < static_cast<size_t>(c); ++i) m[o * static_cast<size_t>(c) + i] *= scale[o];
  if (plan.step != ColorStep::kNone) {
    if (nchw) {
      std::vector<ValueId> ins = {ch.constant("color_W", float_tensor({c, c, 1, 1}, m))};
      if (!fold_norm) ins.push_back(ch.constant("color_B", float_tensor({c}, plan.bias)));
      else if (has_mean) ins.push_back(ch.constant("color_B", float_tensor({c}, neg_mean_scale)));
      ch.emit("Conv", "color", ins, {{"kernel_shape", Dims{1, 1}}});
    } else {
      std::vector<double> mt(m.size());  // MatMul B [C_in, C_out] = m transposed
      for (size_t o = 0; o < static_cast<size_t>(c); ++o)
        for (size_t i = 0; i < static_cast<size_t>(c); ++i)
          mt[i * static_cast<size_t>(c) + o] = m[o * static_cast<size_t>(c) + i];
      ch.emit("MatMul", "color", {ch.constant("color_W", float_tensor({c, c}, mt))});
      if (!fold_norm) ch.emit("Add", "color_bias", {ch.constant("color_B", float_tensor(nhwc_vec, plan.bias))});
      else if (has_mean) ch.emit("Add", "norm", {ch.constant("norm_B", float_tensor(nhwc_vec, neg_mean_scale))});
    }
  }
  if (plan.step == ColorStep::kConvert)  // a real YUV -> RGB conversion clamps to 0..255
    ch.emit("Clip", "clip", {ch.constant("clip_min", Tensor::scalar<float>(0.f)),
                             ch.constant("clip_max", Tensor::scalar<float>(255.f))});
  if (!fold_norm && (has_mean || has_scale)) {
    if (nchw) {  // depthwise 1x1 Conv: x * scale + (-mean * scale)
      ch.emit("Conv", "norm",
              {ch.constant("norm_W", float_tensor({c, 1, 1, 1}, scale)),
               ch.constant("norm_B", float_tensor({c}, neg_mean_scale))},
              {{"group", c}, {"kernel_shape", Dims{1, 1}}});
    } else {  // NHWC: a Conv cannot address the last axis; Sub and Mul broadcast over it
      if (has_mean) ch.emit("Sub", "mean", {ch.constant("mean", float_tensor(nhwc_vec, mean))});
      if (has_scale) ch.emit("Mul", "scale", {ch.constant("scale", float_tensor(nhwc_vec, scale))});
    }
  }
  ch.nodes.back().name = ch.prefix;
  g.value(ch.cur).name = g.unique_value_name(ch.prefix);
  redirect_uses(g, x, ch.cur);  // before the chain joins the graph: its Cast keeps reading x
  for (size_t i = 0; i < ch.nodes.size(); ++i) g.nodes.insert(g.nodes.begin() + static_cast<std::ptrdiff_t>(i), std::move(ch.nodes[i]));
  g.rebuild_producers();
  return ok_status();
}

}  // namespace

std::string preprocess_node_name(const std::string& input) { return "PREPROCESS_" + input; }

Status insert_preprocess(Graph& g, std::span<const InputSpec> specs) {
  for (const InputSpec& s : specs) {
    const std::optional<ValueId> x = g.find_value(s.name);
    if (!x || !is_graph_input(g, *x)) {
      std::vector<std::string> names;
      for (ValueId id : g.inputs) names.push_back("'" + g.value(id).name + "'");
      return error("preprocess: input '{}' is not an input of the model: its inputs are {}", s.name,
                   fmt::join(names, ", "));
    }
    if (s.is_image()) QMAP_RETURN_IF_ERROR(insert_one(g, s, *x));
  }
  return finish_pass(g);
}

}  // namespace qmap
