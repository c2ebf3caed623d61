#include "ir/graph.h"

#include <set>

namespace qmap {

const char* attr_type_name(AttrType t) {
  switch (t) {
    case AttrType::kInt: return "int";
    case AttrType::kFloat: return "float";
    case AttrType::kString: return "string";
    case AttrType::kInts: return "ints";
    case AttrType::kFloats: return "floats";
    case AttrType::kStrings: return "strings";
    case AttrType::kTensor: return "tensor";
  }
  return "?";
}

AttrType attr_type_of(const AttrValue& v) { return static_cast<AttrType>(v.index()); }

std::string attr_value_str(const AttrValue& v) {
  struct V {
    std::string operator()(int64_t x) const { return std::to_string(x); }
    std::string operator()(float x) const { return fmt::format("{:g}", x); }
    std::string operator()(const std::string& x) const { return "\"" + x + "\""; }
    std::string operator()(const std::vector<int64_t>& x) const { return fmt::format("[{}]", fmt::join(x, ",")); }
    std::string operator()(const std::vector<float>& x) const { return fmt::format("[{:g}]", fmt::join(x, ",")); }
    std::string operator()(const std::vector<std::string>& x) const {
      return fmt::format("[\"{}\"]", fmt::join(x, "\",\""));
    }
    std::string operator()(const Tensor& t) const {
      return fmt::format("tensor<{},{}>", dtype_name(t.dtype()), dims_str(t.dims()));
    }
  };
  return std::visit(V{}, v);
}

ValueId Graph::add_value(std::string name, DType dtype, std::optional<Dims> dims) {
  Value v;
  v.name = std::move(name);
  v.dtype = dtype;
  v.dims = std::move(dims);
  values.push_back(std::move(v));
  return static_cast<ValueId>(values.size() - 1);
}

ValueId Graph::add_constant(std::string name, Tensor t) {
  const ValueId id = add_value(std::move(name), t.dtype(), t.dims());
  values.back().constant = std::move(t);
  values.back().is_initializer = true;
  return id;
}

std::optional<ValueId> Graph::find_value(const std::string& name) const {
  for (size_t i = 0; i < values.size(); ++i)
    if (values[i].name == name) return static_cast<ValueId>(i);
  return std::nullopt;
}

std::string Graph::unique_value_name(const std::string& base) const {
  std::set<std::string> used;
  for (const Value& v : values) used.insert(v.name);
  if (!used.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string s = fmt::format("{}_{}", base, i);
    if (!used.count(s)) return s;
  }
}

void Graph::rebuild_producers() {
  for (Value& v : values) v.producer = -1;
  for (size_t i = 0; i < nodes.size(); ++i)
    for (ValueId o : nodes[i].outputs)
      if (o != kNoValue) values[static_cast<size_t>(o)].producer = static_cast<int32_t>(i);
}

namespace {
template <typename T>
const T* get_attr(const Node& n, const std::string& key) {
  auto it = n.attrs.find(key);
  if (it == n.attrs.end()) return nullptr;
  const T* p = std::get_if<T>(&it->second);
  QMAP_CHECK(p != nullptr, "attribute '{}' of '{}' has type {}, not validated", key, n.name,
             attr_type_name(attr_type_of(it->second)));
  return p;
}
}  // namespace

int64_t attr_int(const Node& n, const std::string& key, int64_t dflt) {
  const auto* p = get_attr<int64_t>(n, key);
  return p ? *p : dflt;
}
float attr_float(const Node& n, const std::string& key, float dflt) {
  const auto* p = get_attr<float>(n, key);
  return p ? *p : dflt;
}
std::string attr_string(const Node& n, const std::string& key, const std::string& dflt) {
  const auto* p = get_attr<std::string>(n, key);
  return p ? *p : dflt;
}
std::vector<int64_t> attr_ints(const Node& n, const std::string& key, const std::vector<int64_t>& dflt) {
  const auto* p = get_attr<std::vector<int64_t>>(n, key);
  return p ? *p : dflt;
}
std::vector<float> attr_floats(const Node& n, const std::string& key, const std::vector<float>& dflt) {
  const auto* p = get_attr<std::vector<float>>(n, key);
  return p ? *p : dflt;
}

}  // namespace qmap
