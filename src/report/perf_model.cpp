// The perf model (perf_model.h); formulas and assumptions in docs/perf.md.
#include "report/perf_model.h"

#include <algorithm>
#include <iterator>
#include <map>
#include <type_traits>
#include <variant>

#include "kernels/qconv_kernel.h"

namespace qmap {

const char* residency_name(Residency r) {
  switch (r) {
    case Residency::kConstant: return "constant";
    case Residency::kSram: return "sram";
    case Residency::kDdr: return "ddr";
  }
  return "?";
}

TimeStats time_stats(std::vector<double> s) {
  TimeStats t;
  if (s.empty()) return t;
  std::sort(s.begin(), s.end());
  const size_t n = s.size();
  t.median_us = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  t.min_us = s.front();
  t.max_us = s.back();
  return t;
}

namespace {

int64_t tensor_bytes(const ProgramTensor& t) {
  return num_elements(t.dims) * static_cast<int64_t>(dtype_size(t.dtype));
}

bool is_constant(const ProgramTensor& t) { return t.constant.has_value(); }

// The ONNX op a step computes: kMove/kFloat carry it; the integer kinds map to one op each
// (a kConv may come from Conv, Gemm or MatMul; the program keeps only the convolution).
std::string step_op(const Step& s) {
  if (!s.op_type.empty()) return s.op_type;
  switch (s.kind) {
    case StepKind::kQuantize: return "QuantizeLinear";
    case StepKind::kDequantize: return "DequantizeLinear";
    case StepKind::kConv:
    case StepKind::kConvFloatOut: return "Conv";
    case StepKind::kAdd:
    case StepKind::kAddQ15: return "Add";
    case StepKind::kMul: return "Mul";
    case StepKind::kLut: return "Lut";
    case StepKind::kMaxPool: return "MaxPool";
    case StepKind::kAvgPool: return "AveragePool";
    case StepKind::kConcat: return "Concat";
    case StepKind::kMove: return "Move";
    case StepKind::kFloat: return "Float";
    default: break;  // a kind without an ONNX op of its own: its name
  }
  return step_kind_name(s.kind);
}

// Bytes of a step's data blobs: int8 weights, int32 biases, byte tables (the description's
// blobs, program/step_params.h), not its multipliers or scales.
class BlobBytes {
 public:
  template <class T>
  void field(const char*, const T&) {}
  template <class T>
  void blob(const char*, const T& x) {
    using E = std::decay_t<decltype(*std::begin(x))>;
    if constexpr (std::is_same_v<E, int8_t> || std::is_same_v<E, uint8_t> || std::is_same_v<E, int32_t>)
      bytes += static_cast<int64_t>(x.size() * sizeof(E));
  }
  int64_t bytes = 0;
};
int64_t baked_blob_bytes(const Step& s) {
  BlobBytes b;
  describe_params(b, s.params);
  return b.bytes;
}

// MACs of a float Conv/Gemm/MatMul step from its tensors' dims (CPU steps have no geometry):
// each output element needs (weight elements / output channels) MACs for Conv, K for a
// matrix product (the inner dimension of input A).
int64_t float_step_macs(const IntProgram& p, const Step& s) {
  if (s.outputs.empty() || s.outputs[0] < 0 || s.inputs.size() < 2 || s.inputs[0] < 0 || s.inputs[1] < 0) return 0;
  const ProgramTensor& y = p.tensors[static_cast<size_t>(s.outputs[0])];
  const ProgramTensor& a = p.tensors[static_cast<size_t>(s.inputs[0])];
  const ProgramTensor& w = p.tensors[static_cast<size_t>(s.inputs[1])];
  const int64_t out = num_elements(y.dims);
  if (s.op_type == "Conv" && !w.dims.empty() && w.dims[0] > 0) return out * (num_elements(w.dims) / w.dims[0]);
  if ((s.op_type == "Gemm" || s.op_type == "MatMul") && !a.dims.empty()) {
    int64_t k = a.dims.back();
    const auto* op = std::get_if<GenericParams>(&s.params);
    if (s.op_type == "Gemm" && op != nullptr) {
      auto it = op->attrs.find("transA");
      const int64_t* trans = it == op->attrs.end() ? nullptr : std::get_if<int64_t>(&it->second);
      if (trans && *trans != 0 && a.dims.size() == 2) k = a.dims[0];
    }
    return out * k;
  }
  return 0;
}

// Float steps that only move or relabel data (no arithmetic).
bool is_data_movement(const std::string& op) {
  static const char* const kOps[] = {"Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Slice",
                                     "Split",   "Concat",  "Identity", "Gather",   "Pad",       "Expand"};
  return std::find(std::begin(kOps), std::end(kOps), op) != std::end(kOps);
}

}  // namespace

int64_t move_runs(const IntProgram& p, const Step& s) {
  if (s.kind != StepKind::kMove || s.op_type != "Transpose" || s.outputs.empty() || s.outputs[0] < 0) return 1;
  const Dims& y = p.tensors[static_cast<size_t>(s.outputs[0])].dims;
  const auto& attrs = s.as<GenericParams>().attrs;
  std::vector<int64_t> perm;
  if (const auto it = attrs.find("perm"); it != attrs.end())
    if (const auto* v = std::get_if<std::vector<int64_t>>(&it->second)) perm = *v;
  if (perm.empty())  // the default: reversed axes, no axis stays
    for (size_t i = y.size(); i-- > 0;) perm.push_back(static_cast<int64_t>(i));
  int64_t block = 1;
  for (size_t i = y.size(); i-- > 0 && i < perm.size() && perm[i] == static_cast<int64_t>(i);) block *= y[i];
  return block > 0 ? std::max<int64_t>(1, num_elements(y) / block) : 1;
}

std::vector<Residency> plan_residency(const IntProgram& p, const std::vector<StepPlacement>& placement,
                                      int64_t sram_bytes, bool cpu_shares_sram) {
  const size_t nt = p.tensors.size();
  std::vector<Residency> res(nt, Residency::kSram);
  std::vector<int32_t> first(nt, -1), last(nt, -1);
  std::vector<bool> forced_ddr(nt, false);
  for (size_t t = 0; t < nt; ++t)
    if (is_constant(p.tensors[t])) res[t] = Residency::kConstant;
  for (int32_t t : p.inputs) forced_ddr[static_cast<size_t>(t)] = true, first[static_cast<size_t>(t)] = 0;
  for (int32_t t : p.outputs) forced_ddr[static_cast<size_t>(t)] = true;
  // The subgraph that produced each tensor (-1: none, a graph input).
  std::vector<int32_t> producer_sg(nt, -1);
  for (size_t si = 0; si < p.steps.size(); ++si) {
    const Step& s = p.steps[si];
    const StepPlacement& pl = placement[si];
    for (int32_t t : s.outputs) {
      if (t < 0) continue;
      first[static_cast<size_t>(t)] = static_cast<int32_t>(si);
      last[static_cast<size_t>(t)] = std::max(last[static_cast<size_t>(t)], static_cast<int32_t>(si));
      producer_sg[static_cast<size_t>(t)] = pl.subgraph;
      if (pl.cpu && !cpu_shares_sram) forced_ddr[static_cast<size_t>(t)] = true;
    }
    for (int32_t t : s.inputs) {
      if (t < 0) continue;
      const size_t u = static_cast<size_t>(t);
      last[u] = std::max(last[u], static_cast<int32_t>(si));
      if (!cpu_shares_sram && (pl.cpu || producer_sg[u] != pl.subgraph)) forced_ddr[u] = true;
    }
  }
  // First come, first served in production order: live[s] = SRAM bytes held during step s.
  std::vector<int64_t> live(p.steps.size(), 0);
  std::vector<size_t> order;
  for (size_t t = 0; t < nt; ++t)
    if (res[t] != Residency::kConstant && first[t] >= 0) order.push_back(t);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return first[a] < first[b]; });
  for (size_t t = 0; t < nt; ++t)
    if (res[t] != Residency::kConstant && (forced_ddr[t] || first[t] < 0)) res[t] = Residency::kDdr;
  for (size_t t : order) {
    if (res[t] == Residency::kDdr) continue;
    const int64_t b = tensor_bytes(p.tensors[t]);
    bool fits = true;
    for (int32_t s = first[t]; s <= last[t] && fits; ++s) fits = live[static_cast<size_t>(s)] + b <= sram_bytes;
    if (!fits) {
      res[t] = Residency::kDdr;
      continue;
    }
    for (int32_t s = first[t]; s <= last[t]; ++s) live[static_cast<size_t>(s)] += b;
  }
  return res;
}

