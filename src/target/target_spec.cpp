// Loading and validating march specs (targets/*.yaml), and checking limits against the
// parameters a node reports. The YAML layout is documented in docs/targets.md.
#include "target/target_spec.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "core/file_io.h"
#include "ops/registry.h"
#include "target/embedded_targets.h"

namespace qmap {

namespace {

// The parameter vocabulary. Ops report the non-generic ones from OpDef::npu_params;
// placement computes the generic ones for every node (target/placement.cpp).
constexpr ParamInfo kParams[] = {
    {"kernel", ParamKind::kDims, false,
     "spatial kernel size, one value per spatial dim (kh, kw); global pools: the whole map"},
    {"stride", ParamKind::kDims, false, "spatial strides, one per spatial dim"},
    {"dilation", ParamKind::kDims, false, "spatial dilations, one per spatial dim"},
    {"pad", ParamKind::kInts, false, "explicit pads, ONNX order (begin of each dim, then end of each dim)"},
    {"group", ParamKind::kInts, false, "convolution groups"},
    {"in_channels", ParamKind::kInts, false, "input channels (C of NCHW; K of a matrix product)"},
    {"out_channels", ParamKind::kInts, false, "output channels (N of a matrix product)"},
    {"weights_constant", ParamKind::kInts, false, "1 if a matrix product's right-hand side is a constant, else 0"},
    {"ceil_mode", ParamKind::kInts, false, "pooling output size rounds up (1) or down (0)"},
    {"count_include_pad", ParamKind::kInts, false, "AveragePool divides by the padded window (1) or not (0)"},
    {"mode", ParamKind::kText, false,
     "op mode: Resize nearest/linear/cubic; Pad constant/reflect/edge; Clip relu/relu6/range/dynamic; "
     "Quantize/DequantizeLinear per_tensor/per_axis"},
    {"coordinate_mode", ParamKind::kText, false, "Resize coordinate_transformation_mode (half_pixel, asymmetric, ...)"},
    {"scale", ParamKind::kInts, false, "Resize factor per axis, output/input rounded to an integer"},
    {"broadcast", ParamKind::kText, false,
     "broadcast form of a binary op, the worse operand's: none (same shape), scalar, channel (1xCx1x1), general"},
    {"axis", ParamKind::kInts, false, "the op's axis or axes (Slice, Reduce*), normalized to [0, rank)"},
    {"perm", ParamKind::kInts, false, "Transpose permutation"},
    {"step", ParamKind::kInts, false, "Slice steps, when given"},
    {"rank", ParamKind::kInts, true, "rank of each non-constant input and output tensor"},
    {"tensor_elements", ParamKind::kInts, true, "element count of each non-constant input and output tensor"},
    {"dtype", ParamKind::kText, true, "element type of each non-constant input and output tensor"},
    {"dynamic_inputs", ParamKind::kInts, true,
     "number of inputs that are not compile-time constants (Conv with max 1: weights must be constant)"},
};

constexpr LimitKindInfo kKinds[] = {
    {"max", LimitKind::kMax,
     "every value <= the bound; one bound for all values (`max: 7`) or one per value (`max: [7, 7]`)"},
    {"min", LimitKind::kMin, "every value >= the bound; same forms as max"},
    {"in", LimitKind::kIn,
     "every value is in the set; for integer parameters a member may name another parameter of "
     "the node (`group: {in: [1, in_channels]}`: dense or depthwise)"},
    {"one_of", LimitKind::kOneOf, "the whole value equals one of the listed values (`perm: {one_of: [[0, 2, 3, 1]]}`)"},
};

// dtype names a spec may write (the IR's carried types).
constexpr DType kDTypes[] = {DType::kFloat32, DType::kUInt8, DType::kInt8, DType::kInt32,
                             DType::kInt64, DType::kBool, DType::kFloat64};

std::string format_ints(ParamKind kind, const std::vector<int64_t>& v) {
  if (v.size() == 1) return std::to_string(v[0]);
  if (kind == ParamKind::kDims) return fmt::format("{}", fmt::join(v, "x"));
  return fmt::format("[{}]", fmt::join(v, ", "));
}

ParamKind kind_of(std::string_view param) {
  const ParamInfo* p = find_param(param);
  return p != nullptr ? p->kind : ParamKind::kInts;
}

std::string value_str(const OpParam& p) {
  const ParamKind kind = kind_of(p.name);
  if (kind == ParamKind::kText) return p.text;
  if (p.ints.empty()) return "(none)";
  return format_ints(kind, p.ints);
}

const OpParam* find_reported(const OpParams& params, std::string_view name) {
  for (const OpParam& p : params)
    if (p.name == name) return &p;
  return nullptr;
}

// The value a set member stands for in this node: a number, or the referenced parameter's
// single value (nullopt when the node does not report it).
std::optional<int64_t> resolve(const SetItem& item, const OpParams& params) {
  if (item.number) return item.number;
  const OpParam* ref = find_reported(params, item.text);
  if (ref == nullptr || ref->ints.size() != 1) return std::nullopt;
  return ref->ints[0];
}

std::string set_str(const std::vector<SetItem>& set, const OpParams* params) {
  std::vector<std::string> parts;
  for (const SetItem& item : set) {
    if (item.number) {
      parts.push_back(std::to_string(*item.number));
    } else if (params != nullptr && find_param(item.text) != nullptr &&
               kind_of(item.text) != ParamKind::kText) {
      const std::optional<int64_t> v = resolve(item, *params);
      parts.push_back(v ? fmt::format("{}={}", item.text, *v) : item.text);
    } else {
      parts.push_back(item.text);
    }
  }
  return fmt::format("{{{}}}", fmt::join(parts, ", "));
}

std::string choices_str(const Limit& limit) {
  std::vector<std::string> parts;
  const ParamKind kind = kind_of(limit.param);
  for (const auto& c : limit.int_choices) parts.push_back(format_ints(kind, c));
  for (const auto& c : limit.text_choices) parts.push_back(c);
  return fmt::format("{{{}}}", fmt::join(parts, ", "));
}

std::optional<std::string> check_one(const Limit& limit, const OpParam& p, const OpParams& params) {
  const ParamKind kind = kind_of(p.name);
  switch (limit.kind) {
    case LimitKind::kMax:
    case LimitKind::kMin: {
      const bool is_max = limit.kind == LimitKind::kMax;
      std::vector<int64_t> bound = limit.bound;
      if (bound.size() == 1) bound.assign(p.ints.size(), limit.bound[0]);
      if (bound.size() != p.ints.size() || p.ints.empty())
        return fmt::format("{} {} has {} values, limit {} has {}", p.name, value_str(p), p.ints.size(),
                           limit_str(limit), limit.bound.size());
      for (size_t i = 0; i < bound.size(); ++i) {
        if (is_max ? p.ints[i] > bound[i] : p.ints[i] < bound[i])
          return fmt::format("{} {} {} {}", p.name, value_str(p), is_max ? ">" : "<",
                             format_ints(kind, bound));
      }
      return std::nullopt;
    }
    case LimitKind::kIn: {
      if (kind == ParamKind::kText) {
        for (const SetItem& item : limit.set)
          if (!item.number && item.text == p.text) return std::nullopt;
        return fmt::format("{} {} not in {}", p.name, p.text, set_str(limit.set, &params));
      }
      if (p.ints.empty()) return fmt::format("{} has no value", p.name);
      for (int64_t v : p.ints) {
        const bool member = std::any_of(limit.set.begin(), limit.set.end(), [&](const SetItem& item) {
          const std::optional<int64_t> r = resolve(item, params);
          return r && *r == v;
        });
        if (member) continue;
        if (p.ints.size() == 1) return fmt::format("{} {} not in {}", p.name, v, set_str(limit.set, &params));
        return fmt::format("{} {}: {} not in {}", p.name, value_str(p), v, set_str(limit.set, &params));
      }
      return std::nullopt;
    }
    case LimitKind::kOneOf: {
      if (kind == ParamKind::kText) {
        if (std::find(limit.text_choices.begin(), limit.text_choices.end(), p.text) != limit.text_choices.end())
          return std::nullopt;
      } else if (std::find(limit.int_choices.begin(), limit.int_choices.end(), p.ints) !=
                 limit.int_choices.end()) {
        return std::nullopt;
      }
      return fmt::format("{} {} not one of {}", p.name, value_str(p), choices_str(limit));
    }
  }
  return std::nullopt;
}

// ---------------------------------------------------------------------------------------
// YAML reading. Every error names the source, the key path and the line.

// The key node of `key` in a map: errors about a key point at the key's line (a missing
// value, as in `Relu:`, has no useful position of its own).
YAML::Node key_node(const YAML::Node& map, const std::string& key) {
  for (const auto& kv : map)
    if (kv.first.IsScalar() && kv.first.Scalar() == key) return kv.first;
  return map;
}

class SpecReader {
 public:
  SpecReader(std::string source, const SpecLoadOptions& options)
      : source_(std::move(source)), options_(options) {}

