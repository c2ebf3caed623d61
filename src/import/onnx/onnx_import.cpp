// ONNX import through Debian's libonnx protobuf classes (onnx-ml.pb.h).
// Steps: size check, parse, opset check, initializers (raw, typed fields, external data),
// inputs with --input-shape overrides, nodes (every unsupported op collected and reported
// at once), topological sort, per-op upgrade to opset-17 form, attribute validation,
// shape inference and verification.
#include "import/onnx/onnx_import.h"

#include <charconv>
#include <cstring>
#include <filesystem>
#include <limits>
#include <set>
#include <unordered_map>

#include <onnx/onnx_pb.h>

#include "core/file_io.h"
#include "ops/custom/custom_op.h"
#include "ops/infer.h"
#include "ops/registry.h"
#include "ops/verify.h"

namespace qmap {

namespace {

namespace fs = std::filesystem;

// protobuf cannot parse messages of 2 GiB or more; ONNX stores larger models with external data.
constexpr uint64_t kMaxModelBytes = (uint64_t{1} << 31) - 1;
// Opsets 1-6 are read too: ONNX files declare the lowest opset their ops need, and most
// ops are unchanged since then; an op whose old form no upgrade hook handles fails
// attribute validation with a message naming the legacy attribute.
constexpr int64_t kMinOpset = 1;
constexpr int64_t kMaxOpset = 17;

// ONNX op types that map to an IR op of another name (their upgrade hook converts them).
const std::unordered_map<std::string, std::string> kOnnxAliases = {
    {"Upsample", "Resize"},
};

struct Ctx {
  std::string path;
  fs::path dir;
  Graph g;
  std::unordered_map<std::string, ValueId> by_name;
};

// An external_data offset or length: a non-negative decimal integer.
Result<int64_t> external_int(const onnx::TensorProto& tp, const std::string& key, const std::string& text) {
  int64_t v = -1;
  const char* end = text.data() + text.size();
  const auto r = std::from_chars(text.data(), end, v);
  if (text.empty() || r.ec != std::errc() || r.ptr != end || v < 0)
    return error("tensor '{}': external data {} '{}': must be a non-negative integer", tp.name(), key, text);
  return v;
}

Status read_external(const Ctx& c, const onnx::TensorProto& tp, size_t nbytes, std::string* out) {
  std::string location;
  int64_t offset = 0;
  int64_t length = -1;
  for (const auto& kv : tp.external_data()) {
    if (kv.key() == "location") {
      location = kv.value();
    } else if (kv.key() == "offset") {
      QMAP_ASSIGN_OR_RETURN(offset, external_int(tp, kv.key(), kv.value()));
    } else if (kv.key() == "length") {
      QMAP_ASSIGN_OR_RETURN(length, external_int(tp, kv.key(), kv.value()));
    }
  }
  if (location.empty()) return error("tensor '{}': external data has no location", tp.name());
  const fs::path p = fs::path(location);
  if (p.is_absolute() || location.find("..") != std::string::npos)
    return error("tensor '{}': external data location '{}' must be a relative path inside the model's folder",
                 tp.name(), location);
  const fs::path full = c.dir / p;
  std::error_code ec;
  if (!fs::is_regular_file(full, ec))
    return error("tensor '{}': external data '{}' is not a regular file", tp.name(), full.string());
  const auto fsize = fs::file_size(full, ec);
  if (ec) return error("tensor '{}': external data file '{}' cannot be read: {}", tp.name(), full.string(), ec.message());
  if (length < 0) length = static_cast<int64_t>(nbytes);
  // Both are at most INT64_MAX, so the unsigned sum cannot wrap.
  if (static_cast<uint64_t>(offset) + static_cast<uint64_t>(length) > fsize)
    return error("tensor '{}': external data range [{}, {}) is past the end of '{}' ({} bytes)", tp.name(), offset,
                 static_cast<uint64_t>(offset) + static_cast<uint64_t>(length), full.string(), fsize);
  if (static_cast<size_t>(length) != nbytes)
    return error("tensor '{}': external data length {} bytes: shape needs {} bytes", tp.name(), length, nbytes);
  FILE* f = std::fopen(full.c_str(), "rb");
  if (f == nullptr) return error("tensor '{}': cannot open external data '{}'", tp.name(), full.string());
  out->resize(nbytes);
  const bool ok = std::fseek(f, static_cast<long>(offset), SEEK_SET) == 0 &&
                  std::fread(out->data(), 1, nbytes, f) == nbytes;
  std::fclose(f);
  if (!ok) return error("tensor '{}': short read from external data '{}'", tp.name(), full.string());
  return ok_status();
}

// Values a TensorProto holds in the typed field of its element type (not raw_data).
// ONNX Runtime's com.microsoft QuantizeLinear / DequantizeLinear: the standard ops with int16
// (and uint16) types at opsets before 21, which is how qmap writes its int16 activations
// (onnx_export.cpp). They read as the built-in ops.
bool is_ms_qdq(const onnx::NodeProto& np) {
  return np.domain() == "com.microsoft" && (np.op_type() == "QuantizeLinear" || np.op_type() == "DequantizeLinear");
}

uint64_t typed_value_count(const onnx::TensorProto& tp, DType dt) {
  switch (dt) {
    case DType::kFloat32: return static_cast<uint64_t>(tp.float_data_size());
    case DType::kFloat64: return static_cast<uint64_t>(tp.double_data_size());
    case DType::kInt64: return static_cast<uint64_t>(tp.int64_data_size());
    default: return static_cast<uint64_t>(tp.int32_data_size());  // int32, int16, int8, uint8, bool: widened
  }
}

Result<Tensor> convert_tensor(const Ctx& c, const onnx::TensorProto& tp) {
  DType dt;
  if (!dtype_from_onnx(tp.data_type(), &dt))
    return error("tensor '{}': element type {} is not supported: qmap carries FLOAT, DOUBLE, INT8, UINT8, INT16, INT32, INT64, BOOL",
                 tp.name(), onnx_dtype_name(tp.data_type()));
  Dims dims(tp.dims().begin(), tp.dims().end());
  for (int64_t d : dims)
    if (d < 0) return error("tensor '{}': negative dimension in {}", tp.name(), dims_str(dims));
  // Guard the byte count against overflow before allocating.
  uint64_t n = 1;
  for (int64_t d : dims) {
    if (d != 0 && n > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(d))
      return error("tensor '{}': shape {} is too large", tp.name(), dims_str(dims));
    n *= static_cast<uint64_t>(d);
  }
  if (n * dtype_size(dt) > kMaxModelBytes * 4)
    return error("tensor '{}': shape {} is too large", tp.name(), dims_str(dims));
  const size_t nbytes = static_cast<size_t>(n * dtype_size(dt));
  auto bad_count = [&](uint64_t got) {
    return error("tensor '{}': holds {} values: shape {} needs {}", tp.name(), got, dims_str(dims), n);
  };
  // The data must be there before the tensor is allocated: a few bytes of protobuf must not
  // make qmap allocate gigabytes for a shape they do not fill.
  const bool external = tp.data_location() == onnx::TensorProto::EXTERNAL;
  if (!external && tp.has_raw_data() && tp.raw_data().size() != nbytes)
    return error("tensor '{}': raw_data has {} bytes: shape {} of {} needs {}", tp.name(), tp.raw_data().size(),
                 dims_str(dims), dtype_name(dt), nbytes);
  if (!external && !tp.has_raw_data() && typed_value_count(tp, dt) != n) return bad_count(typed_value_count(tp, dt));
  if (external) {
    std::string bytes;
    QMAP_RETURN_IF_ERROR(read_external(c, tp, nbytes, &bytes));  // range checked against the file first
    Tensor t(dt, dims);
    if (nbytes) std::memcpy(t.raw(), bytes.data(), nbytes);
    return t;
  }
  Tensor t(dt, dims);
  if (tp.has_raw_data()) {
    if (nbytes) std::memcpy(t.raw(), tp.raw_data().data(), nbytes);  // ONNX raw_data is little-endian, as is x86
    return t;
  }
  switch (dt) {
    case DType::kFloat32: {
      std::copy(tp.float_data().begin(), tp.float_data().end(), t.data<float>().begin());
      break;
    }
    case DType::kFloat64: {
      std::copy(tp.double_data().begin(), tp.double_data().end(), t.data<double>().begin());
      break;
    }
    case DType::kInt64: {
      std::copy(tp.int64_data().begin(), tp.int64_data().end(), t.data<int64_t>().begin());
      break;
    }
    case DType::kInt32: case DType::kInt16: case DType::kInt8: case DType::kUInt8: case DType::kBool: {
      // ONNX stores these element types widened in int32_data.
      for (int i = 0; i < tp.int32_data_size(); ++i) {
        const int32_t v = tp.int32_data(i);
        switch (dt) {
          case DType::kInt32: t.data<int32_t>()[static_cast<size_t>(i)] = v; break;
          case DType::kInt8: t.data<int8_t>()[static_cast<size_t>(i)] = static_cast<int8_t>(v); break;
          case DType::kInt16: t.data<int16_t>()[static_cast<size_t>(i)] = static_cast<int16_t>(v); break;
          case DType::kUInt8: t.data<uint8_t>()[static_cast<size_t>(i)] = static_cast<uint8_t>(v); break;
          default: t.data<bool>()[static_cast<size_t>(i)] = v != 0; break;
        }
      }
      break;
    }
    case DType::kUndefined: break;
  }
  return t;
}

Result<AttrValue> convert_attr(const Ctx& c, const onnx::NodeProto& np, const onnx::AttributeProto& a) {
  using A = onnx::AttributeProto;
  switch (a.type()) {
    case A::INT: return AttrValue(static_cast<int64_t>(a.i()));
    case A::FLOAT: return AttrValue(a.f());
    case A::STRING: return AttrValue(a.s());
    case A::INTS: return AttrValue(std::vector<int64_t>(a.ints().begin(), a.ints().end()));
    case A::FLOATS: return AttrValue(std::vector<float>(a.floats().begin(), a.floats().end()));
    case A::STRINGS: return AttrValue(std::vector<std::string>(a.strings().begin(), a.strings().end()));
    case A::TENSOR: {
      auto t = convert_tensor(c, a.t());
      if (!t.ok()) return t.status();
      return AttrValue(std::move(t).value());
    }
    default:
      return error("{} '{}': attribute '{}' has type {}: qmap supports int, float, string, tensor and their lists",
                   np.op_type(), np.name(), a.name(), A::AttributeType_Name(a.type()));
  }
}

// Reads a graph input's declared type and shape, applying --input-shape and the
// dynamic-batch rule.
Status add_graph_input(Ctx& c, const onnx::ValueInfoProto& vi, const OnnxImportOptions& opt,
                       std::set<std::string>* used_overrides) {
  const std::string& name = vi.name();
  if (!vi.type().has_tensor_type())
    return error("input '{}': is not a tensor (sequence/map inputs are not supported)", name);
  const auto& tt = vi.type().tensor_type();
  DType dt;
  if (!dtype_from_onnx(tt.elem_type(), &dt))
    return error("input '{}': element type {} is not supported", name, onnx_dtype_name(tt.elem_type()));
  Dims dims;
  std::vector<std::string> params;
  bool has_shape = tt.has_shape();
  if (has_shape) {
    for (const auto& d : tt.shape().dim()) {
      dims.push_back(d.has_dim_value() ? d.dim_value() : -1);
      params.push_back(d.has_dim_param() ? d.dim_param() : "");
    }
  }
  auto ov = opt.input_shapes.find(name);
  if (ov != opt.input_shapes.end()) {
    used_overrides->insert(name);
    if (has_shape && ov->second.size() != dims.size())
      return error("--input-shape {}: rank {} ({}) does not match the model's rank {} ({})", name, ov->second.size(),
                   dims_str(ov->second), dims.size(), dims_str(dims));
    for (size_t i = 0; has_shape && i < dims.size(); ++i)
      if (dims[i] >= 0 && dims[i] != ov->second[i])
        return error("--input-shape {}: {} contradicts the model's static shape {} at dimension {}", name,
                     dims_str(ov->second), dims_str(dims), i);
    for (int64_t d : ov->second)
      if (d <= 0) return error("--input-shape {}: {} has a dimension <= 0", name, dims_str(ov->second));
    dims = ov->second;
    has_shape = true;
  } else if (!has_shape) {
    return error("input '{}': the model gives no shape: give one with --input-shape {} <shape>", name, name);
  } else {
    for (size_t i = 0; i < dims.size(); ++i) {
      if (dims[i] >= 0) continue;
      const std::string label = params[i].empty() ? "?" : params[i];
      if (i == 0) {
        dims[0] = 1;
        if (opt.log) opt.log->info("input '{}': dynamic batch dimension '{}' set to 1", name, label);
      } else {
        return error("input '{}': dimension {} ('{}') of shape {} is dynamic: give a static shape with --input-shape {} {}",
                     name, i, label, dims_str(dims), name,
                     dims_str([&] { Dims e = dims; for (auto& x : e) if (x < 0) x = 1; return e; }()));
      }
    }
  }
  const ValueId id = c.g.add_value(name, dt, dims);
  c.g.value(id).dim_params = params;
  c.g.inputs.push_back(id);
  c.by_name[name] = id;
  return ok_status();
}

// Orders nodes so every input is produced before use (ONNX requires it; some exporters
// do not honour it). Errors on a cycle.
Status topo_sort(Graph& g) {
  const size_t n = g.nodes.size();
  std::vector<int> producer(g.values.size(), -1);
  for (size_t i = 0; i < n; ++i)
    for (ValueId o : g.nodes[i].outputs)
      if (o != kNoValue) producer[static_cast<size_t>(o)] = static_cast<int>(i);
  std::vector<int> pending(n, 0);
  std::vector<std::vector<size_t>> users(n);
  for (size_t i = 0; i < n; ++i)
    for (ValueId in : g.nodes[i].inputs)
      if (in != kNoValue && producer[static_cast<size_t>(in)] >= 0) {
        ++pending[i];
        users[static_cast<size_t>(producer[static_cast<size_t>(in)])].push_back(i);
      }
  std::vector<size_t> order;
  std::vector<size_t> ready;
  for (size_t i = n; i-- > 0;)
    if (pending[i] == 0) ready.push_back(i);
  while (!ready.empty()) {
    const size_t i = ready.back();
    ready.pop_back();
    order.push_back(i);
    // Push users in reverse so the original order is kept where the model was sorted.
    for (auto it = users[i].rbegin(); it != users[i].rend(); ++it)
      if (--pending[*it] == 0) ready.push_back(*it);
  }
  if (order.size() != n) {
    for (size_t i = 0; i < n; ++i)
      if (pending[i] > 0) return error("node '{}' ({}) is part of a cycle", g.nodes[i].name, g.nodes[i].op_type);
  }
  bool sorted = true;
  for (size_t i = 0; i < n; ++i) sorted = sorted && order[i] == i;
  if (!sorted) {
    std::vector<Node> nodes;
    nodes.reserve(n);
    for (size_t i : order) nodes.push_back(std::move(g.nodes[i]));
    g.nodes = std::move(nodes);
  }
  return ok_status();
}

Result<Graph> import_model(const std::string& path, const OnnxImportOptions& opt) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return error("file does not exist");
  if (fs::is_directory(path, ec)) return error("is a directory, expected an .onnx file");
  const auto size = fs::file_size(path, ec);
  if (ec) return error("cannot read size: {}", ec.message());
  if (size > kMaxModelBytes)
    return error("model is {} bytes: models over 2 GB are not supported (protobuf's limit); store the weights as external data",
                 size);
  if (size == 0) return error("file is empty: not an ONNX model");
  QMAP_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  onnx::ModelProto model;
  if (!model.ParseFromString(bytes))
    return error("not a valid ONNX model (protobuf parse failed: truncated or not an .onnx file)");
  if (!model.has_graph() || model.graph().node_size() == 0)
    return error("the model has no graph nodes (truncated or not an .onnx file)");

