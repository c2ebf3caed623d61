// The quantizer (see quantize.h). Three steps, each over the nodes in graph order:
//   1. plan: placement (march rules, nodes without an integer form moved to the CPU,
//      run_on_cpu / run_on_npu), fused groups, and which values get an 8-bit form;
//   2. scales: thresholds forward through the graph (pass-through ops keep their input's,
//      Concat takes the max of its inputs' and hands it back to producers it alone reads);
//   3. emit: a new graph with the float ops, Q/DQ pairs after each quantized value, and
//      DequantizeLinear nodes over the int8 weights, int32 biases and int8 constants.
// Everything is indexed by node and value ids of the float graph, so the result does not
// depend on any container's iteration order.
#include "quant/quantize.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

#include "ops/infer.h"
#include "ops/registry.h"
#include "ops/verify.h"
#include "quant/quantize_params.h"
#include "quant/quantize_rules.h"

namespace qmap {

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

template <typename... Args>
Status node_error(const Node& n, fmt::format_string<Args...> f, Args&&... args) {
  return Status::error(fmt::format("quantize: {} '{}': {}", n.op_type, n.name,
                                   fmt::format(f, std::forward<Args>(args)...)));
}

// The 8-bit form of one value of the float graph.
struct ValueQuant {
  bool quantized = false;    // has an 8-bit form: consumers read its DequantizeLinear output
  bool is_unsigned = false;  // uint8 (scale T/255) rather than int8 (T/127)
  float threshold = 0;       // T, float units
  float scale = 0;
  bool own_scale = false;    // scale from its own threshold (a Concat may take it over)
  bool from_image = false;   // the image input's DequantizeLinear output: no Q/DQ pair
  bool wide = false;         // int16 (scale T/32767): QuantizeOptions::int16_outputs
};

struct Plan {
  GraphPlacement placement;
  std::vector<QuantKind> kind;             // per node; kFloat unless placed on the NPU
  std::vector<int> group_head;             // per node: the fused group's head, or -1
  std::vector<int> producer;               // per value: producing node, -1 for inputs/constants
  std::vector<std::vector<int>> consumers; // per value: consuming nodes, ascending, unique
  std::vector<bool> is_output;             // per value
  std::vector<bool> non_negative;          // per value, by structure
  std::vector<ValueQuant> vq;              // per value
};

bool on_npu(const Plan& p, size_t node) { return p.kind[node] != QuantKind::kFloat; }

// ---------------------------------------------------------------- 1. placement

// Without a march: every op is an NPU op without limits, so exactly the nodes without an
// integer form (forced to the CPU below) fall back.
TargetSpec any_npu_spec() {
  TargetSpec spec;
  spec.name = "any";
  spec.source = "quantizer default (every op with an integer form on the NPU)";
  for (OpId op : all_ops()) spec.npu_ops.push_back({op, op_def(op).name, {}, ""});
  return spec;
}

Status check_node_names(const Graph& g, const QuantizeOptions& opts) {
  std::set<std::string> names;
  for (const Node& n : g.nodes) names.insert(n.name);
  for (const auto* list : {&opts.run_on_cpu, &opts.run_on_npu, &opts.int16_outputs}) {
    const char* key = list == &opts.run_on_cpu ? "run_on_cpu" : list == &opts.run_on_npu ? "run_on_npu" : "int16";
    for (const std::string& name : *list) {
      if (!names.count(name)) return error("quantize: {}: no node named '{}'", key, name);
      if (list == &opts.run_on_npu && opts.run_on_cpu.count(name))
        return error("quantize: node '{}' is in both run_on_cpu and run_on_npu: name it in one", name);
    }
  }
  return ok_status();
}

Status place(const Graph& g, const QuantizeOptions& opts, Plan& p) {
  QMAP_ASSIGN_OR_RETURN(QuantPlacement qp, plan_placement(g, opts));
  p.placement = std::move(qp.placement);
  p.kind = std::move(qp.kind);
  return ok_status();
}

// ---------------------------------------------------------------- 1b. structure

// Producers are recomputed here rather than read from Value::producer, which a pass may
// have left stale.
void index_graph(const Graph& g, Plan& p) {
  p.producer.assign(g.values.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (ValueId o : g.nodes[i].outputs)
      if (o != kNoValue) p.producer[static_cast<size_t>(o)] = static_cast<int>(i);
  p.consumers.assign(g.values.size(), {});
  p.is_output.assign(g.values.size(), false);
  for (size_t i = 0; i < g.nodes.size(); ++i)
    for (ValueId v : g.nodes[i].inputs)
      if (v != kNoValue) {
        auto& c = p.consumers[static_cast<size_t>(v)];
        if (c.empty() || c.back() != static_cast<int>(i)) c.push_back(static_cast<int>(i));
      }
  for (ValueId v : g.outputs) p.is_output[static_cast<size_t>(v)] = true;
  p.non_negative.assign(g.values.size(), false);
  for (const Node& n : g.nodes) {
    const bool nn = output_non_negative(g, n, p.non_negative);
    for (ValueId o : n.outputs)
      if (o != kNoValue) p.non_negative[static_cast<size_t>(o)] = nn;
  }
}

bool is_weighted(const Plan& p, int node) { return node >= 0 && p.kind[static_cast<size_t>(node)] == QuantKind::kWeighted; }

// Conv/Gemm/MatMul + Relu/Clip and Add + Relu: the head's output, read only by the tail,
// never leaves the NPU as 8 bits (the activation clamps the requantized accumulator).
void find_groups(const Graph& g, Plan& p) {
  p.group_head.assign(g.nodes.size(), -1);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& head = g.nodes[i];
    const bool add = head.op == OpId::Add && p.kind[i] == QuantKind::kOwnScale;
    if (!(is_weighted(p, static_cast<int>(i)) || add) || p.group_head[i] >= 0) continue;
    const ValueId out = head.outputs[0];
    const auto& cons = p.consumers[static_cast<size_t>(out)];
    if (cons.size() != 1 || p.is_output[static_cast<size_t>(out)]) continue;
    const size_t j = static_cast<size_t>(cons[0]);
    const Node& tail = g.nodes[j];
    const bool tail_ok = tail.op == OpId::Relu || (tail.op == OpId::Clip && !add);
    if (!tail_ok || p.kind[j] != QuantKind::kTable || tail.inputs[0] != out ||
        p.placement.nodes[j].subgraph != p.placement.nodes[i].subgraph)
      continue;
    p.group_head[i] = static_cast<int>(i);
    p.group_head[j] = static_cast<int>(i);
  }
}

// The node producing v, or -1 for graph inputs and constants.
int producer(const Plan& p, ValueId v) { return p.producer[static_cast<size_t>(v)]; }

// A group head whose output the group's tail reads: that value stays in the accumulator.
bool inside_group(const Graph& g, const Plan& p, ValueId v) {
  const int n = producer(p, v);
  return n >= 0 && p.group_head[static_cast<size_t>(n)] == n &&
         std::any_of(p.consumers[static_cast<size_t>(v)].begin(), p.consumers[static_cast<size_t>(v)].end(),
                     [&](int c) { return c != n && p.group_head[static_cast<size_t>(c)] == n; });
}

// A Conv/Gemm/MatMul (or the group it heads) producing a graph output gives it in float
// straight from the int32 accumulator, without requantization.
bool high_precision(const Graph& g, const Plan& p, ValueId v) {
  const int n = producer(p, v);
  if (n < 0 || !p.is_output[static_cast<size_t>(v)]) return false;
  const int head = p.group_head[static_cast<size_t>(n)] >= 0 ? p.group_head[static_cast<size_t>(n)] : n;
  return is_weighted(p, head);
}

bool read_as_data_by_npu(const Graph& g, const Plan& p, ValueId v) {
  for (int c : p.consumers[static_cast<size_t>(v)]) {
    const size_t ci = static_cast<size_t>(c);
    if (!on_npu(p, ci) || (p.group_head[ci] >= 0 && p.group_head[ci] != c)) continue;  // group tails read the accumulator
    for (int k : data_inputs(g.nodes[ci], p.kind[ci]))
      if (g.nodes[ci].inputs[static_cast<size_t>(k)] == v) return true;
  }
  return false;
}

void mark_quantized(const Graph& g, Plan& p) {
  p.vq.assign(g.values.size(), {});
  for (size_t v = 0; v < g.values.size(); ++v) {
    const Value& val = g.values[v];
    const ValueId id = static_cast<ValueId>(v);
    if (val.constant || val.dtype != DType::kFloat32 || inside_group(g, p, id)) continue;
    const int n = producer(p, id);
    const bool npu_made = n >= 0 && on_npu(p, static_cast<size_t>(n));
    if (npu_made && !high_precision(g, p, id)) p.vq[v].quantized = true;
    else p.vq[v].quantized = read_as_data_by_npu(g, p, id);
  }
}

// ---------------------------------------------------------------- 2. scales

Status set_threshold(ValueQuant& q, float t, bool is_unsigned, const Node& n, const std::string& value) {
  if (!(std::isfinite(t) && t > 0))
    return node_error(n, "threshold of '{}' is {}: must be a finite number > 0", value, t);
  q.threshold = t;
  q.is_unsigned = is_unsigned;
  q.scale = activation_scale(t, is_unsigned);
  return ok_status();
}

// The calibrated threshold of v; `n` and `role` name the node and the value's place in the
// error ("no threshold for input 'x'").
Status own_threshold(const Graph& g, Plan& p, const std::map<std::string, float>& thresholds, ValueId v,
                     const Node& n, const char* role) {
  const std::string& name = g.value(v).name;
  const auto it = thresholds.find(name);
  if (it == thresholds.end()) return node_error(n, "no threshold for {} '{}'", role, name);
  ValueQuant& q = p.vq[static_cast<size_t>(v)];
  q.own_scale = true;
  return set_threshold(q, it->second, p.non_negative[static_cast<size_t>(v)], n, name);
}

// A constant read as an activation (Mul by a constant, Concat with a constant): int8 per
// tensor with scale max|C| / 127, the same rule as per-tensor weights.
ValueQuant constant_quant(const Tensor& t) {
  ValueQuant q;
  q.quantized = true;
  q.scale = quantize_weights(t, -1).scale.data<float>()[0];
  q.threshold = q.scale * 127.f;
  return q;
}

ValueQuant input_quant(const Graph& g, const Plan& p, ValueId v) {
  const Value& val = g.value(v);
  return val.constant ? constant_quant(*val.constant) : p.vq[static_cast<size_t>(v)];
}

Status concat_scales(const Graph& g, Plan& p, size_t i) {
  const Node& n = g.nodes[i];
  float t = 0;
  bool all_unsigned = true;
  for (ValueId v : n.inputs) {
    const ValueQuant q = input_quant(g, p, v);
    t = std::max(t, q.threshold);
    all_unsigned = all_unsigned && q.is_unsigned;
  }
  for (ValueId o : n.outputs)
    QMAP_RETURN_IF_ERROR(set_threshold(p.vq[static_cast<size_t>(o)], t, all_unsigned, n, g.value(o).name));
  // Inputs whose producer only feeds this Concat take its scale, so the integer Concat
  // copies them instead of requantizing.
  for (ValueId v : n.inputs) {
    ValueQuant& q = p.vq[static_cast<size_t>(v)];
    if (g.value(v).constant || !q.own_scale || p.consumers[static_cast<size_t>(v)].size() != 1 ||
        p.is_output[static_cast<size_t>(v)])
      continue;
    QMAP_RETURN_IF_ERROR(set_threshold(q, t, all_unsigned, n, g.value(v).name));
  }
  return ok_status();
}

Status compute_scales(const Graph& g, const std::map<std::string, float>& thresholds, Plan& p) {
  for (ValueId v : g.inputs) {
    if (!p.vq[static_cast<size_t>(v)].quantized) continue;
    const int first_reader = p.consumers[static_cast<size_t>(v)].front();
    QMAP_RETURN_IF_ERROR(own_threshold(g, p, thresholds, v, g.nodes[static_cast<size_t>(first_reader)], "input"));
  }
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    switch (p.kind[i]) {
      case QuantKind::kImageInput: {
        ValueQuant& q = p.vq[static_cast<size_t>(n.outputs[0])];
        q = {true, true, 255.f, 1.f, false, true};  // the uint8 codes themselves: exact
        continue;
      }
      case QuantKind::kConcat:
        QMAP_RETURN_IF_ERROR(concat_scales(g, p, i));
        continue;
      case QuantKind::kPassThrough: {
        const ValueQuant in = input_quant(g, p, n.inputs[0]);
        for (ValueId o : n.outputs) {
          if (o == kNoValue || !p.vq[static_cast<size_t>(o)].quantized) continue;
          // A negative Pad value on a uint8 input does not fit its scale: own threshold.
          if (in.is_unsigned && !p.non_negative[static_cast<size_t>(o)]) {
            QMAP_RETURN_IF_ERROR(own_threshold(g, p, thresholds, o, n, "output"));
            continue;
          }
          ValueQuant& q = p.vq[static_cast<size_t>(o)];
          q.threshold = in.threshold;
          q.is_unsigned = in.is_unsigned;
          q.scale = in.scale;
        }
        continue;
      }
      default:
        for (ValueId o : n.outputs)
          if (o != kNoValue && p.vq[static_cast<size_t>(o)].quantized)
            QMAP_RETURN_IF_ERROR(own_threshold(g, p, thresholds, o, n, "output"));
    }
  }
  return ok_status();
}

