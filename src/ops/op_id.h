// OpId: the stable numeric id of each op, generated from ops/op_list.def.
#pragma once

#include <cstdint>

namespace qmap {

enum class OpId : uint16_t {
#define QMAP_OP(Name, folder, id) Name = id,
#include "ops/op_list.def"
#undef QMAP_OP
};

}  // namespace qmap
