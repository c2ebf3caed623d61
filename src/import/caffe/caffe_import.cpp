// Caffe import pipeline: parse the prototxt (text format, errors with line and column)
// and the caffemodel (binary), upgrade V1 layers to LayerParameter, keep the layers of the
// TEST phase, declare the inputs, report every unmapped layer type at once, then map the
// layers in order (caffe_layers.cpp) with their trained blobs matched by layer name, and
// finish like the ONNX importer: verify_graph + infer_shapes.
#include "import/caffe/caffe_import.h"

#include <algorithm>
#include <climits>
#include <filesystem>
#include <map>
#include <set>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/tokenizer.h>
#include <google/protobuf/text_format.h>

#include "core/file_io.h"
#include "import/caffe/caffe_builder.h"
#include "ops/custom/custom_op.h"
#include "ops/infer.h"
#include "ops/verify.h"

namespace qmap {

namespace {

namespace fs = std::filesystem;
namespace pb = google::protobuf;
using caffe_import::ImportState;
using caffe_import::LayerCtx;

// protobuf cannot parse messages of 2 GiB or more.
constexpr uint64_t kMaxFileBytes = (uint64_t{1} << 31) - 1;

Status check_file(const std::string& path, const char* what) {
  std::error_code ec;
  if (path.empty()) return error("no {} given", what);
  if (!fs::exists(path, ec)) return error("file '{}': {} does not exist", path, what);
  if (fs::is_directory(path, ec)) return error("file '{}': is a directory, expected a {}", path, what);
  const auto size = fs::file_size(path, ec);
  if (ec) return error("file '{}': cannot read size: {}", path, ec.message());
  if (size > kMaxFileBytes) return error("file '{}': {} bytes: files over 2 GB are not supported (protobuf's limit)", path, size);
  if (size == 0) return error("file '{}': is empty: not a {}", path, what);
  return ok_status();
}

// Keeps the first text-format error with its position (protobuf counts from 0).
class FirstError : public pb::io::ErrorCollector {
 public:
  void AddError(int line, pb::io::ColumnNumber column, const std::string& message) override {
    if (!has_) msg_ = fmt::format("line {} column {}: {}", line + 1, column + 1, message);
    has_ = true;
  }
  void AddWarning(int, pb::io::ColumnNumber, const std::string&) override {}
  const std::string& message() const { return msg_; }

