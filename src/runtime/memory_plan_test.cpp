// Memory plan: on random programs (fixed seeds) no two tensors alive at the same step share a
// byte (checked pair by pair, by brute force) except an in-place output over its own input,
// exactly; offsets are aligned, the arena is no larger than the sum of the slots, and the plan
// is the same every time. On a real network the plan reuses memory; check_memory_plan
// accepts plans and rejects an overlapping one.
#include "runtime/memory_plan.h"

#include <gtest/gtest.h>

#include <random>

#include "quant/lower.h"
#include "runtime/runtime_test_graphs.h"

namespace qmap::rt {
namespace {

int64_t aligned(int64_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

// A random DAG of float steps (only the wiring matters to the planner): 2 inputs, 2
// constants, `steps` steps reading 1-3 earlier tensors and writing 1-2 new ones of 1..4000
// float32 elements, 1-2 graph outputs. About a third of the steps are adds instead (a kind
// whose output may be in place): two earlier tensors in (mostly of the same dims, which
// in place needs), one out with the first one's dims.
IntProgram random_program(uint32_t seed, int steps) {
  std::mt19937 rng(seed);
  auto pick = [&](int64_t lo, int64_t hi) { return std::uniform_int_distribution<int64_t>(lo, hi)(rng); };
  IntProgram p;
  auto add = [&](Dims d) {
    std::string name = "t";  // not "t" + ...: GCC 12's -Wrestrict misfires on it
    name += std::to_string(p.tensors.size());
    p.tensors.push_back({std::move(name), DType::kFloat32, std::move(d), std::nullopt, std::nullopt});
    return static_cast<int32_t>(p.tensors.size() - 1);
  };
  for (int i = 0; i < 2; ++i) p.inputs.push_back(add({pick(1, 4000)}));
  for (int i = 0; i < 2; ++i) {
    const int32_t t = add({3});
    p.tensors[static_cast<size_t>(t)].constant = Tensor(DType::kFloat32, {3});
  }
  for (int s = 0; s < steps; ++s) {
    Step st;
    st.node = "s";
    st.node += std::to_string(s);
    auto earlier = [&] { return static_cast<int32_t>(pick(0, static_cast<int64_t>(p.tensors.size()) - 1)); };
    if (pick(0, 2) == 0) {
      st.set<BinaryParams>(StepKind::kAdd);
      st.inputs = {earlier(), -1};
      std::vector<int32_t> same;  // the first input itself included (x + x)
      for (size_t t = 0; t < p.tensors.size(); ++t)
        if (p.tensors[t].dims == p.tensors[static_cast<size_t>(st.inputs[0])].dims) same.push_back(static_cast<int32_t>(t));
      st.inputs[1] = pick(0, 3) == 0 ? earlier() : same[static_cast<size_t>(pick(0, static_cast<int64_t>(same.size()) - 1))];
      st.outputs.push_back(add(p.tensors[static_cast<size_t>(st.inputs[0])].dims));
    } else {
      const int64_t n_in = pick(1, 3), n_out = pick(1, 2);
      for (int64_t i = 0; i < n_in; ++i) st.inputs.push_back(earlier());
      for (int64_t i = 0; i < n_out; ++i) st.outputs.push_back(add({pick(1, 4000)}));
    }
    p.steps.push_back(std::move(st));
  }
  for (int i = 0; i < 2; ++i) p.outputs.push_back(static_cast<int32_t>(pick(4, static_cast<int64_t>(p.tensors.size()) - 1)));
  return p;
}

// Every pair of arena tensors whose lifetimes overlap occupies disjoint bytes, but for an
// in-place output at exactly its input's offset. Returns the number of such pairs.
int expect_no_live_overlap(const IntProgram& p, const MemoryPlan& m, uint32_t seed) {
  int in_place = 0;
  int64_t sum = 0;
  for (size_t a = 0; a < p.tensors.size(); ++a) {
    if (m.storage[a] != Storage::kArena) continue;
    sum += aligned(m.bytes[a]);
    EXPECT_EQ(m.offset[a] % kArenaAlignment, 0) << "seed " << seed << " tensor " << a;
    EXPECT_LE(m.offset[a] + m.bytes[a], m.arena_bytes) << "seed " << seed << " tensor " << a;
    for (size_t b = a + 1; b < p.tensors.size(); ++b) {
      if (m.storage[b] != Storage::kArena) continue;
      // Live at the same step: some step s with first <= s <= last for both.
      bool live_together = false;
      for (int32_t s = 0; s < static_cast<int32_t>(p.steps.size()); ++s)
        live_together |= m.first_step[a] <= s && s <= m.last_step[a] && m.first_step[b] <= s && s <= m.last_step[b];
      if (!live_together) continue;
      if ((m.in_place_of[a] == static_cast<int32_t>(b) || m.in_place_of[b] == static_cast<int32_t>(a)) &&
          m.offset[a] == m.offset[b]) {
        ++in_place;
        continue;
      }
      const bool disjoint = m.offset[a] + m.bytes[a] <= m.offset[b] || m.offset[b] + m.bytes[b] <= m.offset[a];
      EXPECT_TRUE(disjoint) << "seed " << seed << ": tensors " << a << " [" << m.offset[a] << ", +" << m.bytes[a]
                            << ") and " << b << " [" << m.offset[b] << ", +" << m.bytes[b] << ") are live together";
    }
  }
  EXPECT_LE(m.arena_bytes, sum) << "seed " << seed;
  return in_place;
}

TEST(RuntimeMemoryPlan, RandomProgramsNeverOverlapLiveTensors) {
  int in_place = 0;
  for (uint32_t seed = 1; seed <= 40; ++seed) {
    const IntProgram p = random_program(seed, 5 + static_cast<int>(seed % 25));
    auto m = plan_memory(p);
    ASSERT_TRUE(m.ok()) << "seed " << seed << ": " << m.status().message();
    in_place += expect_no_live_overlap(p, *m, seed);
    // Every in-place output sits on its input, which is an arena tensor of its size read last
    // by the output's step.
    for (size_t t = 0; t < p.tensors.size(); ++t) {
      const int32_t x = m->in_place_of[t];
      if (x < 0) continue;
      const size_t ux = static_cast<size_t>(x);
      EXPECT_EQ(m->offset[t], m->offset[ux]) << "seed " << seed << " tensor " << t;
      EXPECT_EQ(m->bytes[t], m->bytes[ux]) << "seed " << seed << " tensor " << t;
      EXPECT_EQ(m->last_step[ux], m->first_step[t]) << "seed " << seed << " tensor " << t;
      EXPECT_EQ(p.steps[static_cast<size_t>(m->first_step[t])].kind, StepKind::kAdd) << "seed " << seed;
    }
    EXPECT_TRUE(check_memory_plan(p, *m).ok()) << "seed " << seed;
    auto again = plan_memory(p);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->offset, m->offset) << "seed " << seed << ": the plan must be deterministic";
    const MemoryPlan flat = plan_without_reuse(*m);
    EXPECT_EQ(expect_no_live_overlap(p, flat, seed), 0) << "seed " << seed;
  }
  EXPECT_GT(in_place, 10) << "the random programs should exercise in-place outputs";
}

TEST(RuntimeMemoryPlan, NetworkReusesMemory) {
  const auto net = testing::runtime_test_net(5);
  auto p = lower_qdq_graph(net.qdq);
  ASSERT_TRUE(p.ok()) << p.status().message();
  auto m = plan_memory(*p);
  ASSERT_TRUE(m.ok()) << m.status().message();
  expect_no_live_overlap(*p, *m, 5);
  const MemoryPlan flat = plan_without_reuse(*m);
  // A chain of layers needs only a few live tensors at a time: reuse must cut the arena.
  EXPECT_LT(m->arena_bytes, flat.arena_bytes);
  std::printf("  arena %lld bytes planned vs %lld without reuse\n", static_cast<long long>(m->arena_bytes),
              static_cast<long long>(flat.arena_bytes));
}

// The network's Add (over an average pool's output) and its swish Mul (over the convolution's
// output, which the Sigmoid table read before it) write in place; check_memory_plan accepts
// that and rejects the same output a cache line off its input, or over an input it may not
// take (the step's other operand, still alive after it).
TEST(RuntimeMemoryPlan, ElementwiseOutputsInPlace) {
  const auto net = testing::runtime_test_net(5);
  auto p = lower_qdq_graph(net.qdq);
  ASSERT_TRUE(p.ok()) << p.status().message();
  auto m = plan_memory(*p);
  ASSERT_TRUE(m.ok()) << m.status().message();
  std::vector<StepKind> kinds;
  size_t y = 0;
  for (size_t t = 0; t < p->tensors.size(); ++t)
    if (m->in_place_of[t] >= 0) {
      kinds.push_back(p->steps[static_cast<size_t>(m->first_step[t])].kind);
      EXPECT_EQ(m->offset[t], m->offset[static_cast<size_t>(m->in_place_of[t])]);
      y = t;
    }
  ASSERT_EQ(kinds.size(), 2u);
  EXPECT_TRUE(kinds[0] == StepKind::kMul || kinds[1] == StepKind::kMul);
  EXPECT_TRUE(kinds[0] == StepKind::kAdd || kinds[0] == StepKind::kAddQ15 || kinds[1] == StepKind::kAdd ||
              kinds[1] == StepKind::kAddQ15);
  ASSERT_TRUE(check_memory_plan(*p, *m).ok());

  MemoryPlan off = *m;  // the output one cache line past its input: partly over it
  off.offset[y] += kArenaAlignment;
  off.arena_bytes += kArenaAlignment;
  Status st = check_memory_plan(*p, off);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("alive together and overlap"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find(p->tensors[y].name), std::string::npos) << st.message();

  // A step's other arena input (the Mul's table output: the rule takes the first operand that
  // qualifies; the Add's other operand is the graph input y): exactly over it is an overlap.
  int others = 0;
  for (size_t t = 0; t < p->tensors.size(); ++t) {
    if (m->in_place_of[t] < 0) continue;
    for (int32_t x : p->steps[static_cast<size_t>(m->first_step[t])].inputs) {
      if (x == m->in_place_of[t] || m->storage[static_cast<size_t>(x)] != Storage::kArena) continue;
      MemoryPlan other = *m;
      other.offset[t] = other.offset[static_cast<size_t>(x)];
      st = check_memory_plan(*p, other);
      EXPECT_FALSE(st.ok()) << "output over input '" << p->tensors[static_cast<size_t>(x)].name << "'";
      ++others;
    }
  }
  EXPECT_GE(others, 1);
}

TEST(RuntimeMemoryPlan, CheckRejectsOverlapAndBadWiring) {
  const IntProgram p = random_program(3, 12);
  auto m = plan_memory(p);
  ASSERT_TRUE(m.ok());
  // Two arena tensors written by the same step are alive together: give them one offset.
  size_t a = 0, b = 0;
  for (const Step& s : p.steps)
    if (s.outputs.size() == 2 && m->storage[static_cast<size_t>(s.outputs[0])] == Storage::kArena &&
        m->storage[static_cast<size_t>(s.outputs[1])] == Storage::kArena) {
      a = static_cast<size_t>(s.outputs[0]), b = static_cast<size_t>(s.outputs[1]);
      break;
    }
  ASSERT_NE(a, b) << "seed 3 has no step with two arena outputs";
  MemoryPlan bad = *m;
  bad.offset[b] = bad.offset[a];
  const Status st = check_memory_plan(p, bad);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("alive together and overlap"), std::string::npos) << st.message();

