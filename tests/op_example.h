// One-node example models of the ops, each registered by the op's own test file
// (src/ops/<op>/<op>_test.cpp), so that adding an op touches its folder only.
// PlacementAgreement (src/quant/placement_agreement_test.cpp) converts every example on every
// built-in march and fails for an op of `qmap ops` without one.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "passes/pass_test_util.h"

namespace qmap::testing {

struct OpExample {
  Dims x = {1, 4, 6, 6};  // the graph input "x" (float32), also the YAML's input_shape
  // Adds node "n" reading x (plus constants) and returns the graph outputs.
  std::function<std::vector<ValueId>(GraphBuilder&, ValueId)> build;
  const char* skip = nullptr;  // why the op has no one-node model (then build is empty)
};

std::map<std::string, OpExample>& op_examples();

struct OpExampleRegistrar {
  OpExampleRegistrar(const char* op, OpExample example) { op_examples()[op] = std::move(example); }
};

// Registers `example` (an OpExample) for `op` (its name in `qmap ops`).
#define QMAP_OP_EXAMPLE(op, ...) \
  static const ::qmap::testing::OpExampleRegistrar qmap_op_example_##op(#op, __VA_ARGS__)

// Helpers for the examples: node "n" on x with attributes and constant inputs after x, and a
// binary node reading x twice.
OpExample unary_example(const char* op, std::map<std::string, AttrValue> attrs = {}, std::vector<Tensor> more = {});
OpExample self_binary_example(const char* op);
inline Tensor ints(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

}  // namespace qmap::testing