 private:
  bool has_ = false;
  std::string msg_;
};

Result<caffe::NetParameter> parse_prototxt(const std::string& path) {
  QMAP_RETURN_IF_ERROR(check_file(path, "prototxt"));
  QMAP_ASSIGN_OR_RETURN(std::string text, read_file(path));
  caffe::NetParameter net;
  FirstError errors;
  pb::TextFormat::Parser parser;
  parser.RecordErrorsTo(&errors);
  if (!parser.ParseFromString(text, &net))
    return error("file '{}': not a valid prototxt: {}", path, errors.message());
  return net;
}

Result<caffe::NetParameter> parse_caffemodel(const std::string& path) {
  QMAP_RETURN_IF_ERROR(check_file(path, "caffemodel"));
  QMAP_ASSIGN_OR_RETURN(std::string bytes, read_file(path));
  caffe::NetParameter net;
  pb::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
  in.SetTotalBytesLimit(INT_MAX);  // caffemodels routinely exceed protobuf's old 64 MB default
  if (!net.ParseFromCodedStream(&in) || !in.ConsumedEntireMessage())
    return error("file '{}': not a valid caffemodel ({} bytes): protobuf parse failed: the file is truncated or is not a binary NetParameter",
                 path, bytes.size());
  return net;
}

// Caffe's UpgradeV1LayerType names.
const char* v1_type_name(caffe::V1LayerParameter::LayerType t) {
  using V = caffe::V1LayerParameter;
  switch (t) {
    case V::NONE: return "";
    case V::ABSVAL: return "AbsVal";
    case V::ACCURACY: return "Accuracy";
    case V::ARGMAX: return "ArgMax";
    case V::BNLL: return "BNLL";
    case V::CONCAT: return "Concat";
    case V::CONTRASTIVE_LOSS: return "ContrastiveLoss";
    case V::CONVOLUTION: return "Convolution";
    case V::DECONVOLUTION: return "Deconvolution";
    case V::DATA: return "Data";
    case V::DROPOUT: return "Dropout";
    case V::DUMMY_DATA: return "DummyData";
    case V::EUCLIDEAN_LOSS: return "EuclideanLoss";
    case V::ELTWISE: return "Eltwise";
    case V::EXP: return "Exp";
    case V::FLATTEN: return "Flatten";
    case V::HDF5_DATA: return "HDF5Data";
    case V::HDF5_OUTPUT: return "HDF5Output";
    case V::HINGE_LOSS: return "HingeLoss";
    case V::IM2COL: return "Im2col";
    case V::IMAGE_DATA: return "ImageData";
    case V::INFOGAIN_LOSS: return "InfogainLoss";
    case V::INNER_PRODUCT: return "InnerProduct";
    case V::LRN: return "LRN";
    case V::MEMORY_DATA: return "MemoryData";
    case V::MULTINOMIAL_LOGISTIC_LOSS: return "MultinomialLogisticLoss";
    case V::MVN: return "MVN";
    case V::POOLING: return "Pooling";
    case V::POWER: return "Power";
    case V::RELU: return "ReLU";
    case V::SIGMOID: return "Sigmoid";
    case V::SIGMOID_CROSS_ENTROPY_LOSS: return "SigmoidCrossEntropyLoss";
    case V::SILENCE: return "Silence";
    case V::SOFTMAX: return "Softmax";
    case V::SOFTMAX_LOSS: return "SoftmaxWithLoss";
    case V::SPLIT: return "Split";
    case V::SLICE: return "Slice";
    case V::TANH: return "TanH";
    case V::WINDOW_DATA: return "WindowData";
    case V::THRESHOLD: return "Threshold";
  }
  return "";
}

// V1 -> V2: the `*_param` messages, blobs, names and rules have the same names and types in
// both messages, so they are copied by reflection; the enum type becomes Caffe's V2 name.
Status upgrade_v1(const std::string& path, const caffe::V1LayerParameter& v1, caffe::LayerParameter* out) {
  if (v1.has_layer())
    return error("file '{}': layer '{}': uses the V0 format (layers {{ layer {{ ... }} }}): upgrade it with Caffe's upgrade_net_proto_text/binary first",
                 path, v1.has_name() ? v1.name() : v1.layer().name());
  const pb::Reflection* rin = v1.GetReflection();
  const pb::Reflection* rout = out->GetReflection();
  const pb::Descriptor* dout = out->GetDescriptor();
  std::vector<const pb::FieldDescriptor*> fields;
  rin->ListFields(v1, &fields);
  for (const pb::FieldDescriptor* f : fields) {
    const pb::FieldDescriptor* g = dout->FindFieldByName(f->name());
    if (g == nullptr || g->cpp_type() != f->cpp_type() || g->is_repeated() != f->is_repeated()) continue;
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE && f->message_type() != g->message_type()) continue;
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM) continue;
    if (!f->is_repeated()) {
      switch (f->cpp_type()) {
        case pb::FieldDescriptor::CPPTYPE_STRING: rout->SetString(out, g, rin->GetString(v1, f)); break;
        case pb::FieldDescriptor::CPPTYPE_MESSAGE: rout->MutableMessage(out, g)->CopyFrom(rin->GetMessage(v1, f)); break;
        default: break;  // V1 has no other singular fields shared with V2
      }
      continue;
    }
    const int n = rin->FieldSize(v1, f);
    for (int i = 0; i < n; ++i) {
      switch (f->cpp_type()) {
        case pb::FieldDescriptor::CPPTYPE_STRING: rout->AddString(out, g, rin->GetRepeatedString(v1, f, i)); break;
        case pb::FieldDescriptor::CPPTYPE_MESSAGE: rout->AddMessage(out, g)->CopyFrom(rin->GetRepeatedMessage(v1, f, i)); break;
        case pb::FieldDescriptor::CPPTYPE_FLOAT: rout->AddFloat(out, g, rin->GetRepeatedFloat(v1, f, i)); break;
        default: break;
      }
    }
  }
  out->set_type(v1_type_name(v1.type()));
  if (out->type().empty())
    out->set_type(fmt::format("V1:{}", caffe::V1LayerParameter::LayerType_Name(v1.type())));
  return ok_status();
}

