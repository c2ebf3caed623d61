// Tests of output_nodes and remove_node_type.
#include "passes/model_boundary.h"

#include "passes/pass_test_util.h"

namespace qmap {
namespace {

using testing::GraphBuilder;
using testing::op_sequence;

Graph small_model() {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 4, 4, 3});
  const ValueId t = b.node("Transpose", "to_nchw", {x}, {{"perm", Dims{0, 3, 1, 2}}});
  const ValueId conv = b.node("Conv", "conv", {t, b.random("w", {2, 3, 1, 1}, 1)});
  const ValueId relu = b.node("Relu", "relu", {conv});
  const ValueId flat = b.node("Reshape", "reshape", {relu, b.constant("shape", Tensor::from_vector<int64_t>({2}, {1, -1}))});
  const ValueId y = b.node("Softmax", "softmax", {flat});
  return b.build({y});
}

TEST(SetOutputNodes, NodeAndValueNamesBecomeOutputs) {
  Graph g = small_model();
  ASSERT_TRUE(set_output_nodes(g, {"conv", "relu", "softmax"}).ok());
  std::vector<std::string> names;
  for (ValueId o : g.outputs) names.push_back(g.value(o).name);
  EXPECT_EQ(names, (std::vector<std::string>{"softmax", "conv", "relu"}));
  EXPECT_TRUE(verify_graph(g).ok());
}

TEST(SetOutputNodes, UnknownNameAndConstantAreErrors) {
  Graph g = small_model();
  EXPECT_EQ(set_output_nodes(g, {"conv", "nope"}).message(), "output_nodes: no node or value named 'nope'");
  EXPECT_EQ(set_output_nodes(g, {"w"}).message(),
            "output_nodes: 'w' is a constant (initializer): an output must be computed");
}

TEST(RemoveNodeTypes, BoundaryNodesGoInteriorNodesStay) {
  const Graph before = small_model();
  Graph g = before;
  std::vector<std::string> removed;
  ASSERT_TRUE(remove_node_types(g, {"Transpose", "Softmax", "Reshape"}, &removed).ok());
  EXPECT_EQ(removed, (std::vector<std::string>{"to_nchw", "softmax", "reshape"}));
  EXPECT_EQ(dump_graph(g),
            "graph '' opset 17\n"
            "input  %x: float32[1x3x4x4]\n"
            "const  %w: float32[2x3x1x1]\n"
            "%conv: float32[1x2x4x4] = Conv 'conv' (%x, %w)\n"
            "%softmax: float32[1x2x4x4] = Relu 'relu' (%conv)\n"
            "output %softmax\n");
  EXPECT_TRUE(verify_graph(g).ok());
}

TEST(RemoveNodeTypes, OnlyListedTypesAndOnlyAtTheBoundary) {
  Graph g = small_model();
  std::vector<std::string> removed;
  // Reshape is not at the output while the Softmax is there.
  ASSERT_TRUE(remove_node_types(g, {"Reshape", "Cast"}, &removed).ok());
  EXPECT_TRUE(removed.empty());
  EXPECT_EQ(op_sequence(g), "Transpose Conv Relu Reshape Softmax");
}

TEST(RemoveNodeTypes, InputWithTwoReadersKeepsItsNode) {
  GraphBuilder b;
  const ValueId x = b.input("x", {2, 3});
  const ValueId c = b.node("Cast", "cast", {x}, {{"to", int64_t{1}}});
  const ValueId y = b.node("Add", "add", {c, x});
  Graph g = b.build({y});
  std::vector<std::string> removed;
  ASSERT_TRUE(remove_node_types(g, {"Cast"}, &removed).ok());
  EXPECT_TRUE(removed.empty());
}

TEST(RemoveNodeTypes, UnsupportedTypeIsAnError) {
  Graph g = small_model();
  EXPECT_EQ(remove_node_types(g, {"Conv"}, nullptr).message(),
            "remove_node_type: 'Conv' cannot be removed: the allowed types are Transpose, Quantize, Cast, "
            "Reshape (at inputs) and Transpose, Dequantize, Cast, Reshape, Softmax (at outputs)");
}

}  // namespace
}  // namespace qmap
