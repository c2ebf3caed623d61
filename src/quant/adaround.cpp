// Adaptive rounding of weights (adaround.h).
#include "quant/adaround.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/thread_pool.h"
#include "engine/float_engine.h"
#include "kernels/f32/im2col.h"
#include "kernels/f32/sgemm_blas.h"
#include "quant/quantize_params.h"
#include "quant/weighted_layers.h"

namespace qmap {

namespace {

namespace kf = kernels::f32;

// Fewer output positions than this many times K: H is not estimated, the layer is skipped.
constexpr int64_t kMinPositionsPerTap = 2;
// Positions a layer's H is estimated from, over all samples: at least this many per tap and
// this many in all. A high-resolution layer gives far more (56 x 56 x 64 samples); it takes
// evenly spaced positions of each sample, which cuts its cost (K^2 per position) by up to 50x
// with H still averaged over tens of thousands of patches.
constexpr int64_t kTargetPositionsPerTap = 16;
constexpr int64_t kTargetPositions = 16384;

// One layer's statistics: per group, H summed over positions (K x K, row-major).
struct LayerStats {
  WeightedLayer layer;
  QuantizedWeights nearest;  // the quantizer's own: its scales and round-to-nearest
  int64_t groups = 1;
  int64_t k = 0;  // taps per group
  std::vector<float> h;  // groups * k * k (float: ResNet-50's layers hold ~200 MB of them)
  int64_t positions = 0;
  int64_t per_sample = 0;  // Conv: output positions taken per sample and group (evenly spaced)
  std::vector<float> cols, picked;  // scratch: im2col columns, the positions taken
};

// Adds one sample's input x of the layer into s.h.
Status accumulate(LayerStats& s, const Tensor& x) {
  const WeightedLayer& l = s.layer;
  const size_t kk = static_cast<size_t>(s.k * s.k);
  if (l.gemm) {
    if (x.dtype() != DType::kFloat32 || x.dims().size() != 2 || x.dims()[1] != s.k)
      return error("adaround: Gemm input '{}' is {} {}", l.x, dtype_name(x.dtype()), dims_str(x.dims()));
    const int64_t rows = x.dims()[0];
    kf::sgemm_blas(true, false, s.k, s.k, rows, 1.f, x.data<float>().data(), s.k, x.data<float>().data(), s.k, 1.f,
                   s.h.data(), s.k);
    s.positions += rows;
    return ok_status();
  }
  const kf::WindowGeometry& g = l.geo;
  const int64_t hw = g.in[0] * g.in[1], p = g.out[0] * g.out[1];
  const int64_t cin_g = g.in_channels / g.group;
  if (x.dtype() != DType::kFloat32 || x.numel() != g.batch * g.in_channels * hw)
    return error("adaround: Conv input '{}' is {} {}", l.x, dtype_name(x.dtype()), dims_str(x.dims()));
  s.cols.resize(static_cast<size_t>(s.k * p));
  const int64_t take = std::min(p, s.per_sample);
  if (take < p) s.picked.resize(static_cast<size_t>(s.k * take));
  const float* xd = x.data<float>().data();
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t gi = 0; gi < g.group; ++gi) {
      kf::im2col_2d(g, cin_g, xd + (n * g.in_channels + gi * cin_g) * hw, s.cols.data());
      const float* cols = s.cols.data();
      if (take < p) {  // positions j * p / take, j < take
        for (int64_t r = 0; r < s.k; ++r)
          for (int64_t j = 0; j < take; ++j) s.picked[static_cast<size_t>(r * take + j)] = cols[r * p + j * p / take];
        cols = s.picked.data();
      }
      kf::sgemm_blas(false, true, s.k, s.k, take, 1.f, cols, take, cols, take, 1.f,
                     s.h.data() + static_cast<size_t>(gi) * kk, s.k);
    }
  s.positions += g.batch * take;
  return ok_status();
}

// Index of weight (row c, tap k within c's group) in the layer's weight tensor.
int64_t weight_index(const WeightedLayer& l, int64_t k_per_group, int64_t c, int64_t k) {
  if (l.gemm && !l.trans_b) return k * l.channels + c;  // B [K, N]
  return c * k_per_group + k;                            // Conv [M, C/g, kh, kw]; Gemm B^T [N, K]
}

// The scale of output channel c in q (per channel, or the one).
double scale_of(const QuantizedWeights& q, int64_t c) {
  const auto sc = q.scale.data<float>();
  return sc[sc.size() == 1 ? 0 : static_cast<size_t>(c)];
}

// Every weight within 1e-4 of a step of its int8 value (a model trained or exported for int8:
// ../shared's MobileNetV2): rounding loses nothing, so no rounding can do better.
bool on_grid(const WeightedLayer& l, const QuantizedWeights& nearest, int64_t k_per_group) {
  const auto src = l.w.data<float>();
  const auto q = nearest.q.data<int8_t>();
  for (int64_t c = 0; c < l.channels; ++c)
    for (int64_t i = 0; i < k_per_group; ++i) {
      const size_t wi = static_cast<size_t>(weight_index(l, k_per_group, c, i));
      if (std::fabs(static_cast<double>(src[wi]) / scale_of(nearest, c) - q[wi]) > 1e-4) return false;
    }
  return true;
}

// Rounds one layer: returns its report and writes the rounded weights into `w`.
AdaRoundLayer round_layer(LayerStats& s, Tensor& w, int max_sweeps) {
  const WeightedLayer& l = s.layer;
  AdaRoundLayer rep;
  rep.node = s.layer.x;
  rep.taps = s.k;
  rep.positions = s.positions;
  const int64_t m = l.channels, k = s.k, cout_g = m / s.groups;
  const float inv_p = static_cast<float>(1.0 / static_cast<double>(s.positions));
  for (float& v : s.h) v *= inv_p;
  const auto q0 = s.nearest.q.data<int8_t>();
  const auto src = l.w.data<float>();
  auto dst = w.data<float>();
  std::vector<double> d(static_cast<size_t>(k)), hd(static_cast<size_t>(k));
  std::vector<int32_t> q(static_cast<size_t>(k));
  std::vector<char> alt_ok(static_cast<size_t>(k));
  // H d for every row of a group at once (one float GEMM: the K^2 per row that dominates the
  // rounding), then kept in double as weights flip.
  std::vector<float> dg(static_cast<size_t>(cout_g * k)), gg(dg.size());
  for (int64_t c = 0; c < m; ++c) {
    const float* h = s.h.data() + static_cast<size_t>(c / cout_g) * static_cast<size_t>(k * k);
    const double sc = scale_of(s.nearest, c);
    if (c % cout_g == 0) {  // a group's first row: H d of all its rows
      for (int64_t r = 0; r < cout_g; ++r)
        for (int64_t i = 0; i < k; ++i) {
          const int64_t wi = weight_index(l, k, c + r, i);
          dg[static_cast<size_t>(r * k + i)] = static_cast<float>(scale_of(s.nearest, c + r) * q0[static_cast<size_t>(wi)] -
                                                                  static_cast<double>(src[static_cast<size_t>(wi)]));
        }
      kf::sgemm_blas(false, false, cout_g, k, k, 1.f, dg.data(), k, h, k, 0.f, gg.data(), k);
    }
    for (int64_t i = 0; i < k; ++i) {
      const int64_t wi = weight_index(l, k, c, i);
      q[static_cast<size_t>(i)] = q0[static_cast<size_t>(wi)];
      d[static_cast<size_t>(i)] = sc * q[static_cast<size_t>(i)] - static_cast<double>(src[static_cast<size_t>(wi)]);
      // A weight at +-127 keeps its value (the scale stays); the others may take the other
      // neighbour of w / s when it is inside [-127, 127].
      alt_ok[static_cast<size_t>(i)] = std::abs(q[static_cast<size_t>(i)]) < 127;
      hd[static_cast<size_t>(i)] = gg[static_cast<size_t>((c % cout_g) * k + i)];  // H symmetric: (D H)_i = (H d)_i
    }
    double e = 0;
    for (int64_t i = 0; i < k; ++i) e += d[static_cast<size_t>(i)] * hd[static_cast<size_t>(i)];
    rep.error_nearest += e;
    for (int sweep = 0; sweep < max_sweeps; ++sweep) {
      bool flipped = false;
      for (int64_t i = 0; i < k; ++i) {
        if (!alt_ok[static_cast<size_t>(i)]) continue;
        const size_t iu = static_cast<size_t>(i);
        // The other neighbour of w / s: q + 1 when q rounds down (d <= 0), else q - 1.
        const int32_t step = d[iu] <= 0 ? 1 : -1;
        const double delta = sc * step;
        const double change = 2 * delta * hd[iu] + delta * delta * h[i * k + i];
        // Better by more than the float GEMM's rounding in H d (relative 1e-6 of the terms).
        if (!(change < -1e-5 * (std::fabs(2 * delta * hd[iu]) + delta * delta * h[i * k + i]))) continue;
        q[iu] += step;
        d[iu] += delta;
        for (int64_t j = 0; j < k; ++j) hd[static_cast<size_t>(j)] += delta * h[j * k + i];
        e += change;
        flipped = true;
      }
      if (!flipped) break;
    }
    rep.error_adaround += e;
    for (int64_t i = 0; i < k; ++i) {
      const int64_t wi = weight_index(l, k, c, i);
      const size_t iu = static_cast<size_t>(i);
      if (q[iu] != q0[static_cast<size_t>(wi)]) ++rep.flipped;
      dst[static_cast<size_t>(wi)] = static_cast<float>(sc) * static_cast<float>(q[iu]);
    }
    rep.weights += k;
  }
  return rep;
}

}  // namespace

