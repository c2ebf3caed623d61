// Caffe layers a custom-op plugin claims (docs/custom-op.md): one node of the plugin's op.
// Inputs: the bottoms, then the trained blobs as constants (in the caffemodel's order and
// shapes). Attributes: every field of the layer's *_param message(s) that the prototxt sets or
// that has an explicit default in caffe.proto (Caffe's meaning of an unset field), by field
// name: bool/int/uint -> int, float/double -> float, string -> string, enum -> its name
// (string), repeated numbers -> ints/floats. Nested messages (fillers) are not attributes.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "import/caffe/caffe_builder.h"
#include "ops/custom/custom_op.h"

namespace qmap::caffe_import {

namespace {

namespace pb = google::protobuf;

// Layer fields that are not the layer's own parameters.
bool is_layer_param_message(const pb::FieldDescriptor& f) {
  const std::string& n = f.name();
  return f.cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE && !f.is_repeated() && n.size() > 6 &&
         n.compare(n.size() - 6, 6, "_param") == 0 && n != "transform_param" && n != "loss_param";
}

void add_field(const pb::Message& m, const pb::FieldDescriptor& f, std::map<std::string, AttrValue>& attrs) {
  const pb::Reflection& r = *m.GetReflection();
  using F = pb::FieldDescriptor;
  if (f.is_repeated()) {
    const int n = r.FieldSize(m, &f);
    std::vector<int64_t> ints;
    std::vector<float> floats;
    for (int k = 0; k < n; ++k) switch (f.cpp_type()) {
        case F::CPPTYPE_INT32: ints.push_back(r.GetRepeatedInt32(m, &f, k)); break;
        case F::CPPTYPE_INT64: ints.push_back(r.GetRepeatedInt64(m, &f, k)); break;
        case F::CPPTYPE_UINT32: ints.push_back(r.GetRepeatedUInt32(m, &f, k)); break;
        case F::CPPTYPE_UINT64: ints.push_back(static_cast<int64_t>(r.GetRepeatedUInt64(m, &f, k))); break;
        case F::CPPTYPE_BOOL: ints.push_back(r.GetRepeatedBool(m, &f, k) ? 1 : 0); break;
        case F::CPPTYPE_FLOAT: floats.push_back(r.GetRepeatedFloat(m, &f, k)); break;
        case F::CPPTYPE_DOUBLE: floats.push_back(static_cast<float>(r.GetRepeatedDouble(m, &f, k))); break;
        default: return;  // repeated strings, enums, messages: no ABI attribute type
      }
    if (n == 0) return;
    if (!floats.empty()) attrs[f.name()] = std::move(floats);
    else attrs[f.name()] = std::move(ints);
    return;
  }
  if (!r.HasField(m, &f) && !f.has_default_value()) return;
  switch (f.cpp_type()) {
    case F::CPPTYPE_INT32: attrs[f.name()] = int64_t{r.GetInt32(m, &f)}; break;
    case F::CPPTYPE_INT64: attrs[f.name()] = int64_t{r.GetInt64(m, &f)}; break;
    case F::CPPTYPE_UINT32: attrs[f.name()] = int64_t{r.GetUInt32(m, &f)}; break;
    case F::CPPTYPE_UINT64: attrs[f.name()] = static_cast<int64_t>(r.GetUInt64(m, &f)); break;
    case F::CPPTYPE_BOOL: attrs[f.name()] = int64_t{r.GetBool(m, &f) ? 1 : 0}; break;
    case F::CPPTYPE_FLOAT: attrs[f.name()] = r.GetFloat(m, &f); break;
    case F::CPPTYPE_DOUBLE: attrs[f.name()] = static_cast<float>(r.GetDouble(m, &f)); break;
    case F::CPPTYPE_STRING: attrs[f.name()] = r.GetString(m, &f); break;
    case F::CPPTYPE_ENUM: attrs[f.name()] = r.GetEnum(m, &f)->name(); break;
    default: break;  // messages (fillers)
  }
}

}  // namespace

Status map_custom_layer(LayerCtx& c, std::shared_ptr<const CustomOp> op) {
  const caffe::LayerParameter& lp = c.layer();
  std::map<std::string, AttrValue> attrs;
  const pb::Reflection& r = *lp.GetReflection();
  std::vector<const pb::FieldDescriptor*> set;
  r.ListFields(lp, &set);
  for (const pb::FieldDescriptor* f : set) {
    if (!is_layer_param_message(*f)) continue;
    const pb::Message& pm = r.GetMessage(lp, f);
    const pb::Descriptor& d = *pm.GetDescriptor();
    for (int k = 0; k < d.field_count(); ++k) add_field(pm, *d.field(k), attrs);
  }
  std::vector<ValueId> inputs;
  for (int i = 0; i < c.num_bottoms(); ++i) inputs.push_back(c.bottom(i));
  for (int i = 0; i < c.num_blobs(); ++i) {
    QMAP_ASSIGN_OR_RETURN(Tensor t, c.blob_as_declared(i, "trained blob"));
    inputs.push_back(c.constant(fmt::format("blob{}", i), std::move(t)));
  }
  const int num_outputs = op->def->num_outputs;
  if (c.num_tops() != num_outputs)
    return c.error("{} tops: custom op {} ({}) produces {}", c.num_tops(), op->qualified_name(), op->library_name,
                   num_outputs);
  QMAP_ASSIGN_OR_RETURN(std::vector<ValueId> outs, c.custom_node(std::move(op), std::move(inputs), std::move(attrs), num_outputs));
  for (int i = 0; i < num_outputs; ++i) c.set_top(i, outs[static_cast<size_t>(i)]);
  return ok_status();
}

}  // namespace qmap::caffe_import
