#include "quant/bias_correction.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <optional>

#include "core/thread_pool.h"
#include "engine/float_engine.h"
#include "kernels/f32/window_geometry.h"
#include "ops/common/conv_pool_window.h"
#include "program/int_program.h"
#include "quant/int_simulator.h"
#include "quant/lower.h"
#include "quant/quantize_params.h"
#include "quant/weighted_layers.h"
#include "runtime/executor.h"
#include "runtime/model_impl.h"

namespace qmap {

namespace {

using kernels::f32::WindowGeometry;
using Layer = WeightedLayer;

// Sum over every output position (and batch item) of each tap's input value, added to
// sums[c * KH * KW + kh * KW + kw]; returns the number of output positions.
int64_t add_conv_tap_sums(const WindowGeometry& g, const float* x, double* sums) {
  const int64_t H = g.in[0], W = g.in[1], OH = g.out[0], OW = g.out[1], KH = g.kernel[0], KW = g.kernel[1];
  for (int64_t n = 0; n < g.batch; ++n)
    for (int64_t c = 0; c < g.in_channels; ++c) {
      const float* xc = x + (n * g.in_channels + c) * H * W;
      for (int64_t kh = 0; kh < KH; ++kh) {
        const int64_t off_h = kh * g.dilations[0] - g.pad_begin(0);
        int64_t h0 = 0, h1 = 0;
        kernels::f32::valid_range(OH, g.strides[0], off_h, H, &h0, &h1);
        for (int64_t kw = 0; kw < KW; ++kw) {
          const int64_t off_w = kw * g.dilations[1] - g.pad_begin(1);
          int64_t w0 = 0, w1 = 0;
          kernels::f32::valid_range(OW, g.strides[1], off_w, W, &w0, &w1);
          double s = 0;
          for (int64_t oh = h0; oh < h1; ++oh) {
            const float* row = xc + (oh * g.strides[0] + off_h) * W + off_w;
            for (int64_t ow = w0; ow < w1; ++ow) s += row[ow * g.strides[1]];
          }
          sums[(c * KH + kh) * KW + kw] += s;
        }
      }
    }
  return g.batch * OH * OW;
}

// Gemm: sum over the M rows of each column k of A [M, K].
int64_t add_gemm_tap_sums(const Dims& a, const float* x, double* sums) {
  const int64_t M = a[0], K = a[1];
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k) sums[k] += x[m * K + k];
  return M;
}

Result<int64_t> add_tap_sums(const Layer& l, const Tensor& x, double* sums) {
  if (x.dtype() != DType::kFloat32) return error("bias correction: input '{}' is not float", l.x);
  if (l.gemm) {
    if (x.dims().size() != 2 || x.dims()[1] != l.taps)
      return error("bias correction: Gemm input '{}' has shape {}", l.x, dims_str(x.dims()));
    return add_gemm_tap_sums(x.dims(), x.data<float>().data(), sums);
  }
  if (x.numel() != l.geo.batch * l.geo.in_channels * l.geo.in[0] * l.geo.in[1])
    return error("bias correction: Conv input '{}' has shape {}", l.x, dims_str(x.dims()));
  return add_conv_tap_sums(l.geo, x.data<float>().data(), sums);
}

// Per layer: the mean of every tap's input over all output positions of all samples, from
// `run(sample, worker)` (the values it computed) or, for graph inputs (`inputs`: name -> input
// index), the sample itself. Per-sample sums are reduced in sample order.
template <class RunFn>
Result<std::vector<std::vector<double>>> tap_means(const std::vector<Layer>& layers,
                                                   const std::vector<std::vector<Tensor>>& samples,
                                                   const std::map<std::string, size_t>& inputs, ThreadPool& pool,
                                                   const std::function<std::string(const Layer&)>& value_name,
                                                   RunFn run) {
  const size_t num_samples = samples.size();
  std::vector<std::vector<std::vector<double>>> per_sample(num_samples);
  std::vector<std::vector<int64_t>> counts(num_samples);
  std::vector<Status> errors(num_samples);
  pool.parallel_for(num_samples, [&](size_t i, int worker) {
    errors[i] = [&]() -> Status {
      using ValuesPtr = const std::map<std::string, Tensor>*;
      QMAP_ASSIGN_OR_RETURN(ValuesPtr values, run(i, worker));
      per_sample[i].resize(layers.size());
      counts[i].resize(layers.size());
      for (size_t li = 0; li < layers.size(); ++li) {
        const Layer& l = layers[li];
        const std::string name = value_name(l);
        const Tensor* x = nullptr;
        if (auto it = values->find(name); it != values->end()) x = &it->second;
        else if (auto in = inputs.find(name); in != inputs.end()) x = &samples[i][in->second];  // not in all_values
        if (!x) return error("bias correction: value '{}' (input of the layer reading '{}') was not computed", name, l.x);
        per_sample[i][li].assign(static_cast<size_t>(l.taps), 0.0);
        QMAP_ASSIGN_OR_RETURN(counts[i][li], add_tap_sums(l, *x, per_sample[i][li].data()));
      }
      return ok_status();
    }();
  });
  for (const Status& s : errors) QMAP_RETURN_IF_ERROR(s);
  std::vector<std::vector<double>> means(layers.size());
  for (size_t li = 0; li < layers.size(); ++li) {
    means[li].assign(static_cast<size_t>(layers[li].taps), 0.0);
    int64_t count = 0;
    for (size_t i = 0; i < num_samples; ++i) {
      for (size_t k = 0; k < means[li].size(); ++k) means[li][k] += per_sample[i][li][k];
      count += counts[i][li];
    }
    for (double& m : means[li]) m /= static_cast<double>(std::max<int64_t>(count, 1));
  }
  return means;
}

// One sample's float output of a layer, per output channel: sum and sum of squares over
// positions, and the positions counted.
struct ChannelMoments {
  std::vector<double> s1, s2;
  int64_t count = 0;
};

ChannelMoments channel_moments(const Layer& l, const Tensor& y) {
  ChannelMoments m{std::vector<double>(static_cast<size_t>(l.channels)), std::vector<double>(static_cast<size_t>(l.channels)), 0};
  const auto d = y.data<float>();
  const int64_t inner = l.gemm ? 1 : static_cast<int64_t>(d.size()) / (y.dims()[0] * l.channels);
  const int64_t outer = static_cast<int64_t>(d.size()) / (inner * l.channels);
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t c = 0; c < l.channels; ++c)
      for (int64_t p = 0; p < inner; ++p) {
        const double v = d[static_cast<size_t>((o * l.channels + c) * inner + p)];
        m.s1[static_cast<size_t>(c)] += v;
        m.s2[static_cast<size_t>(c)] += v * v;
      }
  m.count = outer * inner;
  return m;
}

