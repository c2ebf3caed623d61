// Tests of the graph-editing primitives the passes share.
#include "passes/graph_edit.h"

#include "passes/pass_test_util.h"

namespace qmap {
namespace {

TEST(PruneGraph, DropsDeadChainsAndUnusedValuesAndRenumbers) {
  testing::GraphBuilder b;
  const ValueId x = b.input("x", {2, 2});
  const ValueId unused_input = b.input("unused", {1});
  const ValueId dead1 = b.node("Relu", "dead1", {x});
  b.node("Mul", "dead2", {dead1, b.random("dead_k", {2}, 1)});  // read by nothing
  const ValueId y = b.node("Add", "add", {x, b.random("k", {2}, 2)});
  Graph g = b.build({y});
  prune_graph(g);
  EXPECT_EQ(dump_graph(g),
            "graph '' opset 17\n"
            "input  %x: float32[2x2]\n"
            "input  %unused: float32[1]\n"
            "const  %k: float32[2]\n"
            "%add: float32[2x2] = Add 'add' (%x, %k)\n"
            "output %add\n");
  EXPECT_TRUE(verify_graph(g).ok());
  EXPECT_EQ(g.value(g.nodes[0].outputs[0]).producer, 0);
  (void)unused_input;
}

TEST(AbsorbConsumer, ProducerWritesTheConsumersOutput) {
  testing::GraphBuilder b;
  const ValueId x = b.input("x", {2});
  const ValueId r = b.node("Relu", "relu", {x});
  const ValueId y = b.node("Identity", "id", {r});
  Graph g = b.build({y});
  absorb_consumer(g, 0, 1);
  prune_graph(g);
  EXPECT_EQ(testing::op_sequence(g), "Relu");
  EXPECT_EQ(g.value(g.outputs[0]).name, "id");
  EXPECT_TRUE(verify_graph(g).ok());
}

}  // namespace
}  // namespace qmap