  Result<TargetSpec> read(std::string_view text);

 private:
  Status fail(const YAML::Node& node, const std::string& path, const std::string& what) const {
    const int line = node.Mark().line;
    if (line >= 0) return error("target spec '{}': key '{}' (line {}): {}", source_, path, line + 1, what);
    return error("target spec '{}': key '{}': {}", source_, path, what);
  }
  // Map keys in file order; rejects non-map nodes, non-scalar and duplicate keys.
  Status keys_of(const YAML::Node& node, const std::string& path, std::vector<std::string>& keys) const;
  Status check_allowed(const YAML::Node& node, const std::string& path,
                       const std::vector<std::string>& keys, std::initializer_list<const char*> allowed) const;
  Status read_string(const YAML::Node& node, const std::string& path, std::string& out) const;
  Status read_int(const YAML::Node& node, const std::string& path, int64_t& out) const;
  Status read_number(const YAML::Node& node, const std::string& path, double& out) const;
  Status read_int_list(const YAML::Node& node, const std::string& path, std::vector<int64_t>& out) const;
  Status read_limits(const YAML::Node& node, const std::string& path, const std::string& param,
                     std::vector<Limit>& out) const;
  Status read_param_limits(const YAML::Node& node, const std::string& path, bool allow_note,
                           std::vector<Limit>& out, std::string* note) const;
  Status read_cost(const YAML::Node& node, CostModel& cost) const;
  Result<std::optional<OpId>> op_of(const YAML::Node& node, const std::string& path,
                                    const std::string& name) const;

