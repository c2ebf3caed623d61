// The channel-table family's parameters (kChannelLut; docs/format.md §4): one 256-entry table
// per channel of the input, whose element count is outer x channels x inner (row-major) for
// some outer. An elementwise op whose constant parameters vary along one axis (PRelu with a
// slope per channel) is one function of the input per channel: the lowering tabulates each.
#pragma once

#include <cstdint>
#include <vector>

#include "program/step_describe.h"

namespace qmap {

struct ChannelLutParams {
  int64_t channels = 0;        // the length of the parameters' axis
  int64_t inner = 0;           // elements after that axis (product of the later dims)
  std::vector<uint8_t> tables;  // [channels][256]: the output byte for input q8_min + k
};

template <class V, ParamsOf<ChannelLutParams> P>
void describe(V& v, P& p) {
  v.field("channels", p.channels), v.field("inner", p.inner);
  v.blob("tables", p.tables);
}

}  // namespace qmap