// Per layer: the float output's standard deviation over positions and samples, averaged over
// output channels (the scale the report measures shifts against). moments[sample][layer],
// summed in sample order.
std::vector<double> output_spread(const std::vector<Layer>& layers, const std::vector<std::vector<ChannelMoments>>& moments) {
  std::vector<double> spread(layers.size(), 0.0);
  for (size_t li = 0; li < layers.size(); ++li) {
    const size_t channels = static_cast<size_t>(layers[li].channels);
    std::vector<double> s1(channels), s2(channels);
    int64_t count = 0;
    for (const auto& per_layer : moments) {
      const ChannelMoments& m = per_layer[li];
      for (size_t c = 0; c < channels; ++c) {
        s1[c] += m.s1[c];
        s2[c] += m.s2[c];
      }
      count += m.count;
    }
    const double n = static_cast<double>(std::max<int64_t>(count, 1));
    double total = 0;
    for (size_t c = 0; c < channels; ++c) total += std::sqrt(std::max(0.0, s2[c] / n - (s1[c] / n) * (s1[c] / n)));
    spread[li] = total / static_cast<double>(std::max<size_t>(channels, 1));
  }
  return spread;
}

// Gives node `index` the float bias `bias`: in place when its bias constant is its own, else
// as a new constant (a constant another node reads is never changed).
void set_bias(Graph& g, size_t index, Tensor bias) {
  Node& n = g.nodes[index];
  if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
    const ValueId old = n.inputs[2];
    int users = 0;
    for (const Node& other : g.nodes) users += static_cast<int>(std::count(other.inputs.begin(), other.inputs.end(), old));
    if (users == 1) {
      g.value(old).constant = std::move(bias);
      return;
    }
  }
  const ValueId id = g.add_constant(g.unique_value_name(n.name + "_bias_corrected"), std::move(bias));
  Node& m = g.nodes[index];  // add_constant may have grown the value list, not the node list
  if (m.inputs.size() < 3) m.inputs.resize(3, kNoValue);
  m.inputs[2] = id;
}

}  // namespace

