// QDQ graphs for the runtime tests, built as float graphs and quantized by the test
// quantizer (quant/qdq_quantize_test_util.h) so that every integer step kind appears: Conv
// (+Relu), a Sigmoid table, Mul, MaxPool, AveragePool, Add, Concat, GlobalAveragePool,
// Reshape/Transpose moves, a high-precision Gemm output and a Softmax run in float on the CPU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quant/float_range_test_util.h"
#include "quant/qdq_quantize_test_util.h"
#include "quant/qdq_test_util.h"
#include "quant/quantize.h"

namespace qmap::testing {

struct RuntimeNet {
  Graph qdq;
  std::vector<Tensor> inputs;  // the calibration sample (also a valid run input)
};

// Two float inputs: x [1, 3, 12, 12] and a featuremap y [1, 8, 6, 6] added in the middle.
inline RuntimeNet runtime_test_net(uint32_t seed) {
  QdqBuilder b;  // a float graph builder here; quantize_for_test adds the Q/DQ
  uint32_t s = seed;
  // Names built with +=: GCC 12's -Wrestrict misfires on "w" + std::to_string(s).
  auto name = [&](const char* prefix) {
    std::string n = prefix;
    n += std::to_string(++s);
    return n;
  };
  auto w = [&](Dims d, float r) {
    const std::string n = name("w");
    return b.constant(n, random_tensor(std::move(d), s, -r, r));
  };
  auto bias = [&](int64_t n) {
    const std::string nm = name("b");
    return b.constant(nm, random_tensor({n}, s, -0.2f, 0.2f));
  };
  auto conv = [&](ValueId x, int64_t cin, int64_t cout, int64_t k) {
    return b.op("Conv", {x, w({cout, cin, k, k}, 0.5f), bias(cout)},
                {{"pads", std::vector<int64_t>{k / 2, k / 2, k / 2, k / 2}}});
  };
  const ValueId x = b.input("x", random_tensor({1, 3, 12, 12}, seed, -1.f, 1.f));
  const ValueId y = b.input("y", random_tensor({1, 8, 6, 6}, seed + 100, -1.f, 1.f));
  const ValueId c1 = b.op("Relu", {conv(x, 3, 8, 3)});
  const ValueId sw = b.op("Mul", {c1, b.op("Sigmoid", {c1})});
  const ValueId mp = b.op("MaxPool", {sw}, {{"kernel_shape", std::vector<int64_t>{2, 2}},
                                            {"strides", std::vector<int64_t>{2, 2}}});
  const ValueId ap = b.op("AveragePool", {mp}, {{"kernel_shape", std::vector<int64_t>{3, 3}},
                                                {"pads", std::vector<int64_t>{1, 1, 1, 1}}});
  const ValueId add = b.op("Add", {ap, y});
  const ValueId cat = b.op("Concat", {add, conv(add, 8, 8, 1)}, {{"axis", int64_t{1}}});
  const ValueId tr = b.op("Transpose", {cat}, {{"perm", std::vector<int64_t>{0, 1, 3, 2}}});
  const ValueId gap = b.op("GlobalAveragePool", {tr});
  const ValueId flat = b.op("Reshape", {gap, b.constant("shape", Tensor::from_vector<int64_t>({2}, {1, 16}))});
  const ValueId fc = b.op("Gemm", {flat, w({10, 16}, 0.5f), bias(10)}, {{"transB", int64_t{1}}});
  const ValueId fc2 = b.op("Gemm", {flat, w({4, 16}, 0.5f), bias(4)}, {{"transB", int64_t{1}}});
  b.output(fc);
  b.output(b.op("Softmax", {fc2}));
  auto q = quantize_for_test(b.finish(), b.inputs());
  QMAP_CHECK(q.ok(), "{}", q.status().message());
  return {std::move(q).value(), b.inputs()};
}

// int16 outputs (the accuracy budget's higher precision) through the quantizer: x [1, 3, 10, 10]
// -> conv1 3x3 + Relu (int16) -> depthwise 3x3 (int16 in, 8-bit out) -> conv 1x1 (int16) ->
// Add with a 1x1 conv of x (int16) -> conv 1x1 to the float output (int16 in).
inline RuntimeNet int16_net() {
  GraphBuilder b;
  const ValueId x = b.input("x", {1, 3, 10, 10});
  const std::vector<int64_t> pad1 = {1, 1, 1, 1};
  const ValueId c1 = b.node("Conv", "conv1", {x, b.random("w1", {6, 3, 3, 3}, 41, -0.5f, 0.5f), b.random("b1", {6}, 42)},
                            {{"pads", pad1}});
  const ValueId r1 = b.node("Relu", "relu1", {c1});
  const ValueId dw = b.node("Conv", "dw", {r1, b.random("w2", {6, 1, 3, 3}, 43, -0.5f, 0.5f)},
                            {{"pads", pad1}, {"group", int64_t{6}}});
  const ValueId pw = b.node("Conv", "pw", {dw, b.random("w3", {4, 6, 1, 1}, 44, -0.5f, 0.5f), b.random("b3", {4}, 45)});
  const ValueId side = b.node("Conv", "side", {x, b.random("w4", {4, 3, 1, 1}, 46, -0.5f, 0.5f)});
  const ValueId add = b.node("Add", "add", {pw, side});
  const ValueId y = b.node("Conv", "head", {add, b.random("w5", {5, 4, 1, 1}, 47, -0.5f, 0.5f)});
  const Graph g = b.build({y});
  const std::vector<std::vector<Tensor>> samples = seeded_samples({1, 3, 10, 10}, 48, 1, -1.f, 1.f);
  QuantizeOptions o;
  o.int16_outputs = {"conv1", "pw", "add"};
  auto q = quantize_graph(g, max_abs_thresholds(g, samples), o);
  QMAP_CHECK(q.ok(), "{}", q.status().message());
  return {std::move(q->graph), samples[0]};
}

// x [1, 4, 5, 6] -> Conv -> PRelu with a slope per channel (a channel_lut step) -> Conv -> output.
inline RuntimeNet prelu_channel_net() {
  QdqBuilder b;
  const ValueId x = b.input("x", random_tensor({1, 4, 5, 6}, 41, -1.f, 1.f));
  const ValueId c = b.op("Conv", {x, b.constant("w", random_tensor({4, 4, 1, 1}, 42, -0.5f, 0.5f))});
  const ValueId slope = b.constant("slope", Tensor::from_vector<float>({4, 1, 1}, {-0.1f, 0.f, 0.2f, 0.7f}));
  const ValueId p = b.op("PRelu", {c, slope});
  b.output(b.op("Conv", {p, b.constant("w2", random_tensor({2, 4, 1, 1}, 43, -0.5f, 0.5f))}));
  auto q = quantize_for_test(b.finish(), b.inputs());
  QMAP_CHECK(q.ok(), "{}", q.status().message());
  return {std::move(q).value(), b.inputs()};
}

// x [1, 3, 70, 66] -> four MaxPools of large planes, split over threads: ResNet's 3x3 stride 2
// pad 1 (signed input), dilation 2 stride 1 pad 2 and asymmetric pads (on a Relu: unsigned),
// and ceil_mode with a last window past the image.
inline RuntimeNet large_maxpool_net() {
  QdqBuilder b;
  const ValueId x = b.input("x", random_tensor({1, 3, 70, 66}, 51, -1.f, 1.f));
  const ValueId r = b.op("Relu", {x});
  const auto ints = [](std::vector<int64_t> v) { return v; };
  // Each pool feeds a Sigmoid (an integer table step): a pool that writes a graph output
  // itself would run in float after its DequantizeLinear.
  const auto pool = [&](ValueId in, std::map<std::string, AttrValue> attrs) {
    b.output(b.op("Sigmoid", {b.op("MaxPool", {in}, std::move(attrs))}));
  };
  pool(x, {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"pads", ints({1, 1, 1, 1})}});
  pool(r, {{"kernel_shape", ints({3, 3})}, {"dilations", ints({2, 2})}, {"pads", ints({2, 2, 2, 2})}});
  pool(r, {{"kernel_shape", ints({2, 3})}, {"pads", ints({0, 1, 1, 0})}});
  pool(x, {{"kernel_shape", ints({3, 3})}, {"strides", ints({2, 2})}, {"ceil_mode", int64_t{1}}});
  auto q = quantize_for_test(b.finish(), b.inputs());
  QMAP_CHECK(q.ok(), "{}", q.status().message());
  return {std::move(q).value(), b.inputs()};
}

