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

}  // namespace qmap
