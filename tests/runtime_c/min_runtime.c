/* A minimal C program over libqmap_runtime.so alone (include/qmap/runtime_c.h), built by the
 * runtime_c.min_runtime test with the C compiler and `-lqmap_runtime` only, no other qmap
 * library: the shared library is self-contained.
 *
 *   min_runtime model.bin input.raw out0.bin [out1.bin ...]
 *
 * Feeds input.raw (exactly qmap_model_input_bytes bytes) to the model's single input, runs
 * it, and writes output k as raw float32 (row-major, as `qmap infer --output-dir` writes it)
 * to the k-th output path; prints the runtime version first (qmap_version()). Exit 0 on
 * success; 1 with a message on stderr otherwise. Also built by install.pkgconfig_c. */
#include <stdio.h>
#include <stdlib.h>

#include "qmap/runtime_c.h"

static int fail(const char* what, const char* detail) {
  fprintf(stderr, "min_runtime: %s: %s\n", what, detail);
  return 1;
}

static int read_all(const char* path, void** data, size_t* size) {
  FILE* f = fopen(path, "rb");
  long n;
  if (!f) return -1;
  if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return -1;
  }
  *size = (size_t)n;
  *data = malloc(*size > 0 ? *size : 1);
  if (!*data || fread(*data, 1, *size, f) != *size) {
    fclose(f);
    return -1;
  }
  fclose(f);
  return 0;
}

int main(int argc, char** argv) {
  qmap_model* model;
  qmap_context* ctx;
  void* input = NULL;
  size_t input_size = 0, k, n_out;
  int rc = 0;
  if (argc < 4) return fail("usage", "min_runtime model.bin input.raw out0.bin [out1.bin ...]");
  printf("runtime: qmap %s\n", qmap_version());
  model = qmap_model_load(argv[1]);
  if (!model) return fail("load", qmap_last_error());
  if (qmap_model_num_inputs(model) != 1) return fail("model", "one input expected");
  n_out = qmap_model_num_outputs(model);
  if ((size_t)(argc - 3) != n_out) return fail("usage", "one output path per model output");
  if (read_all(argv[2], &input, &input_size) != 0) return fail(argv[2], "cannot read");
  ctx = qmap_context_create(model);
  if (!ctx) return fail("context", qmap_last_error());
  if (qmap_set_input(ctx, 0, input, input_size) != 0) return fail("input", qmap_last_error());
  if (qmap_run(ctx) != 0) return fail("run", qmap_last_error());
  for (k = 0; k < n_out && rc == 0; ++k) {
    const size_t count = qmap_model_output_elements(model, k);
    float* out = (float*)malloc((count > 0 ? count : 1) * sizeof(float));
    FILE* f;
    if (!out) return fail("output", "out of memory");
    if (qmap_get_output(ctx, k, out, count) != 0) rc = fail("output", qmap_last_error());
    else if (!(f = fopen(argv[3 + k], "wb"))) rc = fail(argv[3 + k], "cannot create");
    else {
      if (fwrite(out, sizeof(float), count, f) != count) rc = fail(argv[3 + k], "cannot write");
      if (fclose(f) != 0) rc = fail(argv[3 + k], "cannot write");
    }
    printf("output %lu '%s': %lu float32 values\n", (unsigned long)k, qmap_model_output_name(model, k),
           (unsigned long)count);
    free(out);
  }
  qmap_context_free(ctx);
  qmap_model_free(model);
  free(input);
  return rc;
}
