#include "cli/common.h"

#include <charconv>

namespace qmap::cli {

Result<Dims> parse_shape(const std::string& text) {
  Dims dims;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t end = std::min(text.find_first_of("x,", pos), text.size());
    int64_t v = 0;
    const char* b = text.data() + pos;
    const char* e = text.data() + end;
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec != std::errc() || p != e || v <= 0)
      return error("shape '{}': expected positive integers joined by 'x' (e.g. 1x3x224x224)", text);
    dims.push_back(v);
    pos = end + 1;
  }
  return dims;
}

Result<std::map<std::string, Dims>> parse_input_shapes(const std::vector<std::string>& flat) {
  std::map<std::string, Dims> out;
  if (flat.size() % 2 != 0) return error("--input-shape takes NAME SHAPE pairs");
  for (size_t i = 0; i + 1 < flat.size(); i += 2) {
    auto d = parse_shape(flat[i + 1]);
    if (!d.ok()) return d.status().with_context("--input-shape " + flat[i] + ": ");
    if (out.count(flat[i])) return error("--input-shape {}: given twice", flat[i]);
    out[flat[i]] = *d;
  }
  return out;
}

void add_custom_op_lib_option(CLI::App* cmd, std::vector<std::string>* libs) {
  cmd->add_option("--custom-op-lib", *libs,
                  "custom-op plugin (.so) defining ops qmap does not know; repeat for several (docs/custom-op.md). A "
                  "plugin is native code run inside qmap: load only libraries you trust");
}

int fail(const Status& status, Logger* log) {
  if (log != nullptr) log->log(LogLevel::kError, status.message());
  std::fprintf(stderr, "ERROR %s\n", status.message().c_str());
  return 1;
}

}  // namespace qmap::cli
