// Plain-text tables in hb_mapper's style: columns padded to the widest cell, a rule of '='
// above and below, a rule of '-' under the header. Used by checker, makertbin and eval.
#pragma once

#include <string>
#include <vector>

namespace qmap {

using TextRow = std::vector<std::string>;

// rows[0] is the header. Every row has the header's cell count. The last column is not
// padded; trailing spaces are trimmed.
std::string render_text_table(const std::vector<TextRow>& rows);

}  // namespace qmap
