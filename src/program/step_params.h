// Step parameters: one type per step kind (StepKind in int_program.h), and the one description
// of each type's fields. The .bin writer and reader (docs/format.md §4) and program_text walk
// the same description, so the file layout, the reader's checks and the listing cannot drift
// from the structs: a field added here is written, read and listed.
//
// A description is a function template `describe(v, params)` calling, in file order,
//   v.field(name, x)  for inline values: int32, int64, float, bool (one byte, 0 or 1),
//                     std::string, std::vector<int64_t>, std::vector<uint8_t>, and the
//                     attribute map of kMove / kFloat steps;
//   v.blob(name, x)   for arrays kept in the BLOBS section (64-byte aligned, aliasable):
//                     SharedArray<int8_t>, std::vector<int32_t>, std::vector<QMultiplier>
//                     ((m, shift) int32 pairs), std::vector<double>, std::vector<uint8_t>.
// `params` is const for writers and listers, mutable for the reader (one template serves both).
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <type_traits>
#include <variant>
#include <vector>

#include "core/fixed_point.h"
#include "core/shared_array.h"
#include "ir/graph.h"
#include "kernels/ref/qconv.h"
#include "kernels/ref/qelementwise.h"
#include "kernels/ref/qpool.h"

namespace qmap {

// Stable numeric values: the .bin stores them. Never renumber or reuse one.
enum class StepKind : uint16_t {
  kQuantize = 1,      // float32 -> 8-bit (QuantizeLinear, per tensor): NoParams
  kDequantize = 2,    // 8-bit -> float32 (DequantizeLinear, per tensor): NoParams
  kConv = 3,          // Conv/Gemm/MatMul [+ Relu/Clip], 8-bit out: ConvParams
  kConvFloatOut = 4,  // the same, float32 out from the accumulator: ConvFloatOutParams
  kAdd = 5,           // BinaryParams, multipliers {s_a/s_y, s_b/s_y}
  kMul = 6,           // BinaryParams, multipliers {s_a*s_b/s_y}
  kLut = 7,           // LutParams
  kMaxPool = 8,       // MaxPoolParams
  kAvgPool = 9,       // AvgPoolParams
  kConcat = 10,       // ConcatParams
  kMove = 11,         // data movement on 8-bit values (Reshape, Transpose, Slice, Pad, Resize
                      // nearest, ...) run by the op's own eval, any dtype: GenericParams
  kFloat = 12,        // a node run literally in float (CPU ops, unmatched nodes): GenericParams
};
inline constexpr int kMaxStepKind = 12;
const char* step_kind_name(StepKind k);

// kQuantize, kDequantize: the tensors' quantization is all they need.
struct NoParams {};

// What both convolution kinds hold.
struct ConvWeights {
  kernels::ref::ConvGeometry2d geom;
  SharedArray<int8_t> weights;  // [M][C/group][KH][KW] int8 (a .bin's are views into its bytes)
  std::vector<int32_t> bias;    // [M] at scale s_x * s_w[m]; empty: none
};

struct ConvParams : ConvWeights {
  std::vector<QMultiplier> multipliers;  // [M]: s_x * s_w[m] / s_y
  int32_t lo = 0, hi = 0;                // clamp of the 8-bit output (fused Relu/Clip)
};

struct ConvFloatOutParams : ConvWeights {
  std::vector<double> acc_scales;  // [M]: (double)s_x * s_w[m]
  float float_min = -std::numeric_limits<float>::infinity();  // fused Relu/Clip
  float float_max = std::numeric_limits<float>::infinity();
};

// kAdd and kMul (they differ in the multipliers' count and meaning only).
struct BinaryParams {
  kernels::ref::BinaryGeometry geom;
  std::vector<QMultiplier> multipliers;
  int32_t lo = 0, hi = 0;
};

struct LutParams {
  std::vector<uint8_t> table;  // 256 entries: the output byte for input q8_min + k
};

struct MaxPoolParams {
  kernels::ref::PoolGeometry2d geom;
};

struct AvgPoolParams {
  kernels::ref::PoolGeometry2d geom;
  bool count_include_pad = false;
  std::vector<QMultiplier> multipliers;  // [KH*KW + 1]: one per tap count (index 0 unused)
  int32_t lo = 0, hi = 0;
};

struct ConcatParams {
  int64_t outer = 0;                  // product of the dims before the axis
  std::vector<int64_t> blocks;        // per input: axis length * inner size (elements)
  std::vector<uint8_t> requant;       // per input: 1 = requantize, 0 = copy
  std::vector<QMultiplier> multipliers;  // per input (unused where copied)
};

// kMove and kFloat: the node's attributes for the op's own eval. A custom op (op id Custom,
// kFloat only) also records its domain and version and the file name of the plugin that
// defined it when the program was made (for the error when no loaded plugin provides it);
// `custom` is the plugin's op that runs it: set by the lowering, or by resolve_custom_ops
// for a program read from a .bin (which never holds plugin code).
struct GenericParams {
  std::map<std::string, AttrValue> attrs;
  std::string domain;
  int64_t custom_version = 0;
  std::string custom_library;
  std::shared_ptr<const CustomOp> custom;
};

// One alternative per parameter type, in this order; step_params_index gives each kind's.
using StepParams = std::variant<NoParams, ConvParams, ConvFloatOutParams, BinaryParams, LutParams, MaxPoolParams,
                                AvgPoolParams, ConcatParams, GenericParams>;

constexpr size_t step_params_index(StepKind k) {
  switch (k) {
    case StepKind::kQuantize:
    case StepKind::kDequantize: return 0;
    case StepKind::kConv: return 1;
    case StepKind::kConvFloatOut: return 2;
    case StepKind::kAdd:
    case StepKind::kMul: return 3;
    case StepKind::kLut: return 4;
    case StepKind::kMaxPool: return 5;
    case StepKind::kAvgPool: return 6;
    case StepKind::kConcat: return 7;
    case StepKind::kMove:
    case StepKind::kFloat: return 8;
  }
  return std::variant_npos;
}

// The alternative index of parameter type P.
template <class P, size_t I = 0>
constexpr size_t step_params_index_of() {
  if constexpr (I == std::variant_size_v<StepParams>) return std::variant_npos;
  else if constexpr (std::is_same_v<std::variant_alternative_t<I, StepParams>, P>) return I;
  else return step_params_index_of<P, I + 1>();
}

// Fresh parameters of the kind's type (the reader's starting point).
StepParams default_step_params(StepKind k);

// ---- The descriptions (file order) ----

template <class P, class T>
concept ParamsOf = std::is_same_v<std::remove_const_t<P>, T>;

template <class V, ParamsOf<kernels::ref::ConvGeometry2d> G>
void describe(V& v, G& g) {
  v.field("n", g.n), v.field("c", g.c), v.field("h", g.h), v.field("w", g.w);
  v.field("m", g.m), v.field("oh", g.oh), v.field("ow", g.ow);
  v.field("kh", g.kh), v.field("kw", g.kw);
  v.field("stride_h", g.stride_h), v.field("stride_w", g.stride_w);
  v.field("dil_h", g.dil_h), v.field("dil_w", g.dil_w);
  v.field("pad_top", g.pad_top), v.field("pad_left", g.pad_left);
  v.field("group", g.group);
}

template <class V, ParamsOf<kernels::ref::PoolGeometry2d> G>
void describe(V& v, G& g) {
  v.field("n", g.n), v.field("c", g.c), v.field("h", g.h), v.field("w", g.w);
  v.field("oh", g.oh), v.field("ow", g.ow);
  v.field("kh", g.kh), v.field("kw", g.kw);
  v.field("stride_h", g.stride_h), v.field("stride_w", g.stride_w);
  v.field("dil_h", g.dil_h), v.field("dil_w", g.dil_w);
  v.field("pad_top", g.pad_top), v.field("pad_left", g.pad_left);
  v.field("pad_bottom", g.pad_bottom), v.field("pad_right", g.pad_right);
}

template <class V, ParamsOf<kernels::ref::BinaryGeometry> G>
void describe(V& v, G& g) {
  v.field("out dims", g.out), v.field("a strides", g.a_strides), v.field("b strides", g.b_strides);
}

template <class V, ParamsOf<NoParams> P>
void describe(V&, P&) {}

template <class V, ParamsOf<ConvWeights> P>
void describe(V& v, P& p) {
  describe(v, p.geom);
  v.blob("weights", p.weights), v.blob("bias", p.bias);
}

template <class V, ParamsOf<ConvParams> P>
void describe(V& v, P& p) {
  describe(v, static_cast<std::conditional_t<std::is_const_v<P>, const ConvWeights&, ConvWeights&>>(p));
  v.blob("multipliers", p.multipliers);
  v.field("lo", p.lo), v.field("hi", p.hi);
}

template <class V, ParamsOf<ConvFloatOutParams> P>
void describe(V& v, P& p) {
  describe(v, static_cast<std::conditional_t<std::is_const_v<P>, const ConvWeights&, ConvWeights&>>(p));
  v.blob("acc scales", p.acc_scales);
  v.field("float min", p.float_min), v.field("float max", p.float_max);
}

template <class V, ParamsOf<BinaryParams> P>
void describe(V& v, P& p) {
  describe(v, p.geom);
  v.blob("multipliers", p.multipliers);
  v.field("lo", p.lo), v.field("hi", p.hi);
}

template <class V, ParamsOf<LutParams> P>
void describe(V& v, P& p) {
  v.blob("table", p.table);
}

template <class V, ParamsOf<MaxPoolParams> P>
void describe(V& v, P& p) {
  describe(v, p.geom);
}

template <class V, ParamsOf<AvgPoolParams> P>
void describe(V& v, P& p) {
  describe(v, p.geom);
  v.field("count_include_pad", p.count_include_pad);
  v.blob("multipliers", p.multipliers);
  v.field("lo", p.lo), v.field("hi", p.hi);
}

template <class V, ParamsOf<ConcatParams> P>
void describe(V& v, P& p) {
  v.field("outer", p.outer), v.field("blocks", p.blocks), v.field("requant", p.requant);
  v.blob("multipliers", p.multipliers);
}

template <class V, ParamsOf<GenericParams> P>
void describe(V& v, P& p) {
  v.field("attributes", p.attrs);
  v.field("custom op domain", p.domain), v.field("custom op version", p.custom_version);
  v.field("custom op library", p.custom_library);
}

// Describes whichever alternative `params` holds.
template <class V, ParamsOf<StepParams> S>
void describe_params(V& v, S& params) {
  std::visit([&](auto& p) { describe(v, p); }, params);
}

}  // namespace qmap
