// Custom ops: ops a plugin library defines (include/qmap/custom_op.h, the C ABI). One IR op,
// OpId::Custom (ops/list_custom.def), stands for all of them: a node carries its domain, op
// type and the CustomOp that infers and runs it, and the Custom OpDef (custom_op.cpp) forwards
// infer and eval to the plugin. Runtime code: the runtime loads plugins for .bin files with
// custom steps, so this layer needs only dlopen (part of libc).
//
// A CustomOpSet is the plugins one session loaded: no global registry, so two models loaded
// with different plugins never see each other's ops.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "ir/graph.h"
#include "qmap/custom_op.h"

namespace qmap {

struct CustomOp {
  std::string domain;
  std::string op_type;
  int64_t version = 0;
  std::string summary;
  std::string library;       // the path it was loaded from
  std::string library_name;  // its file name (what a .bin records)
  const QmapCustomOpDef* def = nullptr;  // the plugin's, valid while `handle` lives
  std::shared_ptr<void> handle;          // the dlopen handle; closed with the last reference

  // "qmap.example.Normalize": how messages name the op (ONNX's domain.op_type).
  std::string qualified_name() const { return domain + "." + op_type; }
};

class CustomOpSet {
 public:
  // Loads every library in order (see add_library). An empty list gives an empty set.
  static Result<CustomOpSet> load(const std::vector<std::string>& paths);

  // dlopens `path` and registers the ops its qmap_register_custom_ops declares. Errors, one
  // line each, name the library: missing file, not a loadable shared library, no entry point
  // (not a qmap plugin), another custom-op ABI version, an invalid op definition, the plugin's
  // own failure, an op (domain + type) another loaded library already claims. The same file
  // given twice is loaded once.
  Status add_library(const std::string& path);

  // The op of this domain and type, or null.
  std::shared_ptr<const CustomOp> find(std::string_view domain, std::string_view op_type) const;
  // Every op of this type, any domain (Caffe layers have no domain).
  std::vector<std::shared_ptr<const CustomOp>> find_type(std::string_view op_type) const;

  const std::vector<std::shared_ptr<const CustomOp>>& ops() const { return ops_; }
  const std::vector<std::string>& libraries() const { return libraries_; }
  bool empty() const { return ops_.empty(); }

 private:
  std::vector<std::shared_ptr<const CustomOp>> ops_;
  std::vector<std::string> libraries_;  // canonical paths, in load order
};

// Makes `n` a node of `op`: OpId::Custom, its domain and type.
void make_custom_node(Node& n, std::shared_ptr<const CustomOp> op);

// Checks a custom node's attributes against the plugin's declaration (names, types, required
// ones): the custom half of validate_attributes (ops/verify.h).
Status validate_custom_attributes(const Node& n);

}  // namespace qmap
