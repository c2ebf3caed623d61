/* qmap runtime, C API: a thin layer over include/qmap/runtime.h for C programs.
 *
 *   qmap_model* m = qmap_model_load("model.bin");
 *   if (!m) { fprintf(stderr, "%s\n", qmap_last_error()); return 1; }
 *   qmap_context* c = qmap_context_create(m);
 *   qmap_set_input(c, 0, pixels, qmap_model_input_bytes(m, 0));
 *   qmap_run(c);
 *   qmap_get_output(c, 0, scores, qmap_model_output_elements(m, 0));
 *   qmap_context_free(c);
 *   qmap_model_free(m);
 *
 * Functions returning int give 0 on success and -1 on error; pointer-returning ones give NULL
 * on error. qmap_last_error() is the calling thread's last error message (thread-local, like
 * errno), valid until that thread's next qmap call. A model may be shared by contexts on
 * several threads; a context is used by one thread at a time. A context keeps its model
 * alive, so the model may be freed first. */
#ifndef QMAP_RUNTIME_C_H
#define QMAP_RUNTIME_C_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct qmap_model qmap_model;
typedef struct qmap_context qmap_context;

qmap_model* qmap_model_load(const char* path);
qmap_model* qmap_model_load_from_memory(const void* data, size_t size);
/* qmap_model_load with custom-op plugins (include/qmap/custom_op.h): `num_libs` paths of shared
 * libraries providing the custom ops the .bin needs (LoadOptions::custom_op_libs). */
qmap_model* qmap_model_load_with_custom_ops(const char* path, const char* const* custom_op_libs, size_t num_libs);
void qmap_model_free(qmap_model* model);

size_t qmap_model_num_inputs(const qmap_model* model);
size_t qmap_model_num_outputs(const qmap_model* model);
/* NULL when the index is out of range. */
const char* qmap_model_input_name(const qmap_model* model, size_t i);
const char* qmap_model_output_name(const qmap_model* model, size_t i);
/* Bytes qmap_set_input expects (0 when out of range). */
size_t qmap_model_input_bytes(const qmap_model* model, size_t i);
/* Float elements qmap_get_output writes (0 when out of range). */
size_t qmap_model_output_elements(const qmap_model* model, size_t i);

qmap_context* qmap_context_create(const qmap_model* model);
/* The same with `threads` intra-op threads (0: one per core; negative: NULL and an error);
 * outputs do not depend on it. */
qmap_context* qmap_context_create_threads(const qmap_model* model, int threads);
/* The kernel level the model runs with: "ref", "avx2", "avxvnni" or "avx512vnni" (QMAP_ISA selects). */
const char* qmap_model_isa(const qmap_model* model);
void qmap_context_free(qmap_context* ctx);

int qmap_set_input(qmap_context* ctx, size_t i, const void* data, size_t bytes);
int qmap_run(qmap_context* ctx);
/* Output i dequantized to float; count must equal qmap_model_output_elements. */
int qmap_get_output(qmap_context* ctx, size_t i, float* out, size_t count);

/* Per-layer timing (ContextOptions::profile of the C++ API). A context created with
 * qmap_context_create_profiled times every step of every run (two clock reads per step); the
 * other contexts do not time anything. */
typedef struct qmap_step_profile {
  const char* node;   /* the ONNX node the step computes */
  const char* kind;   /* "conv", "add", "move", "float", ... */
  const char* kernel; /* the kernel that runs it */
  double mean_us;     /* mean wall time over the runs so far, microseconds */
} qmap_step_profile;
qmap_context* qmap_context_create_profiled(const qmap_model* model, int threads);
/* Takes a snapshot of the per-step times and returns the number of steps (0 and an error when
 * the context was not created profiled). */
size_t qmap_profile_count(qmap_context* ctx);
/* Step i of the last snapshot; the strings stay valid until the next qmap_profile_count or
 * qmap_context_free. */
int qmap_profile_get(const qmap_context* ctx, size_t i, qmap_step_profile* out);

const char* qmap_last_error(void);

/* The library's release, "0.1.0", and the text `qmap --version` prints (release, git commit,
 * build type, kernel ISAs compiled in; one "key: value" per line). Static strings. */
const char* qmap_version(void);
const char* qmap_version_text(void);

#ifdef __cplusplus
}
#endif

#endif /* QMAP_RUNTIME_C_H */
