// A TaskRunner over an intra-op SpinPool (core/spin_pool.h): how the runtime's executor hands
// a kernel's tasks to a Context's threads, and how a benchmark times a kernel the same way.
#pragma once

#include <cstddef>
#include <functional>

#include "core/spin_pool.h"
#include "kernels/parallel.h"

namespace qmap::kernels {

class PoolRunner final : public TaskRunner {
 public:
  explicit PoolRunner(SpinPool& pool) : pool_(pool) {}
  int num_workers() const override { return pool_.size(); }
  void run(size_t n, const std::function<void(size_t, int)>& fn) const override { pool_.parallel_for(n, fn); }

 private:
  SpinPool& pool_;
};

}  // namespace qmap::kernels
