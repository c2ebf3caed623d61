// LayerCtx: building IR nodes for one Caffe layer, with shapes inferred as nodes are added.
#include "import/caffe/caffe_builder.h"

#include "ops/custom/custom_op.h"
#include "ops/infer.h"
#include "ops/registry.h"
#include "ops/verify.h"

namespace qmap::caffe_import {

Dims blob_dims(const caffe::BlobProto& bp) {
  if (bp.has_shape()) return Dims(bp.shape().dim().begin(), bp.shape().dim().end());
  return {bp.num(), bp.channels(), bp.height(), bp.width()};
}

Result<Tensor> blob_to_tensor(const caffe::BlobProto& bp, const std::string& what) {
  const Dims dims = blob_dims(bp);
  for (int64_t d : dims)
    if (d < 0) return error("{} has a negative dimension in {}", what, dims_str(dims));
  int64_t n = 1;
  for (int64_t d : dims) {
    if (d != 0 && n > (int64_t{1} << 40) / d) return error("{} has shape {}: too large", what, dims_str(dims));
    n *= d;
  }
  Tensor t(DType::kFloat32, dims);
  auto dst = t.data<float>();
  if (bp.data_size() == n) {
    std::copy(bp.data().begin(), bp.data().end(), dst.begin());
  } else if (bp.double_data_size() == n && n > 0) {
    for (int64_t i = 0; i < n; ++i) dst[static_cast<size_t>(i)] = static_cast<float>(bp.double_data(static_cast<int>(i)));
  } else {
    return error("{} holds {} values: its shape {} needs {}", what,
                 bp.data_size() > 0 ? bp.data_size() : bp.double_data_size(), dims_str(dims), n);
  }
  return t;
}

const Dims& LayerCtx::dims(ValueId v) const {
  const Value& val = st_.g.value(v);
  QMAP_CHECK(val.dims.has_value(), "caffe import: value '{}' has no inferred shape", val.name);
  return *val.dims;
}

Status LayerCtx::expect_io(int min_b, int max_b, int min_t, int max_t) const {
  auto range = [](int lo, int hi) {
    if (hi < 0) return fmt::format("at least {}", lo);
    return lo == hi ? fmt::format("{}", lo) : fmt::format("{} to {}", lo, hi);
  };
  if (num_bottoms() < min_b || (max_b >= 0 && num_bottoms() > max_b))
    return error("has {} bottoms: {} takes {}", num_bottoms(), type(), range(min_b, max_b));
  if (num_tops() < min_t || (max_t >= 0 && num_tops() > max_t))
    return error("has {} tops: {} produces {}", num_tops(), type(), range(min_t, max_t));
  return ok_status();
}

Status LayerCtx::expect_blobs(int count, const char* what) const {
  if (weights_.empty() && count > 0)
    return weight_error("has no trained blobs in the caffemodel: expected {} ({}); is the caffemodel trained from this prototxt, or truncated?",
                        count, what);
  if (static_cast<int>(weights_.size()) != count)
    return weight_error("has {} blobs: expected {} ({})", weights_.size(), count, what);
  return ok_status();
}

Result<Tensor> LayerCtx::blob(int i, const Dims& caffe_shape, const char* what, const Dims& ir_dims) const {
  const caffe::BlobProto& bp = *weights_.at(static_cast<size_t>(i));
  const Dims actual = blob_dims(bp);
  bool match;
  if (bp.has_shape()) {
    match = actual == caffe_shape;
  } else {
    // Caffe's Blob::ShapeEquals for legacy blobs: compare against the expected shape
    // left-padded to 4 axes with 1s.
    match = caffe_shape.size() <= 4;
    Dims padded(4 - std::min<size_t>(4, caffe_shape.size()), 1);
    padded.insert(padded.end(), caffe_shape.begin(), caffe_shape.end());
    match = match && padded == actual;
  }
  if (!match)
    return weight_error("blob {} ({}) has shape {}: the layer expects {}", i, what, dims_str(actual),
                        dims_str(caffe_shape));
  auto t = blob_to_tensor(bp, fmt::format("blob {} ({})", i, what));
  if (!t.ok()) return weight_error("{}", t.status().message());
  const Dims& want = ir_dims.empty() ? caffe_shape : ir_dims;
  return t->reshaped(want);
}

Result<int> LayerCtx::canonical_axis(int64_t axis, int rank, const char* what) const {
  if (axis < -rank || axis >= rank)
    return error("{} {} is out of range for a rank-{} bottom: must be in [{}, {}]", what, axis, rank, -rank, rank - 1);
  return static_cast<int>(axis < 0 ? axis + rank : axis);
}

ValueId LayerCtx::constant(const std::string& suffix, Tensor t) {
  return st_.g.add_constant(st_.g.unique_value_name(name() + "/" + suffix), std::move(t));
}

Result<std::vector<ValueId>> LayerCtx::node(const std::string& op, const std::string& step, std::vector<ValueId> inputs,
                                            std::map<std::string, AttrValue> attrs, int num_outputs) {
  const auto id = op_by_name(op);
  if (!id) return error("maps to IR op {}, which this qmap build does not define", op);
  Node n;
  n.op = *id;
  n.op_type = type();
  return add_node(std::move(n), step, std::move(inputs), std::move(attrs), num_outputs);
}

Result<std::vector<ValueId>> LayerCtx::custom_node(std::shared_ptr<const CustomOp> op, std::vector<ValueId> inputs,
                                                   std::map<std::string, AttrValue> attrs, int num_outputs) {
  Node n;
  make_custom_node(n, std::move(op));
  return add_node(std::move(n), "", std::move(inputs), std::move(attrs), num_outputs);
}

Result<Tensor> LayerCtx::blob_as_declared(int i, const char* what) const {
  auto t = blob_to_tensor(*weights_.at(static_cast<size_t>(i)), fmt::format("blob {} ({})", i, what));
  if (!t.ok()) return weight_error("{}", t.status().message());
  return t;
}

Result<std::vector<ValueId>> LayerCtx::add_node(Node n, const std::string& step, std::vector<ValueId> inputs,
                                                std::map<std::string, AttrValue> attrs, int num_outputs) {
  std::string base = step.empty() ? name() : name() + "/" + step;
  const int seen = st_.node_name_count[base]++;
  n.name = seen == 0 ? base : fmt::format("{}_{}", base, seen);
  n.inputs = std::move(inputs);
  n.attrs = std::move(attrs);
  for (int i = 0; i < num_outputs; ++i)
    n.outputs.push_back(st_.g.add_value(st_.g.unique_value_name(
        num_outputs == 1 ? n.name + "/out" : fmt::format("{}/out{}", n.name, i))));
  const Status v = validate_attributes(n);
  if (!v.ok()) return error("{}", v.message());
  std::vector<ValueId> outs = n.outputs;
  st_.g.nodes.push_back(std::move(n));
  const Status s = infer_node(st_.g, st_.g.nodes.size() - 1);
  if (!s.ok()) return error("{}", s.message());
  return outs;
}

void LayerCtx::set_top(int i, ValueId v) {
  const std::string& top = lp_.top(i);
  Graph& g = st_.g;
  auto prev = g.find_value(top);
  if (prev && *prev != v) {
    Value& old = g.value(*prev);
    // In place (top == bottom) or a redefined blob: the earlier value keeps a derived
    // name so the newest one carries the Caffe blob name, as Caffe users expect. Graph
    // inputs keep theirs.
    bool is_input = false;
    for (ValueId in : g.inputs) is_input = is_input || in == *prev;
    if (is_input || old.is_initializer) {
      g.value(v).name = g.unique_value_name(top + "/" + name());
      st_.blobs[top] = v;
      return;
    }
    old.name = g.unique_value_name(top + "/before_" + name());
  }
  g.value(v).name = top;
  st_.blobs[top] = v;
}

}  // namespace qmap::caffe_import
