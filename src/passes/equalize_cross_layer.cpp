// equalize_cross_layer: cross-layer equalization of consecutive convolutions (passes.h).
//
// Nagel et al. 2019, "Data-Free Quantization Through Weight Equalization and Bias Correction",
// section 4.1. For a pair A -> (ops f with f(x / s) = f(x) / s for s > 0) -> B where A's
// output channel i reaches B's input channel i, dividing A's output channel i (its weights
// and bias) by s_i and multiplying B's weights of input channel i by s_i computes the same
// function. With r1_i = max |A's weights of output channel i| and r2_i = max |B's weights of
// input channel i|, s_i = sqrt(r1_i / r2_i) makes both ranges sqrt(r1_i * r2_i): the channel
// ranges of B's weight rows (which share one int8 scale per output channel) and of the
// activation between (one scale per tensor) move towards each other. A convolution in two
// pairs (B of one, A of the next) is balanced by repeating the sweep until the scales settle.
#include <algorithm>
#include <cmath>
#include <map>

#include "passes/channel_affine.h"
#include "passes/passes.h"

namespace qmap {

namespace {

struct Pair {
  size_t a = 0, b = 0;      // node indices: A (producer), B (consumer)
  int64_t channels = 0;     // A's output channels = B's input channels
  bool b_depthwise = false;  // B: group = channels, one weight plane per channel
};

// Clip with no upper bound and a lower bound of 0 or none (a Relu, or the identity).
bool unbounded_clip(const Graph& g, const Node& n) {
  auto bound = [&](size_t i, float absent) -> std::optional<float> {
    if (i >= n.inputs.size() || n.inputs[i] == kNoValue) return absent;
    const Tensor* t = float_constant_of(g, n.inputs[i]);
    if (t == nullptr || t->numel() != 1) return std::nullopt;
    return static_cast<float>(t->to_double()[0]);
  };
  const std::optional<float> lo = bound(1, -INFINITY), hi = bound(2, INFINITY);
  return lo && hi && (*lo == 0.f || *lo == -INFINITY) && *hi == INFINITY && !n.attrs.count("min") &&
         !n.attrs.count("max");
}

// Ops between A and B that commute with a positive scale per channel. A Clip with an upper
// bound (ReLU6) does not: channel i's bound would become 6 / s_i, which one Clip cannot hold,
// so a pair with one between is left alone.
bool passes_scale(const Graph& g, const Node& n) {
  switch (n.op) {
    case OpId::Relu:
    case OpId::LeakyRelu:
    case OpId::MaxPool:
    case OpId::AveragePool: return true;
    case OpId::Clip: return unbounded_clip(g, n);
    default: return false;
  }
}

// A Conv with constant float weights (and bias, if any): its output channel c is weight row
// c, whatever its group. Returns its output channel count.
std::optional<int64_t> conv_channels(const Graph& g, const Node& n) {
  if (n.op != OpId::Conv) return std::nullopt;
  return affine_channels(g, n);
}

// The pairs of the graph, each consumer and producer at most once per role.
std::vector<Pair> find_pairs(const Graph& g) {
  std::vector<Pair> pairs;
  for (size_t a = 0; a < g.nodes.size(); ++a) {
    const std::optional<int64_t> m = conv_channels(g, g.nodes[a]);
    if (!m) continue;
    // Follow single-use values through scale-commuting ops to the next node.
    ValueId v = g.nodes[a].outputs[0];
    std::optional<size_t> next;
    for (;;) {
      next = single_consumer(g, v);
      if (!next) break;
      const Node& n = g.nodes[*next];
      if (n.op == OpId::Conv || !passes_scale(g, n) || n.outputs.size() != 1 || n.inputs[0] != v) break;
      v = n.outputs[0];
    }
    if (!next || g.nodes[*next].op != OpId::Conv || g.nodes[*next].inputs[0] != v) continue;
    const Node& b = g.nodes[*next];
    if (!conv_channels(g, b)) continue;
    const Tensor* w2 = float_constant_of(g, b.inputs[1]);
    const int64_t group = attr_int(b, "group", 1);
    const Dims& wd = w2->dims();
    Pair p{a, *next, *m, false};
    if (group == 1 && wd.size() >= 2 && wd[1] == *m) p.b_depthwise = false;
    else if (group == *m && wd.size() >= 2 && wd[0] == *m && wd[1] == 1) p.b_depthwise = true;
    else continue;
    pairs.push_back(p);
  }
  return pairs;
}

// One convolution's weights during the sweeps, as read from the graph, and the scales the
// sweeps have given it so far: its effective weight is w[o][c][k] * in[c] / out[o] (a
// depthwise B's input channel is its row o). The graph is written once, after the sweeps.
struct ConvScales {
  std::vector<double> w;
  int64_t rows = 0, cols = 0, k = 0;  // W [rows, cols, k...]
  bool in_by_row = false;             // depthwise as B: input channel o scales row o
  std::vector<double> in, out;
};

ConvScales conv_scales(const Graph& g, size_t node, bool in_by_row) {
  const Tensor& t = *float_constant_of(g, g.nodes[node].inputs[1]);
  ConvScales c;
  c.w = t.to_double();
  c.rows = t.dims()[0];
  c.cols = t.dims()[1];
  c.k = t.numel() / (c.rows * c.cols);
  c.in_by_row = in_by_row;
  c.in.assign(static_cast<size_t>(in_by_row ? c.rows : c.cols), 1.0);
  c.out.assign(static_cast<size_t>(c.rows), 1.0);
  return c;
}

// Weight element e's output channel (row) and the input channel whose scale it takes.
size_t row_of(const ConvScales& c, size_t e) { return e / static_cast<size_t>(c.cols * c.k); }
size_t input_of(const ConvScales& c, size_t e) {
  return c.in_by_row ? row_of(c, e) : (e / static_cast<size_t>(c.k)) % static_cast<size_t>(c.cols);
}

// max |effective w| per output channel (by_row) or per input channel.
std::vector<double> ranges(const ConvScales& c, bool by_row) {
  std::vector<double> r(by_row ? c.out.size() : c.in.size(), 0.0);
  for (size_t e = 0; e < c.w.size(); ++e) {
    const size_t o = row_of(c, e), in = input_of(c, e);
    double& slot = r[by_row ? o : in];
    slot = std::max(slot, std::abs(c.w[e] * c.in[in] / c.out[o]));
  }
  return r;
}

// B's weights of input channel i times s[i] (a new initializer).
void scale_inputs(Graph& g, size_t node, const ConvScales& c) {
  const Tensor w = *float_constant_of(g, g.nodes[node].inputs[1]);  // copies: adding values reallocates
  std::vector<double> v = w.to_double();
  for (size_t e = 0; e < v.size(); ++e) v[e] *= c.in[input_of(c, e)];
  replace_constant_input(g, node, 1, float_tensor(w.dims(), v), "W");
}

// max_i r_i / min_i r_i over channels with r_i > 0 (1 when none).
double spread(const std::vector<double>& r) {
  double lo = INFINITY, hi = 0;
  for (double x : r)
    if (x > 0) lo = std::min(lo, x), hi = std::max(hi, x);
  return hi > 0 ? hi / lo : 1.0;
}

bool all_one(const std::vector<double>& v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return x == 1.0; });
}

}  // namespace

