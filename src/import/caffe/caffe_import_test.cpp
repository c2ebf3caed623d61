// Caffe importer tests: the generated models of tests/data/caffe (tools/gen_caffe_models.py)
// run through the float engine against PyTorch's outputs, the ONNX export round trip, and
// one test per class of bad input.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "engine/float_engine.h"
#include "import/caffe/caffe.pb.h"
#include "import/caffe/caffe_import.h"
#include "import/onnx/onnx_export.h"
#include "import/onnx/onnx_import.h"
#include "ops/custom/custom_op.h"
#include "ops/registry.h"
#include "test_util.h"

namespace qmap {
namespace {

namespace fs = std::filesystem;

fs::path data_dir(const std::string& c) { return fs::path(QMAP_SOURCE_DIR) / "tests" / "data" / "caffe" / c; }

// Tolerance: 1e-4 of the expected output's range. PyTorch and the float engine sum in
// different orders (im2col + sgemm vs PyTorch's kernels) and Caffe's pooling divisor
// correction multiplies by k*k/count instead of dividing by count: both are float32
// rounding differences of a few ulp per accumulated term, far below 1e-4 of the range,
// while any mapping error (a wrong window, pad, axis or coefficient) moves outputs by a
// sizeable fraction of it.
::testing::AssertionResult near_range(const Tensor& got, const Tensor& want) {
  auto w = want.to_double();
  double lo = w.empty() ? 0 : w[0], hi = lo;
  for (double v : w) lo = std::min(lo, v), hi = std::max(hi, v);
  const double range = std::max(hi - lo, std::max(std::fabs(hi), std::fabs(lo)));
  return testing::tensors_near(got, want, 1e-4 * std::max(range, 1e-6), 0.0);
}

// custom_ops: plugins whose ops replace the layer types they claim (the outputs must not change).
void run_case(const std::string& name, const CustomOpSet* custom_ops = nullptr) {
  const fs::path dir = data_dir(name);
  ASSERT_TRUE(fs::exists(dir / "deploy.prototxt")) << dir << ": run tools/gen_caffe_models.py";
  CaffeImportOptions options;
  options.custom_ops = custom_ops;
  auto g = import_caffe((dir / "deploy.prototxt").string(), (dir / "model.caffemodel").string(), options);
  ASSERT_TRUE(g.ok()) << g.status().message();
  std::vector<Tensor> inputs;
  for (ValueId id : g->inputs) {
    auto t = read_caffe_blob((dir / ("input_" + g->value(id).name + ".binaryproto")).string());
    ASSERT_TRUE(t.ok()) << t.status().message();
    inputs.push_back(*t);
  }
  auto engine = FloatEngine::create(*g);
  ASSERT_TRUE(engine.ok()) << engine.status().message();
  auto outs = engine->run(inputs);
  ASSERT_TRUE(outs.ok()) << outs.status().message();
  int compared = 0;
  for (size_t i = 0; i < g->outputs.size(); ++i) {
    const std::string out_name = g->value(g->outputs[i]).name;
    const fs::path want_path = dir / ("output_" + out_name + ".binaryproto");
    ASSERT_TRUE(fs::exists(want_path)) << "graph output '" << out_name << "' has no expected file " << want_path;
    auto want = read_caffe_blob(want_path.string());
    ASSERT_TRUE(want.ok()) << want.status().message();
    EXPECT_TRUE(near_range((*outs)[i], *want)) << name << " output '" << out_name << "'";
    ++compared;
  }
  EXPECT_GT(compared, 0);

  // The imported model exported as ONNX (the _original_float_model.onnx path) re-imports
  // and computes the same outputs.
  const fs::path onnx_path = fs::path(::testing::TempDir()) / ("caffe_" + name + ".onnx");
  ASSERT_TRUE(export_onnx(*g, onnx_path.string()).ok());
  OnnxImportOptions onnx_options;
  onnx_options.custom_ops = custom_ops;
  auto g2 = import_onnx(onnx_path.string(), onnx_options);
  ASSERT_TRUE(g2.ok()) << g2.status().message();
  auto e2 = FloatEngine::create(*g2);
  ASSERT_TRUE(e2.ok()) << e2.status().message();
  auto outs2 = e2->run(inputs);
  ASSERT_TRUE(outs2.ok()) << outs2.status().message();
  ASSERT_EQ(outs2->size(), outs->size());
  for (size_t i = 0; i < outs->size(); ++i)
    EXPECT_TRUE(testing::tensors_near((*outs2)[i], (*outs)[i], 0, 0)) << "ONNX round trip, output " << i;
}

class CaffeModels : public ::testing::TestWithParam<const char*> {};

TEST_P(CaffeModels, MatchesPyTorch) { run_case(GetParam()); }

INSTANTIATE_TEST_SUITE_P(Generated, CaffeModels,
                         ::testing::Values("pooling", "bn_scale", "eltwise", "group_conv", "deconv", "inner_product",
                                           "slice_concat", "activations", "shapes", "misc", "v1",
                                           "v2_proto_v1_model"),
                         [](const auto& info) { return std::string(info.param); });

// A plugin that claims a layer type maps those layers to its op instead of qmap's mapping:
// misc's two Normalize layers (per channel, across_spatial false; and channel_shared with
// Caffe's default across_spatial true, given by no field) become the example plugin's
// Normalize, and still match PyTorch (the attributes carry Caffe's defaults, the scale blob
// is the op's second input).
TEST(CaffeImport, PluginOpsReplaceTheLayersTheyClaim) {
  auto plugin = CustomOpSet::load({QMAP_NORMALIZE_PLUGIN});
  ASSERT_TRUE(plugin.ok()) << plugin.status().message();
  run_case("misc", &*plugin);
  const fs::path dir = data_dir("misc");
  CaffeImportOptions options;
  options.custom_ops = &*plugin;
  auto g = import_caffe((dir / "deploy.prototxt").string(), (dir / "model.caffemodel").string(), options);
  ASSERT_TRUE(g.ok()) << g.status().message();
  std::map<std::string, const Node*> custom;
  for (const Node& n : g->nodes)
    if (n.op == OpId::Custom) custom[n.name] = &n;
  ASSERT_EQ(custom.size(), 2u);
  const Node& all = *custom.at("norm_all");
  EXPECT_EQ(all.domain, "qmap.example");
  EXPECT_EQ(all.op_type, "Normalize");
  EXPECT_EQ(attr_int(all, "across_spatial", -1), 1);  // Caffe's default, from caffe.proto
  EXPECT_EQ(attr_int(all, "channel_shared", -1), 1);
  EXPECT_EQ(attr_int(*custom.at("norm"), "across_spatial", -1), 0);
  EXPECT_FLOAT_EQ(attr_float(all, "eps", 0), 1e-10f);
  ASSERT_EQ(all.inputs.size(), 2u);
  EXPECT_EQ(g->value(all.inputs[1]).constant->dims(), Dims{1});  // the trained scale blob
}

// ---------------------------------------------------------------- structure of the IR

TEST(CaffeImport, InPlaceLayersKeepBlobNamesAndOutputsAreUnconsumedBlobs) {
  const fs::path dir = data_dir("v1");
  auto g = import_caffe((dir / "deploy.prototxt").string(), (dir / "model.caffemodel").string());
  ASSERT_TRUE(g.ok()) << g.status().message();
  ASSERT_EQ(g->outputs.size(), 1u);
  EXPECT_EQ(g->value(g->outputs[0]).name, "prob");
  // relu1 runs in place on pool1: the ReLU's output carries the blob name.
  bool found = false;
  for (const Node& n : g->nodes)
    if (n.name == "relu1") {
      found = true;
      EXPECT_EQ(g->value(n.outputs[0]).name, "pool1");
      EXPECT_EQ(g->value(n.inputs[0]).name, "pool1/before_relu1");
    }
  EXPECT_TRUE(found);
}

// ---------------------------------------------------------------- bad input

fs::path write_temp(const std::string& name, const std::string& content) {
  const fs::path p = fs::path(::testing::TempDir()) / name;
  std::ofstream(p, std::ios::binary) << content;
  return p;
}

std::string import_error(const fs::path& proto, const fs::path& model, std::vector<std::string>* unsupported = nullptr) {
  CaffeImportOptions opt;
  opt.unsupported_ops = unsupported;
  auto g = import_caffe(proto.string(), model.string(), opt);
  EXPECT_FALSE(g.ok());
  return g.ok() ? "" : g.status().message();
}

const char* kReluNet = R"(name: "t"
input: "data"
input_shape { dim: 1 dim: 2 dim: 3 dim: 3 }
layer { name: "relu" type: "ReLU" bottom: "data" top: "out" }
)";

TEST(CaffeImportErrors, MalformedPrototxtNamesLineAndColumn) {
  const auto proto = write_temp("bad_field.prototxt", std::string(kReluNet) + "layer {\n  name: \"x\"\n  colour: 3\n}\n");
  const auto model = data_dir("v1") / "model.caffemodel";
  const std::string m = import_error(proto, model);
  EXPECT_NE(m.find("caffe import: file '" + proto.string() + "': not a valid prototxt: line 7 column "), std::string::npos) << m;
  EXPECT_NE(m.find("colour"), std::string::npos) << m;
  const auto proto2 = write_temp("bad_brace.prototxt", "layer { name: \"a\"\n");
  const std::string m2 = import_error(proto2, model);
  EXPECT_NE(m2.find("line 2 column"), std::string::npos) << m2;
}

TEST(CaffeImportErrors, CaffemodelThatDoesNotMatchNamesLayerBlobAndShapes) {
  // The v1 prototxt's conv1 is 4 x 1 x 3 x 3; give it 4 x 1 x 5 x 5 weights.
  caffe::NetParameter net;
  auto* l = net.add_layer();
  l->set_name("conv1");
  l->set_type("Convolution");
  auto* w = l->add_blobs();
  for (int64_t d : {4, 1, 5, 5}) w->mutable_shape()->add_dim(d);
  for (int i = 0; i < 100; ++i) w->add_data(0.f);
  auto* b = l->add_blobs();
  b->mutable_shape()->add_dim(4);
  for (int i = 0; i < 4; ++i) b->add_data(0.f);
  const auto model = write_temp("mismatch.caffemodel", net.SerializeAsString());
  const std::string m = import_error(data_dir("v1") / "deploy.prototxt", model);
  EXPECT_NE(m.find("file '" + model.string() + "': layer 'conv1' (Convolution): blob 0 (weights) has shape 4x1x5x5: the layer expects 4x1x3x3"),
            std::string::npos) << m;
  // Wrong blob count.
  l->mutable_blobs()->RemoveLast();
  const auto model2 = write_temp("mismatch2.caffemodel", net.SerializeAsString());
  const std::string m2 = import_error(data_dir("v1") / "deploy.prototxt", model2);
  EXPECT_NE(m2.find("layer 'conv1' (Convolution): has 1 blobs: expected 2 (weights, bias)"), std::string::npos) << m2;
}

TEST(CaffeImportErrors, UnknownLayerTypesListedAtOnce) {
  const auto proto = write_temp("unknown.prototxt", std::string(kReluNet) +
      "layer { name: \"a\" type: \"Foo\" bottom: \"out\" top: \"a\" }\n"
      "layer { name: \"b\" type: \"Bar\" bottom: \"a\" top: \"b\" }\n"
      "layer { name: \"c\" type: \"Foo\" bottom: \"b\" top: \"c\" }\n");
  std::vector<std::string> unsupported;
  const std::string m = import_error(proto, data_dir("v1") / "model.caffemodel", &unsupported);
  EXPECT_NE(m.find("qmap does not support these operators: {Bar, Foo}"), std::string::npos) << m;
  EXPECT_EQ(unsupported, (std::vector<std::string>{"Bar", "Foo"}));
}

// A layer type qmap has no mapping for is imported when a plugin claims it, and reported as
// unsupported when none does.
TEST(CaffeImport, UnknownLayerTypeClaimedByAPlugin) {
  const auto proto = write_temp("clamp.prototxt", std::string(kReluNet) +
      "layer { name: \"clamp\" type: \"Clamp1000\" bottom: \"out\" top: \"clamped\" }\n");
  caffe::NetParameter empty;
  empty.set_name("t");
  const auto model = write_temp("clamp.caffemodel", empty.SerializeAsString());
  std::vector<std::string> unsupported;
  EXPECT_NE(import_error(proto, model, &unsupported).find("qmap does not support these operators: {Clamp1000}"),
            std::string::npos);
  auto plugin = CustomOpSet::load({QMAP_TEST_PLUGIN_OK});
  ASSERT_TRUE(plugin.ok()) << plugin.status().message();
  CaffeImportOptions options;
  options.custom_ops = &*plugin;
  auto g = import_caffe(proto.string(), model.string(), options);
  ASSERT_TRUE(g.ok()) << g.status().message();
  const Node& n = g->nodes.back();
  EXPECT_EQ(n.op, OpId::Custom);
  EXPECT_EQ(n.name, "clamp");
  EXPECT_EQ(g->value(g->outputs[0]).name, "clamped");
  EXPECT_EQ(*g->value(g->outputs[0]).dims, (Dims{1, 2, 3, 3}));
}

TEST(CaffeImportErrors, BottomThatNoLayerProduces) {
  const auto proto = write_temp("dangling.prototxt", std::string(kReluNet) +
      "layer { name: \"sig\" type: \"Sigmoid\" bottom: \"nothere\" top: \"s\" }\n");
  const std::string m = import_error(proto, data_dir("v1") / "model.caffemodel");
  EXPECT_NE(m.find("layer 'sig' (Sigmoid): bottom 'nothere' is produced by no earlier layer or input"), std::string::npos) << m;
}

TEST(CaffeImportErrors, TruncatedCaffemodel) {
  std::ifstream in(data_dir("v1") / "model.caffemodel", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 100u);
  const auto model = write_temp("truncated.caffemodel", bytes.substr(0, bytes.size() / 2));
  const std::string m = import_error(data_dir("v1") / "deploy.prototxt", model);
  EXPECT_NE(m.find("file '" + model.string() + "': not a valid caffemodel"), std::string::npos) << m;
  EXPECT_NE(m.find("truncated"), std::string::npos) << m;
}

TEST(CaffeImportErrors, LayerWithoutWeightsInTheCaffemodel) {
  caffe::NetParameter empty;
  empty.set_name("nothing");
  empty.add_layer()->set_name("unrelated");
  const auto model = write_temp("noweights.caffemodel", empty.SerializeAsString());
  const std::string m = import_error(data_dir("v1") / "deploy.prototxt", model);
  EXPECT_NE(m.find("layer 'conv1' (Convolution): has no trained blobs in the caffemodel: expected 2 (weights, bias)"),
            std::string::npos) << m;
}

TEST(CaffeImportErrors, InputWithoutShapeAndBadInputShapeOverride) {
  const auto proto = write_temp("noshape.prototxt", "input: \"data\"\nlayer { name: \"r\" type: \"ReLU\" bottom: \"data\" top: \"r\" }\n");
  const auto model = data_dir("v1") / "model.caffemodel";
  EXPECT_NE(import_error(proto, model).find("input 'data' has no shape"), std::string::npos);
  CaffeImportOptions opt;
  opt.input_shapes["data"] = {1, 3, 4, 4};
  auto g = import_caffe(proto.string(), model.string(), opt);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(*g->value(g->outputs[0]).dims, (Dims{1, 3, 4, 4}));
  opt.input_shapes = {{"image", {1, 3, 4, 4}}};
  auto bad = import_caffe(write_temp("shaped.prototxt", kReluNet).string(), model.string(), opt);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--input-shape names 'image'"), std::string::npos) << bad.status().message();
}

TEST(CaffeImportErrors, TrainPhaseLayersAreSkipped) {
  // A TRAIN-only layer of an unsupported type is not part of the deploy net.
  const auto proto = write_temp("phase.prototxt", std::string(kReluNet) +
      "layer { name: \"loss\" type: \"SoftmaxWithLoss\" bottom: \"out\" top: \"loss\" include { phase: TRAIN } }\n");
  auto g = import_caffe(proto.string(), (data_dir("v1") / "model.caffemodel").string());
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->value(g->outputs[0]).name, "out");
}

}  // namespace
}  // namespace qmap