Result<BiasCorrectionResult> correct_biases(const Graph& graph, const std::map<std::string, float>& thresholds,
                                            const QuantizeOptions& qopts,
                                            const std::vector<std::vector<Tensor>>& samples,
                                            const BiasCorrectionOptions& options) {
  if (samples.empty()) return error("bias correction: no calibration samples");
  BiasCorrectionResult result;
  result.graph = graph;
  QMAP_ASSIGN_OR_RETURN(QuantizedModel q, quantize_graph(graph, thresholds, qopts));
  QMAP_ASSIGN_OR_RETURN(std::vector<Layer> layers, find_weighted_layers(graph, npu_node_names(q), qopts.per_channel));
  if (layers.empty()) return result;
  const int threads = std::max(1, options.threads);
  std::map<std::string, size_t> inputs;  // graph input name -> index (the same in the QDQ graph)
  for (size_t i = 0; i < graph.inputs.size(); ++i) inputs[graph.value(graph.inputs[i]).name] = i;
  ThreadPool pool(std::max(1, std::min<int>(threads, static_cast<int>(samples.size()))));

  // The float model's tap means, and its output spread for the report.
  std::vector<std::optional<FloatEngine>> engines(static_cast<size_t>(pool.size()));
  std::vector<std::vector<ChannelMoments>> float_moments(samples.size());
  auto run_float = [&](size_t i, int w) -> Result<const std::map<std::string, Tensor>*> {
    auto& e = engines[static_cast<size_t>(w)];
    if (!e) {
      QMAP_ASSIGN_OR_RETURN(FloatEngine made, FloatEngine::create(graph, {.keep_all_values = true}));
      e.emplace(std::move(made));
    }
    QMAP_RETURN_IF_ERROR(e->run(samples[i]).status());
    float_moments[i].clear();
    for (const Layer& l : layers) float_moments[i].push_back(channel_moments(l, e->all_values().at(l.y)));
    return &e->all_values();
  };
  const auto float_name = [](const Layer& l) { return l.x; };
  QMAP_ASSIGN_OR_RETURN(const std::vector<std::vector<double>> mf,
                        tap_means(layers, samples, inputs, pool, float_name, run_float));
  engines.clear();
  const std::vector<double> spread = output_spread(layers, float_moments);
  float_moments.clear();

  // The integer model, run step by step on every sample at once: at a layer's step, its
  // input (the quantized upstream, every earlier layer already corrected) is measured, the
  // step's bias corrected, and only then the step runs.
  QMAP_ASSIGN_OR_RETURN(IntProgram program, lower_qdq_graph(q.graph));
  std::vector<int> layer_of_step(program.steps.size(), -1);
  std::map<std::string, size_t> layer_by_node;
  for (size_t li = 0; li < layers.size(); ++li) layer_by_node[graph.nodes[layers[li].node].name] = li;
  for (size_t si = 0; si < program.steps.size(); ++si) {
    const Step& st = program.steps[si];
    if (st.kind != StepKind::kConv && st.kind != StepKind::kConvFloatOut) continue;
    if (auto it = layer_by_node.find(st.node); it != layer_by_node.end()) layer_of_step[si] = static_cast<int>(it->second);
  }
  // The runtime's kernels (QMAP_ISA, else the best this CPU has): bit-exact with the
  // reference, and a fraction of its time.
  QMAP_ASSIGN_OR_RETURN(const kernels::Isa isa, rt::select_isa(""));
  auto prepared = rt::Executor::prepare(std::move(program), nullptr, isa);
  if (!prepared.ok()) return prepared.status().with_context("bias correction: ");
  rt::Executor ex = std::move(*prepared);
  std::vector<rt::ExecState> states;
  for (const auto& sample : samples) {
    states.push_back(ex.make_state());
    QMAP_RETURN_IF_ERROR(load_program_inputs(ex.program(), states.back(), sample));
  }
  std::vector<Status> errors(samples.size());
  auto run_step_everywhere = [&](size_t si) -> Status {
    pool.parallel_for(samples.size(), [&](size_t i, int) { errors[i] = ex.run_steps(states[i], si, si + 1); });
    for (const Status& e : errors) QMAP_RETURN_IF_ERROR(e);
    return ok_status();
  };

  double shift_sum = 0;
  for (size_t si = 0; si < ex.program().steps.size(); ++si) {
    const int li_signed = layer_of_step[si];
    if (li_signed >= 0) {
      const size_t li = static_cast<size_t>(li_signed);
      const Layer& l = layers[li];
      const Step& step = ex.program().steps[si];
      const ProgramTensor& xt = ex.program().tensors[static_cast<size_t>(step.inputs[0])];
      if (!xt.quant) return error("bias correction: '{}': its integer input '{}' has no quantization", l.x, xt.name);
      auto run_int = [&](size_t i, int) -> Result<const std::map<std::string, Tensor>*> {
        static thread_local std::map<std::string, Tensor> one;
        one.clear();
        one[xt.name] = program_value_as_float(xt, states[i].tensor(static_cast<size_t>(step.inputs[0])));
        return &one;
      };
      const auto int_name = [&xt](const Layer&) { return xt.name; };
      QMAP_ASSIGN_OR_RETURN(const std::vector<std::vector<double>> mq,
                            tap_means({l}, samples, {}, pool, int_name, run_int));
      // The layer's float bias and its correction.
      Node& n = result.graph.nodes[l.node];
      Tensor bias(DType::kFloat32, Dims{l.channels});
      auto bd = bias.data<float>();
      if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
        const auto b = result.graph.value(n.inputs[2]).constant->data<float>();
        std::copy(b.begin(), b.end(), bd.begin());
      }
      double abs_shift = 0;
      for (int64_t c = 0; c < l.channels; ++c) {
        double e = 0;
        for (int64_t k = 0; k < l.taps; ++k)
          e += weight_at(l, l.wq, c, k) * mq[0][static_cast<size_t>(k)] -
               weight_at(l, l.w, c, k) * mf[li][static_cast<size_t>(k)];
        bd[static_cast<size_t>(c)] = static_cast<float>(bd[static_cast<size_t>(c)] - e);
        abs_shift += std::fabs(e);
      }
      const double rel = spread[li] > 0 ? abs_shift / static_cast<double>(l.channels) / spread[li] : 0.0;
      result.layer_shift.push_back({n.name, rel});
      shift_sum += rel;
      // The int32 bias the quantizer will make of the corrected float bias, in the step now.
      const QuantizedBias qb = quantize_bias(bias, xt.quant->scale, quantize_weights(l.w, l.weight_axis).scale, l.channels);
      const auto qd = qb.q.data<int32_t>();
      QMAP_ASSIGN_OR_RETURN(ex, ex.with_conv_bias(si, std::vector<int32_t>(qd.begin(), qd.end())));
      set_bias(result.graph, l.node, std::move(bias));
      ++result.layers;
    }
    QMAP_RETURN_IF_ERROR(run_step_everywhere(si));
  }
  result.mean_relative_shift = result.layers > 0 ? shift_sum / result.layers : 0.0;
  return result;
}

}  // namespace qmap