// x [1, 3, 28, 28] -> two Convs (16 channels) -> Add -> Mul by a per-channel constant: at 2
// threads the AVX-512 convolutions split the rows (14 rows of 28 pixels, the least they give
// a worker), at 3 threads they share out the channels; beside it a 2-row image.
inline RuntimeNet row_split_net() {
  QdqBuilder b;
  const auto ints = [](std::vector<int64_t> v) { return v; };
  const auto branch = [&](const char* name, Dims dims, uint32_t seed) {
    const ValueId x = b.input(name, random_tensor(dims, seed, -1.f, 1.f));
    std::string w1 = name, w2 = name, k = name;
    w1 += "_w1", w2 += "_w2", k += "_k";
    const ValueId c1 = b.op("Conv", {x, b.constant(w1, random_tensor({16, 3, 1, 1}, seed + 1, -0.5f, 0.5f))});
    const ValueId c2 = b.op("Conv", {x, b.constant(w2, random_tensor({16, 3, 3, 3}, seed + 2, -0.5f, 0.5f))},
                            {{"pads", ints({1, 1, 1, 1})}});
    const ValueId add = b.op("Relu", {b.op("Add", {c1, c2})});
    const ValueId mul = b.op("Mul", {add, b.constant(k, random_tensor({1, 16, 1, 1}, seed + 3, -2.f, 2.f))});
    // A Sigmoid (an integer table step) after it: a Mul that wrote a graph output itself
    // would run in float after its DequantizeLinear.
    b.output(b.op("Sigmoid", {mul}));
  };
  branch("x", {1, 3, 28, 28}, 61);
  branch("z", {1, 3, 2, 30}, 71);
  auto q = quantize_for_test(b.finish(), b.inputs());
  QMAP_CHECK(q.ok(), "{}", q.status().message());
  return {std::move(q).value(), b.inputs()};
}