  std::string source_;
  SpecLoadOptions options_;
};

Status SpecReader::keys_of(const YAML::Node& node, const std::string& path,
                           std::vector<std::string>& keys) const {
  if (!node.IsMap()) return fail(node, path, "must be a map");
  std::set<std::string> seen;
  for (const auto& kv : node) {
    if (!kv.first.IsScalar()) return fail(kv.first, path, "keys must be plain names");
    const std::string k = kv.first.Scalar();
    if (!seen.insert(k).second) return fail(kv.first, path + "." + k, "duplicate key");
    keys.push_back(k);
  }
  return ok_status();
}

Status SpecReader::check_allowed(const YAML::Node& node, const std::string& path,
                                 const std::vector<std::string>& keys,
                                 std::initializer_list<const char*> allowed) const {
  for (const std::string& k : keys) {
    const bool known = std::any_of(allowed.begin(), allowed.end(), [&](const char* a) { return k == a; });
    if (!known) {
      const std::string full = path.empty() ? k : path + "." + k;
      return fail(key_node(node, k), full, fmt::format("unknown key: allowed keys are {}", fmt::join(allowed, ", ")));
    }
  }
  return ok_status();
}

Status SpecReader::read_string(const YAML::Node& node, const std::string& path, std::string& out) const {
  if (!node.IsScalar()) return fail(node, path, "must be a string");
  out = node.Scalar();
  return ok_status();
}

Status SpecReader::read_int(const YAML::Node& node, const std::string& path, int64_t& out) const {
  if (!node.IsScalar() || !YAML::convert<int64_t>::decode(node, out))
    return fail(node, path, fmt::format("'{}' must be an integer", node.IsScalar() ? node.Scalar() : "(not a scalar)"));
  return ok_status();
}

Status SpecReader::read_number(const YAML::Node& node, const std::string& path, double& out) const {
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, out))
    return fail(node, path, fmt::format("'{}' must be a number", node.IsScalar() ? node.Scalar() : "(not a scalar)"));
  return ok_status();
}