  IntProgram twice = p;
  twice.steps[1].outputs.push_back(twice.steps[0].outputs[0]);
  auto r = plan_memory(twice);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("written earlier"), std::string::npos) << r.status().message();

  IntProgram out_of_range = p;
  out_of_range.steps[2].inputs.push_back(9999);
  r = plan_memory(out_of_range);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("input index 9999 out of range"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace qmap::rt

namespace qmap::rt {
namespace {

TEST(RuntimeMemoryPlan, StoredPlanIsCheckedThenAdopted) {
  const IntProgram p = random_program(8, 15);
  auto m = plan_memory(p);
  ASSERT_TRUE(m.ok());
  StoredMemoryPlan stored{m->arena_bytes, m->offset};
  auto adopted = adopt_memory_plan(p, stored);
  ASSERT_TRUE(adopted.ok()) << adopted.status().message();
  EXPECT_EQ(adopted->offset, m->offset);
  // Every arena tensor at offset 0: live tensors overlap.
  for (size_t t = 0; t < stored.offsets.size(); ++t)
    if (stored.offsets[t] >= 0) stored.offsets[t] = 0;
  auto bad = adopt_memory_plan(p, stored);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("alive together and overlap"), std::string::npos) << bad.status().message();
  stored.offsets.pop_back();
  bad = adopt_memory_plan(p, stored);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("offsets for"), std::string::npos) << bad.status().message();
}

}  // namespace
}  // namespace qmap::rt
