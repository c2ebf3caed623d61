// Inputs of `qmap perf` (perf_source.h): the model, the march's cost model, the measurement.
#include "report/perf_source.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>

#include "format/model_bin.h"
#include "import/onnx/onnx_import.h"
#include "kernels/isa.h"
#include "ops/custom/custom_op.h"
#include "ops/registry.h"
#include "program/bin_reader.h"
#include "quant/lower.h"
#include "quant/runtime_model.h"
#include "report/host_probe.h"
#include "runtime/memory_plan.h"

namespace qmap {

namespace {

// A probe of the generic eval the runtime's move and float steps use (eval_node_checked, for
// steps whose inputs fix their outputs): `op` with `attrs` from an input of `in` dims into
// `out` dims, both of type t; the median µs per call over 21 batches of `calls` calls
// (medians, as the kernel probes and --measure).
double eval_probe_us(const char* op, std::map<std::string, AttrValue> attrs, DType t, Dims in, Dims out, int calls) {
  Node n;
  n.name = "probe";
  n.op = *op_by_name(op);
  n.op_type = op;
  n.attrs = std::move(attrs);
  const Tensor x(t, std::move(in));
  std::vector<Tensor> outs{Tensor(t, std::move(out))};
  const std::vector<const Tensor*> ins{&x};
  QMAP_CHECK(eval_node_into(n, ins, outs).ok(), "the {} probe must run", op);
  std::vector<double> us;
  for (int b = 0; b < 21; ++b) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < calls; ++i) (void)eval_node_checked(n, ins, outs);
    us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count() / calls);
  }
  return time_stats(us).median_us;
}

// The fixed cost of a step run through the generic eval (data movement and CPU ops), in us:
// a Flatten of 64 bytes.
double eval_overhead_us() {
  return eval_probe_us("Flatten", {{"axis", int64_t{1}}}, DType::kUInt8, {1, 64, 1, 1}, {1, 64}, 200);
}

// The cost of one contiguous run of a data-movement step, in us: two 8-bit channel shuffles
// of the same 22,736 bytes, 1x2x232x49 (464 runs of 49 bytes) and 1x2x29x392 (58 runs of 392),
// the difference of their times over the difference of their runs.
double move_run_us() {
  auto shuffle_us = [](int64_t c, int64_t hw) {
    return eval_probe_us("Transpose", {{"perm", std::vector<int64_t>{0, 2, 1, 3}}}, DType::kUInt8, {1, 2, c, hw},
                         {1, c, 2, hw}, 50);
  };
  return std::max(0.0, (shuffle_us(232, 49) - shuffle_us(29, 392)) / (464 - 58));
}

// Elements per second (G) of a float op run by its generic eval as the runtime runs CPU ops:
// a Transpose of 1x2x58x28x28 floats (ShuffleNet's channel shuffle), one call per batch.
double float_eval_gops() {
  const double us = eval_probe_us("Transpose", {{"perm", std::vector<int64_t>{0, 2, 1, 3, 4}}}, DType::kFloat32,
                                  {1, 2, 58, 28, 28}, {1, 58, 2, 28, 28}, 1);
  return 2.0 * 58 * 28 * 28 / us / 1e3;
}

}  // namespace

Result<PerfInput> load_perf_input(const std::string& path, const std::vector<std::string>& custom_op_libs) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return error("perf: model '{}': no such file", path);
  PerfInput in;
  in.path = path;
  in.name = fs::path(path).stem().string();
  if (looks_like_bin(path)) {
    in.kind = "bin";
    QMAP_ASSIGN_OR_RETURN(LoadedBin bin, read_bin_file(path));
    in.placement = std::move(bin.placement);
    in.march = bin.metadata.march;
    if (bin.metadata.memory_plan) in.arena_bytes = static_cast<int64_t>(bin.metadata.memory_plan->arena_bytes);
    in.program = std::move(bin.program);
    try {
      rt::LoadOptions load;
      load.custom_op_libs = custom_op_libs;
      in.model = rt::Model::load(path, load);
    } catch (const rt::Error& e) {
      return error("perf: model '{}': the runtime does not load it: {}", path, e.what());
    }
  } else {
    in.kind = "quantized onnx";
    QMAP_ASSIGN_OR_RETURN(const CustomOpSet custom_ops, CustomOpSet::load(custom_op_libs));
    OnnxImportOptions import;
    import.custom_ops = &custom_ops;
    QMAP_ASSIGN_OR_RETURN(Graph g, import_onnx(path, import));
    auto m = g.metadata.find("qmap_march");
    if (m != g.metadata.end()) in.march = m->second;
    auto p = lower_qdq_graph(g);
    if (!p.ok()) return p.status().with_context(fmt::format("perf: model '{}': ", path));
    in.program = std::move(*p);
    in.placement = step_placement(in.program);
    auto model = runtime_model_from_qdq_graph(g, path);
    if (!model.ok()) return model.status().with_context(fmt::format("perf: model '{}': ", path));
    in.model = std::move(*model);
  }
  if (in.arena_bytes == 0) {
    // No stored plan: the plan the runtime computes at load.
    QMAP_ASSIGN_OR_RETURN(rt::MemoryPlan plan, rt::plan_memory(in.program));
    in.arena_bytes = plan.arena_bytes;
  }
  return in;
}