// A uint8 yuv444 image input read by DequantizeLinear(scale 1) -> [Transpose NHWC->NCHW] ->
// Conv -> Relu -> Q -> DQ: the shape of a makertbin model with an nv12 runtime input.
inline Graph image_input_net(bool nhwc, int64_t h, int64_t w) {
  QdqBuilder b;
  Tensor img(DType::kUInt8, nhwc ? Dims{1, h, w, 3} : Dims{1, 3, h, w});
  for (int64_t i = 0; i < img.numel(); ++i) img.data<uint8_t>()[static_cast<size_t>(i)] = static_cast<uint8_t>((i * 37) % 256);
  const ValueId x = b.input("image", img);
  const ValueId s = b.constant("image_scale", Tensor::scalar<float>(1.f));
  const ValueId z = b.constant("image_zero_point", Tensor::scalar<uint8_t>(0));
  ValueId xd = b.op("DequantizeLinear", {x, s, z});
  if (nhwc) xd = b.op("Transpose", {xd}, {{"perm", std::vector<int64_t>{0, 3, 1, 2}}});
  const ValueId wt = b.weight("w", random_tensor({4, 3, 3, 3}, 20, -0.02f, 0.02f), 0);
  const ValueId yq = b.quantize(b.op("Relu", {b.op("Conv", {xd, wt})}), true);
  b.output(b.dequantize(yq));
  return b.finish();
}

// Random run inputs shaped like `like` (float in [-1.5, 1.5]: some values saturate; uint8
// over 0..255), from `seed`.
inline std::vector<Tensor> random_inputs(const std::vector<Tensor>& like, uint32_t seed) {
  std::vector<Tensor> out;
  for (size_t i = 0; i < like.size(); ++i) {
    const uint32_t si = seed * 7919u + static_cast<uint32_t>(i);
    if (like[i].dtype() == DType::kFloat32) {
      out.push_back(random_tensor(like[i].dims(), si, -1.5f, 1.5f));
    } else {
      Tensor f = random_tensor(like[i].dims(), si, 0.f, 255.99f);
      Tensor u(DType::kUInt8, like[i].dims());
      for (int64_t k = 0; k < u.numel(); ++k)
        u.data<uint8_t>()[static_cast<size_t>(k)] = static_cast<uint8_t>(f.data<float>()[static_cast<size_t>(k)]);
      out.push_back(u);
    }
  }
  return out;
}

}  // namespace qmap::testing
