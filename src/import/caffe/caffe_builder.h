// Internal to the Caffe importer: the graph under construction and the per-layer context
// that the layer mappers (caffe_layers.cpp) use. A mapper reads its LayerParameter, checks
// its blobs, and emits IR nodes; each node's shape is inferred as it is added, because
// Caffe parameters (axes, InnerProduct's flattening, Reshape's 0/-1, pooling windows) can
// only be mapped once the input shapes are known.
#pragma once

#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/log.h"
#include "core/status.h"
#include "import/caffe/caffe.pb.h"
#include "ir/graph.h"

namespace qmap::caffe_import {

class LayerCtx;

// One layer type's mapping. Returns the tops' values through ctx.set_top.
using LayerFn = Status (*)(LayerCtx& ctx);

// The mapper of a Caffe layer type ("Convolution"), or nullptr if qmap does not map it.
LayerFn find_layer_fn(const std::string& type);

// A layer as one node of a plugin's op (caffe_custom.cpp): bottoms then trained blobs as inputs,
// the fields of its *_param message as attributes.
Status map_custom_layer(LayerCtx& ctx, std::shared_ptr<const CustomOp> op);

struct ImportState {
  std::string proto_path;
  std::string model_path;
  Graph g;
  Logger* log = nullptr;
  // Caffe blob name -> the value currently holding it (in-place layers rebind it).
  std::unordered_map<std::string, ValueId> blobs;
  std::map<std::string, int> node_name_count;  // keeps node names unique
};

class LayerCtx {
 public:
  LayerCtx(ImportState& st, const caffe::LayerParameter& lp, std::vector<const caffe::BlobProto*> weights,
           std::vector<ValueId> bottoms)
      : st_(st), lp_(lp), weights_(std::move(weights)), bottoms_(std::move(bottoms)) {}

  const caffe::LayerParameter& layer() const { return lp_; }
  const std::string& name() const { return lp_.name(); }
  const std::string& type() const { return lp_.type(); }
  int num_bottoms() const { return static_cast<int>(bottoms_.size()); }
  int num_tops() const { return lp_.top_size(); }
  ValueId bottom(int i) const { return bottoms_.at(static_cast<size_t>(i)); }
  const Dims& dims(ValueId v) const;
  int rank(ValueId v) const { return static_cast<int>(dims(v).size()); }
  Logger* log() const { return st_.log; }

  // "file '<prototxt>': layer '<name>' (<Type>): <message>".
  template <typename... Args>
  Status error(fmt::format_string<Args...> f, Args&&... args) const {
    return Status::error(fmt::format("file '{}': layer '{}' ({}): {}", st_.proto_path, name(), type(),
                                     fmt::format(f, std::forward<Args>(args)...)));
  }
  // Same, naming the caffemodel: for problems with the trained blobs.
  template <typename... Args>
  Status weight_error(fmt::format_string<Args...> f, Args&&... args) const {
    return Status::error(fmt::format("file '{}': layer '{}' ({}): {}", st_.model_path, name(), type(),
                                     fmt::format(f, std::forward<Args>(args)...)));
  }

  // Requires the layer's bottom/top counts to lie in the given ranges (max -1: any).
  Status expect_io(int min_bottoms, int max_bottoms, int min_tops, int max_tops) const;
  // Requires exactly `count` trained blobs; `what` lists them for the message ("weights, bias").
  Status expect_blobs(int count, const char* what) const;
  // Trained blob i as float32, checked against the shape Caffe's layer would allocate
  // (`caffe_shape`; Caffe's own rule: a blob without `shape` is compared as legacy
  // num x channels x height x width against caffe_shape padded to 4-D with leading 1s),
  // then reshaped to `ir_dims` (same element count; empty: keep caffe_shape).
  Result<Tensor> blob(int i, const Dims& caffe_shape, const char* what, const Dims& ir_dims = {}) const;
  // Axis `axis` of a rank-`rank` blob in [0, rank) (negative counts from the end).
  Result<int> canonical_axis(int64_t axis, int rank, const char* what) const;

  // Adds a constant (initializer) named "<layer>/<suffix>".
  ValueId constant(const std::string& suffix, Tensor t);
  ValueId scalar(const std::string& suffix, float v) { return constant(suffix, Tensor::scalar<float>(v)); }
  ValueId int64s(const std::string& suffix, const std::vector<int64_t>& v) {
    return constant(suffix, Tensor::from_vector<int64_t>({static_cast<int64_t>(v.size())}, v));
  }

  // Adds a node of IR op `op` named after the layer ("<layer>" for step "", else
  // "<layer>/<step>") with `num_outputs` fresh outputs, validates its attributes and infers
  // its shapes. Returns the outputs.
  Result<std::vector<ValueId>> node(const std::string& op, const std::string& step, std::vector<ValueId> inputs,
                                    std::map<std::string, AttrValue> attrs = {}, int num_outputs = 1);
  // The same for a plugin's op (a layer type a loaded custom-op plugin claims).
  Result<std::vector<ValueId>> custom_node(std::shared_ptr<const CustomOp> op, std::vector<ValueId> inputs,
                                           std::map<std::string, AttrValue> attrs, int num_outputs);
  // Trained blob i as float32 with the shape the caffemodel declares (no expected shape: a
  // custom layer's blobs are the plugin's to check).
  Result<Tensor> blob_as_declared(int i, const char* what) const;
  int num_blobs() const { return static_cast<int>(weights_.size()); }
  Result<ValueId> node1(const std::string& op, const std::string& step, std::vector<ValueId> inputs,
                        std::map<std::string, AttrValue> attrs = {}) {
    QMAP_ASSIGN_OR_RETURN(auto outs, node(op, step, std::move(inputs), std::move(attrs), 1));
    return outs[0];
  }

  // Binds top i to `v`: the value takes the top's name (an in-place layer's input keeps
  // its history under "<top>/before_<layer>"). An alias (Split) binds without renaming.
  void set_top(int i, ValueId v);
  void alias_top(int i, ValueId v) { st_.blobs[lp_.top(i)] = v; }

 private:
  Result<std::vector<ValueId>> add_node(Node n, const std::string& step, std::vector<ValueId> inputs,
                                        std::map<std::string, AttrValue> attrs, int num_outputs);
  ImportState& st_;
  const caffe::LayerParameter& lp_;
  std::vector<const caffe::BlobProto*> weights_;
  std::vector<ValueId> bottoms_;
};

// Float32 contents and dims of a BlobProto (shape, else legacy 4-D); errors name `what`.
Result<Tensor> blob_to_tensor(const caffe::BlobProto& bp, const std::string& what);
// Dims as Caffe declares them: `shape` if present, else legacy num/channels/height/width.
Dims blob_dims(const caffe::BlobProto& bp);

}  // namespace qmap::caffe_import
