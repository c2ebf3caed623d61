/* qmap custom CPU ops: the plugin interface (C ABI).
 *
 * A plugin is a shared library (.so) holding one or more ops qmap does not know. qmap loads
 * it with dlopen (`--custom-op-lib`, the YAML's `custom_op` section, LoadOptions::custom_op_libs,
 * qmap_rt_load_with_custom_ops, qmap.Session(custom_op_libs=...)) and calls its entry point
 *
 *   QMAP_CUSTOM_OP_EXPORT int qmap_register_custom_ops(QmapCustomOpRegistry* registry);
 *
 * which hands each op's QmapCustomOpDef to registry->add_op and returns 0 (non-zero: the load
 * fails with the message the plugin wrote into registry->error). In the style of ONNX Runtime's
 * RegisterCustomOps: one entry point, several ops.
 *
 * An op is a float32 CPU op: dense row-major float32 tensors in and out. The toolchain keeps it
 * as a float CPU step (the NPU never runs it), runs its kernel in the float engine (calibration,
 * accuracy tables) and writes its node into the quantized ONNX in the op's domain; the .bin
 * records the domain, op type, version and the plugin's file name, never the plugin's code.
 *
 * Only C types cross the boundary, so a plugin built by another compiler (or in C) works. Every
 * struct starts with its ABI version; qmap refuses a plugin built against another version.
 * Functions return 0 on success; on failure they write a one-line NUL-terminated message into
 * `error` (at most error_size bytes, terminator included) and return non-zero. They must not
 * throw (a C++ plugin catches its exceptions: nothing may unwind into qmap) and must be
 * thread-safe: several contexts may run one op at once. The definitions and every string they
 * point to live as long as the library (static storage).
 *
 * Trust: a plugin is native code running inside qmap's process with its rights; qmap checks
 * what the plugin declares and returns, but cannot contain a plugin that crashes, writes out of
 * bounds or never returns. Load only libraries you would run as a program (docs/custom-op.md).
 */
#ifndef QMAP_CUSTOM_OP_H
#define QMAP_CUSTOM_OP_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bumped on any change to the structs or functions below. */
#define QMAP_CUSTOM_OP_ABI_VERSION 1u
#define QMAP_CUSTOM_OP_ENTRY "qmap_register_custom_ops"
#define QMAP_CUSTOM_OP_MAX_RANK 8
#define QMAP_CUSTOM_OP_EXPORT __attribute__((visibility("default")))

/* Element types: ONNX TensorProto codes. Kernels see float32 only. */
#define QMAP_CUSTOM_OP_FLOAT32 1

/* Attribute types (the ONNX attribute kinds qmap passes to plugins). */
typedef enum QmapCustomOpAttrType {
  QMAP_ATTR_INT = 1,    /* i (ONNX INT; Caffe bool/int/uint/enum-as-int fields) */
  QMAP_ATTR_FLOAT = 2,  /* f */
  QMAP_ATTR_STRING = 3, /* s */
  QMAP_ATTR_INTS = 4,   /* ints[count] */
  QMAP_ATTR_FLOATS = 5  /* floats[count] */
} QmapCustomOpAttrType;

/* One attribute the op accepts. A node's attribute of another name or type is an error; a
 * required one that is missing too. Optional ones are absent from the call when the node
 * does not set them: the op applies its documented default. */
typedef struct QmapCustomOpAttrSpec {
  const char* name;
  int32_t type;     /* QmapCustomOpAttrType */
  int32_t required; /* non-zero: every node must set it */
  const char* doc;  /* one line, with the default: "eps added to the sum of squares (default 1e-10)" */
} QmapCustomOpAttrSpec;

/* One attribute value of a node. */
typedef struct QmapCustomOpAttr {
  const char* name;
  int32_t type;        /* QmapCustomOpAttrType */
  int64_t i;           /* QMAP_ATTR_INT */
  float f;             /* QMAP_ATTR_FLOAT */
  const char* s;       /* QMAP_ATTR_STRING, NUL-terminated */
  const int64_t* ints; /* QMAP_ATTR_INTS */
  const float* floats; /* QMAP_ATTR_FLOATS */
  int64_t count;       /* elements of ints / floats */
} QmapCustomOpAttr;

