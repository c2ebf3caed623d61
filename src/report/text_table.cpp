#include "report/text_table.h"

#include <algorithm>

#include "core/status.h"

namespace qmap {

std::string render_text_table(const std::vector<TextRow>& rows) {
  if (rows.empty()) return "";
  const size_t cols = rows[0].size();
  std::vector<size_t> w(cols, 0);
  for (const TextRow& r : rows) {
    QMAP_CHECK(r.size() == cols, "text table row has {} cells, header has {}", r.size(), cols);
    for (size_t c = 0; c < cols; ++c) w[c] = std::max(w[c], r[c].size());
  }
  size_t total = 0;
  for (size_t c = 0; c + 1 < cols; ++c) total += w[c] + 2;
  total += std::max<size_t>(cols ? w[cols - 1] : 0, 4);
  std::string out = std::string(total, '=') + "\n";
  for (size_t ri = 0; ri < rows.size(); ++ri) {
    std::string line;
    for (size_t c = 0; c < cols; ++c) {
      line += rows[ri][c];
      if (c + 1 < cols) line += std::string(w[c] + 2 - rows[ri][c].size(), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
    if (ri == 0) out += std::string(total, '-') + "\n";
  }
  out += std::string(total, '=') + "\n";
  return out;
}

}  // namespace qmap
