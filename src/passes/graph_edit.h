// Small graph-editing primitives shared by the float passes (src/passes/). Every pass
// rewrites the graph through these, so the rules that keep it valid live in one place:
// nodes stay in topological order, Value::producer is rebuilt after a node list change,
// graph input and output names never change, and constants a pass derives are new
// initializers (a Tensor buffer may be shared with another value, so it is never written).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace qmap {

// Log of applied rewrites: one human-readable line per rewrite ("fold_batchnorm: 'bn1'
// folded into Conv 'conv1'"). A pass that appends nothing changed nothing.
using PassLog = std::vector<std::string>;

// Appends a line to `log` when it is not null.
void log_rewrite(PassLog* log, std::string line);

// Number of node inputs reading `v` (a node reading it twice counts twice).
int use_count(const Graph& g, ValueId v);
bool is_graph_output(const Graph& g, ValueId v);
bool is_graph_input(const Graph& g, ValueId v);
// True when `v` is read by exactly one node input and is not a graph output: the node
// reading it may then be folded into v's producer.
bool has_single_use(const Graph& g, ValueId v);
// Index of the node reading `v` through `has_single_use`, or nullopt.
std::optional<size_t> single_consumer(const Graph& g, ValueId v);
// The producing node index of `v`, or nullopt for graph inputs, initializers, kNoValue.
std::optional<size_t> producer_of(const Graph& g, ValueId v);

// Contents of `v` when known at compile time (initializer or folded by shape inference);
// nullptr for kNoValue and run-time values.
const Tensor* constant_of(const Graph& g, ValueId v);
// Same, but only float32 constants (the passes fold float arithmetic only).
const Tensor* float_constant_of(const Graph& g, ValueId v);

// Float32 tensor of `dims` from double values (each rounded once to nearest float).
Tensor float_tensor(Dims dims, const std::vector<double>& v);

// Adds an initializer named `base` (or `base_1`, ... when taken).
ValueId add_initializer(Graph& g, const std::string& base, Tensor t);
// Points input `input` of node `node` at a new initializer holding `t`, named
// "<node name>_<suffix>". The old value is left for prune_graph (another node may read it).
void replace_constant_input(Graph& g, size_t node, size_t input, Tensor t, const std::string& suffix);

// A node of op `op` (its ONNX name) with the given name, inputs, outputs and attributes.
Node make_node(const std::string& op, std::string name, std::vector<ValueId> inputs,
               std::vector<ValueId> outputs, std::map<std::string, AttrValue> attrs = {});

// Node `consumer` reads an output of node `producer` that only it reads; after the producer's
// parameters absorbed the consumer's effect, the producer writes the consumer's output 0 in
// place of that output (so the consumer's output keeps its name, graph outputs included) and
// the consumer is erased.
void absorb_consumer(Graph& g, size_t producer, size_t consumer);
// Every node input reading `from` reads `to` instead (graph outputs are not touched).
void redirect_uses(Graph& g, ValueId from, ValueId to);
// Erases node `index` and rebuilds producers; its output values are left for prune_graph.
void erase_node(Graph& g, size_t index);
// Inserts `node` at `index` (topological position chosen by the caller); rebuilds producers.
void insert_node(Graph& g, size_t index, Node node);

// Removes nodes none of whose outputs is read or a graph output (repeatedly, so dead
// chains go), then values that no node, graph input or graph output refers to, renumbering
// the value ids. Passes call it once at the end so dropped weights leave the model.
void prune_graph(Graph& g);

// Ends a pass: prune_graph, then infer_shapes so every value's dtype and dims match the
// rewritten nodes.
Status finish_pass(Graph& g);

// "Conv 'conv1'": how log lines and errors name a node.
std::string node_label(const Node& n);

}  // namespace qmap
