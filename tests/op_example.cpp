#include "op_example.h"

namespace qmap::testing {

std::map<std::string, OpExample>& op_examples() {
  static std::map<std::string, OpExample> examples;
  return examples;
}

OpExample unary_example(const char* op, std::map<std::string, AttrValue> attrs, std::vector<Tensor> more) {
  return {.build = [=](GraphBuilder& b, ValueId x) {
    std::vector<ValueId> ins = {x};
    for (size_t i = 0; i < more.size(); ++i) ins.push_back(b.constant("c" + std::to_string(i), more[i]));
    return std::vector<ValueId>{b.node(op, "n", ins, attrs)};
  }};
}

OpExample self_binary_example(const char* op) {
  return {.build = [=](GraphBuilder& b, ValueId x) { return std::vector<ValueId>{b.node(op, "n", {x, x})}; }};
}

}  // namespace qmap::testing
