// The IR: a Graph of Nodes connected by Values. Nodes are kept in topological order
// (the verifier checks it). Values are referenced by index; an empty optional input is
// kNoValue. Constant tensors (ONNX initializers) live on their Value.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/status.h"
#include "ir/tensor.h"
#include "ops/op_id.h"

namespace qmap {

struct CustomOp;  // a plugin's op (ops/custom/custom_op.h)

enum class AttrType { kInt, kFloat, kString, kInts, kFloats, kStrings, kTensor };
const char* attr_type_name(AttrType t);

using AttrValue = std::variant<int64_t, float, std::string, std::vector<int64_t>,
                               std::vector<float>, std::vector<std::string>, Tensor>;

AttrType attr_type_of(const AttrValue& v);
std::string attr_value_str(const AttrValue& v);  // for the IR text dump and messages

using ValueId = int32_t;
inline constexpr ValueId kNoValue = -1;

struct Value {
  std::string name;
  DType dtype = DType::kUndefined;
  // Known shape; std::nullopt when unknown. A dimension < 0 is dynamic (graph inputs only,
  // until --input-shape fixes it); dim_params keeps ONNX's symbolic names for messages.
  std::optional<Dims> dims;
  std::vector<std::string> dim_params;
  // Set for initializers and for values the shape inferencer could compute (Shape → Gather
  // chains); such a value is a compile-time constant.
  std::optional<Tensor> constant;
  bool is_initializer = false;  // came from the model's weights (export writes it as one)
  int32_t producer = -1;        // node index, -1 for graph inputs and initializers
};

struct Node {
  std::string name;
  OpId op{};
  std::string op_type;  // the source model's op type ("Conv", "Upsample"), for messages
  std::vector<ValueId> inputs;
  std::vector<ValueId> outputs;
  std::map<std::string, AttrValue> attrs;
  // Custom ops (op == OpId::Custom): the ONNX domain of op_type and the plugin's op that
  // infers and runs it (which keeps its library loaded). Empty/null for built-in ops.
  std::string domain;
  std::shared_ptr<const CustomOp> custom;

  bool has_attr(const std::string& k) const { return attrs.count(k) != 0; }
};

struct Graph {
  std::string name;
  std::vector<Value> values;
  std::vector<Node> nodes;
  std::vector<ValueId> inputs;   // runtime inputs (initializers are not listed)
  std::vector<ValueId> outputs;
  int64_t onnx_opset = 17;       // the opset the node semantics follow (see docs/ir.md)
  std::string producer_name;
  // Model-level key/value strings (ONNX metadata_props): makertbin stores the YAML it was
  // given and the qmap version here so every output model says how it was made.
  std::map<std::string, std::string> metadata;

  ValueId add_value(std::string name, DType dtype = DType::kUndefined,
                    std::optional<Dims> dims = std::nullopt);
  ValueId add_constant(std::string name, Tensor t);  // an initializer
  std::optional<ValueId> find_value(const std::string& name) const;
  Value& value(ValueId id) { return values.at(static_cast<size_t>(id)); }
  const Value& value(ValueId id) const { return values.at(static_cast<size_t>(id)); }
  // Returns a value name not yet used, starting from `base`.
  std::string unique_value_name(const std::string& base) const;
  // Recomputes Value::producer from the node list.
  void rebuild_producers();
};

// Typed attribute access with the op's declared default (see ops/op_def.h); these read
// attributes that the importer has already validated against the op's AttrSpec list.
int64_t attr_int(const Node& n, const std::string& key, int64_t dflt);
float attr_float(const Node& n, const std::string& key, float dflt);
std::string attr_string(const Node& n, const std::string& key, const std::string& dflt);
std::vector<int64_t> attr_ints(const Node& n, const std::string& key,
                               const std::vector<int64_t>& dflt = {});
std::vector<float> attr_floats(const Node& n, const std::string& key,
                               const std::vector<float>& dflt = {});

}  // namespace qmap
