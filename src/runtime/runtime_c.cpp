// The C API (include/qmap/runtime_c.h) over the C++ one: exceptions become -1/NULL plus a
// thread-local message.
#include "qmap/runtime_c.h"

#include <cstring>
#include <string>
#include <vector>

#include "qmap/runtime.h"
#include "runtime/runtime_c_internal.h"

struct qmap_model {
  qmap::rt::Model model;
};
struct qmap_context {
  qmap::rt::Context ctx;
  bool profiled = false;
  std::vector<qmap::rt::Context::StepProfile> snapshot;  // qmap_profile_count's
};

namespace {

// The calling thread's last error (C convention, like errno): per thread, so no shared state.
thread_local std::string t_last_error;

template <typename F>
int guarded(F&& f) {
  try {
    f();
    return 0;
  } catch (const std::exception& e) {
    t_last_error = e.what();
  } catch (...) {
    t_last_error = "qmap runtime: unknown error";
  }
  return -1;
}

int null_arg(const char* fn) {
  t_last_error = std::string(fn) + ": null argument";
  return -1;
}

}  // namespace

qmap_model* qmap_model_wrap(qmap::rt::Model model) { return new qmap_model{std::move(model)}; }

extern "C" {

qmap_model* qmap_model_load(const char* path) {
  qmap_model* m = nullptr;
  if (!path) return null_arg("qmap_model_load"), nullptr;
  guarded([&] { m = qmap_model_wrap(qmap::rt::Model::load(path)); });
  return m;
}

qmap_model* qmap_model_load_with_custom_ops(const char* path, const char* const* libs, size_t num_libs) {
  qmap_model* m = nullptr;
  if (!path || (!libs && num_libs)) return null_arg("qmap_model_load_with_custom_ops"), nullptr;
  qmap::rt::LoadOptions options;
  for (size_t i = 0; i < num_libs; ++i) {
    if (!libs[i]) return null_arg("qmap_model_load_with_custom_ops"), nullptr;
    options.custom_op_libs.emplace_back(libs[i]);
  }
  guarded([&] { m = qmap_model_wrap(qmap::rt::Model::load(path, options)); });
  return m;
}

qmap_model* qmap_model_load_from_memory(const void* data, size_t size) {
  qmap_model* m = nullptr;
  if (!data && size) return null_arg("qmap_model_load_from_memory"), nullptr;
  guarded([&] { m = qmap_model_wrap(qmap::rt::Model::load_from_memory(data, size)); });
  return m;
}

void qmap_model_free(qmap_model* model) { delete model; }

size_t qmap_model_num_inputs(const qmap_model* m) { return m ? m->model.inputs().size() : 0; }
size_t qmap_model_num_outputs(const qmap_model* m) { return m ? m->model.outputs().size() : 0; }
const char* qmap_model_input_name(const qmap_model* m, size_t i) {
  return m && i < m->model.inputs().size() ? m->model.inputs()[i].name.c_str() : nullptr;
}
const char* qmap_model_output_name(const qmap_model* m, size_t i) {
  return m && i < m->model.outputs().size() ? m->model.outputs()[i].name.c_str() : nullptr;
}
size_t qmap_model_input_bytes(const qmap_model* m, size_t i) {
  return m && i < m->model.inputs().size() ? m->model.inputs()[i].input_bytes() : 0;
}
size_t qmap_model_output_elements(const qmap_model* m, size_t i) {
  return m && i < m->model.outputs().size() ? static_cast<size_t>(m->model.outputs()[i].elements()) : 0;
}

qmap_context* qmap_context_create(const qmap_model* m) { return qmap_context_create_threads(m, 1); }

qmap_context* qmap_context_create_threads(const qmap_model* m, int threads) {
  if (!m) return null_arg("qmap_context_create"), nullptr;
  qmap_context* c = nullptr;
  guarded([&] { c = new qmap_context{qmap::rt::Context(m->model, {.threads = threads}), false, {}}; });
  return c;
}

const char* qmap_model_isa(const qmap_model* m) {
  if (!m) return null_arg("qmap_model_isa"), nullptr;
  // isa_name's strings are static.
  for (const char* n : {"ref", "avx2", "avxvnni", "avx512vnni"})
    if (m->model.isa() == n) return n;
  return "?";
}

void qmap_context_free(qmap_context* ctx) { delete ctx; }

int qmap_set_input(qmap_context* ctx, size_t i, const void* data, size_t bytes) {
  if (!ctx) return null_arg("qmap_set_input");
  return guarded([&] { ctx->ctx.set_input(i, data, bytes); });
}

int qmap_run(qmap_context* ctx) {
  if (!ctx) return null_arg("qmap_run");
  return guarded([&] { ctx->ctx.run(); });
}

int qmap_get_output(qmap_context* ctx, size_t i, float* out, size_t count) {
  if (!ctx || (!out && count)) return null_arg("qmap_get_output");
  return guarded([&] {
    const std::vector<float> v = ctx->ctx.output_float(i);
    if (v.size() != count)
      throw qmap::rt::Error("qmap_get_output: output " + std::to_string(i) + " has " + std::to_string(v.size()) +
                            " elements, the buffer " + std::to_string(count));
    if (count) std::memcpy(out, v.data(), count * sizeof(float));
  });
}

qmap_context* qmap_context_create_profiled(const qmap_model* m, int threads) {
  if (!m) return null_arg("qmap_context_create_profiled"), nullptr;
  qmap_context* c = nullptr;
  guarded([&] { c = new qmap_context{qmap::rt::Context(m->model, {.profile = true, .threads = threads}), true, {}}; });
  return c;
}

size_t qmap_profile_count(qmap_context* ctx) {
  if (!ctx) return null_arg("qmap_profile_count"), 0;
  if (!ctx->profiled) {
    t_last_error = "qmap_profile_count: the context was not created with qmap_context_create_profiled";
    return 0;
  }
  size_t n = 0;
  guarded([&] {
    ctx->snapshot = ctx->ctx.profile();
    n = ctx->snapshot.size();
  });
  return n;
}

int qmap_profile_get(const qmap_context* ctx, size_t i, qmap_step_profile* out) {
  if (!ctx || !out) return null_arg("qmap_profile_get");
  if (i >= ctx->snapshot.size()) {
    t_last_error = "qmap_profile_get: step " + std::to_string(i) + " out of range: the snapshot has " +
                   std::to_string(ctx->snapshot.size()) + " steps (call qmap_profile_count first)";
    return -1;
  }
  const auto& s = ctx->snapshot[i];
  *out = {s.node.c_str(), s.kind.c_str(), s.kernel.c_str(), s.mean_us};
  return 0;
}

const char* qmap_last_error(void) { return t_last_error.c_str(); }

}  // extern "C"