Status SpecReader::read_int_list(const YAML::Node& node, const std::string& path,
                                 std::vector<int64_t>& out) const {
  if (node.IsScalar()) {
    int64_t v = 0;
    QMAP_RETURN_IF_ERROR(read_int(node, path, v));
    out.push_back(v);
    return ok_status();
  }
  if (!node.IsSequence() || node.size() == 0)
    return fail(node, path, "must be an integer or a non-empty list of integers");
  for (size_t i = 0; i < node.size(); ++i) {
    int64_t v = 0;
    QMAP_RETURN_IF_ERROR(read_int(node[i], fmt::format("{}[{}]", path, i), v));
    out.push_back(v);
  }
  return ok_status();
}

Status SpecReader::read_limits(const YAML::Node& node, const std::string& path, const std::string& param,
                               std::vector<Limit>& out) const {
  const ParamInfo* info = find_param(param);
  std::vector<std::string> keys;
  QMAP_RETURN_IF_ERROR(keys_of(node, path, keys));
  if (keys.empty()) return fail(node, path, "needs at least one limit (max, min, in, one_of)");
  for (const std::string& k : keys) {
    const std::string kpath = path + "." + k;
    const YAML::Node v = node[k];
    const LimitKindInfo* kind = nullptr;
    for (const LimitKindInfo& ki : kKinds)
      if (k == ki.name) kind = &ki;
    if (kind == nullptr) {
      std::vector<std::string> names;
      for (const LimitKindInfo& ki : kKinds) names.push_back(ki.name);
      return fail(key_node(node, k), kpath, fmt::format("unknown limit kind: allowed kinds are {}", fmt::join(names, ", ")));
    }
    Limit limit;
    limit.param = param;
    limit.kind = kind->kind;
    switch (kind->kind) {
      case LimitKind::kMax:
      case LimitKind::kMin:
        if (info->kind == ParamKind::kText)
          return fail(v, kpath, fmt::format("'{}' is a text parameter: use in or one_of", param));
        QMAP_RETURN_IF_ERROR(read_int_list(v, kpath, limit.bound));
        break;
      case LimitKind::kIn:
        if (!v.IsSequence() || v.size() == 0) return fail(v, kpath, "must be a non-empty list");
        for (size_t i = 0; i < v.size(); ++i) {
          const std::string ipath = fmt::format("{}[{}]", kpath, i);
          if (!v[i].IsScalar()) return fail(v[i], ipath, "must be a number or a name");
          SetItem item;
          int64_t n = 0;
          if (info->kind != ParamKind::kText && YAML::convert<int64_t>::decode(v[i], n)) {
            item.number = n;
          } else {
            item.text = v[i].Scalar();
            if (info->kind != ParamKind::kText) {
              const ParamInfo* ref = find_param(item.text);
              if (ref == nullptr || ref->kind == ParamKind::kText)
                return fail(v[i], ipath, fmt::format("'{}' is neither an integer nor an integer parameter name",
                                                     item.text));
            } else if (param == "dtype") {
              const bool known = std::any_of(std::begin(kDTypes), std::end(kDTypes),
                                             [&](DType t) { return item.text == dtype_name(t); });
              if (!known) {
                std::vector<std::string> names;
                for (DType t : kDTypes) names.push_back(dtype_name(t));
                return fail(v[i], ipath, fmt::format("unknown dtype '{}': allowed are {}", item.text,
                                                     fmt::join(names, ", ")));
              }
            }
          }
          limit.set.push_back(std::move(item));
        }
        break;
      case LimitKind::kOneOf:
        if (!v.IsSequence() || v.size() == 0) return fail(v, kpath, "must be a non-empty list");
        for (size_t i = 0; i < v.size(); ++i) {
          const std::string ipath = fmt::format("{}[{}]", kpath, i);
          if (info->kind == ParamKind::kText) {
            std::string s;
            QMAP_RETURN_IF_ERROR(read_string(v[i], ipath, s));
            limit.text_choices.push_back(std::move(s));
          } else {
            std::vector<int64_t> choice;
            QMAP_RETURN_IF_ERROR(read_int_list(v[i], ipath, choice));
            limit.int_choices.push_back(std::move(choice));
          }
        }
        break;
    }
    out.push_back(std::move(limit));
  }
  return ok_status();
}

