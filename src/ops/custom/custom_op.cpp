// Custom ops: loading plugins (dlopen + qmap_register_custom_ops) and the Custom OpDef, whose
// infer and eval forward to the node's plugin op through the C ABI (include/qmap/custom_op.h).
#include "ops/custom/custom_op.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <filesystem>

#include <fmt/ranges.h>

#include "ops/op_def.h"

namespace qmap {

namespace {

namespace fs = std::filesystem;

constexpr size_t kErrorBytes = 512;

// The plugin's message: its buffer up to the first NUL (a plugin that wrote none gets a
// stand-in, so the error line is never empty).
std::string plugin_message(const char* buf) {
  const size_t len = strnlen(buf, kErrorBytes);
  std::string s(buf, len);
  return s.empty() ? std::string("(the plugin gave no message)") : s;
}

const char* attr_type_label(int32_t t) {
  switch (t) {
    case QMAP_ATTR_INT: return "int";
    case QMAP_ATTR_FLOAT: return "float";
    case QMAP_ATTR_STRING: return "string";
    case QMAP_ATTR_INTS: return "ints";
    case QMAP_ATTR_FLOATS: return "floats";
  }
  return "?";
}

// The ABI code of an IR attribute type; 0 for types plugins cannot take (strings, tensor).
int32_t abi_attr_type(AttrType t) {
  switch (t) {
    case AttrType::kInt: return QMAP_ATTR_INT;
    case AttrType::kFloat: return QMAP_ATTR_FLOAT;
    case AttrType::kString: return QMAP_ATTR_STRING;
    case AttrType::kInts: return QMAP_ATTR_INTS;
    case AttrType::kFloats: return QMAP_ATTR_FLOATS;
    default: return 0;
  }
}

// A node's attributes as the ABI passes them; points into the node (valid while it lives).
std::vector<QmapCustomOpAttr> abi_attrs(const Node& n) {
  std::vector<QmapCustomOpAttr> out;
  for (const auto& [key, v] : n.attrs) {
    QmapCustomOpAttr a{};
    a.name = key.c_str();
    a.type = abi_attr_type(attr_type_of(v));
    if (const auto* i = std::get_if<int64_t>(&v)) a.i = *i;
    else if (const auto* f = std::get_if<float>(&v)) a.f = *f;
    else if (const auto* s = std::get_if<std::string>(&v)) a.s = s->c_str();
    else if (const auto* is = std::get_if<std::vector<int64_t>>(&v)) a.ints = is->data(), a.count = static_cast<int64_t>(is->size());
    else if (const auto* fs = std::get_if<std::vector<float>>(&v)) a.floats = fs->data(), a.count = static_cast<int64_t>(fs->size());
    out.push_back(a);
  }
  return out;
}

// Checks what a plugin declares before qmap relies on it.
Status check_def(const QmapCustomOpDef& d, const std::string& lib) {
  const std::string name = d.op_type ? d.op_type : "(null)";
  if (d.abi_version != QMAP_CUSTOM_OP_ABI_VERSION)
    return error("custom op: library '{}': op '{}' is built for custom-op ABI v{}, this qmap implements v{}: rebuild "
                 "the plugin against this qmap's include/qmap/custom_op.h",
                 lib, name, d.abi_version, QMAP_CUSTOM_OP_ABI_VERSION);
  if (d.struct_size != sizeof(QmapCustomOpDef))
    return error("custom op: library '{}': op '{}' declares a definition of {} bytes, ABI v{} has {}: rebuild the "
                 "plugin against this qmap's include/qmap/custom_op.h",
                 lib, name, d.struct_size, QMAP_CUSTOM_OP_ABI_VERSION, sizeof(QmapCustomOpDef));
  auto bad = [&](const std::string& what) {
    return error("custom op: library '{}': op '{}': {}", lib, name, what);
  };
  if (d.op_type == nullptr || *d.op_type == '\0') return bad("op_type is empty");
  if (d.domain == nullptr || *d.domain == '\0' || std::strcmp(d.domain, "ai.onnx") == 0)
    return bad(fmt::format("domain '{}': a custom op needs its own domain (not the default ONNX one)",
                           d.domain ? d.domain : ""));
  if (d.version < 1) return bad(fmt::format("version {}: must be >= 1", d.version));
  if (d.min_inputs < 0 || d.max_inputs < d.min_inputs)
    return bad(fmt::format("inputs {}..{}: need 0 <= min_inputs <= max_inputs", d.min_inputs, d.max_inputs));
  if (d.num_outputs < 1) return bad(fmt::format("num_outputs {}: must be >= 1", d.num_outputs));
  if (d.infer == nullptr || d.compute == nullptr) return bad("infer and compute must both be set");
  if (d.num_attrs < 0 || (d.num_attrs > 0 && d.attrs == nullptr)) return bad("attrs does not hold num_attrs entries");
  for (int32_t k = 0; k < d.num_attrs; ++k) {
    const QmapCustomOpAttrSpec& a = d.attrs[k];
    if (a.name == nullptr || *a.name == '\0') return bad(fmt::format("attribute {} has no name", k));
    if (a.type < QMAP_ATTR_INT || a.type > QMAP_ATTR_FLOATS)
      return bad(fmt::format("attribute '{}' has type code {}: not one of 1..5 (QmapCustomOpAttrType)", a.name, a.type));
  }
  return ok_status();
}

struct Registration {
  const std::string* lib;
  std::vector<const QmapCustomOpDef*> defs;
  Status status = ok_status();
};

int add_op_callback(QmapCustomOpRegistry* r, const QmapCustomOpDef* op) {
  auto* reg = static_cast<Registration*>(r->state);
  if (!reg->status.ok()) return 1;
  if (op == nullptr) {
    reg->status = error("custom op: library '{}': registered a null op definition", *reg->lib);
  } else {
    reg->status = check_def(*op, *reg->lib);
  }
  if (!reg->status.ok()) {
    std::snprintf(r->error, r->error_size, "%s", reg->status.message().c_str());
    return 1;
  }
  reg->defs.push_back(op);
  return 0;
}

// --- the Custom OpDef ---

Status no_plugin(const Node& n) {
  return error("{} '{}': custom op {}.{} has no plugin loaded: pass the library that defines it (--custom-op-lib, "
               "the YAML's custom_op section, LoadOptions::custom_op_libs)",
               n.op_type, n.name, n.domain, n.op_type);
}

QmapCustomOpShape abi_shape(DType dtype, const Dims& d) {
  QmapCustomOpShape s{};
  s.dtype = static_cast<int32_t>(dtype);
  s.rank = static_cast<int32_t>(d.size());
  for (size_t k = 0; k < d.size() && k < QMAP_CUSTOM_OP_MAX_RANK; ++k) s.dims[k] = d[k];
  return s;
}

// Calls into the plugin: its functions are C ABI and report failure by return code, but a
// C++ plugin may still throw. An exception never crosses into qmap: it becomes a failure with
// the exception's message in `err`.
template <class F>
int call_plugin(char* err, size_t size, F&& f) {
  try {
    return f();
  } catch (const std::exception& e) {
    std::snprintf(err, size, "threw %s", e.what());
  } catch (...) {
    std::snprintf(err, size, "threw an exception that is not a std::exception");
  }
  return -1;
}

Status infer(InferCtx& ctx) {
  const Node& n = ctx.node();
  if (!n.custom) return no_plugin(n);
  const CustomOp& op = *n.custom;
  const QmapCustomOpDef& d = *op.def;
  const int ni = ctx.num_inputs();
  if (ni < d.min_inputs || ni > d.max_inputs)
    return ctx.error("has {} inputs: custom op {} takes {} to {}", ni, op.qualified_name(), d.min_inputs, d.max_inputs);
  std::vector<QmapCustomOpShape> ins;
  bool known = true;
  for (int i = 0; i < ni; ++i) {
    if (!ctx.has_input(i)) return ctx.error("input {} is omitted: custom ops take every input they declare", i);
    if (ctx.dtype(i) != DType::kFloat32)
      return ctx.error("input {} is {}: custom ops compute in float32", i, dtype_name(ctx.dtype(i)));
    if (!ctx.dims_known(i)) {
      known = false;
      continue;
    }
    if (ctx.rank(i) > QMAP_CUSTOM_OP_MAX_RANK)
      return ctx.error("input {} has rank {}: custom ops take rank <= {}", i, ctx.rank(i), QMAP_CUSTOM_OP_MAX_RANK);
    ins.push_back(abi_shape(DType::kFloat32, ctx.dims(i)));
  }
  if (!known) {  // dynamic shapes: the plugin sees only complete inputs
    for (int o = 0; o < d.num_outputs; ++o) ctx.set_output(o, DType::kFloat32, std::nullopt);
    return ok_status();
  }
  const std::vector<QmapCustomOpAttr> attrs = abi_attrs(n);
  std::vector<QmapCustomOpShape> outs(static_cast<size_t>(d.num_outputs));
  char err[kErrorBytes] = {};
  if (call_plugin(err, sizeof err, [&] {
        return d.infer(attrs.data(), static_cast<int32_t>(attrs.size()), ins.data(), ni, outs.data(), d.num_outputs,
                       err, sizeof err);
      }) != 0)
    return ctx.error("shape inference of custom op {} ({}) failed: {}", op.qualified_name(), op.library_name,
                     plugin_message(err));
  for (int o = 0; o < d.num_outputs; ++o) {
    const QmapCustomOpShape& s = outs[static_cast<size_t>(o)];
    if (s.dtype != QMAP_CUSTOM_OP_FLOAT32)
      return ctx.error("custom op {} ({}) infers output {} of dtype code {}: custom ops produce float32 (1)",
                       op.qualified_name(), op.library_name, o, s.dtype);
    if (s.rank < 0 || s.rank > QMAP_CUSTOM_OP_MAX_RANK)
      return ctx.error("custom op {} ({}) infers output {} of rank {}: 0..{}", op.qualified_name(), op.library_name, o,
                       s.rank, QMAP_CUSTOM_OP_MAX_RANK);
    Dims dims(s.dims, s.dims + s.rank);
    int64_t count = 1;
    for (int64_t v : dims) {
      if (v < 0 || (v > 0 && count > (int64_t{1} << 40) / v))
        return ctx.error("custom op {} ({}) infers output {} of shape {}: dimensions must be >= 0 and the tensor "
                         "under 2^40 elements",
                         op.qualified_name(), op.library_name, o, fmt::join(dims, "x"));
      count *= v;
    }
    ctx.set_output(o, DType::kFloat32, std::move(dims));
  }
  return ok_status();
}

Status eval(EvalCtx& ctx) {
  const Node& n = ctx.node;
  if (!n.custom) return no_plugin(n);
  const CustomOp& op = *n.custom;
  std::vector<QmapCustomOpTensor> ins, outs;
  for (size_t i = 0; i < ctx.inputs.size(); ++i) {
    const Tensor& t = ctx.in(static_cast<int>(i));
    ins.push_back({abi_shape(t.dtype(), t.dims()), const_cast<std::byte*>(t.raw())});
  }
  for (Tensor& t : ctx.outputs) outs.push_back({abi_shape(t.dtype(), t.dims()), t.raw()});
  const std::vector<QmapCustomOpAttr> attrs = abi_attrs(n);
  char err[kErrorBytes] = {};
  if (call_plugin(err, sizeof err, [&] {
        return op.def->compute(attrs.data(), static_cast<int32_t>(attrs.size()), ins.data(),
                               static_cast<int32_t>(ins.size()), outs.data(), static_cast<int32_t>(outs.size()), err,
                               sizeof err);
      }) != 0)
    return ctx.error("the kernel of custom op {} ({}) failed: {}", op.qualified_name(), op.library_name,
                     plugin_message(err));
  return ok_status();
}

}  // namespace

// --- CustomOpSet ---

Result<CustomOpSet> CustomOpSet::load(const std::vector<std::string>& paths) {
  CustomOpSet set;
  for (const std::string& p : paths) QMAP_RETURN_IF_ERROR(set.add_library(p));
  return set;
}

Status CustomOpSet::add_library(const std::string& path) {
  std::error_code ec;
  if (path.empty()) return error("custom op: library '': empty path");
  if (!fs::exists(path, ec)) return error("custom op: library '{}': no such file", path);
  if (!fs::is_regular_file(path, ec)) return error("custom op: library '{}': not a regular file", path);
  const std::string canonical = fs::canonical(path, ec).string();
  if (ec) return error("custom op: library '{}': {}", path, ec.message());
  if (std::find(libraries_.begin(), libraries_.end(), canonical) != libraries_.end()) return ok_status();
  // An absolute path: dlopen then opens exactly this file, never one from the search path.
  void* h = dlopen(canonical.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* why = dlerror();
    return error("custom op: library '{}': cannot load it as a shared library: {}", path, why ? why : "unknown error");
  }
  std::shared_ptr<void> handle(h, [](void* p) { dlclose(p); });
  dlerror();
  auto entry = reinterpret_cast<QmapRegisterCustomOpsFn>(dlsym(h, QMAP_CUSTOM_OP_ENTRY));
  if (entry == nullptr)
    return error("custom op: library '{}': has no {} function: not a qmap custom-op plugin (include/qmap/custom_op.h)",
                 path, QMAP_CUSTOM_OP_ENTRY);
  Registration reg;
  reg.lib = &path;
  char err[kErrorBytes] = {};
  QmapCustomOpRegistry r{QMAP_CUSTOM_OP_ABI_VERSION, &reg, add_op_callback, err, sizeof err};
  const int rc = call_plugin(err, sizeof err, [&] { return entry(&r); });
  if (!reg.status.ok()) return reg.status;
  if (rc != 0)
    return error("custom op: library '{}': {} failed: {}", path, QMAP_CUSTOM_OP_ENTRY, plugin_message(err));
  if (reg.defs.empty()) return error("custom op: library '{}': {} registered no op", path, QMAP_CUSTOM_OP_ENTRY);
  std::vector<std::shared_ptr<const CustomOp>> added;
  for (const QmapCustomOpDef* d : reg.defs) {
    auto op = std::make_shared<CustomOp>();
    op->domain = d->domain;
    op->op_type = d->op_type;
    op->version = d->version;
    op->summary = d->summary ? d->summary : "";
    op->library = path;
    op->library_name = fs::path(path).filename().string();
    op->def = d;
    op->handle = handle;
    for (const auto* list : {&ops_, &added})
      for (const auto& other : *list)
        if (other->domain == op->domain && other->op_type == op->op_type)
          return error("custom op: {} is claimed by both '{}' and '{}': load only one library that defines it",
                       op->qualified_name(), other->library, path);
    added.push_back(std::move(op));
  }
  ops_.insert(ops_.end(), added.begin(), added.end());
  libraries_.push_back(canonical);
  return ok_status();
}

std::shared_ptr<const CustomOp> CustomOpSet::find(std::string_view domain, std::string_view op_type) const {
  for (const auto& op : ops_)
    if (op->domain == domain && op->op_type == op_type) return op;
  return nullptr;
}

std::vector<std::shared_ptr<const CustomOp>> CustomOpSet::find_type(std::string_view op_type) const {
  std::vector<std::shared_ptr<const CustomOp>> out;
  for (const auto& op : ops_)
    if (op->op_type == op_type) out.push_back(op);
  return out;
}

void make_custom_node(Node& n, std::shared_ptr<const CustomOp> op) {
  n.op = OpId::Custom;
  n.op_type = op->op_type;
  n.domain = op->domain;
  n.custom = std::move(op);
}

Status validate_custom_attributes(const Node& n) {
  if (!n.custom) return no_plugin(n);
  const QmapCustomOpDef& d = *n.custom->def;
  for (const auto& [key, value] : n.attrs) {
    const QmapCustomOpAttrSpec* spec = nullptr;
    for (int32_t k = 0; k < d.num_attrs; ++k)
      if (key == d.attrs[k].name) spec = &d.attrs[k];
    if (spec == nullptr) {
      std::string known;
      for (int32_t k = 0; k < d.num_attrs; ++k) known += std::string(known.empty() ? "" : ", ") + d.attrs[k].name;
      return error("{} '{}': attribute '{}' is not defined for custom op {}: known attributes are {{{}}}", n.op_type,
                   n.name, key, n.custom->qualified_name(), known);
    }
    if (abi_attr_type(attr_type_of(value)) != spec->type)
      return error("{} '{}': attribute '{}' has type {}: custom op {} expects {}", n.op_type, n.name, key,
                   attr_type_name(attr_type_of(value)), n.custom->qualified_name(), attr_type_label(spec->type));
  }
  for (int32_t k = 0; k < d.num_attrs; ++k)
    if (d.attrs[k].required != 0 && !n.has_attr(d.attrs[k].name))
      return error("{} '{}': required attribute '{}' of custom op {} is missing", n.op_type, n.name, d.attrs[k].name,
                   n.custom->qualified_name());
  return ok_status();
}

namespace ops::custom {

extern const OpDef kDef = {
    .name = "Custom",
    .summary = "An op a plugin library defines (include/qmap/custom_op.h): float32 on the CPU (docs/custom-op.md).",
    .min_inputs = 0, .max_inputs = -1, .min_outputs = 1, .max_outputs = -1,
    .attrs = {},
    .infer = infer,
    .eval = eval,
};

}  // namespace ops::custom

}  // namespace qmap
