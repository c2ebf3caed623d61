// Helpers shared by tests: building small graphs, running one op, comparing tensors.
#pragma once

#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ir/graph.h"
#include "ops/op_def.h"

namespace qmap::testing {

// Runs one op through its OpDef (infer then eval) on the given inputs; nullptr entries are
// omitted optional inputs. Returns the outputs or the infer/eval error.
Result<std::vector<Tensor>> run_op(const std::string& op, const std::vector<const Tensor*>& inputs,
                                   std::map<std::string, AttrValue> attrs = {}, int num_outputs = 1);

// Expects equal dims and |a-b| <= atol + rtol*|b| elementwise; prints the first mismatch
// and its neighbourhood.
::testing::AssertionResult tensors_near(const Tensor& actual, const Tensor& expected,
                                        double atol = 1e-5, double rtol = 1e-5);

// Fixed-seed uniform random float tensor in [lo, hi).
Tensor random_tensor(Dims dims, uint32_t seed, float lo = -1.f, float hi = 1.f);

}  // namespace qmap::testing
