// The runtime's move steps (ShuffleNetV2's channel splits, shuffles and reshapes, 8-bit, at
// each of its three resolutions) run two ways in one process, interleaved: eval_node_into (the
// op's shape inference, then its eval: what every run did before) and eval_node_checked (the
// eval alone: what the runtime now runs for steps whose inputs fix their outputs). Prints the
// median µs of each and their ratio. Not run by ctest.
//   build/bench/move_steps [--batches N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "ops/registry.h"
#include "program/int_program.h"
#include "bench_stats.h"

namespace {

using namespace qmap;

struct Case {
  std::string what;
  Node node;
  std::vector<Tensor> inputs;  // [0]: the data, then constants
  Dims out;
};

Node node_of(const char* op) {
  Node n;
  n.name = op;
  n.op = *op_by_name(op);
  n.op_type = op;
  return n;
}

Tensor ints(std::vector<int64_t> v) { return Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v); }

std::vector<Case> cases() {
  std::vector<Case> out;
  for (const int64_t hw : {28, 14, 7}) {
    const int64_t c = 116 * 28 / hw;  // 116, 232, 464 channels
    Tensor x(DType::kUInt8, {1, c, hw, hw});
    const std::string at = std::to_string(c) + "x" + std::to_string(hw) + "x" + std::to_string(hw);
    out.push_back({"Slice (channel half) " + at, node_of("Slice"), {x, ints({c / 2}), ints({c}), ints({1})},
                   {1, c / 2, hw, hw}});
    out.push_back({"Reshape " + at, node_of("Reshape"), {x, ints({1, 2, c / 2, hw * hw})}, {1, 2, c / 2, hw * hw}});
    Case t{"Transpose (shuffle) " + at, node_of("Transpose"), {Tensor(DType::kUInt8, {1, 2, c / 2, hw * hw})},
           {1, c / 2, 2, hw * hw}};
    t.node.attrs["perm"] = std::vector<int64_t>{0, 2, 1, 3};
    out.push_back(t);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int batches = 31;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--batches") == 0) batches = std::max(1, std::atoi(argv[i + 1]));
  std::printf("| move step | eval_node_into us | eval_node_checked us | checked / into |\n|---|---:|---:|---:|\n");
  for (const Case& c : cases()) {
    std::vector<const Tensor*> ins;
    for (const Tensor& t : c.inputs) ins.push_back(&t);
    std::vector<Tensor> outs{Tensor(DType::kUInt8, c.out)};
    if (!eval_node_into(c.node, ins, outs).ok()) {
      std::fprintf(stderr, "move_steps: %s does not run\n", c.what.c_str());
      return 1;
    }
    std::vector<double> into, checked;
    constexpr int kCalls = 200;
    for (int b = 0; b < batches; ++b) {  // interleaved: both see the same machine state
      auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < kCalls; ++i) (void)eval_node_into(c.node, ins, outs);
      auto t1 = std::chrono::steady_clock::now();
      for (int i = 0; i < kCalls; ++i) (void)eval_node_checked(c.node, ins, outs);
      auto t2 = std::chrono::steady_clock::now();
      into.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count() / kCalls);
      checked.push_back(std::chrono::duration<double, std::micro>(t2 - t1).count() / kCalls);
    }
    const double a = middle_value(into), b = middle_value(checked);
    std::printf("| %s | %.3f | %.3f | %.2fx |\n", c.what.c_str(), a, b, b / a);
  }
  return 0;
}
