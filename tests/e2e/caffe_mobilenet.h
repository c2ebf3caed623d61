// A MobileNet-like Caffe model written by the e2e tests themselves (deploy.prototxt and
// model.caffemodel in a folder): the checker and the YAML corpus tests use it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "import/caffe/caffe.pb.h"

namespace qmap::e2e {

// A MobileNet-like Caffe model in the layout of the MobileNet Caffe ports that hb_mapper's
// samples convert: conv + BatchNorm + Scale + ReLU, depthwise (group = channels) and
// pointwise convolutions, a global average pool, a 1x1 convolution as the classifier, and
// Softmax, on a 1x3x32x32 "data" blob. Weights are seeded pseudo-random numbers (fixed seed).
inline void write_caffe_mobilenet(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  std::ofstream(dir / "deploy.prototxt") << R"(name: "mobilenet_tiny"
input: "data"
input_shape { dim: 1 dim: 3 dim: 32 dim: 32 }
layer { name: "conv1" type: "Convolution" bottom: "data" top: "conv1"
  convolution_param { num_output: 8 kernel_size: 3 stride: 2 pad: 1 bias_term: false } }
layer { name: "conv1/bn" type: "BatchNorm" bottom: "conv1" top: "conv1" }
layer { name: "conv1/scale" type: "Scale" bottom: "conv1" top: "conv1" scale_param { bias_term: true } }
layer { name: "relu1" type: "ReLU" bottom: "conv1" top: "conv1" }
layer { name: "conv2_1/dw" type: "Convolution" bottom: "conv1" top: "conv2_1/dw"
  convolution_param { num_output: 8 kernel_size: 3 pad: 1 group: 8 bias_term: false } }
layer { name: "relu2_1/dw" type: "ReLU" bottom: "conv2_1/dw" top: "conv2_1/dw" }
layer { name: "conv2_1/sep" type: "Convolution" bottom: "conv2_1/dw" top: "conv2_1/sep"
  convolution_param { num_output: 16 kernel_size: 1 bias_term: false } }
layer { name: "relu2_1/sep" type: "ReLU" bottom: "conv2_1/sep" top: "conv2_1/sep" }
layer { name: "pool6" type: "Pooling" bottom: "conv2_1/sep" top: "pool6" pooling_param { pool: AVE global_pooling: true } }
layer { name: "fc7" type: "Convolution" bottom: "pool6" top: "fc7" convolution_param { num_output: 10 kernel_size: 1 } }
layer { name: "prob" type: "Softmax" bottom: "fc7" top: "prob" }
)";
  uint32_t state = 20240517;  // xorshift32
  const auto next = [&]() {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    return static_cast<float>(state % 2001) / 1000.f - 1.f;  // in [-1, 1]
  };
  caffe::NetParameter net;
  const auto add_layer = [&](const std::string& name, const std::string& type,
                             const std::vector<std::vector<int64_t>>& blobs, bool positive = false) {
    caffe::LayerParameter* l = net.add_layer();
    l->set_name(name);
    l->set_type(type);
    for (const auto& shape : blobs) {
      caffe::BlobProto* b = l->add_blobs();
      int64_t n = 1;
      for (int64_t d : shape) {
        b->mutable_shape()->add_dim(d);
        n *= d;
      }
      for (int64_t i = 0; i < n; ++i) b->add_data(positive ? 1.f + 0.5f * next() : 0.5f * next());
    }
  };
  add_layer("conv1", "Convolution", {{8, 3, 3, 3}});
  add_layer("conv1/bn", "BatchNorm", {{8}, {8}, {1}}, /*positive: variances and the scale factor*/ true);
  add_layer("conv1/scale", "Scale", {{8}, {8}});
  add_layer("conv2_1/dw", "Convolution", {{8, 1, 3, 3}});
  add_layer("conv2_1/sep", "Convolution", {{16, 8, 1, 1}});
  add_layer("fc7", "Convolution", {{10, 16, 1, 1}, {10}});
  std::ofstream(dir / "model.caffemodel", std::ios::binary) << net.SerializeAsString();
}

}  // namespace qmap::e2e