  Ctx c;
  c.path = path;
  c.dir = fs::path(path).parent_path();
  const auto& gp = model.graph();
  c.g.name = gp.name();
  c.g.producer_name = model.producer_name();
  for (const auto& prop : model.metadata_props()) c.g.metadata[prop.key()] = prop.value();
  c.g.onnx_opset = 17;

  // Every op type the IR does not define, all at once, before anything else can fail.
  // A plugin's op (its domain and type) is not unsupported: the node becomes a custom node.
  auto custom_op_of = [&](const onnx::NodeProto& np) -> std::shared_ptr<const CustomOp> {
    return opt.custom_ops ? opt.custom_ops->find(np.domain(), np.op_type()) : nullptr;
  };
  std::set<std::string> unsupported;
  for (const auto& np : gp.node()) {
    const bool default_domain = np.domain().empty() || np.domain() == "ai.onnx" || is_ms_qdq(np);
    std::string ir_name = np.op_type();
    if (auto a = kOnnxAliases.find(ir_name); a != kOnnxAliases.end()) ir_name = a->second;
    if ((!default_domain || !op_by_name(ir_name)) && !custom_op_of(np))
      unsupported.insert(default_domain ? np.op_type() : np.domain() + "." + np.op_type());
  }
  if (!unsupported.empty()) {
    if (opt.unsupported_ops) opt.unsupported_ops->assign(unsupported.begin(), unsupported.end());
    return error("qmap does not support these operators: {{{}}}", fmt::join(unsupported, ", "));
  }

