#include "report/text_table.h"

#include <gtest/gtest.h>

namespace qmap {
namespace {

TEST(TextTable, PadsColumnsToTheWidestCellAndTrimsTrailingSpace) {
  const std::string t = render_text_table({{"Node", "ON", "Note"}, {"conv1", "NPU", ""}, {"x", "CPU", "why"}});
  EXPECT_EQ(t,
            "================\n"
            "Node   ON   Note\n"
            "----------------\n"
            "conv1  NPU\n"
            "x      CPU  why\n"
            "================\n");
}

}  // namespace
}  // namespace qmap