// ---------------------------------------------------------------- 2b. int16 outputs

// The unit of node i: its fused group's head, or i.
size_t unit_head(const Plan& p, size_t i) {
  return p.group_head[i] >= 0 ? static_cast<size_t>(p.group_head[i]) : i;
}

// The value a unit gives its readers: the group tail's output, or the head's.
ValueId unit_output(const Graph& g, const Plan& p, size_t head) {
  const ValueId out = g.nodes[head].outputs[0];
  if (p.group_head[head] != static_cast<int>(head)) return out;
  return g.nodes[static_cast<size_t>(p.consumers[static_cast<size_t>(out)].front())].outputs[0];
}

bool writes_int16(const Graph& g, const Plan& p, size_t i) {
  return p.kind[i] == QuantKind::kWeighted || (p.kind[i] == QuantKind::kOwnScale && g.nodes[i].op == OpId::Add);
}

// Why the unit headed by `head` cannot have an int16 output ("" when it can): only the conv
// and add families write and read int16 (docs/quantization.md, "Representation").
std::string int16_obstacle(const Graph& g, const Plan& p, size_t head) {
  const Node& n = g.nodes[head];
  if (!on_npu(p, head)) return "it runs on the CPU";
  if (!writes_int16(g, p, head)) return fmt::format("{} has no int16 form (Conv, Gemm, MatMul and Add have)", n.op_type);
  const ValueId v = unit_output(g, p, head);
  const ValueQuant& q = p.vq[static_cast<size_t>(v)];
  if (!q.quantized || high_precision(g, p, v)) return fmt::format("its output '{}' is not requantized", g.value(v).name);
  for (int c : p.consumers[static_cast<size_t>(v)]) {
    const size_t ci = static_cast<size_t>(c);
    if (!on_npu(p, ci)) continue;  // reads the DequantizeLinear output in float
    const Node& r = g.nodes[ci];
    const bool conv_data = p.kind[ci] == QuantKind::kWeighted && r.inputs[0] == v &&
                           std::count(r.inputs.begin(), r.inputs.end(), v) == 1;
    const bool add = p.kind[ci] == QuantKind::kOwnScale && r.op == OpId::Add;
    if (!conv_data && !add)
      return fmt::format("its output '{}' is read by {} '{}', which reads 8-bit inputs only", g.value(v).name,
                         r.op_type, r.name);
  }
  return "";
}

