// Executor: the arena-planned run gives byte-identical outputs to a run where every tensor
// has its own memory (what the simulator did before it ran on the runtime's executor: one
// fresh buffer per step output, nothing reused) and to IntSimulator, on graphs covering every
// step kind, over several random inputs. The kernel calls moved unchanged from the simulator,
// so memory reuse is the one new way to go wrong, and this comparison is what catches it.
// prepare() rejects broken programs with messages naming the step and the rule.
#include "runtime/executor.h"

#include <gtest/gtest.h>

#include <cstring>

#include "ops/registry.h"
#include "program/step_check.h"
#include "quant/int_simulator.h"
#include "quant/lower.h"
#include "runtime/runtime_test_graphs.h"

namespace qmap::rt {
namespace {

struct Case {
  std::string name;
  Graph g;
  std::vector<Tensor> like;
};

std::vector<Case> cases() {
  std::vector<Case> out;
  for (uint32_t seed : {1u, 2u, 3u}) {
    auto net = testing::runtime_test_net(seed);
    out.push_back({"runtime_test_net seed " + std::to_string(seed), net.qdq, net.inputs});
  }
  {
    auto net = testing::large_maxpool_net();
    out.push_back({"large_maxpool_net", net.qdq, net.inputs});
  }
  {
    auto net = testing::row_split_net();
    out.push_back({"row_split_net", net.qdq, net.inputs});
  }
  {
    auto net = testing::int16_net();
    out.push_back({"int16_net", net.qdq, net.inputs});
  }
  for (bool nhwc : {false, true}) {
    Graph g = testing::image_input_net(nhwc, 6, 8);
    out.push_back({nhwc ? "image NHWC" : "image NCHW", g, {Tensor(DType::kUInt8, nhwc ? Dims{1, 6, 8, 3} : Dims{1, 3, 6, 8})}});
  }
  return out;
}

void fill(ExecState& st, const std::vector<Tensor>& in) {
  for (size_t i = 0; i < in.size(); ++i) std::memcpy(st.input(i).raw(), in[i].raw(), in[i].nbytes());
}

TEST(RuntimeExecutor, PlannedArenaMatchesSeparateBuffersAndSimulator) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    auto prog = lower_qdq_graph(c.g);
    ASSERT_TRUE(prog.ok()) << prog.status().message();
    auto ex = Executor::prepare(*prog);
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    auto sim = IntSimulator::create(c.g);
    ASSERT_TRUE(sim.ok()) << sim.status().message();
    ExecState planned = ex->make_state(), separate = ex->make_state(/*keep_all=*/true);
    for (uint32_t seed = 1; seed <= 3; ++seed) {
      const auto in = testing::random_inputs(c.like, seed);
      fill(planned, in);
      fill(separate, in);
      ASSERT_TRUE(ex->run(planned).ok());
      ASSERT_TRUE(ex->run(separate).ok());
      auto want = sim->run(in);
      ASSERT_TRUE(want.ok()) << want.status().message();
      for (size_t o = 0; o < prog->outputs.size(); ++o) {
        const size_t t = static_cast<size_t>(prog->outputs[o]);
        const Tensor& a = planned.tensor(t);
        const Tensor& b = separate.tensor(t);
        ASSERT_EQ(a.nbytes(), (*want)[o].nbytes());
        EXPECT_EQ(0, std::memcmp(a.raw(), b.raw(), a.nbytes())) << "output " << o << " seed " << seed;
        EXPECT_EQ(0, std::memcmp(a.raw(), (*want)[o].raw(), a.nbytes())) << "output " << o << " seed " << seed;
      }
    }
  }
}

