/* The C API exercised from C (compiled as C, not C++): called by runtime_api_test.cpp with a
 * model it built, so the C header is checked to be valid C and usable without C++. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qmap/runtime_c.h"

/* Returns 0 when every check passes; otherwise writes the failing check to msg. input: valid
 * bytes for the model's single input; want: the expected dequantized output 0. */
int qmap_c_api_check(qmap_model* model, const void* input, size_t input_bytes, const float* want,
                     size_t want_count, char* msg, size_t msg_size);

#define CHECK(cond)                                                         \
  do {                                                                      \
    if (!(cond)) {                                                          \
      snprintf(msg, msg_size, "line %d: %s (last error: %s)", __LINE__, #cond, \
               qmap_last_error());                                          \
      return 1;                                                             \
    }                                                                       \
  } while (0)

int qmap_c_api_check(qmap_model* model, const void* input, size_t input_bytes, const float* want,
                     size_t want_count, char* msg, size_t msg_size) {
  float* out;
  float* out2;
  int same = 1;
  qmap_context* ctx;
  qmap_context* ctx2;
  const char* isa;
  size_t i, steps;
  qmap_context* prof;
  qmap_step_profile sp;
  double sum_us = 0;
  CHECK(qmap_model_num_inputs(model) == 1);
  CHECK(qmap_model_input_name(model, 0) != NULL);
  CHECK(qmap_model_input_name(model, 1) == NULL);
  CHECK(qmap_model_input_bytes(model, 0) == input_bytes);
  CHECK(qmap_model_output_elements(model, 0) == want_count && want_count > 0);

  CHECK(qmap_version() != NULL && strlen(qmap_version()) > 0);
  CHECK(strncmp(qmap_version_text(), "qmap ", 5) == 0 &&
        strncmp(qmap_version_text() + 5, qmap_version(), strlen(qmap_version())) == 0);

  CHECK(qmap_model_load("/nonexistent/model.bin") == NULL);
  CHECK(strstr(qmap_last_error(), "/nonexistent/model.bin") != NULL);

  ctx = qmap_context_create(model);
  CHECK(ctx != NULL);
  /* A wrong size is an error naming the input, the bytes given and expected. */
  CHECK(qmap_set_input(ctx, 0, input, input_bytes - 1) == -1);
  CHECK(strstr(qmap_last_error(), qmap_model_input_name(model, 0)) != NULL);
  CHECK(strstr(qmap_last_error(), "expected") != NULL);
  CHECK(qmap_set_input(ctx, 3, input, input_bytes) == -1);
  CHECK(qmap_set_input(ctx, 0, input, input_bytes) == 0);
  CHECK(qmap_run(ctx) == 0);
  out = (float*)malloc((want_count + 1) * sizeof(float));
  CHECK(out != NULL);
  if (qmap_get_output(ctx, 0, out, want_count + 1) != -1) same = 0;
  if (qmap_get_output(ctx, 0, out, want_count) != 0) same = 0;
  for (i = 0; i < want_count; ++i) same = same && memcmp(&out[i], &want[i], sizeof(float)) == 0;
  /* Two intra-op threads give the same floats, bit for bit. */
  ctx2 = qmap_context_create_threads(model, 2);
  CHECK(ctx2 != NULL);
  CHECK(qmap_set_input(ctx2, 0, input, input_bytes) == 0);
  CHECK(qmap_run(ctx2) == 0);
  out2 = (float*)malloc(want_count * sizeof(float));
  CHECK(out2 != NULL);
  if (qmap_get_output(ctx2, 0, out2, want_count) != 0) same = 0;
  same = same && memcmp(out, out2, want_count * sizeof(float)) == 0;
  free(out2);
  /* Not profiled: no per-step times, an error saying why. */
  CHECK(qmap_profile_count(ctx2) == 0);
  CHECK(strstr(qmap_last_error(), "qmap_context_create_profiled") != NULL);
  qmap_context_free(ctx2);
  /* Profiled: one entry per step with its node, kind and kernel, and times of the two runs. */
  prof = qmap_context_create_profiled(model, 1);
  CHECK(prof != NULL);
  CHECK(qmap_set_input(prof, 0, input, input_bytes) == 0);
  CHECK(qmap_run(prof) == 0 && qmap_run(prof) == 0);
  steps = qmap_profile_count(prof);
  CHECK(steps > 0);
  for (i = 0; i < steps; ++i) {
    CHECK(qmap_profile_get(prof, i, &sp) == 0);
    CHECK(sp.node != NULL && sp.kind != NULL && sp.kernel != NULL && sp.mean_us >= 0);
    sum_us += sp.mean_us;
  }
  CHECK(sum_us > 0);
  CHECK(qmap_profile_get(prof, steps, &sp) == -1);
  CHECK(strstr(qmap_last_error(), "out of range") != NULL);
  qmap_context_free(prof);
  isa = qmap_model_isa(model);
  CHECK(isa != NULL && (strcmp(isa, "ref") == 0 || strcmp(isa, "avx2") == 0 || strcmp(isa, "avxvnni") == 0 ||
                      strcmp(isa, "avx512vnni") == 0));
  CHECK(qmap_model_isa(NULL) == NULL);
  /* A negative thread count is refused with a message naming it. */
  CHECK(qmap_context_create_threads(model, -2) == NULL);
  CHECK(strstr(qmap_last_error(), "threads -2") != NULL);
  free(out);
  CHECK(same);
  /* The context keeps the model alive: freeing the model first is allowed. */
  qmap_model_free(model);
  CHECK(qmap_run(ctx) == 0);
  qmap_context_free(ctx);
  CHECK(qmap_run(NULL) == -1);
  return 0;
}
