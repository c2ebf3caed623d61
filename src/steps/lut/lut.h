// The table family's parameters (kLut; docs/format.md §4).
#pragma once

#include <cstdint>
#include <vector>

#include "program/step_describe.h"

namespace qmap {

struct LutParams {
  std::vector<uint8_t> table;  // 256 entries: the output byte for input q8_min + k
};

template <class V, ParamsOf<LutParams> P>
void describe(V& v, P& p) {
  v.blob("table", p.table);
}

}  // namespace qmap
