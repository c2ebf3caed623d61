#include "engine/float_engine.h"

#include <gtest/gtest.h>

#include "ops/registry.h"

namespace qmap {
namespace {

void add_node(Graph& g, const std::string& op, std::vector<ValueId> ins, ValueId out) {
  Node n;
  n.name = op + std::to_string(g.nodes.size());
  n.op = *op_by_name(op);
  n.op_type = op;
  n.inputs = std::move(ins);
  n.outputs = {out};
  g.nodes.push_back(std::move(n));
}

// a = x + x; b = Relu(a); c = b + x. Relu and the second Add may reuse their dying input's
// buffer (OpDef::in_place); the caller's x and, with keep_all_values, the kept a and b must
// not change.
Graph chain_graph() {
  Graph g;
  const Dims d = {1, 4};
  const ValueId x = g.add_value("x", DType::kFloat32, d);
  const ValueId a = g.add_value("a", DType::kFloat32, d);
  const ValueId b = g.add_value("b", DType::kFloat32, d);
  const ValueId c = g.add_value("c", DType::kFloat32, d);
  g.inputs = {x};
  add_node(g, "Add", {x, x}, a);
  add_node(g, "Relu", {a}, b);
  add_node(g, "Add", {b, x}, c);
  g.outputs = {c};
  g.rebuild_producers();
  return g;
}

std::vector<float> values(const Tensor& t) {
  auto s = t.data<float>();
  return {s.begin(), s.end()};
}

TEST(FloatEngine, InPlaceOpsLeaveSharedBuffersAlone) {
  for (bool keep : {false, true}) {
    auto e = FloatEngine::create(chain_graph(), {.keep_all_values = keep});
    ASSERT_TRUE(e.ok()) << e.status().message();
    const Tensor x = Tensor::from_vector<float>({1, 4}, {-2.f, -0.5f, 1.f, 3.f});
    auto out = e->run({x});
    ASSERT_TRUE(out.ok()) << out.status().message();
    EXPECT_EQ(values((*out)[0]), (std::vector<float>{-2.f, -0.5f, 3.f, 9.f})) << "keep " << keep;
    EXPECT_EQ(values(x), (std::vector<float>{-2.f, -0.5f, 1.f, 3.f})) << "keep " << keep;
    if (keep) {
      EXPECT_EQ(values(e->all_values().at("a")), (std::vector<float>{-4.f, -1.f, 2.f, 6.f}));
      EXPECT_EQ(values(e->all_values().at("b")), (std::vector<float>{0.f, 0.f, 2.f, 6.f}));
    }
  }
}

}  // namespace
}  // namespace qmap
