// Lookup of op definitions by id and by name.
#pragma once

#include <optional>
#include <span>
#include <string_view>

#include "ops/op_def.h"
#include "ops/op_id.h"

namespace qmap {

const OpDef& op_def(OpId id);
std::optional<OpId> op_by_name(std::string_view name);  // never OpId::Custom
std::span<const OpId> all_ops();  // in list order

// The node's attributes against its op's AttrSpecs: every key defined, of its type, and every
// required one present (built-in ops; ops/verify.h validate_attributes adds custom ops). What
// the ops' infer and eval assume (attr_int and friends abort on a type not validated).
Status validate_builtin_attributes(const Node& n);

// The node's input and output counts against its op's (OpDef min/max), and each required input
// (the first min_inputs) present: what the ops' infer and eval assume when they read input i.
// Messages name the node: "Mul 'm': has 1 inputs: Mul takes 2 to 2".
Status validate_builtin_arity(const Node& n);

}  // namespace qmap
