// ONNX export: the IR (opset-17 semantics) to a ModelProto with ir_version 8.
#include "import/onnx/onnx_export.h"

#include <algorithm>
#include <cstring>
#include <map>

#include <onnx/onnx_pb.h>

#include "core/file_io.h"
#include "ops/custom/custom_op.h"
#include "ops/registry.h"

namespace qmap {

namespace {

void fill_tensor(const std::string& name, const Tensor& t, onnx::TensorProto* tp) {
  tp->set_name(name);
  tp->set_data_type(static_cast<int32_t>(t.dtype()));
  for (int64_t d : t.dims()) tp->add_dims(d);
  tp->set_raw_data(reinterpret_cast<const char*>(t.raw()), t.nbytes());  // little-endian, as ONNX wants
}

void fill_value_info(const Value& v, onnx::ValueInfoProto* vi) {
  vi->set_name(v.name);
  auto* tt = vi->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int32_t>(v.dtype));
  if (v.dims) {
    auto* shape = tt->mutable_shape();
    for (int64_t d : *v.dims) shape->add_dim()->set_dim_value(d);
  }
}

void fill_attr(const std::string& key, const AttrValue& v, onnx::AttributeProto* a) {
  using A = onnx::AttributeProto;
  a->set_name(key);
  struct Visitor {
    A* a;
    void operator()(int64_t x) const { a->set_type(A::INT); a->set_i(x); }
    void operator()(float x) const { a->set_type(A::FLOAT); a->set_f(x); }
    void operator()(const std::string& x) const { a->set_type(A::STRING); a->set_s(x); }
    void operator()(const std::vector<int64_t>& x) const {
      a->set_type(A::INTS);
      for (int64_t e : x) a->add_ints(e);
    }
    void operator()(const std::vector<float>& x) const {
      a->set_type(A::FLOATS);
      for (float e : x) a->add_floats(e);
    }
    void operator()(const std::vector<std::string>& x) const {
      a->set_type(A::STRINGS);
      for (const auto& e : x) a->add_strings(e);
    }
    void operator()(const Tensor& t) const { a->set_type(A::TENSOR); fill_tensor("", t, a->mutable_t()); }
  };
  std::visit(Visitor{a}, v);
}

// A QuantizeLinear / DequantizeLinear whose integer side is int16.
bool is_int16_qdq(const Graph& g, const Node& n) {
  if (n.op == OpId::QuantizeLinear) return !n.outputs.empty() && g.value(n.outputs[0]).dtype == DType::kInt16;
  if (n.op == OpId::DequantizeLinear) return !n.inputs.empty() && g.value(n.inputs[0]).dtype == DType::kInt16;
  return false;
}

}  // namespace

Result<std::string> export_onnx_bytes(const Graph& g) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("qmap");
  m.set_producer_version(QMAP_VERSION_STRING);
  for (const auto& [key, text] : g.metadata) {
    auto* prop = m.add_metadata_props();
    prop->set_key(key);
    prop->set_value(text);
  }
  auto* os = m.add_opset_import();
  os->set_domain("");
  os->set_version(g.onnx_opset);
  // Custom ops' domains (ONNX needs an opset_import per domain a node uses): each at its op's
  // version, the version the .bin records too (ONNX Runtime matches its custom-op domain).
  std::map<std::string, int64_t> custom_domains;
  for (const Node& n : g.nodes)
    if (n.op == OpId::Custom && n.custom)
      custom_domains[n.domain] = std::max(custom_domains[n.domain], n.custom->version);
  for (const auto& [domain, version] : custom_domains) {
    auto* cos = m.add_opset_import();
    cos->set_domain(domain);
    cos->set_version(version);
  }
  // int16 QuantizeLinear / DequantizeLinear (qmap's higher-precision activations) are
  // ONNX Runtime's com.microsoft ops: the standard domain has int16 only from opset 21, and
  // the graph keeps opset-17 semantics.
  bool ms_qdq = false;
  for (const Node& n : g.nodes) ms_qdq = ms_qdq || is_int16_qdq(g, n);
  if (ms_qdq) {
    auto* ms = m.add_opset_import();
    ms->set_domain("com.microsoft");
    ms->set_version(1);
  }
  auto* gp = m.mutable_graph();
  gp->set_name(g.name.empty() ? "qmap_graph" : g.name);
  for (ValueId id : g.inputs) fill_value_info(g.value(id), gp->add_input());
  for (const Value& v : g.values)
    if (v.is_initializer) fill_tensor(v.name, *v.constant, gp->add_initializer());
  for (const Node& n : g.nodes) {
    auto* np = gp->add_node();
    np->set_name(n.name);
    np->set_op_type(n.op == OpId::Custom ? n.op_type : op_def(n.op).name);
    if (n.op == OpId::Custom) np->set_domain(n.domain);
    if (is_int16_qdq(g, n)) np->set_domain("com.microsoft");
    for (ValueId i : n.inputs) np->add_input(i == kNoValue ? "" : g.value(i).name);
    // Trailing omitted optional outputs are dropped; inner ones stay as "".
    size_t nout = n.outputs.size();
    while (nout > 1 && n.outputs[nout - 1] == kNoValue) --nout;
    for (size_t k = 0; k < nout; ++k) np->add_output(n.outputs[k] == kNoValue ? "" : g.value(n.outputs[k]).name);
    for (const auto& [key, v] : n.attrs) fill_attr(key, v, np->add_attribute());
  }
  for (ValueId id : g.outputs) fill_value_info(g.value(id), gp->add_output());
  // Intermediate shapes help viewers such as Netron and let ONNX Runtime skip inference.
  for (const Node& n : g.nodes)
    for (ValueId o : n.outputs) {
      if (o == kNoValue) continue;
      bool is_output = false;
      for (ValueId id : g.outputs) is_output = is_output || id == o;
      if (!is_output && g.value(o).dims) fill_value_info(g.value(o), gp->add_value_info());
    }
  std::string bytes;
  if (!m.SerializeToString(&bytes))
    return error("onnx export: graph '{}': serialization failed (model over 2 GB?)", g.name);
  return bytes;
}

Status export_onnx(const Graph& graph, const std::string& path) {
  QMAP_ASSIGN_OR_RETURN(std::string bytes, export_onnx_bytes(graph));
  return write_file_atomic(path, bytes);
}

}  // namespace qmap