  for (const auto& init : gp.initializer()) {
    if (c.by_name.count(init.name())) return error("initializer '{}' is defined twice", init.name());
    auto t = convert_tensor(c, init);
    if (!t.ok()) return t.status();
    c.by_name[init.name()] = c.g.add_constant(init.name(), std::move(t).value());
  }
  std::set<std::string> used_overrides;
  for (const auto& vi : gp.input()) {
    if (c.by_name.count(vi.name())) continue;  // old exporters list initializers as inputs too
    QMAP_RETURN_IF_ERROR(add_graph_input(c, vi, opt, &used_overrides));
  }
  for (const auto& [name, dims] : opt.input_shapes)
    if (!used_overrides.count(name)) {
      std::vector<std::string> names;
      for (ValueId id : c.g.inputs) names.push_back(c.g.value(id).name);
      return error("--input-shape names '{}': the model has no such input (inputs: {})", name, fmt::join(names, ", "));
    }

  int64_t opset = -1;
  for (const auto& os : model.opset_import())
    if (os.domain().empty() || os.domain() == "ai.onnx") opset = os.version();
  if (opset < 0) return error("the model imports no default-domain (ai.onnx) opset");
  if (opset < kMinOpset || opset > kMaxOpset)
    return error("opset {} is not supported: qmap reads ONNX opsets {} to {}", opset, kMinOpset, kMaxOpset);