Status equalize_cross_layer(Graph& g, PassLog* log) {
  const std::vector<Pair> pairs = find_pairs(g);
  if (pairs.empty()) return ok_status();
  // Every convolution of a pair, once (a Conv is A of one pair and B of the next in a chain).
  std::map<size_t, ConvScales> convs;
  for (const Pair& p : pairs) convs.emplace(p.b, conv_scales(g, p.b, p.b_depthwise));
  for (const Pair& p : pairs) convs.emplace(p.a, conv_scales(g, p.a, false));
  std::vector<double> before(pairs.size());
  for (size_t k = 0; k < pairs.size(); ++k) before[k] = spread(ranges(convs.at(pairs[k].b), false));
  // Sweeps until no scale moves by more than 1e-4 (each sweep brings a chain closer to the
  // balance where every pair's ranges are equal; 50 sweeps bound a long chain's settling).
  for (int sweep = 0; sweep < 50; ++sweep) {
    double moved = 0;
    for (const Pair& p : pairs) {
      ConvScales &a = convs.at(p.a), &b = convs.at(p.b);
      const std::vector<double> r1 = ranges(a, true), r2 = ranges(b, false);
      for (size_t i = 0; i < r1.size(); ++i) {
        if (!(r1[i] > 0 && r2[i] > 0)) continue;  // a dead channel: nothing to balance
        const double s_i = std::sqrt(r1[i] / r2[i]);
        a.out[i] *= s_i;
        b.in[i] *= s_i;
        moved = std::max(moved, std::abs(std::log(s_i)));
      }
    }
    if (moved < 1e-4) break;
  }
  // The graph, once per convolution: its rows (and bias) divided by `out`, then its input
  // channels multiplied by `in`.
  for (const auto& [node, c] : convs) {
    if (!all_one(c.out)) {
      ChannelAffine down{std::vector<double>(c.out.size()), std::vector<double>(c.out.size(), 0.0)};
      for (size_t i = 0; i < c.out.size(); ++i) down.s[i] = 1.0 / c.out[i];
      fold_affine_into(g, node, down);
    }
    if (!all_one(c.in)) scale_inputs(g, node, c);
  }
  for (size_t k = 0; k < pairs.size(); ++k) {
    const double after = spread(ranges(convs.at(pairs[k].b), false));
    log_rewrite(log, fmt::format("equalize_cross_layer: {} -> {}: {} channels, {} input channel range spread "
                                 "{:.3g} -> {:.3g}",
                                 node_label(g.nodes[pairs[k].a]), node_label(g.nodes[pairs[k].b]),
                                 pairs[k].channels, pairs[k].b_depthwise ? "depthwise" : "weight", before[k], after));
  }
  return finish_pass(g);
}

}  // namespace qmap
