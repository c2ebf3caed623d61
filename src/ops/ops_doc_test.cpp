#include "ops/ops_doc.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

namespace qmap {
namespace {

TEST(OpsDoc, CommittedDocsMatchTheCode) {
  std::ifstream f(std::string(QMAP_SOURCE_DIR) + "/docs/ops.md");
  ASSERT_TRUE(f.good()) << "docs/ops.md missing: run scripts/gen-docs.sh";
  std::stringstream ss;
  ss << f.rdbuf();
  EXPECT_TRUE(ss.str() == ops_markdown()) << "docs/ops.md is stale: run scripts/gen-docs.sh";
}

}  // namespace
}  // namespace qmap