Status SpecReader::read_param_limits(const YAML::Node& node, const std::string& path, bool allow_note,
                                     std::vector<Limit>& out, std::string* note) const {
  if (node.IsNull()) return ok_status();  // `Relu:` — no limits beyond the defaults
  std::vector<std::string> keys;
  QMAP_RETURN_IF_ERROR(keys_of(node, path, keys));
  for (const std::string& k : keys) {
    const std::string kpath = path + "." + k;
    if (allow_note && k == "note") {
      QMAP_RETURN_IF_ERROR(read_string(node[k], kpath, *note));
      continue;
    }
    if (find_param(k) == nullptr) {
      std::vector<std::string> names;
      for (const ParamInfo& p : kParams) names.push_back(p.name);
      if (allow_note) names.push_back("note");
      return fail(key_node(node, k), kpath, fmt::format("unknown parameter: known are {}", fmt::join(names, ", ")));
    }
    QMAP_RETURN_IF_ERROR(read_limits(node[k], kpath, k, out));
  }
  return ok_status();
}

Status SpecReader::read_cost(const YAML::Node& node, CostModel& cost) const {
  std::vector<std::string> keys;
  QMAP_RETURN_IF_ERROR(keys_of(node, "cost_model", keys));
  const std::initializer_list<const char*> required = {"clock_mhz", "int8_macs_per_cycle", "ddr_bandwidth_gbps",
                                                       "sram_kib", "cpu_gflops", "subgraph_switch_us"};
  const std::initializer_list<const char*> all = {"clock_mhz", "int8_macs_per_cycle", "ddr_bandwidth_gbps",
                                                  "sram_kib", "cpu_gflops", "subgraph_switch_us",
                                                  "depthwise_macs_per_cycle", "vector_ops_per_cycle",
                                                  "sram_bandwidth_gbps", "layer_overhead_us", "simple_ops_per_cycle",
                                                  "cpu_shares_sram", "output_ops_per_cycle",
                                                  "depthwise_channel_cycles", "eval_overhead_us",
                                                  "conv_pixel_vector", "conv_row_halo", "move_run_cycles"};
  QMAP_RETURN_IF_ERROR(check_allowed(node, "cost_model", keys, all));
  for (const char* k : required)
    if (!node[k]) return fail(node, "cost_model", fmt::format("missing key '{}'", k));
  auto positive = [&](const char* k, double& out, bool allow_zero) -> Status {
    QMAP_RETURN_IF_ERROR(read_number(node[k], std::string("cost_model.") + k, out));
    if (out < 0 || (!allow_zero && out == 0))
      return fail(node[k], std::string("cost_model.") + k,
                  fmt::format("{} must be {}", out, allow_zero ? ">= 0" : "> 0"));
    return ok_status();
  };
  double macs = 0, sram = 0;
  QMAP_RETURN_IF_ERROR(positive("clock_mhz", cost.clock_mhz, false));
  QMAP_RETURN_IF_ERROR(read_int(node["int8_macs_per_cycle"], "cost_model.int8_macs_per_cycle", cost.int8_macs_per_cycle));
  QMAP_RETURN_IF_ERROR(read_int(node["sram_kib"], "cost_model.sram_kib", cost.sram_kib));
  macs = static_cast<double>(cost.int8_macs_per_cycle);
  sram = static_cast<double>(cost.sram_kib);
  if (macs <= 0) return fail(node["int8_macs_per_cycle"], "cost_model.int8_macs_per_cycle", "must be > 0");
  if (sram <= 0) return fail(node["sram_kib"], "cost_model.sram_kib", "must be > 0");
  QMAP_RETURN_IF_ERROR(positive("ddr_bandwidth_gbps", cost.ddr_bandwidth_gbps, false));
  QMAP_RETURN_IF_ERROR(positive("cpu_gflops", cost.cpu_gflops, false));
  QMAP_RETURN_IF_ERROR(positive("subgraph_switch_us", cost.subgraph_switch_us, true));
  // Optional (docs/perf.md): absent keys keep 0, which CostModel reads as the default.
  for (auto [k, out] : {std::pair<const char*, int64_t*>{"depthwise_macs_per_cycle", &cost.depthwise_macs_per_cycle},
                        {"vector_ops_per_cycle", &cost.vector_ops_per_cycle},
                        {"simple_ops_per_cycle", &cost.simple_ops_per_cycle},
                        {"output_ops_per_cycle", &cost.output_ops_per_cycle},
                        {"conv_pixel_vector", &cost.conv_pixel_vector}}) {
    if (!node[k]) continue;
    QMAP_RETURN_IF_ERROR(read_int(node[k], std::string("cost_model.") + k, *out));
    if (*out <= 0) return fail(node[k], std::string("cost_model.") + k, "must be > 0");
  }
  if (node["sram_bandwidth_gbps"]) QMAP_RETURN_IF_ERROR(positive("sram_bandwidth_gbps", cost.sram_bandwidth_gbps, true));
  if (node["layer_overhead_us"]) QMAP_RETURN_IF_ERROR(positive("layer_overhead_us", cost.layer_overhead_us, true));
  if (node["eval_overhead_us"]) QMAP_RETURN_IF_ERROR(positive("eval_overhead_us", cost.eval_overhead_us, true));
  if (node["move_run_cycles"]) QMAP_RETURN_IF_ERROR(positive("move_run_cycles", cost.move_run_cycles, true));
  if (node["depthwise_channel_cycles"])
    QMAP_RETURN_IF_ERROR(positive("depthwise_channel_cycles", cost.depthwise_channel_cycles, true));
  for (auto [k, out] : {std::pair<const char*, bool*>{"cpu_shares_sram", &cost.cpu_shares_sram},
                        {"conv_row_halo", &cost.conv_row_halo}})
    if (const YAML::Node b = node[k]; b && (!b.IsScalar() || !YAML::convert<bool>::decode(b, *out)))
      return fail(b, std::string("cost_model.") + k,
                  fmt::format("'{}' must be true or false", b.IsScalar() ? b.Scalar() : "(not a scalar)"));
  return ok_status();
}