Status apply_int16(const Graph& g, const QuantizeOptions& opts, Plan& p) {
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!opts.int16_outputs.count(g.nodes[i].name)) continue;
    const size_t head = unit_head(p, i);
    if (!on_npu(p, head)) continue;  // placed on the CPU (run_on_cpu, the march): float, nothing to widen
    if (const std::string why = int16_obstacle(g, p, head); !why.empty())
      return node_error(g.nodes[i], "int16 output: {}", why);
    const ValueId v = unit_output(g, p, head);
    ValueQuant& q = p.vq[static_cast<size_t>(v)];
    if (const auto t = opts.int16_thresholds.find(g.value(v).name); t != opts.int16_thresholds.end())
      if (std::isfinite(t->second) && t->second > q.threshold) q.threshold = t->second;
    q.wide = true;
    q.is_unsigned = false;
    q.scale = activation_scale_int16(q.threshold);
  }
  return ok_status();
}

// ---------------------------------------------------------------- 3. emit

class Emitter {
 public:
  Emitter(const Graph& g, const Plan& p, const QuantizeOptions& opts) : g_(g), p_(p), opts_(opts) {
    for (const Value& v : g.values) used_.insert(v.name);
    for (const Node& n : g.nodes) used_nodes_.insert(n.name);
    float_id_.assign(g.values.size(), kNoValue);
    read_id_.assign(g.values.size(), kNoValue);
    q_.name = g.name;
    q_.producer_name = g.producer_name;
    q_.onnx_opset = 17;
  }