// All layers of a net as LayerParameter, V1 upgraded. Caffe rejects files with both.
Result<std::vector<caffe::LayerParameter>> all_layers(const std::string& path, const caffe::NetParameter& net) {
  if (net.layer_size() > 0 && net.layers_size() > 0)
    return error("file '{}': uses both `layer` (V2) and `layers` (V1) fields: a net must use one format", path);
  std::vector<caffe::LayerParameter> out(net.layer().begin(), net.layer().end());
  for (const auto& v1 : net.layers()) {
    caffe::LayerParameter lp;
    QMAP_RETURN_IF_ERROR(upgrade_v1(path, v1, &lp));
    out.push_back(std::move(lp));
  }
  return out;
}

// Caffe's Net::StateMeetsRule.
bool meets_rule(const caffe::NetState& st, const caffe::NetStateRule& r) {
  if (r.has_phase() && r.phase() != st.phase()) return false;
  if (r.has_min_level() && st.level() < r.min_level()) return false;
  if (r.has_max_level() && st.level() > r.max_level()) return false;
  for (const auto& s : r.stage())
    if (std::find(st.stage().begin(), st.stage().end(), s) == st.stage().end()) return false;
  for (const auto& s : r.not_stage())
    if (std::find(st.stage().begin(), st.stage().end(), s) != st.stage().end()) return false;
  return true;
}

// Caffe's Net::FilterNet: include rules (any met) or exclude rules (none met).
bool layer_included(const caffe::NetState& st, const caffe::LayerParameter& lp) {
  if (lp.include_size() > 0) {
    for (const auto& r : lp.include())
      if (meets_rule(st, r)) return true;
    return false;
  }
  for (const auto& r : lp.exclude())
    if (meets_rule(st, r)) return false;
  return true;
}

Status add_input(ImportState& st, const std::string& name, std::optional<Dims> declared, const CaffeImportOptions& opt,
                 std::set<std::string>* used, const std::string& where) {
  if (st.blobs.count(name)) return error("file '{}': {}: input '{}' is declared twice", st.proto_path, where, name);
  Dims dims;
  auto ov = opt.input_shapes.find(name);
  if (ov != opt.input_shapes.end()) {
    used->insert(name);
    for (int64_t d : ov->second)
      if (d <= 0) return error("--input-shape {}: {} has a dimension <= 0", name, dims_str(ov->second));
    if (declared && declared->size() != ov->second.size())
      return error("--input-shape {}: rank {} ({}) does not match the prototxt's rank {} ({})", name,
                   ov->second.size(), dims_str(ov->second), declared->size(), dims_str(*declared));
    dims = ov->second;
  } else if (declared) {
    dims = *declared;
    for (size_t i = 0; i < dims.size(); ++i)
      if (dims[i] <= 0)
        return error("file '{}': {}: input '{}' has shape {}: dimension {} must be > 0 (give one with --input-shape {} <shape>)",
                     st.proto_path, where, name, dims_str(dims), i, name);
  } else {
    return error("file '{}': {}: input '{}' has no shape: declare input_shape/input_dim or give --input-shape {} <shape>",
                 st.proto_path, where, name, name);
  }
  const ValueId id = st.g.add_value(name, DType::kFloat32, dims);
  st.g.inputs.push_back(id);
  st.blobs[name] = id;
  return ok_status();
}

Dims shape_of(const caffe::BlobShape& s) { return Dims(s.dim().begin(), s.dim().end()); }

