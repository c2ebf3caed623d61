// Placement rules and the NPU subgraph split on hand-built graphs.
//
// The graphs use Relu nodes only (every IR has it) and inject each node's parameters, so the
// tests exercise the rules, not any op's npu_params hook: a node whose name starts with
// "cpu" reports kernel 9x9, which the test march rejects; the others report 3x3.
#include "target/placement.h"

#include <gtest/gtest.h>

namespace qmap {
namespace {

constexpr const char* kSpec = R"(
name: t
description: test march
cost_model: {clock_mhz: 1, int8_macs_per_cycle: 1, ddr_bandwidth_gbps: 1, sram_kib: 1, cpu_gflops: 1,
             subgraph_switch_us: 1}
npu_ops:
  Relu:
    kernel: {max: [7, 7]}
)";

TargetSpec spec_from(const std::string& yaml) {
  Result<TargetSpec> r = parse_target_spec(yaml, "t.yaml");
  QMAP_CHECK(r.ok(), "{}", r.status().message());
  return std::move(*r);
}

struct Builder {
  Graph g;
  ValueId input(const std::string& name) {
    const ValueId v = g.add_value(name, DType::kFloat32, Dims{1, 8, 4, 4});
    g.inputs.push_back(v);
    return v;
  }
  // Adds a Relu-typed node reading `ins`; returns its output.
  ValueId node(const std::string& name, std::vector<ValueId> ins, const std::string& op_type = "Relu") {
    Node n;
    n.name = name;
    n.op = OpId::Relu;
    n.op_type = op_type;
    n.inputs = std::move(ins);
    const ValueId out = g.add_value(name + "_out", DType::kFloat32, Dims{1, 8, 4, 4});
    n.outputs = {out};
    g.nodes.push_back(std::move(n));
    g.rebuild_producers();
    return out;
  }
  int index(const std::string& name) const {
    for (size_t i = 0; i < g.nodes.size(); ++i)
      if (g.nodes[i].name == name) return static_cast<int>(i);
    QMAP_CHECK(false, "no node {}", name);
  }
};

PlacementOptions injected() {
  PlacementOptions o;
  o.params = [](const Graph&, const Node& n) {
    const int64_t k = n.name.rfind("cpu", 0) == 0 ? 9 : 3;
    return OpParams{{"kernel", {k, k}, ""}};
  };
  return o;
}

struct Placed {
  Builder b;
  GraphPlacement p;
  const NodePlacement& at(const std::string& name) const { return p.nodes[static_cast<size_t>(b.index(name))]; }
  int sg(const std::string& name) const { return at(name).subgraph; }
};

Placed place(Builder b, const std::string& yaml = kSpec) {
  const TargetSpec spec = spec_from(yaml);
  GraphPlacement p = place_graph(b.g, spec, injected());
  return {std::move(b), std::move(p)};
}

TEST(Placement, NpuAndFallbackReason) {
  Builder b;
  const ValueId x = b.input("x");
  b.node("cpu_big", {b.node("a", {x})});
  const Placed r = place(std::move(b));
  EXPECT_EQ(r.at("a").where, Placement::kNpu);
  EXPECT_EQ(r.at("a").reason, "");
  EXPECT_EQ(r.at("cpu_big").where, Placement::kCpu);
  EXPECT_EQ(r.at("cpu_big").reason, "kernel 9x9 > 7x7");
  EXPECT_EQ(r.at("cpu_big").subgraph, -1);
  EXPECT_TRUE(r.p.unsupported_ops.empty());
}

TEST(Placement, CpuOnlyAndUnsupported) {
  const std::string cpu_spec = R"(
name: c
description: d
cost_model: {clock_mhz: 1, int8_macs_per_cycle: 1, ddr_bandwidth_gbps: 1, sram_kib: 1, cpu_gflops: 1,
             subgraph_switch_us: 1}
npu_ops: {}
)";
  {
    Builder b;
    b.node("a", {b.input("x")});
    const Placed r = place(std::move(b), cpu_spec + "cpu_ops:\n  Relu: test\n");
    EXPECT_EQ(r.at("a").where, Placement::kCpu);
    EXPECT_EQ(r.at("a").reason, "op not supported by the NPU of march c");
    EXPECT_EQ(r.p.num_subgraphs, 0);
  }
  {
    Builder b;
    const ValueId x = b.input("x");
    b.node("a", {x});
    b.node("b", {x});
    const Placed r = place(std::move(b), cpu_spec);
    EXPECT_EQ(r.at("a").where, Placement::kUnsupported);
    EXPECT_EQ(r.p.unsupported_ops, std::vector<std::string>{"Relu"});  // once, not per node
  }
}