int64_t conv_computed_pixels(const kernels::ref::ConvGeometry2d& g, const CostModel& c) {
  return kernels::conv_computed_pixels(g, {c.conv_pixel_vector, c.conv_row_halo});
}

PerfReport estimate_perf(const IntProgram& p, const std::vector<StepPlacement>& placement, const CostModel& c,
                         int64_t arena_bytes) {
  PerfReport r;
  r.cost = c;
  r.arena_bytes = arena_bytes;
  r.residency = plan_residency(p, placement, c.sram_kib * 1024, c.cpu_shares_sram);
  const double ddr_bytes_per_us = c.ddr_bandwidth_gbps * 1e3;  // GB/s = 1e9 B/s = 1e3 B/us
  const double sram_bytes_per_us = c.sram_bandwidth_gbps * 1e3;
  for (size_t si = 0; si < p.steps.size(); ++si) {
    const Step& s = p.steps[si];
    LayerPerf L;
    L.step = static_cast<int32_t>(si);
    L.node = s.node;
    L.kind = step_kind_name(s.kind);
    L.op = step_op(s);
    L.cpu = placement[si].cpu;
    L.subgraph = placement[si].subgraph;
    int64_t out_elements = 0;
    for (int32_t t : s.outputs) {
      if (t < 0) continue;
      const ProgramTensor& pt = p.tensors[static_cast<size_t>(t)];
      L.out_shapes.push_back(pt.dims);
      L.bytes_out += tensor_bytes(pt);
      out_elements += num_elements(pt.dims);
      if (r.residency[static_cast<size_t>(t)] == Residency::kDdr) L.ddr_store_bytes += tensor_bytes(pt);
      else L.sram_bytes += tensor_bytes(pt);
    }
    for (int32_t t : s.inputs) {
      if (t < 0) continue;
      const ProgramTensor& pt = p.tensors[static_cast<size_t>(t)];
      if (is_constant(pt)) {
        L.weight_bytes += tensor_bytes(pt);
        continue;
      }
      L.in_shapes.push_back(pt.dims);
      L.bytes_in += tensor_bytes(pt);
      if (r.residency[static_cast<size_t>(t)] == Residency::kDdr) L.ddr_load_bytes += tensor_bytes(pt);
      else L.sram_bytes += tensor_bytes(pt);
    }
    // Blobs baked into the step, whatever its kind (weights, biases, tables), found through its
    // parameters' description (requantization multipliers and accumulator scales are not
    // counted: 8 bytes per output channel, under 1 % of a convolution's weights).
    L.weight_bytes += baked_blob_bytes(s);
    L.ddr_load_bytes += L.weight_bytes;

    double rate_per_cycle = static_cast<double>(c.vector_rate());
    std::optional<double> own_cycles;  // set by convolutions and moves (their own formulas)
    switch (s.kind) {
      case StepKind::kConv:
      case StepKind::kConvFloatOut: {
        const auto& g = s.conv_weights()->geom;
        L.macs = g.n * g.oh * g.ow * g.m * (g.c / std::max<int64_t>(g.group, 1)) * g.kh * g.kw;
        L.ops = L.macs;
        const bool depthwise = g.group > 1 && g.group == g.c;
        L.unit = depthwise ? "depthwise" : "conv";
        // Cycles: MACs on the array, then (in series) every output through the output stage,
        // plus a depthwise convolution's fixed cost per channel. A dense convolution computes
        // conv_computed_pixels per image: the lanes past the real pixels cost as real ones.
        const double computed = static_cast<double>(conv_computed_pixels(g, c)) / static_cast<double>(g.oh * g.ow);
        // An int16 input (the higher-precision form) makes each product 16x8 bits: two 8x8
        // MACs of the array.
        const bool wide_in = p.tensors[static_cast<size_t>(s.inputs[0])].dtype == DType::kInt16;
        double cycles = static_cast<double>(L.macs) * (wide_in ? 2.0 : 1.0) * computed /
                        static_cast<double>(depthwise ? c.depthwise_rate() : c.int8_macs_per_cycle);
        if (c.output_ops_per_cycle > 0) cycles += static_cast<double>(out_elements) * computed / static_cast<double>(c.output_ops_per_cycle);
        if (depthwise) cycles += static_cast<double>(g.n * g.c) * c.depthwise_channel_cycles;
        own_cycles = cycles;
        break;
      }
      case StepKind::kMaxPool:
      case StepKind::kAvgPool:
      {
        const auto& g = s.kind == StepKind::kMaxPool ? s.as<MaxPoolParams>().geom : s.as<AvgPoolParams>().geom;
        L.ops = out_elements * g.kh * g.kw;  // one compare or add per tap
      }
        L.unit = "vector";
        rate_per_cycle = static_cast<double>(c.simple_rate());
        break;
      case StepKind::kDequantize:
        L.ops = out_elements;  // a multiply per element into float, no requantization
        L.unit = "vector";
        rate_per_cycle = static_cast<double>(c.simple_rate());
        break;
      case StepKind::kConcat: {
        // Inputs whose scale differs from the output's are requantized (vector unit); the
        // others are copied (DMA).
        const std::vector<uint8_t>& requant = s.as<ConcatParams>().requant;
        for (size_t i = 0; i < s.inputs.size() && i < requant.size(); ++i)
          if (requant[i] && s.inputs[i] >= 0) L.ops += num_elements(p.tensors[static_cast<size_t>(s.inputs[i])].dims);
        L.unit = L.ops > 0 ? "vector" : "dma";
        break;
      }
      case StepKind::kMove:
        // Data movement (DMA): its bytes, and a fixed cost per contiguous run it copies.
        L.ops = 0;
        L.unit = "dma";
        own_cycles = static_cast<double>(move_runs(p, s)) * c.move_run_cycles;
        break;
      case StepKind::kFloat:
        L.macs = float_step_macs(p, s);
        // 2 flops per MAC; data movement none; otherwise one operation per element read or
        // written, whichever is more.
        L.ops = L.macs > 0                 ? 2 * L.macs
                : s.op_type == "Transpose" ? out_elements  // a gather: one address computation per element
                : is_data_movement(s.op_type) ? 0
                                              : std::max(out_elements, L.bytes_in / 4);
        L.unit = "vector";
        break;
      default:
        L.ops = out_elements;  // one operation per output element
        L.unit = "vector";
        break;
    }
    if (L.cpu) {
      L.unit = "cpu";
      L.compute_us = static_cast<double>(L.ops) / (c.cpu_gflops * 1e3);  // GFLOP/s = 1e3 flop/us
    } else {
      L.compute_us = (own_cycles ? *own_cycles : static_cast<double>(L.ops) / rate_per_cycle) / c.clock_mhz;  // MHz = cycles/us
    }
    // A CPU step's tensors are all in DDR unless cpu_shares_sram (plan_residency).
    L.memory_us = static_cast<double>(L.ddr_load_bytes + L.ddr_store_bytes) / ddr_bytes_per_us +
                  (sram_bytes_per_us > 0 ? static_cast<double>(L.sram_bytes) / sram_bytes_per_us : 0.0);
    L.bound = L.compute_us >= L.memory_us ? "compute" : "memory";
    L.est_us = std::max(L.compute_us, L.memory_us) + c.layer_overhead_us +
               (s.kind == StepKind::kMove || s.kind == StepKind::kFloat ? c.eval_overhead_us : 0.0);
    L.est_cycles = L.est_us * c.clock_mhz;

    r.macs += L.macs;
    r.ops += L.ops;
    r.weight_bytes += L.weight_bytes;
    r.ddr_load_bytes += L.ddr_load_bytes;
    r.ddr_store_bytes += L.ddr_store_bytes;
    (L.cpu ? r.est_cpu_us : r.est_npu_us) += L.est_us;
    if (r.subgraphs.empty() || r.subgraphs.back().id != L.subgraph) {
      SubgraphPerf sg;
      sg.id = L.subgraph;
      sg.cpu = L.cpu;
      sg.first_step = L.step;
      r.subgraphs.push_back(sg);
    }
    SubgraphPerf& sg = r.subgraphs.back();
    sg.last_step = L.step;
    sg.macs += L.macs;
    sg.weight_bytes += L.weight_bytes;
    sg.ddr_load_bytes += L.ddr_load_bytes;
    sg.ddr_store_bytes += L.ddr_store_bytes;
    sg.est_us += L.est_us;
    r.layers.push_back(std::move(L));
  }
  std::vector<int32_t> producer(p.tensors.size(), -1);
  for (size_t si = 0; si < p.steps.size(); ++si) {
    for (int32_t t : p.steps[si].inputs)
      if (t >= 0 && producer[static_cast<size_t>(t)] >= 0) r.edges.emplace_back(producer[static_cast<size_t>(t)], static_cast<int32_t>(si));
    for (int32_t t : p.steps[si].outputs)
      if (t >= 0) producer[static_cast<size_t>(t)] = static_cast<int32_t>(si);
  }
  std::sort(r.edges.begin(), r.edges.end());
  r.edges.erase(std::unique(r.edges.begin(), r.edges.end()), r.edges.end());
  r.switches = r.subgraphs.empty() ? 0 : static_cast<int>(r.subgraphs.size()) - 1;
  r.switch_us = r.switches * c.subgraph_switch_us;
  r.est_total_us = r.est_npu_us + r.est_cpu_us + r.switch_us;
  return r;
}

void attach_measurement(PerfReport& r, const std::vector<double>& step_mean_us, PerfMeasurement m) {
  for (auto& sg : r.subgraphs) sg.measured_us = 0.0;
  for (size_t i = 0; i < r.layers.size() && i < step_mean_us.size(); ++i) {
    r.layers[i].measured_us = step_mean_us[i];
    for (auto& sg : r.subgraphs)
      if (sg.id == r.layers[i].subgraph) *sg.measured_us += step_mean_us[i];
  }
  r.measured = m;
}

}  // namespace qmap