/* A tensor's element type and shape. dims[k] >= 0 for k < rank. */
typedef struct QmapCustomOpShape {
  int32_t dtype; /* QMAP_CUSTOM_OP_FLOAT32 */
  int32_t rank;  /* 0 .. QMAP_CUSTOM_OP_MAX_RANK */
  int64_t dims[QMAP_CUSTOM_OP_MAX_RANK];
} QmapCustomOpShape;

/* A dense row-major tensor (C order). Inputs are read-only; outputs are allocated by qmap with
 * the shape infer returned, and compute writes every element. */
typedef struct QmapCustomOpTensor {
  QmapCustomOpShape shape;
  void* data; /* float* for QMAP_CUSTOM_OP_FLOAT32 */
} QmapCustomOpTensor;

typedef struct QmapCustomOpDef {
  uint32_t abi_version; /* QMAP_CUSTOM_OP_ABI_VERSION the plugin was built with */
  uint32_t struct_size; /* sizeof(QmapCustomOpDef) */
  const char* domain;   /* ONNX domain of the op's nodes, e.g. "com.example"; not "" nor "ai.onnx" */
  const char* op_type;  /* ONNX op_type / Caffe layer type, e.g. "Normalize" */
  int64_t version;      /* the op's version (>= 1): a .bin records it and needs the same */
  const char* summary;  /* one line for the checker and logs */
  int32_t min_inputs;   /* inputs a node may have (constants such as weights count) */
  int32_t max_inputs;
  int32_t num_outputs;
  const QmapCustomOpAttrSpec* attrs;
  int32_t num_attrs;
  /* Output dtypes and shapes from the input shapes and attributes; every check of them
   * belongs here (compute may assume they passed). `outputs` has num_outputs entries. */
  int (*infer)(const QmapCustomOpAttr* attrs, int32_t num_attrs, const QmapCustomOpShape* inputs,
               int32_t num_inputs, QmapCustomOpShape* outputs, int32_t num_outputs, char* error,
               size_t error_size);
  /* The float32 kernel. Called only with inputs infer accepted and outputs of the shapes it
   * returned. */
  int (*compute)(const QmapCustomOpAttr* attrs, int32_t num_attrs, const QmapCustomOpTensor* inputs,
                 int32_t num_inputs, QmapCustomOpTensor* outputs, int32_t num_outputs, char* error,
                 size_t error_size);
} QmapCustomOpDef;

/* What qmap hands the entry point. */
typedef struct QmapCustomOpRegistry {
  uint32_t abi_version; /* QMAP_CUSTOM_OP_ABI_VERSION of the loading qmap */
  void* state;          /* qmap's; do not touch */
  /* Registers one op (the pointer must stay valid while the library is loaded). Returns 0, or
   * non-zero with the reason in `error` (the plugin should then return non-zero itself). */
  int (*add_op)(struct QmapCustomOpRegistry* registry, const QmapCustomOpDef* op);
  char* error; /* a plugin's own failure message goes here */
  size_t error_size;
} QmapCustomOpRegistry;

typedef int (*QmapRegisterCustomOpsFn)(QmapCustomOpRegistry* registry);

/* The attribute `name` of a call, or NULL: a helper for kernels. */
static inline const QmapCustomOpAttr* qmap_custom_op_attr(const QmapCustomOpAttr* attrs, int32_t num_attrs,
                                                          const char* name) {
  for (int32_t k = 0; k < num_attrs; ++k) {
    const char* a = attrs[k].name;
    const char* b = name;
    while (*a != '\0' && *a == *b) ++a, ++b;
    if (*a == *b) return &attrs[k];
  }
  return NULL;
}

#ifdef __cplusplus
}
#endif

#endif /* QMAP_CUSTOM_OP_H */