  void run() {
    for (ValueId v : g_.inputs) {
      const Value& in = g_.value(v);
      const ValueId id = q_.add_value(in.name, in.dtype, in.dims);
      q_.value(id).dim_params = in.dim_params;
      q_.inputs.push_back(id);
      float_id_[static_cast<size_t>(v)] = read_id_[static_cast<size_t>(v)] = id;
      if (p_.vq[static_cast<size_t>(v)].quantized) add_qdq(v, id, false);
    }
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      if (p_.placement.nodes[i].where == Placement::kFolded) continue;  // its outputs are constants
      emit_node(i);
    }
    for (ValueId v : g_.outputs) q_.outputs.push_back(output_id(v));
  }

  // The QDQ value holding v's float value as the graph's consumers see it.
  ValueId read_id(ValueId v) {
    if (g_.value(v).constant) return constant_id(v);
    return read_id_[static_cast<size_t>(v)];
  }
  ValueId output_id(ValueId v) const {
    return renamed(v) ? read_id_[static_cast<size_t>(v)] : float_id_[static_cast<size_t>(v)];
  }
  Graph take() { return std::move(q_); }
  const Graph& graph() const { return q_; }

 private:
  // A quantized graph output computed on the NPU: its DequantizeLinear takes the output's
  // name and the op writes `<v>_QuantizeLinear_Input` (ONNX Runtime's quantizer does the
  // same), so the graph's output names do not change.
  bool renamed(ValueId v) const {
    const ValueQuant& q = p_.vq[static_cast<size_t>(v)];
    const int n = producer(p_, v);
    return p_.is_output[static_cast<size_t>(v)] && q.quantized && !q.from_image && n >= 0 &&
           on_npu(p_, static_cast<size_t>(n)) && !high_precision(g_, p_, v);
  }

  std::string fresh(const std::string& base) {
    std::string name = base;
    for (int i = 1; used_.count(name); ++i) name = fmt::format("{}_{}", base, i);
    used_.insert(name);
    return name;
  }

  ValueId add_constant(const std::string& base, Tensor t) { return q_.add_constant(fresh(base), std::move(t)); }

  void add_node(const std::string& name, OpId op, std::vector<ValueId> ins, std::vector<ValueId> outs,
                std::map<std::string, AttrValue> attrs = {}) {
    Node n;
    n.name = name;
    for (int i = 1; used_nodes_.count(n.name); ++i) n.name = fmt::format("{}_{}", name, i);
    used_nodes_.insert(n.name);
    n.op = op;
    n.op_type = op_def(op).name;
    n.inputs = std::move(ins);
    n.outputs = std::move(outs);
    n.attrs = std::move(attrs);
    q_.nodes.push_back(std::move(n));
  }

  ValueId constant_id(ValueId v) {
    ValueId& id = float_id_[static_cast<size_t>(v)];
    if (id == kNoValue) {
      const Value& c = g_.value(v);
      used_.erase(c.name);  // its own name, reserved for it
      id = add_constant(c.name, *c.constant);
    }
    return id;
  }

  // QuantizeLinear -> DequantizeLinear after the float value `src` of v.
  void add_qdq(ValueId v, ValueId src, bool output_named) {
    const ValueQuant& q = p_.vq[static_cast<size_t>(v)];
    const std::string& base = g_.value(v).name;
    const ValueId scale = add_constant(base + "_scale", Tensor::scalar<float>(q.scale));
    const ValueId zp = add_constant(base + "_zero_point", q.wide          ? Tensor::scalar<int16_t>(0)
                                                          : q.is_unsigned ? Tensor::scalar<uint8_t>(0)
                                                                          : Tensor::scalar<int8_t>(0));
    const ValueId codes = q_.add_value(fresh(base + "_quantized"));
    add_node(base + "_QuantizeLinear", OpId::QuantizeLinear, {src, scale, zp}, {codes});
    const ValueId deq = q_.add_value(output_named ? base : fresh(base + "_dequantized"));
    add_node(base + "_DequantizeLinear", OpId::DequantizeLinear, {codes, scale, zp}, {deq});
    read_id_[static_cast<size_t>(v)] = deq;
  }

  // DequantizeLinear over an integer initializer holding `codes` at `scale` along `axis`.
  ValueId add_dequantized_constant(const std::string& base, Tensor codes, Tensor scale, std::optional<Tensor> zp,
                                   int axis) {
    const bool per_axis = scale.rank() == 1;
    const ValueId c = add_constant(base + "_quantized", std::move(codes));
    std::vector<ValueId> ins = {c, add_constant(base + "_scale", std::move(scale))};
    if (zp) ins.push_back(add_constant(base + "_zero_point", std::move(*zp)));
    const ValueId out = q_.add_value(fresh(base + "_dequantized"));
    std::map<std::string, AttrValue> attrs;
    if (per_axis) attrs["axis"] = int64_t{axis};
    add_node(base + "_DequantizeLinear", OpId::DequantizeLinear, std::move(ins), {out}, std::move(attrs));
    return out;
  }

  // int8 symmetric weights (or an int8 constant operand, per tensor), shared by every node
  // that reads the same constant along the same axis.
  ValueId weights(ValueId w, int axis, Tensor* scale_out) {
    const auto key = std::make_pair(w, axis);
    auto it = weights_.find(key);
    if (it == weights_.end()) {
      const Tensor& constant = *g_.value(w).constant;
      QuantizedWeights qw =
          opts_.weight_cache ? opts_.weight_cache->get(constant, axis) : quantize_weights(constant, axis);
      Tensor zp(DType::kInt8, qw.scale.dims());
      Tensor scale = qw.scale;
      const ValueId id = add_dequantized_constant(g_.value(w).name, std::move(qw.q), qw.scale, zp, axis);
      it = weights_.emplace(key, std::make_pair(id, scale)).first;
    }
    if (scale_out) *scale_out = it->second.second;
    return it->second.first;
  }

  // Weight axis of the output channel: Conv W [M, C/g, kh, kw] axis 0; Gemm B [N, K]
  // (transB=1) axis 0 or [K, N] axis 1; MatMul B [K, N] axis 1.
  static int weight_axis(const Node& n) {
    if (n.op == OpId::Conv) return 0;
    if (n.op == OpId::Gemm && attr_int(n, "transB", 0) != 0) return 0;
    return 1;
  }

  void emit_weighted_inputs(const Node& n, std::vector<ValueId>& ins) {
    const float s_x = input_quant(g_, p_, n.inputs[0]).scale;
    const int axis = weight_axis(n);
    Tensor w_scale;
    ins[1] = weights(n.inputs[1], opts_.per_channel ? axis : -1, &w_scale);
    if (n.inputs.size() > 2 && n.inputs[2] != kNoValue) {
      const Value& b = g_.value(n.inputs[2]);
      const int64_t channels = g_.value(n.inputs[1]).constant->dims()[static_cast<size_t>(axis)];
      QuantizedBias qb = quantize_bias(*b.constant, s_x, w_scale, channels);
      // An int32 bias has no zero point input (ONNX: it is 0).
      ins[2] = add_dequantized_constant(b.name, std::move(qb.q), std::move(qb.scale), std::nullopt, 0);
    }
  }

  void emit_node(size_t i) {
    const Node& n = g_.nodes[i];
    const QuantKind kind = p_.kind[i];
    if (kind == QuantKind::kImageInput) {
      const ValueId out = n.outputs[0];
      const ValueId id = q_.add_value(g_.value(out).name);
      used_nodes_.erase(n.name);  // the DequantizeLinear takes the Cast's place and name
      add_node(n.name, OpId::DequantizeLinear,
               {read_id(n.inputs[0]), add_constant(n.name + "_scale", Tensor::scalar<float>(1.f)),
                add_constant(n.name + "_zero_point", Tensor::scalar<uint8_t>(0))},
               {id});
      float_id_[static_cast<size_t>(out)] = read_id_[static_cast<size_t>(out)] = id;
      return;
    }
    // Quantized constants first (weights, biases, int8 operands), so that a float constant
    // enters the QDQ graph only where a float op reads it.
    std::vector<ValueId> ins(n.inputs.size(), kNoValue);
    if (kind == QuantKind::kWeighted) {
      emit_weighted_inputs(n, ins);
    } else if (kind != QuantKind::kFloat) {
      for (int k : data_inputs(n, kind)) {
        const ValueId v = n.inputs[static_cast<size_t>(k)];
        if (v != kNoValue && g_.value(v).constant && g_.value(v).dtype == DType::kFloat32)
          ins[static_cast<size_t>(k)] = weights(v, -1, nullptr);
      }
    }
    for (size_t k = 0; k < n.inputs.size(); ++k)
      if (n.inputs[k] != kNoValue && ins[k] == kNoValue) ins[k] = read_id(n.inputs[k]);
    std::vector<ValueId> outs;
    for (ValueId o : n.outputs) {
      if (o == kNoValue) { outs.push_back(kNoValue); continue; }
      const std::string& name = g_.value(o).name;
      const bool ren = renamed(o);
      const ValueId id = q_.add_value(ren ? fresh(name + "_QuantizeLinear_Input") : name);
      outs.push_back(id);
      float_id_[static_cast<size_t>(o)] = read_id_[static_cast<size_t>(o)] = id;
    }
    Node copy = n;
    copy.inputs = std::move(ins);
    copy.outputs = outs;
    q_.nodes.push_back(std::move(copy));
    for (size_t k = 0; k < n.outputs.size(); ++k) {
      const ValueId o = n.outputs[k];
      if (o != kNoValue && p_.vq[static_cast<size_t>(o)].quantized) add_qdq(o, outs[k], renamed(o));
    }
  }

  const Graph& g_;
  const Plan& p_;
  const QuantizeOptions& opts_;
  Graph q_;
  std::set<std::string> used_;        // value names: the float graph's and those made here
  std::set<std::string> used_nodes_;  // node names likewise (Q/DQ names stay unique)
  std::vector<ValueId> float_id_, read_id_;
  std::map<std::pair<ValueId, int>, std::pair<ValueId, Tensor>> weights_;
};