TEST(Placement, FoldedAndRemoved) {
  Builder b;
  const ValueId x = b.input("x");
  const ValueId a = b.node("a", {x});
  const ValueId f = b.node("shape_like", {a});
  b.g.value(f).constant = Tensor::from_vector<int64_t>({4}, {1, 8, 4, 4});  // what shape inference sets
  const ValueId id = b.node("drop", {a}, "Dropout");
  b.node("c", {id, f});
  const Placed r = place(std::move(b));
  EXPECT_EQ(r.at("shape_like").where, Placement::kFolded);
  EXPECT_EQ(r.at("drop").where, Placement::kRemoved);
  // Dropout is transparent: a and c form one subgraph.
  EXPECT_EQ(r.p.num_subgraphs, 1);
  EXPECT_EQ(r.sg("a"), 0);
  EXPECT_EQ(r.sg("c"), 0);
}

TEST(Placement, ChainNpuCpuNpuIsTwoSubgraphs) {
  Builder b;
  b.node("c", {b.node("cpu_mid", {b.node("b", {b.node("a", {b.input("x")})})})});
  const Placed r = place(std::move(b));
  EXPECT_EQ(r.p.num_subgraphs, 2);
  EXPECT_EQ(r.sg("a"), 0);
  EXPECT_EQ(r.sg("b"), 0);
  EXPECT_EQ(r.sg("cpu_mid"), -1);
  EXPECT_EQ(r.sg("c"), 1);
}

TEST(Placement, ForcedPlacementDrivesTheSplit) {
  // Forcing 'b' to the CPU (run_on_cpu) splits a -> b -> c like a failed limit does; forcing
  // 'cpu_mid' (a rejected kernel) to the NPU (run_on_npu) joins everything in one subgraph.
  Builder b;
  b.node("c", {b.node("b", {b.node("a", {b.input("x")})})});
  PlacementOptions o = injected();
  o.forced["b"] = {Placement::kCpu, -1, "run_on_cpu"};
  const TargetSpec spec = spec_from(kSpec);
  const GraphPlacement p = place_graph(b.g, spec, o);
  EXPECT_EQ(p.num_subgraphs, 2);
  EXPECT_EQ(p.nodes[1].where, Placement::kCpu);
  EXPECT_EQ(p.nodes[1].reason, "run_on_cpu");
  EXPECT_EQ(p.nodes[2].subgraph, 1);

  Builder b2;
  b2.node("c", {b2.node("cpu_mid", {b2.node("a", {b2.input("x")})})});
  PlacementOptions o2 = injected();
  o2.forced["cpu_mid"] = {Placement::kNpu, -1, "run_on_npu"};
  const GraphPlacement p2 = place_graph(b2.g, spec, o2);
  EXPECT_EQ(p2.num_subgraphs, 1);
  EXPECT_EQ(p2.nodes[1].where, Placement::kNpu);
  EXPECT_EQ(p2.nodes[1].subgraph, 0);
}

// x -> a -> cpu_b -> d, a -> c -> d: d may not join a's subgraph (a -> cpu_b -> d would
// make the subgraph wait for the CPU node that waits for it).
TEST(Placement, DiamondWithCpuBranch) {
  Builder b;
  const ValueId a = b.node("a", {b.input("x")});
  const ValueId cpu = b.node("cpu_b", {a});
  const ValueId c = b.node("c", {a});
  b.node("d", {cpu, c});
  const Placed r = place(std::move(b));
  EXPECT_EQ(r.p.num_subgraphs, 2);
  EXPECT_EQ(r.sg("a"), 0);
  EXPECT_EQ(r.sg("c"), 0);
  EXPECT_EQ(r.sg("d"), 1);
}

TEST(Placement, DiamondAllNpuIsOneSubgraph) {
  Builder b;
  const ValueId a = b.node("a", {b.input("x")});
  b.node("d", {b.node("b", {a}), b.node("c", {a})});
  const Placed r = place(std::move(b));
  EXPECT_EQ(r.p.num_subgraphs, 1);
}

