// The Lowerer: lowering of a QDQ graph to an IntProgram (lower.h), shared by the families'
// lowerings (src/steps/<folder>/<folder>_lower.cpp, one per QMAP_STEP_FAMILY line of
// src/steps/step_list.def). lower_qdq_graph walks the nodes in order; for each node not yet
// done it calls the lowering of its op's family (OpDef::lowering), which either matches its
// pattern (reads 8-bit inputs through int_source, absorbs the output chain, emits a step with
// emit_pattern) and returns true, or returns false and the node runs as a float step.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"
#include "program/int_program.h"

namespace qmap::lowering {

inline bool is_8bit(DType t) { return t == DType::kInt8 || t == DType::kUInt8; }
// An activation type of the integer steps: 8-bit, or int16 (the higher-precision form, which
// only the conv and add families read and write).
inline bool is_quant_activation(DType t) { return is_8bit(t) || t == DType::kInt16; }

// Quantization parameters of one QuantizeLinear / DequantizeLinear node (constants only).
struct QParams {
  std::vector<float> scales;
  std::vector<int32_t> zps;  // same count as scales (0 when the zero point is absent)
  DType qtype = DType::kUndefined;  // the integer side's dtype
  int64_t axis = 1;
  bool per_tensor() const { return scales.size() == 1; }
  TensorQuant quant() const { return {scales[0], zps[0]}; }
  bool zero_points_zero() const {
    for (int32_t z : zps)
      if (z != 0) return false;
    return true;
  }
};

inline bool same_quant(const TensorQuant& a, const TensorQuant& b) {
  return a.scale == b.scale && a.zero_point == b.zero_point;
}

// The 8-bit (wide: int16) value QuantizeLinear gives float v (the kernels' quantize: the same
// rule).
int32_t quantize_value(float v, TensorQuant q, bool is_signed, bool wide = false);

// An 8-bit (or int16) tensor that an integer step can read in place of a DequantizeLinear
// output.
struct IntSrc {
  int32_t tensor = -1;
  TensorQuant q;
  bool is_signed = true;
  bool wide = false;  // int16: only the families that take it (conv, add) may read it
};

// The nodes after a compute node's output that a pattern absorbs.
struct OutChain {
  int act = -1;  // fused Relu/Clip node
  float act_min = -std::numeric_limits<float>::infinity();
  float act_max = std::numeric_limits<float>::infinity();
  int q = -1;    // QuantizeLinear node; -1: `last` is a graph output (high precision)
  ValueId last = kNoValue;  // the float value entering Q, or the graph output
  QParams qp;
};

class Lowerer {
 public:
  explicit Lowerer(Graph g) : g_(std::move(g)) {}
  Result<IntProgram> run();

  const Graph& graph() const { return g_; }
  IntProgram& program() { return p_; }
  const Node* producer(ValueId v) const {
    const int32_t p = g_.value(v).producer;
    return p < 0 ? nullptr : &g_.nodes[static_cast<size_t>(p)];
  }
  const Tensor* constant(ValueId v) const {
    if (v == kNoValue) return nullptr;
    const auto& c = g_.value(v).constant;
    return c ? &*c : nullptr;
  }
  // The parameters of a QuantizeLinear / DequantizeLinear node (constants only).
  std::optional<QParams> qparams(const Node& n) const;
  // The program tensor of value v (made on first use).
  int32_t add_tensor(ValueId v);
  int32_t add_constant_tensor(std::string name, Tensor t);
  // The program tensor of v if one is computed already, else -1.
  int32_t tensor_of(ValueId v) const { return tensor_of_[static_cast<size_t>(v)]; }
  // Computes v if no step has (a float value read by a float step: its DequantizeLinear).
  Status materialize(ValueId v);
  // The 8-bit tensor an integer step reads in place of DequantizeLinear output v; with
  // allow_wide, an int16 one too (zero point 0), for the families whose kernels take it.
  std::optional<IntSrc> int_source(ValueId v, bool allow_wide = false);
  // The chain after a compute node's output v: an optional fused Relu/Clip (allow_act), then a
  // per-tensor 8-bit QuantizeLinear (allow_wide: or int16 with zero point 0), or a graph output
  // (allow_float_out: high precision).
  std::optional<OutChain> out_chain(ValueId v, bool allow_act, bool allow_float_out, bool allow_wide = false) const;
  int32_t finish_chain(const OutChain& c, ValueId first, Step& s);
  // Appends a matched pattern's step and marks node ni and its chains done; returns true.
  bool emit_pattern(size_t ni, Step s, const std::vector<OutChain>& chains);
  // lo/hi of the 8-bit (or int16) output: the type's range narrowed by a fused Relu/Clip.
  void clamp_range(const OutChain& c, int32_t& lo, int32_t& hi) const;
  // A step of `kind` for node n (fresh parameters; a move or float step gets the attributes).
  Step new_step(StepKind kind, const Node& n) const;
  // Appends a step that is not a pattern's (quantize, dequantize) and marks node ni done.
  void emit_step(size_t ni, Step s);
  Status emit_float(size_t ni);

 private:
  const Graph g_;
  IntProgram p_;
  std::vector<std::vector<size_t>> consumers_;
  std::vector<bool> is_output_;
  std::vector<int32_t> tensor_of_;
  std::vector<bool> done_;
  std::set<ValueId> absorbed_;  // values a pattern made unnecessary (reported as aliases)
};

// The table of node n's function of one 8-bit input (the table families): entry k is
// Q(f(DQ(q8_min + k))) with x's quantization in and the chain's out, f the op's own float eval
// with each constant float32 parameter taken at `channel` (its one value when uniform;
// channel -1: every parameter must be uniform). nullopt when a parameter is computed at run
// time or does not fit; an error when the eval fails.
Result<std::optional<std::vector<uint8_t>>> tabulate(const Lowerer& L, const Node& n, const IntSrc& x,
                                                     const OutChain& chain, int64_t channel);

// The families' lowerings, one per QMAP_STEP_FAMILY line of src/steps/step_list.def: whether
// node ni was lowered (false: it runs as a float step).
#define QMAP_STEP_FAMILY(Lowering, folder, label) Result<bool> lower_##folder(Lowerer& L, size_t ni);
#define QMAP_STEP(Kind, name, id, Params)
#include "steps/step_list.def"
#undef QMAP_STEP
#undef QMAP_STEP_FAMILY

}  // namespace qmap::lowering