namespace {

// The kernel probes in three rounds, each rate from its best round. On a shared VM a round
// can run while a neighbour holds the core; taking that round moved the whole estimate
// (MobileNetV2's from 2.5 to 4.6 ms between two runs). Rates solved together from two shapes
// (a conv's MAC and output rates, depthwise MACs and per-channel cost) come from one round.
KernelProbe best_kernel_probe(int rounds) {
  KernelProbe best = measure_kernels(0.05);
  for (int r = 1; r < rounds; ++r) {
    const KernelProbe k = measure_kernels(0.05);
    if (k.dense_gmacs > best.dense_gmacs) best.dense_gmacs = k.dense_gmacs, best.conv_gouts = k.conv_gouts;
    if (k.depthwise_gmacs > best.depthwise_gmacs)
      best.depthwise_gmacs = k.depthwise_gmacs, best.depthwise_channel_us = k.depthwise_channel_us;
    best.add_gelems = std::max(best.add_gelems, k.add_gelems);
    best.pool_gtaps = std::max(best.pool_gtaps, k.pool_gtaps);
    best.float_gflops = std::max(best.float_gflops, k.float_gflops);
    best.call_us = std::min(best.call_us, k.call_us);
  }
  return best;
}

}  // namespace

CostModel host_cost_model(int threads, std::string* description) {
  // docs/perf.md "The host march": every number is measured here, on this CPU, now.
  const Int8Peak peak = measure_int8_peak(0.05);
  const MemoryProbe mem = measure_memory(0.05);
  const KernelProbe k = best_kernel_probe(3);
  const int t = std::max(threads, 1);
  const double ghz = std::max(peak.core_ghz, 1e-3);
  auto per_cycle = [&](double g_per_s, double scale) { return std::max<int64_t>(1, std::llround(g_per_s / ghz * scale)); };
  CostModel c;
  c.clock_mhz = ghz * 1e3;
  // Compute: the rates qmap's kernels reach on this core, times the threads the runtime
  // splits each convolution and elementwise step over (the probes run one core).
  c.int8_macs_per_cycle = per_cycle(k.dense_gmacs, t);
  c.depthwise_macs_per_cycle = per_cycle(k.depthwise_gmacs, t);
  c.output_ops_per_cycle = k.conv_gouts > 0 ? per_cycle(k.conv_gouts, t) : 0;
  c.depthwise_channel_cycles = k.depthwise_channel_us * c.clock_mhz / t;
  c.vector_ops_per_cycle = per_cycle(k.add_gelems, t);
  c.simple_ops_per_cycle = per_cycle(k.pool_gtaps, t);
  // CPU (float) ops run on one thread through the ops' generic evals: their rate, not the
  // vector unit's (k.float_gflops, shown for comparison).
  c.cpu_gflops = float_eval_gops();
  // Memory: the "SRAM" is the core's L2; what does not fit streams from DDR.
  c.sram_kib = mem.l2_bytes / 1024;
  c.sram_bandwidth_gbps = mem.l2_copy_gbps;
  c.ddr_bandwidth_gbps = mem.ddr_copy_gbps;
  c.cpu_shares_sram = true;  // float steps run on the same core, in the same caches
  c.subgraph_switch_us = 0;  // the CPU and the "NPU" are the same core: no hand-over
  c.layer_overhead_us = k.call_us;
  c.eval_overhead_us = eval_overhead_us();
  c.move_run_cycles = move_run_us() * c.clock_mhz;
  c.conv_pixel_vector = k.conv_pixel_vector;
  c.conv_row_halo = k.conv_row_halo;
  if (description) {
    const double vnni = peak.vnni_zmm_gmacs > 0 ? peak.vnni_zmm_gmacs : peak.avx2_vpmaddwd_gmacs;
    *description = fmt::format(
        "host ({} kernels, {} thread{}): {:.2f} GHz; int8 peak {:.0f} MACs/cycle, qmap's conv {} / depthwise {} "
        "MACs/cycle (+{} outputs/cycle, +{:.0f} cycles per depthwise channel), add {} / pool {} elements/cycle, float ops {:.1f} G/s (vector peak {:.1f} GFLOP/s); L2 {} KiB at {:.1f} GB/s, DDR {:.1f} GB/s; "
        "{:.2f} us per kernel step, {:.2f} us per generic step, {:.1f} ns per copied run",
        k.isa, t, t == 1 ? "" : "s", ghz, vnni / ghz, c.int8_macs_per_cycle, c.depthwise_macs_per_cycle,
        c.output_ops_per_cycle, c.depthwise_channel_cycles,
        c.vector_ops_per_cycle, c.simple_ops_per_cycle, c.cpu_gflops, k.float_gflops, c.sram_kib, c.sram_bandwidth_gbps, c.ddr_bandwidth_gbps, c.layer_overhead_us,
        c.eval_overhead_us, c.move_run_cycles / c.clock_mhz * 1e3);
  }
  return c;
}