std::vector<QuantNodeInfo> node_table(const Graph& g, const Plan& p) {
  std::vector<QuantNodeInfo> rows;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    QuantNodeInfo r;
    r.name = n.name;
    r.op_type = n.op_type;
    r.where = p.placement.nodes[i].where;
    r.subgraph = p.placement.nodes[i].subgraph;
    r.reason = p.placement.nodes[i].reason;
    r.threshold = kNaN;
    const int head = p.group_head[i];
    if (head >= 0) r.group = g.nodes[static_cast<size_t>(head)].name;
    // A group's members report the group's output (the tail's).
    size_t shown = i;
    if (head == static_cast<int>(i))
      shown = static_cast<size_t>(p.consumers[static_cast<size_t>(n.outputs[0])].front());
    const ValueId out = g.nodes[shown].outputs.empty() ? kNoValue : g.nodes[shown].outputs[0];
    if (out != kNoValue && on_npu(p, i) && p.vq[static_cast<size_t>(out)].quantized &&
        !high_precision(g, p, out)) {
      r.threshold = p.vq[static_cast<size_t>(out)].threshold;
      r.value = g.value(out).name;
      r.output_unsigned = p.vq[static_cast<size_t>(out)].is_unsigned;
      r.output_int16 = p.vq[static_cast<size_t>(out)].wide;
    }
    r.int16_capable = int16_obstacle(g, p, unit_head(p, i)).empty();
    rows.push_back(std::move(r));
  }
  return rows;
}

}  // namespace