Result<AdaRoundResult> adaround_weights(const Graph& graph, const QuantizeOptions& qopts,
                                        const std::vector<std::vector<Tensor>>& samples,
                                        const AdaRoundOptions& options) {
  if (samples.empty()) return error("adaround: no calibration samples");
  AdaRoundResult result;
  result.graph = graph;
  QMAP_ASSIGN_OR_RETURN(const QuantPlacement placement, plan_placement(graph, qopts));
  std::set<std::string> npu;
  for (size_t i = 0; i < graph.nodes.size(); ++i)
    if (placement.placement.nodes[i].where == Placement::kNpu) npu.insert(graph.nodes[i].name);
  QMAP_ASSIGN_OR_RETURN(std::vector<WeightedLayer> found, find_weighted_layers(graph, npu, qopts.per_channel));

  // A weight read by several nodes would be rounded for one of them: left as it is.
  std::map<ValueId, int> readers;
  for (const Node& n : graph.nodes)
    for (ValueId v : n.inputs)
      if (v != kNoValue) ++readers[v];
  std::vector<LayerStats> stats;
  for (WeightedLayer& l : found) {
    const Node& n = graph.nodes[l.node];
    if (readers[n.inputs[1]] > 1) {
      result.skipped.emplace_back(n.name, fmt::format("its weight '{}' is shared with other nodes",
                                                      graph.value(n.inputs[1]).name));
      continue;
    }
    LayerStats s;
    s.groups = l.gemm ? 1 : l.geo.group;
    s.k = l.taps / s.groups;
    s.nearest = quantize_weights(l.w, l.weight_axis);  // the quantizer's scales (quantize_params.h)
    if (on_grid(l, s.nearest, s.k)) {
      result.skipped.emplace_back(n.name, "its weights already lie on their int8 grid (round-to-nearest is exact)");
      continue;
    }
    // The positions the samples will give, known from the shapes: a layer that would be
    // skipped for too few gets no statistics (nor their memory, K^2 per group).
    const int64_t per_sample = l.gemm ? (*graph.value(n.inputs[0]).dims)[0] : l.geo.batch * l.geo.out[0] * l.geo.out[1];
    const int64_t positions = per_sample * static_cast<int64_t>(samples.size());
    if (positions < kMinPositionsPerTap * s.k) {
      result.skipped.emplace_back(n.name, fmt::format("{} output positions in the samples for {} taps: fewer than {} per tap",
                                                      positions, s.k, kMinPositionsPerTap));
      continue;
    }
    s.per_sample = std::max<int64_t>(
        1, (std::max(kTargetPositionsPerTap * s.k, kTargetPositions) + static_cast<int64_t>(samples.size()) - 1) /
               static_cast<int64_t>(samples.size()));
    s.h.assign(static_cast<size_t>(s.groups * s.k * s.k), 0.f);
    s.layer = std::move(l);
    stats.push_back(std::move(s));
  }
  if (stats.empty()) return result;

  // H from the float model's inputs of each layer, sample by sample (sums in sample order);
  // layers in parallel.
  std::map<std::string, size_t> inputs;
  for (size_t i = 0; i < graph.inputs.size(); ++i) inputs[graph.value(graph.inputs[i]).name] = i;
  QMAP_ASSIGN_OR_RETURN(FloatEngine engine, FloatEngine::create(graph, {.keep_all_values = true}));
  ThreadPool pool(std::clamp<int>(options.threads, 1, static_cast<int>(stats.size())));
  std::vector<Status> errors(stats.size());
  for (const std::vector<Tensor>& sample : samples) {
    QMAP_RETURN_IF_ERROR(engine.run(sample).status().with_context("adaround: "));
    const auto& values = engine.all_values();
    pool.parallel_for(stats.size(), [&](size_t li, int) {
      if (!errors[li].ok()) return;
      const std::string& name = stats[li].layer.x;
      const Tensor* x = nullptr;
      if (auto it = values.find(name); it != values.end()) x = &it->second;
      else if (auto in = inputs.find(name); in != inputs.end()) x = &sample[in->second];
      errors[li] = x ? accumulate(stats[li], *x)
                     : error("adaround: value '{}' (input of '{}') was not computed", name,
                             graph.nodes[stats[li].layer.node].name);
    });
    for (const Status& s : errors) QMAP_RETURN_IF_ERROR(s);
  }

  // Round each layer.
  std::vector<AdaRoundLayer> done(stats.size());
  std::vector<Tensor> rounded(stats.size());
  pool.parallel_for(stats.size(), [&](size_t li, int) {
    LayerStats& s = stats[li];
    rounded[li] = Tensor(DType::kFloat32, s.layer.w.dims());
    done[li] = round_layer(s, rounded[li], options.max_sweeps);
    s.h.clear();
    s.h.shrink_to_fit();
  });
  for (size_t li = 0; li < stats.size(); ++li) {
    const Node& n = graph.nodes[stats[li].layer.node];
    done[li].node = n.name;
    result.layers.push_back(done[li]);
    result.graph.value(n.inputs[1]).constant = std::move(rounded[li]);
  }
  // Skipped layers in graph order too.
  std::map<std::string, size_t> order;
  for (size_t i = 0; i < graph.nodes.size(); ++i) order[graph.nodes[i].name] = i;
  std::stable_sort(result.skipped.begin(), result.skipped.end(),
                   [&](const auto& a, const auto& b) { return order[a.first] < order[b.first]; });
  return result;
}

}  // namespace qmap
