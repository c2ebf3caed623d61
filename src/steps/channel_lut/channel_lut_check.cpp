// The channel-table kind's checks (program/step_checker.h): 8-bit in and out of one element
// count, a whole number of channels x inner blocks, one 256-entry table per channel.
#include "program/step_checker.h"

namespace qmap {

Status check_channel_lut(const StepChecker& c) {
  QMAP_RETURN_IF_ERROR(c.arity(1));
  QMAP_RETURN_IF_ERROR(c.q8(c.in(0), "input"));
  QMAP_RETURN_IF_ERROR(c.q8(c.out(), "output"));
  QMAP_RETURN_IF_ERROR(c.elementwise());
  const auto& p = c.params<ChannelLutParams>();
  if (p.channels < 1 || p.inner < 1)
    return c.fail("channels {} and inner {}: both are >= 1", p.channels, p.inner);
  int64_t block = 0, table_bytes = 0;
  QMAP_RETURN_IF_ERROR(c.product({p.channels, p.inner}, "channels * inner", &block));
  QMAP_RETURN_IF_ERROR(c.product({p.channels, 256}, "channels * 256", &table_bytes));
  const int64_t n = StepChecker::numel(c.in(0));
  if (n % block != 0)
    return c.fail("input '{}' has {} elements ({}): a whole number of channels {} * inner {} = {} blocks", c.in(0).name,
                  n, dims_str(c.in(0).dims), p.channels, p.inner, block);
  return c.size(p.tables.size(), table_bytes, "tables blob", "channels * 256 (one table per channel)");
}

}  // namespace qmap