// Every kernel level this CPU has, at 1, 2 and 3 intra-op threads, gives the reference's
// outputs bit for bit (the kernel testers check each kernel alone; this checks the seam:
// parameters handed over, scratch, threads, and the planned arena's in-place outputs against
// a reference run where every tensor has its own memory), and the fast levels take the
// convolutions (int16 ones through the im2col kernel of x86_avx2/qconv_wide.h).
TEST(RuntimeExecutor, EveryIsaAndThreadCountMatchesTheReference) {
  for (const Case& c : cases()) {
    SCOPED_TRACE(c.name);
    auto prog = lower_qdq_graph(c.g);
    ASSERT_TRUE(prog.ok()) << prog.status().message();
    auto ref = Executor::prepare(*prog);
    ASSERT_TRUE(ref.ok()) << ref.status().message();
    ExecState ref_state = ref->make_state(/*keep_all=*/true);
    for (kernels::Isa isa : kernels::host_isas()) {
      auto ex = Executor::prepare(*prog, nullptr, isa);
      ASSERT_TRUE(ex.ok()) << ex.status().message();
      EXPECT_EQ(ex->isa(), isa);
      int fast = 0, convs = 0;
      const auto names = ex->step_kernel_names();
      for (size_t si = 0; si < prog->steps.size(); ++si) {
        const StepKind k = prog->steps[si].kind;
        if (k != StepKind::kConv && k != StepKind::kConvFloatOut) continue;
        ++convs;
        fast += names[si] != "ref";
      }
      EXPECT_EQ(fast, isa == kernels::Isa::kRef ? 0 : convs) << kernels::isa_name(isa);
      for (int threads : {1, 2, 3}) {
        // min_task_elements 1: even these small steps are split over the threads.
        ExecState st = ex->make_state(false, threads, /*min_task_elements=*/1);
        for (uint32_t seed = 1; seed <= 2; ++seed) {
          const auto in = testing::random_inputs(c.like, seed);
          fill(st, in);
          fill(ref_state, in);
          ASSERT_TRUE(ex->run(st).ok());
          ASSERT_TRUE(ref->run(ref_state).ok());
          for (size_t o = 0; o < prog->outputs.size(); ++o) {
            const size_t t = static_cast<size_t>(prog->outputs[o]);
            ASSERT_EQ(0, std::memcmp(st.tensor(t).raw(), ref_state.tensor(t).raw(), st.tensor(t).nbytes()))
                << kernels::isa_name(isa) << " threads " << threads << " output " << o << " seed " << seed;
          }
        }
      }
    }
  }
}

TEST(RuntimeExecutor, CopiedSimulatorsHaveTheirOwnMemory) {
  const auto net = testing::runtime_test_net(4);
  auto a = IntSimulator::create(net.qdq, true);
  ASSERT_TRUE(a.ok());
  IntSimulator b = *a;  // as a session clones one per worker thread
  const auto in1 = testing::random_inputs(net.inputs, 1), in2 = testing::random_inputs(net.inputs, 2);
  auto r1 = a->run(in1);
  ASSERT_TRUE(r1.ok());
  const Tensor kept = a->raw_values()[static_cast<size_t>(a->program().steps[2].outputs[0])];
  const Tensor kept_copy = kept.clone();
  auto r2 = b.run(in2);  // must not write into a's buffers
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(0, std::memcmp(kept.raw(), kept_copy.raw(), kept.nbytes()));
  auto again = a->run(in2);
  ASSERT_TRUE(again.ok());
  for (size_t o = 0; o < r2->size(); ++o)
    EXPECT_EQ(0, std::memcmp((*r2)[o].raw(), (*again)[o].raw(), (*r2)[o].nbytes())) << "output " << o;
}

// The first step of `kind` in p.
Step& step_of(IntProgram& p, StepKind kind) {
  for (Step& s : p.steps)
    if (s.kind == kind) return s;
  QMAP_CHECK(false, "no {} step", step_kind_name(kind));
  return p.steps[0];
}

// Its index (errors name the step by kind, node and index).
size_t index_of(const IntProgram& p, const Step& s) { return static_cast<size_t>(&s - p.steps.data()); }

void expect_rejected(const IntProgram& p, const std::string& want) {
  auto ex = Executor::prepare(p);
  ASSERT_FALSE(ex.ok()) << "expected: " << want;
  EXPECT_NE(ex.status().message().find(want), std::string::npos) << ex.status().message();
}

