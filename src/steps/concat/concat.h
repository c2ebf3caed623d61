// The concat family's parameters (kConcat; docs/format.md §4).
#pragma once

#include <cstdint>
#include <vector>

#include "core/fixed_point.h"
#include "program/step_describe.h"

namespace qmap {

struct ConcatParams {
  int64_t outer = 0;                     // product of the dims before the axis
  std::vector<int64_t> blocks;           // per input: axis length * inner size (elements)
  std::vector<uint8_t> requant;          // per input: 1 = requantize, 0 = copy
  std::vector<QMultiplier> multipliers;  // per input (unused where copied)
};

template <class V, ParamsOf<ConcatParams> P>
void describe(V& v, P& p) {
  v.field("outer", p.outer), v.field("blocks", p.blocks), v.field("requant", p.requant);
  v.blob("multipliers", p.multipliers);
}

}  // namespace qmap