Result<std::optional<OpId>> SpecReader::op_of(const YAML::Node& node, const std::string& path,
                                              const std::string& name) const {
  const std::optional<OpId> id = op_by_name(name);
  if (!id && options_.require_registered_ops)
    return fail(node, path, fmt::format("unknown op '{}': not an op of the qmap IR (docs/ops.md lists them)", name));
  return id;
}

Result<TargetSpec> SpecReader::read(std::string_view text) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return error("target spec '{}': line {}: invalid YAML: {}", source_, e.mark.line + 1, e.msg);
  }
  TargetSpec spec;
  spec.source = source_;
  std::vector<std::string> keys;
  if (!root.IsMap()) return error("target spec '{}': the file must be a YAML map (name, description, ...)", source_);
  QMAP_RETURN_IF_ERROR(keys_of(root, "", keys));
  QMAP_RETURN_IF_ERROR(
      check_allowed(root, "", keys, {"name", "description", "cost_model", "npu_defaults", "npu_ops", "cpu_ops"}));
  for (const char* required : {"name", "description", "cost_model", "npu_ops"})
    if (!root[required]) return error("target spec '{}': missing key '{}'", source_, required);

  QMAP_RETURN_IF_ERROR(read_string(root["name"], "name", spec.name));
  const bool name_ok = !spec.name.empty() && std::all_of(spec.name.begin(), spec.name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
  if (!name_ok) return fail(root["name"], "name", fmt::format("'{}' must be lower-case letters, digits, '_' or '-'", spec.name));
  QMAP_RETURN_IF_ERROR(read_string(root["description"], "description", spec.description));
  QMAP_RETURN_IF_ERROR(read_cost(root["cost_model"], spec.cost));

  if (root["npu_defaults"]) {
    std::string unused;
    QMAP_RETURN_IF_ERROR(read_param_limits(root["npu_defaults"], "npu_defaults", false, spec.npu_defaults, &unused));
  }

  std::vector<std::string> ops;
  const YAML::Node npu = root["npu_ops"];
  QMAP_RETURN_IF_ERROR(keys_of(npu, "npu_ops", ops));
  for (const std::string& name : ops) {
    const std::string path = "npu_ops." + name;
    NpuOpRule rule;
    rule.name = name;
    QMAP_ASSIGN_OR_RETURN(std::optional<OpId> id, op_of(key_node(npu, name), path, name));
    if (id) rule.op = *id;
    // An NPU op must have an integer form: its own step, or a float pass turning it into ops
    // that have one. Otherwise the checker would say NPU and makertbin run it on the CPU.
    if (id && op_def(*id).lowering == Int8Lowering::kNone && op_def(*id).int8_via == nullptr)
      return fail(key_node(npu, name), path,
                  fmt::format("{} has no integer lowering in qmap, so it cannot run on the NPU: list it under cpu_ops",
                              name));
    QMAP_RETURN_IF_ERROR(read_param_limits(npu[name], path, true, rule.limits, &rule.note));
    spec.npu_ops.push_back(std::move(rule));
  }

  if (root["cpu_ops"]) {
    const YAML::Node cpu = root["cpu_ops"];
    std::vector<std::string> names;
    QMAP_RETURN_IF_ERROR(keys_of(cpu, "cpu_ops", names));
    for (const std::string& name : names) {
      const std::string path = "cpu_ops." + name;
      CpuOpRule rule;
      rule.name = name;
      QMAP_ASSIGN_OR_RETURN(std::optional<OpId> id, op_of(key_node(cpu, name), path, name));
      if (id) rule.op = *id;
      if (!cpu[name].IsNull()) QMAP_RETURN_IF_ERROR(read_string(cpu[name], path, rule.note));
      // Every NPU op already falls back to the CPU when a limit fails; listing it here too
      // would say nothing, so it is most likely a copy-paste mistake.
      if (std::any_of(spec.npu_ops.begin(), spec.npu_ops.end(), [&](const NpuOpRule& r) { return r.name == name; }))
        return fail(key_node(cpu, name), path, "op is also listed in npu_ops: an op is either an NPU op (which falls back "
                                     "to CPU when a limit fails) or a CPU-only op");
      spec.cpu_ops.push_back(std::move(rule));
    }
  }
  return spec;
}

}  // namespace

