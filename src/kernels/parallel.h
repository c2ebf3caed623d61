// How a kernel splits its work over threads without knowing the thread pool: the runtime
// passes a TaskRunner; a kernel cuts its output into independent tasks (disjoint output
// ranges) and gives each worker its own slice of scratch memory. Results never depend on
// which worker runs which task, so outputs are identical for every thread count.
#pragma once

#include <cstddef>
#include <functional>

namespace qmap::kernels {

class TaskRunner {
 public:
  virtual ~TaskRunner() = default;
  virtual int num_workers() const = 0;  // >= 1
  // Calls fn(task, worker) once for every task in [0, n), worker in [0, num_workers());
  // returns when all have returned. Calls on one worker run one after another.
  virtual void run(size_t n, const std::function<void(size_t task, int worker)>& fn) const = 0;
};

// Runs every task on the calling thread (worker 0).
class SerialRunner final : public TaskRunner {
 public:
  int num_workers() const override { return 1; }
  void run(size_t n, const std::function<void(size_t, int)>& fn) const override {
    for (size_t i = 0; i < n; ++i) fn(i, 0);
  }
};

}  // namespace qmap::kernels