Result<Graph> import_impl(const std::string& proto_path, const std::string& model_path, const CaffeImportOptions& opt) {
  QMAP_ASSIGN_OR_RETURN(caffe::NetParameter net, parse_prototxt(proto_path));
  QMAP_ASSIGN_OR_RETURN(std::vector<caffe::LayerParameter> declared, all_layers(proto_path, net));
  // Weights: parse the caffemodel before mapping, so a truncated file is reported as such.
  QMAP_ASSIGN_OR_RETURN(caffe::NetParameter model, parse_caffemodel(model_path));
  QMAP_ASSIGN_OR_RETURN(std::vector<caffe::LayerParameter> trained, all_layers(model_path, model));
  // Blobs by layer name; a later layer of the same name wins, as in Caffe's CopyTrainedLayersFrom.
  std::unordered_map<std::string, const caffe::LayerParameter*> trained_by_name;
  for (const auto& lp : trained)
    if (lp.blobs_size() > 0) trained_by_name[lp.name()] = &lp;

  // TEST-phase layers only (the net's own state, default phase TEST).
  caffe::NetState state = net.state();
  state.set_phase(caffe::TEST);
  std::vector<const caffe::LayerParameter*> layers;
  for (const auto& lp : declared)
    if (layer_included(state, lp)) layers.push_back(&lp);
  if (layers.empty()) return error("file '{}': the prototxt has no layers (for the TEST phase)", proto_path);

  // Every layer type qmap does not map, all at once, before anything else can fail.
  // A layer type a plugin claims maps to its op (one domain only: Caffe types have none).
  std::map<std::string, std::shared_ptr<const CustomOp>> custom;
  if (opt.custom_ops)
    for (const auto* lp : layers) {
      const auto claims = opt.custom_ops->find_type(lp->type());
      if (claims.size() > 1)
        return error("file '{}': layer '{}' ({}): custom ops {} ({}) and {} ({}) both have this type: load one of them",
                     proto_path, lp->name(), lp->type(), claims[0]->qualified_name(), claims[0]->library,
                     claims[1]->qualified_name(), claims[1]->library);
      if (claims.size() == 1) custom[lp->type()] = claims[0];
    }
  std::set<std::string> unsupported;
  for (const auto* lp : layers)
    if (!caffe_import::find_layer_fn(lp->type()) && !custom.count(lp->type()))
      unsupported.insert(lp->type().empty() ? "(no type)" : lp->type());
  if (!unsupported.empty()) {
    if (opt.unsupported_ops) opt.unsupported_ops->assign(unsupported.begin(), unsupported.end());
    return error("file '{}': qmap does not support these operators: {{{}}}", proto_path, fmt::join(unsupported, ", "));
  }

  ImportState st;
  st.proto_path = proto_path;
  st.model_path = model_path;
  st.log = opt.log;
  st.g.name = net.name();
  st.g.producer_name = "caffe";
  st.g.onnx_opset = 17;

  // Inputs declared at the net level: input + input_shape (one each) or input_dim (4 each).
  std::set<std::string> used_overrides;
  if (net.input_shape_size() > 0 && net.input_shape_size() != net.input_size())
    return error("file '{}': {} inputs but {} input_shape entries: give one shape per input", proto_path, net.input_size(),
                 net.input_shape_size());
  if (net.input_dim_size() > 0 && net.input_dim_size() != 4 * net.input_size())
    return error("file '{}': {} inputs but {} input_dim values: give 4 (N, C, H, W) per input", proto_path,
                 net.input_size(), net.input_dim_size());
  for (int i = 0; i < net.input_size(); ++i) {
    std::optional<Dims> d;
    if (net.input_shape_size() > 0) d = shape_of(net.input_shape(i));
    else if (net.input_dim_size() > 0) d = Dims(net.input_dim().begin() + 4 * i, net.input_dim().begin() + 4 * i + 4);
    QMAP_RETURN_IF_ERROR(add_input(st, net.input(i), d, opt, &used_overrides, "net input"));
  }

  // Blobs consumed by a later layer, for the output list (Caffe's available_blobs).
  std::set<std::string> available;
  std::set<std::string> layer_names;
  for (const auto* lp : layers) {
    if (!layer_names.insert(lp->name()).second && opt.log)
      opt.log->warn("caffe import: file '{}': layer name '{}' is used twice; weights go to both by name", proto_path, lp->name());
    if (lp->type() == "Input") {
      const auto& ip = lp->input_param();
      if (ip.shape_size() != 0 && ip.shape_size() != 1 && ip.shape_size() != lp->top_size())
        return error("file '{}': layer '{}' (Input): {} tops but {} shapes: give one shape, or one per top", proto_path,
                     lp->name(), lp->top_size(), ip.shape_size());
      if (lp->bottom_size() != 0)
        return error("file '{}': layer '{}' (Input): has {} bottoms: Input takes none", proto_path, lp->name(), lp->bottom_size());
      for (int t = 0; t < lp->top_size(); ++t) {
        std::optional<Dims> d;
        if (ip.shape_size() > 0) d = shape_of(ip.shape(ip.shape_size() == 1 ? 0 : t));
        QMAP_RETURN_IF_ERROR(add_input(st, lp->top(t), d, opt, &used_overrides,
                                       fmt::format("layer '{}' (Input)", lp->name())));
        available.insert(lp->top(t));
      }
      continue;
    }
    std::vector<ValueId> bottoms;
    for (const auto& b : lp->bottom()) {
      auto it = st.blobs.find(b);
      if (it == st.blobs.end())
        return error("file '{}': layer '{}' ({}): bottom '{}' is produced by no earlier layer or input", proto_path,
                     lp->name(), lp->type(), b);
      bottoms.push_back(it->second);
      available.erase(b);
    }
    // Trained blobs: from the caffemodel by name, else any the prototxt itself carries.
    std::vector<const caffe::BlobProto*> weights;
    auto tw = trained_by_name.find(lp->name());
    const caffe::LayerParameter* src = tw != trained_by_name.end() ? tw->second : lp;
    for (const auto& b : src->blobs()) weights.push_back(&b);
    LayerCtx ctx(st, *lp, std::move(weights), std::move(bottoms));
    if (auto it = custom.find(lp->type()); it != custom.end()) {
      QMAP_RETURN_IF_ERROR(caffe_import::map_custom_layer(ctx, it->second));
    } else {
      QMAP_RETURN_IF_ERROR(caffe_import::find_layer_fn(lp->type())(ctx));
    }
    for (const auto& t : lp->top()) {
      if (!st.blobs.count(t))
        return error("file '{}': layer '{}' ({}): top '{}' was not produced (internal mapping error)", proto_path,
                     lp->name(), lp->type(), t);
      available.insert(t);
    }
  }
  for (const auto& [name, dims] : opt.input_shapes)
    if (!used_overrides.count(name)) {
      std::vector<std::string> names;
      for (ValueId id : st.g.inputs) names.push_back(st.g.value(id).name);
      return error("--input-shape names '{}': the model has no such input (inputs: {})", name, fmt::join(names, ", "));
    }
  if (st.g.inputs.empty())
    return error("file '{}': the net declares no inputs: add `input:` with input_shape, or an Input layer", proto_path);

  // Net outputs: blobs no later layer consumed, in Caffe's order (its std::set: by name).
  std::set<ValueId> seen;
  for (const std::string& name : available) {
    const ValueId v = st.blobs.at(name);
    bool is_input = std::find(st.g.inputs.begin(), st.g.inputs.end(), v) != st.g.inputs.end();
    if (is_input || !seen.insert(v).second) continue;
    st.g.outputs.push_back(v);
  }
  if (st.g.outputs.empty()) return error("file '{}': the net has no output: every blob is consumed", proto_path);

  st.g.rebuild_producers();
  QMAP_RETURN_IF_ERROR(verify_graph(st.g));
  QMAP_RETURN_IF_ERROR(infer_shapes(st.g));
  return std::move(st.g);
}

}  // namespace

Result<Graph> import_caffe(const std::string& prototxt, const std::string& caffemodel, const CaffeImportOptions& options) {
  auto r = import_impl(prototxt, caffemodel, options);
  if (!r.ok()) return r.status().with_context("caffe import: ");
  return r;
}

Result<Tensor> read_caffe_blob(const std::string& path) {
  auto bytes = read_file(path);
  if (!bytes.ok()) return bytes.status();
  caffe::BlobProto bp;
  if (!bp.ParseFromString(*bytes)) return error("file '{}': not a binary BlobProto (.binaryproto)", path);
  auto t = caffe_import::blob_to_tensor(bp, "blob");
  if (!t.ok()) return t.status().with_context(fmt::format("file '{}': ", path));
  return t;
}

}  // namespace qmap