  // Nodes (types were checked above).
  std::set<std::string> node_names;
  for (int i = 0; i < gp.node_size(); ++i) {
    const onnx::NodeProto& np = gp.node(i);
    std::string ir_name = np.op_type();
    if (auto a = kOnnxAliases.find(ir_name); a != kOnnxAliases.end()) ir_name = a->second;
    Node n;
    if (auto custom = custom_op_of(np)) {
      make_custom_node(n, std::move(custom));
    } else {
      n.op = *op_by_name(ir_name);
      n.op_type = np.op_type();
    }
    n.name = np.name().empty() ? fmt::format("{}_{}", np.op_type(), i) : np.name();
    while (!node_names.insert(n.name).second) n.name += "_dup";
    for (const auto& a : np.attribute()) {
      QMAP_ASSIGN_OR_RETURN(AttrValue v, convert_attr(c, np, a));
      n.attrs[a.name()] = std::move(v);
    }
    c.g.nodes.push_back(std::move(n));
    // Outputs are registered now so later nodes can refer to them regardless of order.
    Node& nn = c.g.nodes.back();
    for (const std::string& out : np.output()) {
      if (out.empty()) { nn.outputs.push_back(kNoValue); continue; }
      if (c.by_name.count(out))
        return error("{} '{}': output '{}' is already produced by another node, initializer or input", nn.op_type,
                     nn.name, out);
      const ValueId id = c.g.add_value(out);
      c.by_name[out] = id;
      nn.outputs.push_back(id);
    }
  }
  // Inputs by name, now that every producer is known.
  {
    int k = 0;
    for (int i = 0; i < gp.node_size(); ++i) {
      const onnx::NodeProto& np = gp.node(i);
      Node& n = c.g.nodes[static_cast<size_t>(k++)];
      for (const std::string& in : np.input()) {
        if (in.empty()) { n.inputs.push_back(kNoValue); continue; }
        auto it = c.by_name.find(in);
        if (it == c.by_name.end())
          return error("{} '{}': input '{}' is produced by no node, initializer or graph input", n.op_type, n.name, in);
        n.inputs.push_back(it->second);
      }
    }
  }
  for (const auto& vi : gp.output()) {
    auto it = c.by_name.find(vi.name());
    if (it == c.by_name.end()) return error("graph output '{}' is produced by nothing", vi.name());
    c.g.outputs.push_back(it->second);
  }
  if (c.g.outputs.empty()) return error("the model declares no outputs");
  QMAP_RETURN_IF_ERROR(topo_sort(c.g));