Result<CostModel> perf_cost_model(const std::string& march, int threads, std::string* description) {
  if (march == "host") return host_cost_model(threads, description);
  auto spec = load_target_spec(march);
  if (!spec.ok()) return spec.status().with_context("perf: --march: ");
  if (description) *description = fmt::format("{}: {}", spec->name, spec->source);
  return spec->cost;
}

Status measure_perf(PerfReport& r, const PerfInput& in, int iters, int threads) {
  if (!in.model) return error("perf: model '{}': no runtime model to measure", in.path);
  if (iters < 1) return error("perf: --iters {}: must be at least 1", iters);
  constexpr int kWarmup = 2;
  try {
    const rt::Model& model = *in.model;
    rt::ContextOptions opt;
    opt.profile = true;
    opt.threads = threads;
    rt::Context ctx(model, opt);
    // A fixed input: floats in [-1, 1), 8-bit values cycling (results do not matter, only
    // that every run does the same work).
    for (size_t i = 0; i < model.inputs().size(); ++i) {
      const rt::TensorDesc& d = model.inputs()[i];
      std::vector<std::byte> buf(d.input_bytes());
      if (d.dtype == rt::ElemType::kFloat32 && d.color == rt::ColorType::kFeaturemap) {
        for (size_t k = 0; k * 4 + 3 < buf.size(); ++k) {
          const float v = static_cast<float>(static_cast<int>((k * 37) % 200) - 100) / 100.f;
          std::memcpy(buf.data() + k * 4, &v, 4);
        }
      } else {
        for (size_t k = 0; k < buf.size(); ++k) buf[k] = static_cast<std::byte>((k * 37) % 251);
      }
      ctx.set_input(i, buf.data(), buf.size());
    }
    const size_t n = r.layers.size();
    auto cumulative = [&](int runs) {  // per-step total over all runs so far, us
      std::vector<double> c(n, 0);
      const auto prof = ctx.profile();
      for (size_t s = 0; s < n && s < prof.size(); ++s) c[s] = prof[s].mean_us * runs;
      return c;
    };
    for (int w = 0; w < kWarmup; ++w) ctx.run();
    std::vector<double> prev = cumulative(kWarmup);
    std::vector<double> total, npu, cpu, sums;
    std::vector<std::vector<double>> per_step(n);  // per step, its time in each run
    for (int it = 0; it < iters; ++it) {
      const auto t0 = std::chrono::steady_clock::now();
      ctx.run();
      total.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
      const std::vector<double> cur = cumulative(kWarmup + it + 1);
      double a = 0, b = 0;
      for (size_t s = 0; s < n; ++s) {
        (r.layers[s].cpu ? b : a) += cur[s] - prev[s];
        per_step[s].push_back(cur[s] - prev[s]);
      }
      npu.push_back(a);
      cpu.push_back(b);
      sums.push_back(a + b);
      prev = cur;
    }
    // Per step the median over the runs: on a shared machine one preempted run must not make a
    // small layer look slow.
    std::vector<double> median(n, 0);
    for (size_t s = 0; s < n; ++s) median[s] = time_stats(per_step[s]).median_us;
    PerfMeasurement m;
    m.runs = iters;
    m.threads = threads;
    m.isa = model.isa();
    m.total = time_stats(total);
    m.npu = time_stats(npu);
    m.cpu = time_stats(cpu);
    m.layer_sum_us = time_stats(sums).median_us;
    attach_measurement(r, median, m);
  } catch (const rt::Error& e) {
    return error("perf: model '{}': measuring: {}", in.path, e.what());
  }
  return ok_status();
}

}  // namespace qmap
