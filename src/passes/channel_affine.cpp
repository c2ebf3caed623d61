// Per-output-channel affine folding into Conv / ConvTranspose / Gemm; see channel_affine.h.
#include "passes/channel_affine.h"

#include "passes/graph_edit.h"

namespace qmap {

namespace {

bool is_const_or_absent(const Graph& g, const Node& n, size_t i) {
  return i >= n.inputs.size() || n.inputs[i] == kNoValue || float_constant_of(g, n.inputs[i]) != nullptr;
}

}  // namespace

std::optional<int64_t> affine_channels(const Graph& g, const Node& n) {
  if (n.op != OpId::Conv && n.op != OpId::ConvTranspose && n.op != OpId::Gemm) return std::nullopt;
  if (n.inputs.size() < 2 || float_constant_of(g, n.inputs[1]) == nullptr || !is_const_or_absent(g, n, 2))
    return std::nullopt;
  const Value& out = g.value(n.outputs[0]);
  if (!out.dims || out.dims->size() < 2) return std::nullopt;
  if (n.op == OpId::Gemm && out.dims->size() != 2) return std::nullopt;
  return (*out.dims)[1];
}

void fold_affine_into(Graph& g, size_t producer, const ChannelAffine& a) {
  const Node& n = g.nodes[producer];
  const Tensor w = *float_constant_of(g, n.inputs[1]);  // copies: adding values reallocates
  const Dims out = *g.value(n.outputs[0]).dims;
  const int64_t channels = out[1];
  QMAP_CHECK(static_cast<int64_t>(a.s.size()) == channels && a.t.size() == a.s.size(), "affine size");
  const std::vector<double> wv = w.to_double();
  std::vector<double> w2(wv.size());
  const Dims& wd = w.dims();
  // Output channel of each weight element.
  if (n.op == OpId::Conv) {
    const int64_t per = w.numel() / wd[0];  // W [M, C/group, k...]
    for (size_t i = 0; i < wv.size(); ++i) w2[i] = wv[i] * a.s[i / static_cast<size_t>(per)];
  } else if (n.op == OpId::ConvTranspose) {
    // W [Cin, M/group, k...]: input channel ci of group ci / (Cin/group) feeds output channel
    // group * (M/group) + j.
    const int64_t group = attr_int(n, "group", 1);
    const int64_t cin_per_group = wd[0] / group, m_per_group = wd[1];
    const int64_t k = w.numel() / (wd[0] * wd[1]);
    for (size_t i = 0; i < wv.size(); ++i) {
      const int64_t ci = static_cast<int64_t>(i) / (m_per_group * k);
      const int64_t j = (static_cast<int64_t>(i) / k) % m_per_group;
      w2[i] = wv[i] * a.s[static_cast<size_t>((ci / cin_per_group) * m_per_group + j)];
    }
  } else {  // Gemm: op(B)[k, n]; B is [K, N] (transB 0) or [N, K] (transB 1)
    const bool trans_b = attr_int(n, "transB", 0) != 0;
    for (size_t i = 0; i < wv.size(); ++i) {
      const size_t col = trans_b ? i / static_cast<size_t>(wd[1]) : i % static_cast<size_t>(wd[1]);
      w2[i] = wv[i] * a.s[col];
    }
  }

  // Bias. Conv family: B [M]. Gemm: beta * C broadcast to [M, N]; kept per column when C is.
  std::vector<double> b2;
  Dims bdims = {channels};
  const Tensor* b = n.inputs.size() > 2 ? constant_of(g, n.inputs[2]) : nullptr;
  if (n.op != OpId::Gemm) {
    const std::vector<double> bv = b ? b->to_double() : std::vector<double>(static_cast<size_t>(channels), 0.0);
    b2.resize(bv.size());
    for (size_t c = 0; c < bv.size(); ++c) b2[c] = a.s[c] * bv[c] + a.t[c];
  } else {
    const double beta = attr_float(n, "beta", 1.f);
    std::optional<std::vector<double>> col = b ? per_channel_values(*b, out) : std::vector<double>(static_cast<size_t>(channels), 0.0);
    if (col) {
      for (size_t c = 0; c < col->size(); ++c) b2.push_back(a.s[c] * beta * (*col)[c] + a.t[c]);
    } else {  // C varies along M: materialize [M, N] (broadcasting C's [M, 1] or [M, N])
      bdims = out;
      const std::vector<double> cv = b->to_double();
      const bool full = b->numel() == num_elements(out);
      for (int64_t m = 0; m < out[0]; ++m)
        for (int64_t c = 0; c < channels; ++c) {
          const double cval = cv[static_cast<size_t>(full ? m * channels + c : m)];
          b2.push_back(a.s[static_cast<size_t>(c)] * beta * cval + a.t[static_cast<size_t>(c)]);
        }
    }
  }
  replace_constant_input(g, producer, 1, float_tensor(wd, w2), "W");
  replace_constant_input(g, producer, 2, float_tensor(bdims, b2), "B");
  if (g.nodes[producer].op == OpId::Gemm) g.nodes[producer].attrs["beta"] = 1.0f;
}

std::optional<std::vector<double>> per_channel_values(const Tensor& c, const Dims& out) {
  const Dims& cd = c.dims();
  if (cd.size() > out.size() || out.size() < 2) return std::nullopt;
  const size_t offset = out.size() - cd.size();
  bool per_channel = false;
  for (size_t i = 0; i < cd.size(); ++i) {
    const size_t axis = i + offset;
    if (cd[i] == 1) continue;
    if (axis != 1 || cd[i] != out[1]) return std::nullopt;
    per_channel = true;
  }
  const std::vector<double> v = c.to_double();
  if (!per_channel) return std::vector<double>(static_cast<size_t>(out[1]), v.at(0));
  return v;
}

}  // namespace qmap