  // Upgrade every node to the IR's opset-17 form, then validate attributes.
  std::vector<Node> upgraded;
  upgraded.reserve(c.g.nodes.size());
  std::vector<Node> old = std::move(c.g.nodes);
  c.g.nodes.clear();
  for (Node& n : old) {
    std::vector<Node> repl;
    repl.push_back(std::move(n));
    const OpDef& def = op_def(repl[0].op);
    if (def.upgrade_onnx) QMAP_RETURN_IF_ERROR(def.upgrade_onnx(c.g, opset, repl));
    for (Node& r : repl) {
      QMAP_RETURN_IF_ERROR(validate_attributes(r));
      upgraded.push_back(std::move(r));
    }
  }
  c.g.nodes = std::move(upgraded);
  c.g.rebuild_producers();
  QMAP_RETURN_IF_ERROR(verify_graph(c.g));
  QMAP_RETURN_IF_ERROR(infer_shapes(c.g, opt.require_static_shapes));
  return std::move(c.g);
}

}  // namespace

Result<Tensor> read_onnx_tensor(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  onnx::TensorProto tp;
  if (!tp.ParseFromString(*bytes)) return error("file '{}': not a serialized ONNX TensorProto", path);
  Ctx c;
  c.path = path;
  c.dir = fs::path(path).parent_path();
  auto t = convert_tensor(c, tp);
  if (!t.ok()) return t.status().with_context(fmt::format("file '{}': ", path));
  return t;
}

Result<Graph> import_onnx(const std::string& path, const OnnxImportOptions& options) {
  auto r = import_model(path, options);
  if (!r.ok()) return r.status().with_context(fmt::format("onnx import: file '{}': ", path));
  return r;
}

}  // namespace qmap
