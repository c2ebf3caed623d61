// Test-only helpers for the conv/pool/matrix op tests: shape inference and npu_params on
// inputs described by dims alone (unknown dims = std::nullopt), optionally with constants.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ops/registry.h"
#include "test_util.h"

namespace qmap::testing {

struct InputDesc {
  std::optional<Dims> dims;
  DType dtype = DType::kFloat32;
  const Tensor* value = nullptr;
  bool present = true;
};

struct InferResult {
  Status status;
  std::vector<InferCtx::Output> outputs;
  OpParams params;
};

inline InferResult infer_op(const std::string& op, const std::vector<InputDesc>& inputs,
                            std::map<std::string, AttrValue> attrs = {}) {
  const OpDef& def = op_def(*op_by_name(op));
  Node node;
  node.name = "n";
  node.op_type = op;
  node.attrs = std::move(attrs);
  std::vector<TensorInfo> infos;
  for (const InputDesc& d : inputs)
    infos.push_back(TensorInfo{d.present, d.present ? d.dtype : DType::kUndefined, d.dims, d.value});
  InferCtx ctx(node, infos);
  InferResult r;
  r.status = def.infer(ctx);
  r.outputs = ctx.outputs();
  if (r.status.ok() && def.npu_params) {
    std::vector<std::optional<Dims>> outs;
    for (const auto& o : r.outputs) outs.push_back(o.dims);
    def.npu_params(ctx, outs, r.params);
  }
  return r;
}

inline const OpParam* find_param(const OpParams& params, const std::string& name) {
  for (const OpParam& p : params)
    if (p.name == name) return &p;
  return nullptr;
}

// Expects `status` to be an error whose message contains `needle`.
inline ::testing::AssertionResult fails_with(const Status& status, const std::string& needle) {
  if (status.ok()) return ::testing::AssertionFailure() << "expected an error containing '" << needle << "'";
  if (status.message().find(needle) == std::string::npos)
    return ::testing::AssertionFailure() << "error '" << status.message() << "' lacks '" << needle << "'";
  return ::testing::AssertionSuccess();
}

using Ints = std::vector<int64_t>;

}  // namespace qmap::testing