std::span<const ParamInfo> known_params() { return kParams; }

const ParamInfo* find_param(std::string_view name) {
  for (const ParamInfo& p : kParams)
    if (name == p.name) return &p;
  return nullptr;
}

std::span<const LimitKindInfo> limit_kinds() { return kKinds; }

std::string limit_str(const Limit& limit) {
  const ParamKind kind = kind_of(limit.param);
  switch (limit.kind) {
    case LimitKind::kMax: return "max " + format_ints(kind, limit.bound);
    case LimitKind::kMin: return "min " + format_ints(kind, limit.bound);
    case LimitKind::kIn: return "in " + set_str(limit.set, nullptr);
    case LimitKind::kOneOf: return "one of " + choices_str(limit);
  }
  return "?";
}

std::optional<std::string> check_limit(const Limit& limit, const OpParams& params) {
  bool reported = false;
  for (const OpParam& p : params) {
    if (p.name != limit.param) continue;
    reported = true;
    if (auto reason = check_one(limit, p, params)) return reason;
  }
  // A limit that cannot be checked must not let the node onto the NPU.
  if (!reported) return fmt::format("{} not reported by the op (limit {})", limit.param, limit_str(limit));
  return std::nullopt;
}

const NpuOpRule* TargetSpec::npu_rule(OpId op) const {
  for (const NpuOpRule& r : npu_ops)
    if (r.op == op) return &r;
  return nullptr;
}

