// The perf model on small programs built by hand, so every number is checked exactly against
// the arithmetic written beside it (docs/perf.md has the formulas): a single convolution, a
// convolution + residual add, a chain that spills to DDR when the SRAM is small, and a CPU
// step with its subgraph switches. Times are compared with EXPECT_DOUBLE_EQ: the model is a
// few double divisions and sums, so the results are the same on every machine up to the last
// bits of rounding (4 ULPs).
#include <gtest/gtest.h>

#include "program/bin_format.h"
#include "report/perf_model.h"

namespace qmap {
namespace {

// A cost model with round numbers: 1 GHz, 1024 MACs/cycle (1.024 TMAC/s), DDR 8 GB/s =
// 8000 bytes/us, SRAM 1 MiB; the optional keys unset unless a test sets them.
CostModel round_cost() {
  CostModel c;
  c.clock_mhz = 1000;
  c.int8_macs_per_cycle = 1024;
  c.ddr_bandwidth_gbps = 8;
  c.sram_kib = 1024;
  c.cpu_gflops = 20;
  c.subgraph_switch_us = 30;
  return c;
}

int32_t add_tensor(IntProgram& p, Dims dims, DType t = DType::kUInt8) {
  ProgramTensor pt;
  pt.name = "t" + std::to_string(p.tensors.size());
  pt.dtype = t;
  pt.dims = std::move(dims);
  p.tensors.push_back(std::move(pt));
  return static_cast<int32_t>(p.tensors.size() - 1);
}

// A 3x3 'same' convolution x [1, c, h, w] -> y [1, m, h, w] with int8 weights and int32 bias.
void add_conv(IntProgram& p, int32_t x, int32_t y, int64_t c, int64_t m, int64_t h, int64_t w, int64_t group = 1) {
  Step s;
  s.node = "conv" + std::to_string(p.steps.size());
  s.inputs = {x};
  s.outputs = {y};
  auto& cp = s.set<ConvParams>(StepKind::kConv);
  cp.geom = {.n = 1, .c = c, .h = h, .w = w, .m = m, .oh = h, .ow = w, .kh = 3, .kw = 3, .pad_top = 1, .pad_left = 1, .group = group};
  cp.weights.assign(static_cast<size_t>(m * (c / group) * 9), 1);
  cp.bias.assign(static_cast<size_t>(m), 0);
  p.steps.push_back(std::move(s));
}

TEST(PerfModel, SingleConvMacsBytesAndMemoryBound) {
  IntProgram p;
  const int32_t x = add_tensor(p, {1, 8, 16, 16}), y = add_tensor(p, {1, 16, 16, 16});
  p.inputs = {x};
  p.outputs = {y};
  add_conv(p, x, y, 8, 16, 16, 16);
  const PerfReport r = estimate_perf(p, step_placement(p), round_cost(), 0);
  ASSERT_EQ(r.layers.size(), 1u);
  const LayerPerf& L = r.layers[0];
  EXPECT_EQ(L.macs, 294912);          // 16x16 pixels x 16 out channels x 8 in channels x 3x3
  EXPECT_EQ(L.weight_bytes, 1216);    // 16*8*9 int8 weights + 16 int32 bias
  EXPECT_EQ(L.bytes_in, 2048);        // 8*16*16 uint8
  EXPECT_EQ(L.bytes_out, 4096);       // 16*16*16
  EXPECT_EQ(L.ddr_load_bytes, 3264);  // graph input in DDR + weights
  EXPECT_EQ(L.ddr_store_bytes, 4096); // graph output in DDR
  EXPECT_EQ(L.sram_bytes, 0);
  EXPECT_DOUBLE_EQ(L.compute_us, 0.288);  // 294912 / 1024 MAC/cycle / 1000 cycles/us
  EXPECT_DOUBLE_EQ(L.memory_us, 0.92);    // 7360 bytes / 8000 bytes/us
  EXPECT_EQ(L.bound, "memory");
  EXPECT_DOUBLE_EQ(L.est_us, 0.92);
  EXPECT_DOUBLE_EQ(L.est_cycles, 920);
  EXPECT_EQ(L.unit, "conv");
  EXPECT_EQ(r.macs, 294912);
  EXPECT_DOUBLE_EQ(r.gops(), 0.000589824);  // 2 ops per MAC
  EXPECT_EQ(r.ddr_bytes(), 7360);
  EXPECT_EQ(r.switches, 0);
  EXPECT_DOUBLE_EQ(r.est_total_us, 0.92);
}

// conv_pixel_vector / conv_row_halo: a 3x3 'same' conv at 7x7 computes 7 rows of 7 + 2 halo
// columns = 63 pixels, rounded up to 64 with vectors of 16; without the halo 49 -> 64 too; with
// vectors of 8 and no halo 49 -> 56. A 1x1 fully connected pixel stays 1.
TEST(PerfModel, ConvComputedPixelsCountTheDroppedLanes) {
  CostModel c = round_cost();
  const kernels::ref::ConvGeometry2d g7 = {.n = 1, .c = 8, .h = 7, .w = 7, .m = 16, .oh = 7, .ow = 7, .kh = 3, .kw = 3,
                                           .pad_top = 1, .pad_left = 1};
  EXPECT_EQ(conv_computed_pixels(g7, c), 49);  // no vector: the real pixels
  c.conv_pixel_vector = 16;
  EXPECT_EQ(conv_computed_pixels(g7, c), 64);
  c.conv_row_halo = true;
  EXPECT_EQ(conv_computed_pixels(g7, c), 64);  // 63 -> 64
  kernels::ref::ConvGeometry2d g56 = g7;
  g56.h = g56.w = g56.oh = g56.ow = 56;
  EXPECT_EQ(conv_computed_pixels(g56, c), 3248);  // 56 rows of 58
  g56.stride_h = g56.stride_w = 2, g56.oh = g56.ow = 28;
  EXPECT_EQ(conv_computed_pixels(g56, c), 28 * 29 + 4);  // halo 2/2 = 1 column; 812 -> 816
  c.conv_pixel_vector = 8, c.conv_row_halo = false;
  EXPECT_EQ(conv_computed_pixels(g7, c), 56);
  const kernels::ref::ConvGeometry2d fc = {.n = 1, .c = 64, .h = 1, .w = 1, .m = 10, .oh = 1, .ow = 1, .kh = 1, .kw = 1};
  EXPECT_EQ(conv_computed_pixels(fc, c), 1);
  kernels::ref::ConvGeometry2d dw = g7;  // depthwise: its own kernel, vectorized over channels
  dw.m = dw.group = 8;
  EXPECT_EQ(conv_computed_pixels(dw, c), 49);

  // The layer's cycles scale by computed / real pixels (MACs and outputs alike); its MACs
  // stay the real ones.
  IntProgram p;
  const int32_t x = add_tensor(p, {1, 8, 7, 7}), y = add_tensor(p, {1, 16, 7, 7});
  p.inputs = {x};
  p.outputs = {y};
  add_conv(p, x, y, 8, 16, 7, 7);
  c = round_cost();
  c.ddr_bandwidth_gbps = 1e6;  // compute bound
  c.output_ops_per_cycle = 16;
  c.conv_pixel_vector = 16;
  c.conv_row_halo = true;
  const LayerPerf L = estimate_perf(p, step_placement(p), c, 0).layers[0];
  EXPECT_EQ(L.macs, 56448);  // 49 x 16 x 8 x 9
  // (64 x 16 x 72 MACs / 1024 + 64 x 16 outputs / 16) cycles / 1000 cycles per us
  EXPECT_DOUBLE_EQ(L.compute_us, (64.0 * 16 * 72 / 1024 + 64.0 * 16 / 16) / 1000);
}

// move_run_cycles: a channel shuffle (Transpose 1x2x232x49 -> 1x232x2x49, perm 0 2 1 3) copies
// 464 runs of 49 bytes; a Transpose that moves the last axis copies every element alone; a
// Reshape copies one block.
TEST(PerfModel, MovesCostTheirContiguousRuns) {
  IntProgram p;
  const int32_t x = add_tensor(p, {1, 2, 232, 49}), y = add_tensor(p, {1, 232, 2, 49});
  const int32_t z = add_tensor(p, {1, 232, 49, 2}), r = add_tensor(p, {1, 464, 49, 2});
  p.inputs = {x};
  p.outputs = {r};
  auto add_move = [&](const char* op, int32_t in, int32_t out, std::vector<int64_t> perm) {
    Step s;
    s.node = op + std::to_string(p.steps.size());
    s.op_type = op;
    s.inputs = {in};
    s.outputs = {out};
    auto& g = s.set<GenericParams>(StepKind::kMove);
    if (!perm.empty()) g.attrs["perm"] = std::move(perm);
    p.steps.push_back(std::move(s));
  };
  add_move("Transpose", x, y, {0, 2, 1, 3});
  add_move("Transpose", y, z, {0, 1, 3, 2});
  add_move("Reshape", z, r, {});
  EXPECT_EQ(move_runs(p, p.steps[0]), 464);
  EXPECT_EQ(move_runs(p, p.steps[1]), 22736);
  EXPECT_EQ(move_runs(p, p.steps[2]), 1);
  CostModel c = round_cost();
  c.ddr_bandwidth_gbps = 1e6;  // bytes nearly free: the runs decide
  c.move_run_cycles = 5;
  const PerfReport rep = estimate_perf(p, step_placement(p), c, 0);
  EXPECT_DOUBLE_EQ(rep.layers[0].compute_us, 464.0 * 5 / 1000);  // runs x cycles / (cycles per us)
  EXPECT_EQ(rep.layers[0].unit, "dma");
  EXPECT_EQ(rep.layers[0].bound, "compute");
  EXPECT_DOUBLE_EQ(rep.layers[2].compute_us, 5.0 / 1000);
}

TEST(PerfModel, ConvPlusAddKeepsTheIntermediateInSram) {
  IntProgram p;
  const int32_t x = add_tensor(p, {1, 8, 16, 16}), c = add_tensor(p, {1, 8, 16, 16}), y = add_tensor(p, {1, 8, 16, 16});
  p.inputs = {x};
  p.outputs = {y};
  add_conv(p, x, c, 8, 8, 16, 16);
  Step add;
  add.kind = StepKind::kAdd;
  add.node = "add";
  add.inputs = {c, x};  // the residual reads the graph input again
  add.outputs = {y};
  p.steps.push_back(add);
  CostModel cost = round_cost();
  cost.vector_ops_per_cycle = 64;
  cost.sram_bandwidth_gbps = 64;  // 64000 bytes/us
  cost.layer_overhead_us = 0.5;
  const PerfReport r = estimate_perf(p, step_placement(p), cost, 4096);
  ASSERT_EQ(r.layers.size(), 2u);
  EXPECT_EQ(r.residency[static_cast<size_t>(c)], Residency::kSram);
  EXPECT_EQ(r.residency[static_cast<size_t>(x)], Residency::kDdr);
  const LayerPerf& conv = r.layers[0];
  EXPECT_EQ(conv.macs, 147456);  // 256 pixels x 8 x 8 x 9
  EXPECT_EQ(conv.weight_bytes, 608);  // 576 + 4*8
  EXPECT_EQ(conv.ddr_load_bytes, 2656);  // 2048 input + 608 weights
  EXPECT_EQ(conv.ddr_store_bytes, 0);
  EXPECT_EQ(conv.sram_bytes, 2048);
  EXPECT_DOUBLE_EQ(conv.compute_us, 0.144);  // 147456 / 1024 / 1000
  EXPECT_DOUBLE_EQ(conv.memory_us, 0.364);   // 2656 / 8000 + 2048 / 64000
  EXPECT_DOUBLE_EQ(conv.est_us, 0.864);      // + 0.5 overhead
  const LayerPerf& a = r.layers[1];
  EXPECT_EQ(a.macs, 0);
  EXPECT_EQ(a.ops, 2048);                 // one per output element
  EXPECT_EQ(a.bytes_in, 4096);
  EXPECT_EQ(a.ddr_load_bytes, 2048);      // x again from DDR; c from SRAM
  EXPECT_EQ(a.ddr_store_bytes, 2048);
  EXPECT_DOUBLE_EQ(a.compute_us, 0.032);  // 2048 / 64 / 1000
  EXPECT_DOUBLE_EQ(a.memory_us, 0.544);   // 4096 / 8000 + 2048 / 64000
  EXPECT_EQ(a.bound, "memory");
  EXPECT_DOUBLE_EQ(a.est_us, 1.044);
  EXPECT_DOUBLE_EQ(r.est_total_us, 1.908);
  EXPECT_EQ(r.ddr_load_bytes, 4704);
  EXPECT_EQ(r.ddr_store_bytes, 2048);
  EXPECT_EQ(r.weight_bytes, 608);
  EXPECT_EQ(r.arena_bytes, 4096);
  EXPECT_EQ(r.edges, (std::vector<std::pair<int32_t, int32_t>>{{0, 1}}));
}

// Three 3x3 convolutions 8 -> 4 -> 4 -> 4 channels on 32x32 with 4 KiB of SRAM: the first
// intermediate (4096 bytes) fills the SRAM by itself; the second is alive together with it
// at step 1, so it spills to DDR: stored by conv 1, loaded by conv 2.
TEST(PerfModel, ChainSpillsToDdrWhenSramIsFull) {
  IntProgram p;
  const int32_t x = add_tensor(p, {1, 8, 32, 32}), t1 = add_tensor(p, {1, 4, 32, 32}), t2 = add_tensor(p, {1, 4, 32, 32}),
                y = add_tensor(p, {1, 4, 32, 32});
  p.inputs = {x};
  p.outputs = {y};
  add_conv(p, x, t1, 8, 4, 32, 32);
  add_conv(p, t1, t2, 4, 4, 32, 32);
  add_conv(p, t2, y, 4, 4, 32, 32);
  CostModel cost = round_cost();
  cost.sram_kib = 4;
  const PerfReport r = estimate_perf(p, step_placement(p), cost, 0);
  EXPECT_EQ(r.residency[static_cast<size_t>(t1)], Residency::kSram);
  EXPECT_EQ(r.residency[static_cast<size_t>(t2)], Residency::kDdr);
  ASSERT_EQ(r.layers.size(), 3u);
  EXPECT_EQ(r.layers[0].ddr_load_bytes, 8192 + 288 + 16);  // input + 4*8*9 weights + 4 bias
  EXPECT_EQ(r.layers[0].ddr_store_bytes, 0);
  EXPECT_EQ(r.layers[1].ddr_load_bytes, 144 + 16);         // t1 from SRAM, weights 4*4*9 + bias
  EXPECT_EQ(r.layers[1].ddr_store_bytes, 4096);            // t2 spilled
  EXPECT_EQ(r.layers[2].ddr_load_bytes, 4096 + 160);       // t2 back from DDR
  EXPECT_EQ(r.layers[2].ddr_store_bytes, 4096);            // graph output
  EXPECT_EQ(r.ddr_load_bytes, 8496 + 160 + 4256);
  EXPECT_EQ(r.ddr_store_bytes, 8192);
  EXPECT_EQ(r.layers[1].macs, 147456);  // 1024 pixels x 4 x 4 x 9
  // conv 1: 147456 / 1024 / 1000 = 0.144 us compute vs 4256 / 8000 = 0.532 us memory.
  EXPECT_DOUBLE_EQ(r.layers[1].est_us, 0.532);
  // With 1 MiB everything between the convolutions stays on chip.
  const PerfReport big = estimate_perf(p, step_placement(p), round_cost(), 0);
  EXPECT_EQ(big.residency[static_cast<size_t>(t2)], Residency::kSram);
  EXPECT_EQ(big.ddr_store_bytes, 4096);
}

// A depthwise convolution runs at depthwise_macs_per_cycle; a float step on the CPU at
// cpu_gflops with its tensors in DDR, and each NPU/CPU border costs subgraph_switch_us.
TEST(PerfModel, DepthwiseRateCpuStepAndSwitches) {
  IntProgram p;
  const int32_t x = add_tensor(p, {1, 16, 8, 8}), d = add_tensor(p, {1, 16, 8, 8}),
                f = add_tensor(p, {1, 16, 8, 8}, DType::kFloat32), y = add_tensor(p, {1, 16, 8, 8}, DType::kFloat32);
  p.inputs = {x};
  p.outputs = {y};
  add_conv(p, x, d, 16, 16, 8, 8, 16);
  Step dq;
  dq.kind = StepKind::kDequantize;
  dq.node = "dq";
  dq.inputs = {d};
  dq.outputs = {f};
  p.steps.push_back(dq);
  Step sm;
  sm.kind = StepKind::kFloat;
  sm.node = "softmax";
  sm.op_type = "Softmax";
  sm.inputs = {f};
  sm.outputs = {y};
  p.steps.push_back(sm);
  CostModel cost = round_cost();
  cost.depthwise_macs_per_cycle = 128;
  const std::vector<StepPlacement> pl = step_placement(p);
  ASSERT_EQ(pl.size(), 3u);
  ASSERT_TRUE(pl[2].cpu);
  const PerfReport r = estimate_perf(p, pl, cost, 0);
  EXPECT_EQ(r.layers[0].unit, "depthwise");
  EXPECT_EQ(r.layers[0].macs, 9216);                    // 64 pixels x 16 channels x 9 taps
  EXPECT_DOUBLE_EQ(r.layers[0].compute_us, 0.072);      // 9216 / 128 / 1000
  EXPECT_EQ(r.residency[static_cast<size_t>(f)], Residency::kDdr);  // read by the CPU
  const LayerPerf& s = r.layers[2];
  EXPECT_EQ(s.unit, "cpu");
  EXPECT_EQ(s.ops, 1024);                                // one flop per element (no MACs)
  EXPECT_DOUBLE_EQ(s.compute_us, 1024 / 20e3);           // 20 GFLOP/s = 20000 flop/us
  EXPECT_DOUBLE_EQ(s.memory_us, 8192 / 8000.0);          // 4096 bytes in + 4096 out, DDR
  EXPECT_EQ(r.switches, 1);
  EXPECT_DOUBLE_EQ(r.switch_us, 30);
  EXPECT_DOUBLE_EQ(r.est_cpu_us, s.est_us);
  EXPECT_DOUBLE_EQ(r.est_total_us, r.est_npu_us + r.est_cpu_us + 30);
  ASSERT_EQ(r.subgraphs.size(), 2u);
  EXPECT_EQ(r.subgraphs[0].last_step, 1);
  EXPECT_TRUE(r.subgraphs[1].cpu);
}

// The optional terms: a convolution's output stage (in series with its MACs), a depthwise
// convolution's fixed cost per channel, and the generic-eval overhead of a data movement,
// which itself costs only its bytes.
TEST(PerfModel, OutputStageDepthwiseChannelCostAndEvalOverhead) {
  IntProgram p;
  const int32_t x = add_tensor(p, {1, 16, 8, 8}), d = add_tensor(p, {1, 16, 8, 8}), y = add_tensor(p, {1, 1024});
  p.inputs = {x};
  p.outputs = {y};
  add_conv(p, x, d, 16, 16, 8, 8, 16);
  Step mv;
  mv.kind = StepKind::kMove;
  mv.node = "flatten";
  mv.op_type = "Flatten";
  mv.inputs = {d};
  mv.outputs = {y};
  p.steps.push_back(mv);
  CostModel cost = round_cost();
  cost.depthwise_macs_per_cycle = 128;
  cost.output_ops_per_cycle = 8;
  cost.depthwise_channel_cycles = 100;
  cost.eval_overhead_us = 2;
  const PerfReport r = estimate_perf(p, step_placement(p), cost, 0);
  // 9216 MACs / 128 = 72 cycles + 1024 outputs / 8 = 128 + 16 channels x 100 = 1600: 1800 cycles.
  EXPECT_DOUBLE_EQ(r.layers[0].compute_us, 1.8);
  EXPECT_DOUBLE_EQ(r.layers[0].memory_us, 1232 / 8000.0);  // x 1024 + weights 144 + bias 64; d on chip (free)
  EXPECT_DOUBLE_EQ(r.layers[0].est_us, 1.8);                // no eval overhead for a kernel step
  EXPECT_EQ(r.layers[1].unit, "dma");
  EXPECT_EQ(r.layers[1].ops, 0);
  EXPECT_DOUBLE_EQ(r.layers[1].compute_us, 0);
  EXPECT_DOUBLE_EQ(r.layers[1].memory_us, 1024 / 8000.0);  // the graph output to DDR
  EXPECT_DOUBLE_EQ(r.layers[1].est_us, 0.128 + 2);
}

TEST(PerfModel, TimeStatsMedianMinMax) {
  const TimeStats a = time_stats({5, 1, 3});
  EXPECT_EQ(a.median_us, 3);
  EXPECT_EQ(a.min_us, 1);
  EXPECT_EQ(a.max_us, 5);
  EXPECT_EQ(time_stats({4, 1, 2, 3}).median_us, 2.5);
}

TEST(PerfModel, MeasurementFillsLayersAndSubgraphs) {
  IntProgram p;
  const int32_t x = add_tensor(p, {1, 8, 16, 16}), c = add_tensor(p, {1, 8, 16, 16}), y = add_tensor(p, {1, 8, 16, 16});
  p.inputs = {x};
  p.outputs = {y};
  add_conv(p, x, c, 8, 8, 16, 16);
  add_conv(p, c, y, 8, 8, 16, 16);
  PerfReport r = estimate_perf(p, step_placement(p), round_cost(), 0);
  PerfMeasurement m;
  m.runs = 3;
  attach_measurement(r, {2.0, 3.0}, m);
  EXPECT_EQ(r.layers[0].measured_us, 2.0);
  EXPECT_EQ(r.layers[1].measured_us, 3.0);
  ASSERT_EQ(r.subgraphs.size(), 1u);
  EXPECT_EQ(r.subgraphs[0].measured_us, 5.0);
  ASSERT_TRUE(r.measured);
  EXPECT_EQ(r.measured->runs, 3);
}

}  // namespace
}  // namespace qmap
