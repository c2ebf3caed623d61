#include "test_util.h"

#include <cmath>
#include <random>

#include "kernels/f32/sgemm_blas.h"
#include "ops/registry.h"

namespace qmap::testing {

Result<std::vector<Tensor>> run_op(const std::string& op, const std::vector<const Tensor*>& inputs,
                                   std::map<std::string, AttrValue> attrs, int num_outputs) {
  auto id = op_by_name(op);
  if (!id) return error("unknown op {}", op);
  const OpDef& def = op_def(*id);
  Node node;
  node.name = "test_" + op;
  node.op = *id;
  node.op_type = op;
  node.attrs = std::move(attrs);
  // Placeholder output ids: ops such as Split take their output count from the node.
  for (int i = 0; i < num_outputs; ++i) node.outputs.push_back(static_cast<ValueId>(i));
  std::vector<TensorInfo> infos;
  for (const Tensor* t : inputs) infos.push_back(tensor_info_of(t));
  InferCtx ictx(node, infos);
  QMAP_RETURN_IF_ERROR(def.infer(ictx));
  std::vector<Tensor> outs;
  for (int i = 0; i < num_outputs; ++i) {
    if (i >= static_cast<int>(ictx.outputs().size())) return error("op {} inferred fewer outputs", op);
    const auto& o = ictx.outputs()[static_cast<size_t>(i)];
    if (!o.dims) return error("op {} output {} shape unknown", op, i);
    outs.push_back(Tensor::uninitialized(o.dtype, *o.dims));  // as the engine does
  }
  EvalCtx ectx{node, inputs, outs};
  ectx.sgemm = kernels::f32::sgemm_blas;  // as the float engine runs ops
  QMAP_RETURN_IF_ERROR(def.eval(ectx));
  return outs;
}

::testing::AssertionResult tensors_near(const Tensor& actual, const Tensor& expected, double atol,
                                        double rtol) {
  if (actual.dims() != expected.dims())
    return ::testing::AssertionFailure()
           << "dims " << dims_str(actual.dims()) << " != expected " << dims_str(expected.dims());
  auto a = actual.to_double();
  auto b = expected.to_double();
  for (size_t i = 0; i < a.size(); ++i) {
    const bool both_nan = std::isnan(a[i]) && std::isnan(b[i]);
    if (both_nan || std::fabs(a[i] - b[i]) <= atol + rtol * std::fabs(b[i])) continue;
    auto f = ::testing::AssertionFailure();
    f << "first mismatch at flat index " << i << ": got " << a[i] << ", expected " << b[i]
      << " (atol " << atol << ", rtol " << rtol << "); neighbourhood:";
    for (size_t j = i >= 3 ? i - 3 : 0; j < std::min(a.size(), i + 4); ++j)
      f << " [" << j << "] " << a[j] << "/" << b[j];
    return f;
  }
  return ::testing::AssertionSuccess();
}

Tensor random_tensor(Dims dims, uint32_t seed, float lo, float hi) {
  Tensor t(DType::kFloat32, std::move(dims));
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  for (float& v : t.data<float>()) v = dist(rng);
  return t;
}

}  // namespace qmap::testing
