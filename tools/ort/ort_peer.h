// ort_peer: C++ side of tools/ort/ort_run.js, used by tests/ort/ and bench/ to run a model
// with ONNX Runtime (onnxruntime-node, CPU) in a `node` subprocess and read its outputs.
// It is test/bench support, not part of qmap's libraries: nothing in src/ links it.
//
// Data goes through files in a private temporary folder: inputs as raw little-endian
// tensors, outputs as raw float32 plus ort_run.js's manifest.json (names, dims).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "ir/tensor.h"

namespace qmap::ort_peer {

struct NamedTensor {
  std::string name;
  Tensor tensor;
};

struct Peer {
  std::string node = "node";  // the node executable (QMAP_NODE overrides in default_peer())
  std::string script;         // path of tools/ort/ort_run.js
};

// node from $QMAP_NODE (else "node" on PATH), script from the QMAP_ORT_RUN_JS compile definition.
Peer default_peer();

// Runs `ort_run.js --check`. The error says what is missing and how to install it
// (apt-get install nodejs npm; cd tools/ort && ONNXRUNTIME_NODE_INSTALL=skip npm install).
// On success returns onnxruntime-node's version.
Result<std::string> check_available(const Peer& peer);

// Runs the model once with the given inputs (by name; any dtype ort_run.js accepts) and
// returns every model output, in the model's order, as float32.
Result<std::vector<NamedTensor>> run(const Peer& peer, const std::string& model,
                                     const std::vector<NamedTensor>& inputs, int threads = 1);

struct Timing {
  double median_ms = 0;
  double min_ms = 0;
  int runs = 0;
  std::vector<double> times_ms;  // every timed run, in order
};

// ort_run.js --time: `runs` timed runs after `warmup` runs, in one session. With no inputs
// given, ort_run.js makes its own (--random-seed 1), for models qmap cannot import.
Result<Timing> time(const Peer& peer, const std::string& model,
                    const std::vector<NamedTensor>& inputs, int threads, int runs, int warmup);

// Agreement measure used by the tests and the bench: max |a - b| over all elements and the
// reference's range (max - min). ok() when max_abs_diff <= rel_tol * range.
struct Diff {
  double max_abs_diff = 0;
  double range = 0;
  int64_t worst_index = -1;
  bool dims_match = true;
  double ratio() const { return range > 0 ? max_abs_diff / range : max_abs_diff; }
  bool ok(double rel_tol) const {
    return dims_match && (max_abs_diff <= rel_tol * range || max_abs_diff == 0);
  }
};
Diff compare(const Tensor& actual, const Tensor& reference);

// check_available(default_peer()), run once per process and cached, so a suite whose peer
// is missing fails every test with the same install instructions without re-spawning node.
const Result<std::string>& default_peer_status();

// Whole-output-list agreement used by every ORT test suite: outputs compared by position
// (names must agree too), `actual` cast to float32 first (ORT's outputs are float32), each
// checked with compare() + Diff::ok(rel_tol). Prints one "[ort] <what> <output> <dims>
// max|diff| .. range .. diff/range .. (tol ..)" line per output on stdout, so the test log
// shows the margin even when it passes. The error lists every disagreeing output: count,
// name or dims mismatch, or the worst flat index with both values.
Status check_agreement(const std::string& what, const std::vector<NamedTensor>& actual,
                       const std::vector<NamedTensor>& reference, double rel_tol);

// The stems of the *.onnx files in `dir` ("tiny_cnn" for tiny_cnn.onnx), sorted: the model
// list the tests/ort suites are parameterized over. Empty when the folder cannot be read.
std::vector<std::string> onnx_model_stems(const std::string& dir);

// Fixed-seed inputs the tests and the bench share: float types uniform in [-1, 1)
// (std::mt19937 + uniform_real_distribution), integer types in {0..3}, bool 0/1.
Tensor random_input(DType dtype, const Dims& dims, uint32_t seed);

}  // namespace qmap::ort_peer