bool TargetSpec::is_cpu_op(OpId op) const {
  return std::any_of(cpu_ops.begin(), cpu_ops.end(),
                     [&](const CpuOpRule& r) { return r.op == op; });
}

std::vector<Limit> TargetSpec::effective_limits(const NpuOpRule& rule) const {
  std::vector<Limit> out;
  for (const Limit& d : npu_defaults) {
    const bool overridden = std::any_of(rule.limits.begin(), rule.limits.end(),
                                        [&](const Limit& l) { return l.param == d.param; });
    if (!overridden) out.push_back(d);
  }
  out.insert(out.end(), rule.limits.begin(), rule.limits.end());
  return out;
}

Result<TargetSpec> parse_target_spec(std::string_view yaml_text, const std::string& source,
                                     const SpecLoadOptions& options) {
  return SpecReader(source, options).read(yaml_text);
}

std::vector<std::string> embedded_target_names() {
  std::vector<std::string> names;
  for (const EmbeddedTarget& t : embedded_targets()) names.emplace_back(t.name);
  // Sorted here, not by cmake's list(SORT) of the file names, which puts "bayes-e.yaml"
  // before "bayes.yaml" ('-' < '.').
  std::sort(names.begin(), names.end());
  return names;
}

std::optional<std::string_view> embedded_target_text(std::string_view name) {
  for (const EmbeddedTarget& t : embedded_targets())
    if (t.name == name) return t.text;
  return std::nullopt;
}

std::optional<std::string> installed_targets_dir() {
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  const std::filesystem::path dir = (exe.parent_path() / QMAP_TARGETS_REL_DIR).lexically_normal();
  if (!std::filesystem::is_directory(dir, ec)) return std::nullopt;
  return dir.string();
}

Result<TargetSpec> load_target_spec(const std::string& march, const SpecLoadOptions& options) {
  // A name without a path separator or .yaml suffix is a built-in march, else one installed
  // beside the running qmap (<dir>/<name>.yaml).
  const bool is_path = march.find('/') != std::string::npos ||
                       (march.size() > 5 && march.compare(march.size() - 5, 5, ".yaml") == 0) ||
                       (march.size() > 4 && march.compare(march.size() - 4, 4, ".yml") == 0);
  if (!is_path) {
    const auto text = embedded_target_text(march);
    if (!text) {
      const std::optional<std::string> dir = installed_targets_dir();
      std::error_code ec;
      const std::string installed = dir ? *dir + "/" + march + ".yaml" : std::string();
      if (dir && std::filesystem::is_regular_file(installed, ec)) {
        Result<std::string> file = read_file(installed);
        if (!file) return file.status().with_context("target spec: ");
        QMAP_ASSIGN_OR_RETURN(TargetSpec spec, parse_target_spec(*file, installed, options));
        if (spec.name != march)
          return error("target spec '{}': name '{}' differs from the file name", installed, spec.name);
        return spec;
      }
      return error("target spec: march '{}': unknown: built-in marches are {}{} (or give a path to a .yaml file)",
                   march, fmt::join(embedded_target_names(), ", "),
                   dir ? fmt::format("; no {}", installed) : std::string());
    }
    QMAP_ASSIGN_OR_RETURN(TargetSpec spec, parse_target_spec(*text, march + " (built in)", options));
    if (spec.name != march)
      return error("target spec '{} (built in)': name '{}' differs from the file name", march, spec.name);
    return spec;
  }
  Result<std::string> text = read_file(march);
  if (!text) return text.status().with_context("target spec: ");
  return parse_target_spec(*text, march, options);
}

}  // namespace qmap