Result<QuantizedModel> quantize_graph(const Graph& g, const std::map<std::string, float>& thresholds,
                                      const QuantizeOptions& opts) {
  // Everything below indexes the graph by node and value ids: a malformed graph is refused
  // here instead of read out of bounds.
  QMAP_RETURN_IF_ERROR(verify_graph(g).with_context("quantize: the float graph: "));
  Plan p;
  QMAP_RETURN_IF_ERROR(place(g, opts, p));
  index_graph(g, p);
  find_groups(g, p);
  mark_quantized(g, p);
  QMAP_RETURN_IF_ERROR(compute_scales(g, thresholds, p));
  QMAP_RETURN_IF_ERROR(apply_int16(g, opts, p));

  Emitter e(g, p, opts);
  e.run();

  QuantizedModel m;
  for (size_t v = 0; v < g.values.size(); ++v) {
    const Value& val = g.values[v];
    const int n = p.producer[v];
    if (val.constant || (n >= 0 && p.placement.nodes[static_cast<size_t>(n)].where == Placement::kFolded)) continue;
    const ValueId id = p.is_output[v] ? e.output_id(static_cast<ValueId>(v)) : e.read_id(static_cast<ValueId>(v));
    if (id != kNoValue) m.value_map[val.name] = e.graph().value(id).name;
  }
  m.graph = e.take();
  m.graph.rebuild_producers();
  QMAP_RETURN_IF_ERROR(infer_shapes(m.graph).with_context("quantize: internal: the QDQ graph: "));
  QMAP_RETURN_IF_ERROR(verify_graph(m.graph).with_context("quantize: internal: the QDQ graph: "));
  m.nodes = node_table(g, p);
  m.num_subgraphs = p.placement.num_subgraphs;
  return m;
}

