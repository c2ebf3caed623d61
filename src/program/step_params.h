// Step kinds and their parameters: the StepKind enum, names and the parameter variant made from
// the step list (src/steps/step_list.def), each family's parameter types (src/steps/<folder>/
// <folder>.h) and the one description of each type's fields. The .bin writer and reader (docs/format.md §4) and program_text walk
// the same description, so the file layout, the reader's checks and the listing cannot drift
// from the structs: a field added here is written, read and listed.
//
// A description is a function template `describe(v, params)` calling, in file order,
//   v.field(name, x)  for inline values: int32, int64, float, bool (one byte, 0 or 1),
//                     std::string, std::vector<int64_t>, std::vector<uint8_t>, and the
//                     attribute map of kMove / kFloat steps;
//   v.blob(name, x)   for arrays kept in the BLOBS section (64-byte aligned), as a std::vector
//                     (the reader copies) or a SharedArray (a view of the file's bytes when
//                     the reader's caller keeps them: the convolutions' weights, bias and
//                     multipliers) of int8, int32, QMultiplier ((m, shift) int32 pairs),
//                     double or uint8.
// `params` is const for writers and listers, mutable for the reader (one template serves both).
#pragma once

#include <algorithm>
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
#include "program/step_describe.h"

// The families' parameter types (src/steps/<folder>/<folder>.h).
#define QMAP_STEP_PARAM_HEADERS
#include "steps/step_list.def"
#undef QMAP_STEP_PARAM_HEADERS

namespace qmap {

// The step kinds and their families, from the step list (src/steps/step_list.def): the
// kinds' stable numeric values (.bin files store them), names and parameter types.
enum class StepKind : uint16_t {
#define QMAP_STEP_FAMILY(Lowering, folder, label)
#define QMAP_STEP(Kind, name, id, Params) k##Kind = id,
#include "steps/step_list.def"
#undef QMAP_STEP
#undef QMAP_STEP_FAMILY
};

// Every kind, in list order.
inline constexpr StepKind kAllStepKinds[] = {
#define QMAP_STEP_FAMILY(Lowering, folder, label)
#define QMAP_STEP(Kind, name, id, Params) StepKind::k##Kind,
#include "steps/step_list.def"
#undef QMAP_STEP
#undef QMAP_STEP_FAMILY
};

// Whether `id` is a kind of the list (a .bin may hold any number).
constexpr bool is_step_kind(int id) {
  for (StepKind k : kAllStepKinds)
    if (static_cast<int>(k) == id) return true;
  return false;
}

// The largest kind id (messages name the range 1..kMaxStepKind).
inline constexpr int kMaxStepKind = [] {
  int m = 0;
  for (StepKind k : kAllStepKinds) m = std::max(m, static_cast<int>(k));
  return m;
}();

const char* step_kind_name(StepKind k);  // "conv", "maxpool", ...; "?" for a number not in the list

// kQuantize, kDequantize: the tensors' quantization is all they need.
struct NoParams {};

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

template <class V, ParamsOf<NoParams> P>
void describe(V&, P&) {}

template <class V, ParamsOf<GenericParams> P>
void describe(V& v, P& p) {
  v.field("attributes", p.attrs);
  v.field("custom op domain", p.domain), v.field("custom op version", p.custom_version);
  v.field("custom op library", p.custom_library);
}

namespace step_detail {
template <class... Ts>
struct TypeList {};
template <class L, class T>
struct AppendNew;
template <class... Ts, class T>
struct AppendNew<TypeList<Ts...>, T> {
  using type = std::conditional_t<(std::is_same_v<T, Ts> || ...), TypeList<Ts...>, TypeList<Ts..., T>>;
};
template <class L, class... Ts>
struct Unique {
  using type = L;
};
template <class L, class T, class... Ts>
struct Unique<L, T, Ts...> {
  using type = typename Unique<typename AppendNew<L, T>::type, Ts...>::type;
};
template <class L>
struct VariantOf;
template <class... Ts>
struct VariantOf<TypeList<Ts...>> {
  using type = std::variant<Ts...>;
};
}  // namespace step_detail

// One alternative per parameter type of the list (each type once, in first-use order);
// step_params_index gives each kind's.
#define QMAP_STEP_FAMILY(Lowering, folder, label)
#define QMAP_STEP(Kind, name, id, Params) , Params
using StepParams = step_detail::VariantOf<step_detail::Unique<step_detail::TypeList<>
#include "steps/step_list.def"
                                                              >::type>::type;
#undef QMAP_STEP
#undef QMAP_STEP_FAMILY

// The alternative index of parameter type P.
template <class P, size_t I = 0>
constexpr size_t step_params_index_of() {
  if constexpr (I == std::variant_size_v<StepParams>) return std::variant_npos;
  else if constexpr (std::is_same_v<std::variant_alternative_t<I, StepParams>, P>) return I;
  else return step_params_index_of<P, I + 1>();
}

// The alternative index of kind k's parameter type (std::variant_npos for a number not in the
// list).
constexpr size_t step_params_index(StepKind k) {
  switch (k) {
#define QMAP_STEP_FAMILY(Lowering, folder, label)
#define QMAP_STEP(Kind, name, id, Params) \
  case StepKind::k##Kind: return step_params_index_of<Params>();
#include "steps/step_list.def"
#undef QMAP_STEP
#undef QMAP_STEP_FAMILY
  }
  return std::variant_npos;
}

// Fresh parameters of the kind's type (the reader's starting point).
StepParams default_step_params(StepKind k);

// Describes whichever alternative `params` holds.
template <class V, ParamsOf<StepParams> S>
void describe_params(V& v, S& params) {
  std::visit([&](auto& p) { describe(v, p); }, params);
}

}  // namespace qmap