// Two NPU branches behind a CPU node meet: they merge into one subgraph.
TEST(Placement, IndependentBranchesMergeWhereTheyMeet) {
  Builder b;
  const ValueId cpu = b.node("cpu_0", {b.input("x")});
  b.node("add", {b.node("a", {cpu}), b.node("b", {cpu})});
  const Placed r = place(std::move(b));
  EXPECT_EQ(r.p.num_subgraphs, 1);
  EXPECT_EQ(r.sg("a"), r.sg("b"));
  EXPECT_EQ(r.sg("add"), r.sg("a"));
}

// a -> cpu -> b; {a, b} -> d. d can join b's subgraph but not a's, and a's and b's
// subgraphs must not merge (a -> cpu -> b leaves a's subgraph).
TEST(Placement, MergeRefusedAcrossCpuPath) {
  Builder b;
  const ValueId a = b.node("a", {b.input("x")});
  const ValueId bb = b.node("b", {b.node("cpu", {a})});
  b.node("d", {a, bb});
  const Placed r = place(std::move(b));
  EXPECT_EQ(r.p.num_subgraphs, 2);
  EXPECT_EQ(r.sg("a"), 0);
  EXPECT_EQ(r.sg("b"), 1);
  EXPECT_EQ(r.sg("d"), 1);
}

// Node order p, t, cpu, q, r: p, q and r form one subgraph, which waits for cpu, which
// waits for t's subgraph. Numbering follows execution, not the first node: t is id(0).
TEST(Placement, SubgraphsNumberedTopologically) {
  Builder b;
  const ValueId x = b.input("x");
  const ValueId p = b.node("p", {x});
  const ValueId t = b.node("t", {x});
  const ValueId q = b.node("q", {b.node("cpu", {t})});
  b.node("r", {p, q});
  const Placed r = place(std::move(b));
  EXPECT_EQ(r.p.num_subgraphs, 2);
  EXPECT_EQ(r.sg("t"), 0);
  EXPECT_EQ(r.sg("p"), 1);
  EXPECT_EQ(r.sg("q"), 1);
  EXPECT_EQ(r.sg("r"), 1);
}

// Generic parameters from the graph itself (no injection): rank, dtype, tensor_elements.
TEST(Placement, GenericLimitsFromGraph) {
  const std::string spec = R"(
name: g
description: d
cost_model: {clock_mhz: 1, int8_macs_per_cycle: 1, ddr_bandwidth_gbps: 1, sram_kib: 1, cpu_gflops: 1,
             subgraph_switch_us: 1}
npu_defaults:
  rank: {max: 3}
  dtype: {in: [float32]}
  tensor_elements: {max: 100}
npu_ops:
  Relu:
)";
  Builder b;
  b.node("a", {b.input("x")});
  const TargetSpec s = spec_from(spec);
  GraphPlacement p = place_graph(b.g, s);
  EXPECT_EQ(p.nodes[0].reason, "rank 4 > 3");

  b.g.value(b.g.inputs[0]).dims = Dims{1, 8, 8};
  b.g.value(b.g.nodes[0].outputs[0]).dims = Dims{1, 8, 8};
  p = place_graph(b.g, s);
  EXPECT_EQ(p.nodes[0].where, Placement::kNpu) << p.nodes[0].reason;

  b.g.value(b.g.inputs[0]).dims = Dims{1, 8, 16};
  p = place_graph(b.g, s);
  EXPECT_EQ(p.nodes[0].reason, "tensor_elements 128 > 100");

  b.g.value(b.g.inputs[0]).dims = Dims{1, 8, 8};
  b.g.value(b.g.inputs[0]).dtype = DType::kInt64;
  p = place_graph(b.g, s);
  EXPECT_EQ(p.nodes[0].reason, "dtype int64 not in {float32}");

  const OpParams params = node_params(b.g, b.g.nodes[0]);
  ASSERT_FALSE(params.empty());
  EXPECT_EQ(params.back().name, "dynamic_inputs");
  EXPECT_EQ(params.back().ints, std::vector<int64_t>{1});
}

}  // namespace
}  // namespace qmap