Result<QuantPlacement> plan_placement(const Graph& g, const QuantizeOptions& opts) {
  QMAP_RETURN_IF_ERROR(check_node_names(g, opts));
  const TargetSpec fallback = opts.target ? TargetSpec{} : any_npu_spec();
  const TargetSpec& spec = opts.target ? *opts.target : fallback;

  std::vector<QuantKind> kinds(g.nodes.size());
  std::vector<std::string> why(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) kinds[i] = quant_kind(g, g.nodes[i], &why[i]);

  // The march's placement first, to know which NPU nodes the quantizer must move.
  PlacementOptions po;
  po.canonicalized = true;
  const GraphPlacement first = place_graph(g, spec, po);
  if (!first.unsupported_ops.empty()) {
    std::string list;
    for (const std::string& op : first.unsupported_ops) list += (list.empty() ? "" : ", ") + op;
    return error("quantize: march {}: ops supported neither on the NPU nor on the CPU: {{{}}}", spec.name, list);
  }
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    const Node& n = g.nodes[i];
    if (opts.run_on_npu.count(n.name)) {
      if (kinds[i] == QuantKind::kFloat) return node_error(n, "run_on_npu: no integer form for {}", why[i]);
      po.forced[n.name] = {Placement::kNpu, -1, "run_on_npu"};
    } else if (opts.run_on_cpu.count(n.name)) {
      po.forced[n.name] = {Placement::kCpu, -1, "run_on_cpu"};
    } else if (kinds[i] == QuantKind::kImageInput) {
      // The image input's Cast becomes the NPU's DequantizeLinear(scale 1): the preprocess
      // chain runs on the NPU even where the march lists Cast as a CPU op.
      po.forced[n.name] = {Placement::kNpu, -1, "uint8 image input read by DequantizeLinear(scale 1)"};
    } else if (first.nodes[i].where == Placement::kNpu && kinds[i] == QuantKind::kFloat) {
      po.forced[n.name] = {Placement::kCpu, -1, "no integer form for " + why[i]};
    }
  }
  QuantPlacement p;
  p.placement = place_graph(g, spec, po);
  p.kind.resize(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    p.kind[i] = p.placement.nodes[i].where == Placement::kNpu ? kinds[i] : QuantKind::kFloat;
  return p;
}


}  // namespace qmap
