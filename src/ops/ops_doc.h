// docs/ops.md, generated from the op definitions so the list never drifts from the code.
#pragma once

#include <string>

namespace qmap {

std::string ops_markdown();

}  // namespace qmap
