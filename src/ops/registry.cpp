#include "ops/registry.h"

#include <algorithm>
#include <array>

namespace qmap {

// Declares every listed op's definition; a missing folder is a link error.
#define QMAP_OP(Name, folder, id) namespace ops::folder { extern const OpDef kDef; }
#include "ops/op_list.def"
#undef QMAP_OP

namespace {

struct Entry {
  OpId id;
  const OpDef* def;
  std::string_view name;
};

constexpr Entry kEntries[] = {
#define QMAP_OP(Name, folder, id) {OpId::Name, &ops::folder::kDef, #Name},
#include "ops/op_list.def"
#undef QMAP_OP
};

constexpr std::array<OpId, std::size(kEntries)> kIds = [] {
  std::array<OpId, std::size(kEntries)> ids{};
  for (size_t i = 0; i < std::size(kEntries); ++i) ids[i] = kEntries[i].id;
  return ids;
}();

// Ids must be unique: .bin files store them.
constexpr bool ids_unique() {
  for (size_t i = 0; i < std::size(kEntries); ++i)
    for (size_t j = i + 1; j < std::size(kEntries); ++j)
      if (kEntries[i].id == kEntries[j].id) return false;
  return true;
}
static_assert(ids_unique(), "op_list.def: two ops share an id");

}  // namespace

const OpDef& op_def(OpId id) {
  for (const Entry& e : kEntries)
    if (e.id == id) return *e.def;
  QMAP_CHECK(false, "unknown op id {}", static_cast<int>(id));
}

std::optional<OpId> op_by_name(std::string_view name) {
  // Custom is no ONNX or Caffe op type: its nodes come from a plugin's claim
  // (ops/custom/custom_op.h), never from a model naming "Custom".
  for (const Entry& e : kEntries)
    if (e.name == name && e.id != OpId::Custom) return e.id;
  return std::nullopt;
}

std::span<const OpId> all_ops() { return kIds; }

Status validate_builtin_attributes(const Node& n) {
  const OpDef& def = op_def(n.op);
  for (const auto& [key, value] : n.attrs) {
    const AttrSpec* spec = nullptr;
    for (const AttrSpec& s : def.attrs)
      if (key == s.name) spec = &s;
    if (spec == nullptr) {
      std::string known;
      for (const AttrSpec& s : def.attrs) known += std::string(known.empty() ? "" : ", ") + s.name;
      return error("{} '{}': attribute '{}' is not defined for {}: known attributes are {{{}}}", n.op_type,
                   n.name, key, def.name, known);
    }
    if (attr_type_of(value) != spec->type)
      return error("{} '{}': attribute '{}' has type {}: {} expects {}", n.op_type, n.name, key,
                   attr_type_name(attr_type_of(value)), def.name, attr_type_name(spec->type));
  }
  for (const AttrSpec& s : def.attrs)
    if (s.default_text == nullptr && !n.has_attr(s.name))
      return error("{} '{}': required attribute '{}' is missing", n.op_type, n.name, s.name);
  return ok_status();
}

Status validate_builtin_arity(const Node& n) {
  const OpDef& def = op_def(n.op);
  const int ni = static_cast<int>(n.inputs.size());
  const int no = static_cast<int>(n.outputs.size());
  if (ni < def.min_inputs || (def.max_inputs >= 0 && ni > def.max_inputs))
    return error("{} '{}': has {} inputs: {} takes {} to {}", n.op_type, n.name, ni, def.name, def.min_inputs,
                 def.max_inputs < 0 ? std::string("any number") : std::to_string(def.max_inputs));
  if (no < def.min_outputs || (def.max_outputs >= 0 && no > def.max_outputs))
    return error("{} '{}': has {} outputs: {} produces {} to {}", n.op_type, n.name, no, def.name, def.min_outputs,
                 def.max_outputs < 0 ? std::string("any number") : std::to_string(def.max_outputs));
  for (int i = 0; i < def.min_inputs && i < ni; ++i)
    if (n.inputs[static_cast<size_t>(i)] == kNoValue)
      return error("{} '{}': required input {} is empty", n.op_type, n.name, i);
  return ok_status();
}

const char* int8_lowering_label(Int8Lowering l) {
  switch (l) {
#define QMAP_STEP_FAMILY(Lowering, folder, label) \
  case Int8Lowering::k##Lowering: return label;
#define QMAP_STEP(Kind, name, id, Params)
#include "steps/step_list.def"
#undef QMAP_STEP
#undef QMAP_STEP_FAMILY
  }
  return "?";
}

}  // namespace qmap
