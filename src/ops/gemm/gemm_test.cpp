#include "ops/common/conv_pool_test_util.h"
#include "op_example.h"

namespace qmap {
namespace {

using testing::fails_with;
using testing::infer_op;

// Y = alpha * op(A) * op(B) + beta * C by a plain loop (the expectation for random inputs).
Tensor naive_gemm(const Tensor& a, const Tensor& b, const Tensor* c, bool ta, bool tb, float alpha,
                  float beta) {
  const int64_t m = ta ? a.dims()[1] : a.dims()[0], k = ta ? a.dims()[0] : a.dims()[1];
  const int64_t n = tb ? b.dims()[0] : b.dims()[1];
  Tensor y(DType::kFloat32, {m, n});
  auto av = a.data<float>(), bv = b.data<float>();
  for (int64_t i = 0; i < m; ++i)
    for (int64_t j = 0; j < n; ++j) {
      double acc = 0;
      for (int64_t p = 0; p < k; ++p)
        acc += double(ta ? av[p * m + i] : av[i * k + p]) * (tb ? bv[j * k + p] : bv[p * n + j]);
      double cv = 0;
      if (c) {
        const Dims& cd = c->dims();
        const int64_t ci = cd.size() == 2 ? (cd[0] == 1 ? 0 : i) : 0;
        const int64_t cj = cd.empty() ? 0 : (cd.back() == 1 ? 0 : j);
        cv = c->data<float>()[static_cast<size_t>(cd.size() == 2 ? ci * cd[1] + cj : cj)];
      }
      y.data<float>()[static_cast<size_t>(i * n + j)] = static_cast<float>(alpha * acc + beta * cv);
    }
  return y;
}

TEST(GemmOp, MatchesNaiveForAllAttributeAndBiasForms) {
  uint32_t seed = 1;
  const int64_t m = 5, k = 7, n = 3;
  for (bool ta : {false, true})
    for (bool tb : {false, true})
      for (const Dims& cd : {Dims{}, Dims{1}, Dims{n}, Dims{1, n}, Dims{m, 1}, Dims{m, n}}) {
        Tensor a = testing::random_tensor(ta ? Dims{k, m} : Dims{m, k}, seed++);
        Tensor b = testing::random_tensor(tb ? Dims{n, k} : Dims{k, n}, seed++);
        Tensor c = testing::random_tensor(cd, seed++);
        std::map<std::string, AttrValue> attrs{{"transA", int64_t{ta}}, {"transB", int64_t{tb}},
                                               {"alpha", 0.25f}, {"beta", 0.35f}};
        auto y = testing::run_op("Gemm", {&a, &b, &c}, attrs);
        ASSERT_TRUE(y.ok()) << y.status().message();
        EXPECT_TRUE(testing::tensors_near((*y)[0], naive_gemm(a, b, &c, ta, tb, 0.25f, 0.35f)))
            << "ta " << ta << " tb " << tb << " C " << dims_str(cd);
      }
  // No C.
  Tensor a = testing::random_tensor({2, 10}, 90), b = testing::random_tensor({10, 3}, 91);
  auto y = testing::run_op("Gemm", {&a, &b});
  ASSERT_TRUE(y.ok());
  EXPECT_TRUE(testing::tensors_near((*y)[0], naive_gemm(a, b, nullptr, false, false, 1.f, 1.f)));
}

TEST(GemmOp, SmallGolden) {
  // [[1, 2], [3, 4]] x [[1, 0], [0, 1]] + [10, 20] = [[11, 22], [13, 24]] (by hand).
  Tensor a = Tensor::from_vector<float>({2, 2}, {1, 2, 3, 4});
  Tensor b = Tensor::from_vector<float>({2, 2}, {1, 0, 0, 1});
  Tensor c = Tensor::from_vector<float>({2}, {10, 20});
  auto y = testing::run_op("Gemm", {&a, &b, &c});
  ASSERT_TRUE(y.ok());
  EXPECT_TRUE(testing::tensors_near((*y)[0], Tensor::from_vector<float>({2, 2}, {11, 22, 13, 24})));
}

TEST(GemmOp, ShapesRejectionsAndParams) {
  Tensor w = testing::random_tensor({1000, 512}, 3);
  auto r = infer_op("Gemm", {{Dims{1, 512}}, {Dims{1000, 512}, DType::kFloat32, &w}, {Dims{1000}}},
                    {{"transB", int64_t{1}}});
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(*r.outputs[0].dims, (Dims{1, 1000}));
  EXPECT_EQ(testing::find_param(r.params, "in_channels")->ints, (std::vector<int64_t>{512}));
  EXPECT_EQ(testing::find_param(r.params, "out_channels")->ints, (std::vector<int64_t>{1000}));
  EXPECT_EQ(testing::find_param(r.params, "weights_constant")->ints, (std::vector<int64_t>{1}));
  EXPECT_TRUE(fails_with(infer_op("Gemm", {{Dims{2, 3}}, {Dims{4, 5}}}).status,
                         "inner dimensions differ: op(A) is 2x3, op(B) is 4x5"));
  EXPECT_TRUE(fails_with(infer_op("Gemm", {{Dims{2, 3, 1}}, {Dims{3, 5}}}).status, "both must be 2-D"));
  EXPECT_TRUE(fails_with(infer_op("Gemm", {{Dims{2, 3}}, {Dims{3, 5}}, {Dims{2, 4}}}).status,
                         "C has shape 2x4: must be unidirectionally broadcastable to the output 2x5"));
  EXPECT_TRUE(fails_with(infer_op("Gemm", {{Dims{2, 3}}, {Dims{3, 5}}, {Dims{3, 2, 5}}}).status,
                         "unidirectionally broadcastable"));
  EXPECT_TRUE(fails_with(infer_op("Gemm", {{Dims{2, 3}}, {Dims{3, 5}}}, {{"transA", int64_t{2}}}).status,
                         "transA 2 must be 0 or 1"));
  r = infer_op("Gemm", {{std::nullopt}, {Dims{3, 5}}});
  ASSERT_TRUE(r.status.ok());
  EXPECT_FALSE(r.outputs[0].dims.has_value());
}

TEST(GemmOp, UpgradeDropsBroadcast) {
  Graph g;
  Node n;
  n.name = "fc";
  n.op = OpId::Gemm;
  n.op_type = "Gemm";
  n.attrs = {{"broadcast", int64_t{1}}, {"transB", int64_t{1}}};
  std::vector<Node> nodes{n};
  const OpDef& def = op_def(OpId::Gemm);
  ASSERT_TRUE(def.upgrade_onnx(g, 6, nodes).ok());
  EXPECT_FALSE(nodes[0].has_attr("broadcast"));
  EXPECT_TRUE(nodes[0].has_attr("transB"));
  // From opset 7 on `broadcast` is not part of Gemm: left for attribute validation to reject.
  nodes = {n};
  ASSERT_TRUE(def.upgrade_onnx(g, 13, nodes).ok());
  EXPECT_TRUE(nodes[0].has_attr("broadcast"));
}

// The one-node model PlacementAgreement converts on every march (tests/op_example.h).
QMAP_OP_EXAMPLE(Gemm, {.x = {1, 16}, .build = [](testing::GraphBuilder& b, ValueId x) {
  return std::vector<ValueId>{b.node("Gemm", "n", {x, b.random("w", {16, 8}, 5), b.random("c", {8}, 6)})};
}});

}  // namespace
}  // namespace qmap