TEST(RuntimeExecutor, PrepareRejectsBrokenPrograms) {
  auto lowered = lower_qdq_graph(testing::runtime_test_net(1).qdq);
  ASSERT_TRUE(lowered.ok());
  const IntProgram good = *lowered;
  ASSERT_TRUE(Executor::prepare(good).ok());
  {
    IntProgram p = good;
    Step& s = step_of(p, StepKind::kConv);
    auto& w = s.as<ConvParams>().weights;
    w.pop_back();
    expect_rejected(p, fmt::format("runtime: conv '{}' (step {}): weights blob holds {} values: M*C/group*KH*KW int8 = {}",
                                   s.node, index_of(p, s), w.size(), w.size() + 1));
  }
  {
    IntProgram p = good;
    Step& s = step_of(p, StepKind::kConv);
    auto& mult = s.as<ConvParams>().multipliers;
    std::vector<QMultiplier> forged(mult.begin(), mult.end());
    forged[0].shift = 99;
    mult = std::move(forged);
    expect_rejected(p, fmt::format("runtime: conv '{}' (step {}): multiplier 0 is (m ", s.node, index_of(p, s)));
    expect_rejected(p, "shift 99): m is in [2^30, 2^31) and shift in [1, 62]");
  }
  {
    IntProgram p = good;
    Step& s = step_of(p, StepKind::kLut);
    s.as<LutParams>().table.resize(10);
    expect_rejected(p, fmt::format("runtime: lut '{}' (step {}): table holds 10 values: one entry per 8-bit input value = 256",
                                   s.node, index_of(p, s)));
  }
  {
    IntProgram p = good;
    Step& s = step_of(p, StepKind::kConcat);
    auto& cp = s.as<ConcatParams>();
    cp.blocks[0] += 1;
    expect_rejected(p, fmt::format("runtime: concat '{}' (step {}): input 0 '", s.node, index_of(p, s)));
    expect_rejected(p, fmt::format("concat outer {} * block {} = ", cp.outer, cp.blocks[0]));
  }
  {
    IntProgram p = good;
    Step& s = step_of(p, StepKind::kAddQ15);
    s.as<BinaryParams>().geom.a_strides[1] = 1000;
    expect_rejected(p, fmt::format("runtime: add_q15 '{}' (step {}): binary strides ", s.node, index_of(p, s)));
    expect_rejected(p, ": reads stay inside the operand");
  }
  {
    IntProgram p = good;
    Step& s = step_of(p, StepKind::kFloat);
    s.op = static_cast<OpId>(65000);
    expect_rejected(p, fmt::format("runtime: float '{}' (step {}): op id 65000 (Softmax): not an op this qmap knows",
                                   s.node, index_of(p, s)));
  }
  {
    IntProgram p = good;
    Step& s = step_of(p, StepKind::kMaxPool);
    s.as<MaxPoolParams>().geom.kh = 0;
    expect_rejected(p, fmt::format("runtime: maxpool '{}' (step {}): pool geometry", s.node, index_of(p, s)));
    expect_rejected(p, "has 0: sizes, strides and dilations are >= 1");
  }
  {
    IntProgram p = good;
    p.tensors[static_cast<size_t>(step_of(p, StepKind::kQuantize).outputs[0])].quant->zero_point = 300;
    expect_rejected(p, "zero point 300: outside the");
  }
}

// A float Reshape whose target shape is a constant has outputs its inputs fix: prepare marks it
// to run without shape inference (eval_node_checked), and it gives the same values. With the
// target shape computed at run time (a program input here) it keeps the checked path, whose
// shape inference refuses a target that disagrees with the arena's output.
TEST(RuntimeExecutor, StepsWhoseInputsFixTheirOutputsSkipInference) {
  auto program = [](bool constant_shape) {
    IntProgram p;
    p.tensors.push_back({"x", DType::kFloat32, {1, 6}, std::nullopt, std::nullopt});
    p.tensors.push_back({"shape", DType::kInt64, {2}, std::nullopt,
                         constant_shape ? std::optional<Tensor>(Tensor::from_vector<int64_t>({2}, {2, 3})) : std::nullopt});
    p.tensors.push_back({"y", DType::kFloat32, {2, 3}, std::nullopt, std::nullopt});
    Step s;
    s.node = "reshape";
    s.op = *op_by_name("Reshape");
    s.op_type = "Reshape";
    s.set<GenericParams>(StepKind::kFloat);
    s.inputs = {0, 1};
    s.outputs = {2};
    p.steps.push_back(std::move(s));
    p.inputs = constant_shape ? std::vector<int32_t>{0} : std::vector<int32_t>{0, 1};
    p.outputs = {2};
    return p;
  };
  const IntProgram fixed = program(true), open = program(false);
  bool fixed_outputs = false, open_outputs = true;
  ASSERT_TRUE(check_step(fixed, 0, &fixed_outputs).ok());
  ASSERT_TRUE(check_step(open, 0, &open_outputs).ok());
  EXPECT_TRUE(fixed_outputs);
  EXPECT_FALSE(open_outputs);  // the shape is known at run time only
  for (const IntProgram* p : {&fixed, &open}) {
    auto ex = Executor::prepare(*p);
    ASSERT_TRUE(ex.ok()) << ex.status().message();
    ExecState st = ex->make_state();
    for (int i = 0; i < 6; ++i) st.input(0).data<float>()[static_cast<size_t>(i)] = static_cast<float>(i);
    if (p == &open) std::memcpy(st.input(1).raw(), std::vector<int64_t>{2, 3}.data(), 16);
    ASSERT_TRUE(ex->run(st).ok());
    const Tensor& y = st.tensor(2);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(y.data<float>()[static_cast<size_t>(i)], static_cast<float>(i));
    if (p == &open) {
      std::memcpy(st.input(1).raw(), std::vector<int64_t>{3, 2}.data(), 16);
      const Status bad = ex->run(st);
      EXPECT_FALSE(bad.ok());
      EXPECT_NE(bad.message().find("the program says"), std::string::npos) << bad.message();
    }
  }
}

}  // namespace
}  // namespace qmap::rt
