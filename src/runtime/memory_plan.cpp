// Offline arena planning (see memory_plan.h).
#include "runtime/memory_plan.h"

#include <algorithm>
#include <limits>
#include <numeric>

#include "runtime/step_run.h"

namespace qmap::rt {

namespace {

int64_t align_up(int64_t n) { return (n + kArenaAlignment - 1) / kArenaAlignment * kArenaAlignment; }

// Whether [first[a], last[a]] and [first[b], last[b]] share a step.
bool lifetimes_overlap(const std::vector<int32_t>& first, const std::vector<int32_t>& last, size_t a, size_t b) {
  return first[a] <= last[b] && first[b] <= last[a];
}

// Storage classes, sizes, lifetimes and in-place outputs: everything but the offsets.
Result<MemoryPlan> classify(const IntProgram& p) {
  const size_t nt = p.tensors.size();
  MemoryPlan m;
  m.storage.assign(nt, Storage::kUnused);
  m.offset.assign(nt, -1);
  m.bytes.assign(nt, 0);
  m.first_step.assign(nt, -1);
  m.last_step.assign(nt, -1);
  auto bad_index = [&](int64_t t) { return t < 0 || t >= static_cast<int64_t>(nt); };
  for (size_t t = 0; t < nt; ++t) {
    const ProgramTensor& pt = p.tensors[t];
    const size_t es = dtype_size(pt.dtype);
    if (es == 0) return error("runtime: tensor {} '{}': dtype {} has no size", t, pt.name, dtype_name(pt.dtype));
    // Elements * element size must fit in int64 bytes: reject before multiplying.
    int64_t n = static_cast<int64_t>(es);
    for (int64_t d : pt.dims) {
      if (d < 0) return error("runtime: tensor {} '{}': negative dimension in {}", t, pt.name, dims_str(pt.dims));
      if (d != 0 && n > std::numeric_limits<int64_t>::max() / 2 / d)
        return error("runtime: tensor {} '{}': dims {} overflow the byte count", t, pt.name, dims_str(pt.dims));
      n *= d;
    }
    m.bytes[t] = n;
    if (pt.constant) {
      if (pt.constant->dtype() != pt.dtype || pt.constant->dims() != pt.dims)
        return error("runtime: tensor {} '{}': constant is {} {}, the tensor table says {} {}", t, pt.name,
                     dtype_name(pt.constant->dtype()), dims_str(pt.constant->dims()), dtype_name(pt.dtype),
                     dims_str(pt.dims));
      m.storage[t] = Storage::kConstant;
    }
  }
  for (int32_t t : p.inputs) {
    if (bad_index(t)) return error("runtime: graph input index {} out of range [0, {})", t, nt);
    if (m.storage[static_cast<size_t>(t)] != Storage::kUnused)
      return error("runtime: graph input '{}' is listed twice or is a constant", p.tensors[static_cast<size_t>(t)].name);
    m.storage[static_cast<size_t>(t)] = Storage::kInput;
  }
  for (int32_t t : p.outputs) {
    if (bad_index(t)) return error("runtime: graph output index {} out of range [0, {})", t, nt);
    if (m.storage[static_cast<size_t>(t)] == Storage::kUnused) m.storage[static_cast<size_t>(t)] = Storage::kOutput;
  }
  for (size_t si = 0; si < p.steps.size(); ++si) {
    const Step& s = p.steps[si];
    const int32_t step = static_cast<int32_t>(si);
    for (int32_t t : s.inputs) {
      if (t == -1) continue;
      if (bad_index(t)) return error("runtime: step {} '{}': input index {} out of range [0, {})", si, s.node, t, nt);
      const size_t ut = static_cast<size_t>(t);
      const Storage st = m.storage[ut];
      if ((st == Storage::kArena || st == Storage::kOutput || st == Storage::kUnused) && m.first_step[ut] < 0)
        return error("runtime: step {} '{}': reads tensor '{}' before any step writes it", si, s.node,
                     p.tensors[ut].name);
      m.last_step[ut] = step;
    }
    for (int32_t t : s.outputs) {
      if (t == -1) continue;
      if (bad_index(t)) return error("runtime: step {} '{}': output index {} out of range [0, {})", si, s.node, t, nt);
      const size_t ut = static_cast<size_t>(t);
      if (m.first_step[ut] >= 0 || m.storage[ut] == Storage::kConstant || m.storage[ut] == Storage::kInput)
        return error("runtime: step {} '{}': writes tensor '{}', which is an input, a constant or written earlier",
                     si, s.node, p.tensors[ut].name);
      m.first_step[ut] = step;
      m.last_step[ut] = step;  // a value nobody reads still needs its slot while written
      if (m.storage[ut] == Storage::kUnused) m.storage[ut] = Storage::kArena;
    }
  }
  for (int32_t t : p.outputs)
    if (m.storage[static_cast<size_t>(t)] == Storage::kOutput && m.first_step[static_cast<size_t>(t)] < 0)
      return error("runtime: graph output '{}' is never written", p.tensors[static_cast<size_t>(t)].name);
  m.in_place_of.assign(nt, -1);
  for (size_t si = 0; si < p.steps.size(); ++si) {
    const Step& s = p.steps[si];
    if (!is_step_kind(static_cast<int>(s.kind)) || !step_run_def(s.kind).in_place || s.outputs.size() != 1 ||
        s.outputs[0] < 0)
      continue;
    const size_t y = static_cast<size_t>(s.outputs[0]);
    if (m.storage[y] != Storage::kArena || m.bytes[y] == 0) continue;
    // Not with a broadcast operand: the kernels then run one short row at a time (a channel's
    // pixels, e.g. a squeeze-excitation scale) ending in masked stores, and in place the next
    // row's loads of the same cache lines wait for them (mobilenet_v3_small's SE Muls took
    // 6.5 -> 14 us at 2 threads, the model 1.015x).
    if (std::any_of(s.inputs.begin(), s.inputs.end(), [&](int32_t x) {
          return x < 0 || p.tensors[static_cast<size_t>(x)].dims != p.tensors[y].dims;
        }))
      continue;
    for (int32_t x : s.inputs) {
      const size_t ux = static_cast<size_t>(x);
      if (m.storage[ux] == Storage::kArena && m.last_step[ux] == static_cast<int32_t>(si) &&
          dtype_size(p.tensors[ux].dtype) == dtype_size(p.tensors[y].dtype)) {
        m.in_place_of[y] = x;
        break;
      }
    }
  }
  return m;
}

}  // namespace

Result<MemoryPlan> plan_memory(const IntProgram& p) {
  QMAP_ASSIGN_OR_RETURN(MemoryPlan m, classify(p));
  // An in-place output joins its input's slot: each chain of them is placed as one tensor,
  // alive from its first member's first step to its last member's last step (`chain_last`,
  // kept at the chain's root).
  const size_t nt = m.storage.size();
  std::vector<size_t> root(nt);
  std::iota(root.begin(), root.end(), size_t{0});
  std::vector<int32_t> chain_last = m.last_step;
  std::vector<size_t> order;
  for (const Step& s : p.steps)  // in step order: an input's root is known before its output's
    for (int32_t y : s.outputs) {
      if (y < 0 || m.in_place_of[static_cast<size_t>(y)] < 0) continue;
      const size_t t = static_cast<size_t>(y);
      root[t] = root[static_cast<size_t>(m.in_place_of[t])];
      chain_last[root[t]] = std::max(chain_last[root[t]], m.last_step[t]);
    }
  for (size_t t = 0; t < nt; ++t)
    if (m.storage[t] == Storage::kArena && root[t] == t) order.push_back(t);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const int64_t sa = align_up(m.bytes[a]), sb = align_up(m.bytes[b]);
    if (sa != sb) return sa > sb;
    if (m.first_step[a] != m.first_step[b]) return m.first_step[a] < m.first_step[b];
    return a < b;
  });
  std::vector<size_t> placed;
  for (size_t t : order) {
    const int64_t size = align_up(m.bytes[t]);
    std::vector<size_t> live;
    for (size_t q : placed)
      if (lifetimes_overlap(m.first_step, chain_last, q, t) && m.bytes[q] > 0) live.push_back(q);
    std::sort(live.begin(), live.end(), [&](size_t a, size_t b) {
      return m.offset[a] != m.offset[b] ? m.offset[a] < m.offset[b] : a < b;
    });
    int64_t cursor = 0, best = -1, best_waste = std::numeric_limits<int64_t>::max();
    for (size_t q : live) {
      const int64_t gap = m.offset[q] - cursor;
      if (gap >= size && gap - size < best_waste) best = cursor, best_waste = gap - size;
      cursor = std::max(cursor, m.offset[q] + align_up(m.bytes[q]));
    }
    m.offset[t] = best >= 0 ? best : cursor;
    m.arena_bytes = std::max(m.arena_bytes, m.offset[t] + size);
    placed.push_back(t);
  }
  for (size_t t = 0; t < nt; ++t)
    if (m.storage[t] == Storage::kArena) m.offset[t] = m.offset[root[t]];
  return m;
}

MemoryPlan plan_without_reuse(const MemoryPlan& planned) {
  MemoryPlan m = planned;
  m.arena_bytes = 0;
  for (size_t t = 0; t < m.storage.size(); ++t) {
    if (m.storage[t] != Storage::kArena) continue;
    m.offset[t] = m.arena_bytes;
    m.arena_bytes += align_up(m.bytes[t]);
  }
  return m;
}

Result<MemoryPlan> adopt_memory_plan(const IntProgram& p, const StoredMemoryPlan& stored) {
  QMAP_ASSIGN_OR_RETURN(MemoryPlan m, classify(p));
  if (stored.offsets.size() != m.offset.size())
    return error("runtime: memory plan: {} offsets for {} tensors", stored.offsets.size(), m.offset.size());
  for (size_t t = 0; t < m.offset.size(); ++t) m.offset[t] = m.storage[t] == Storage::kArena ? stored.offsets[t] : -1;
  m.arena_bytes = stored.arena_bytes;
  QMAP_RETURN_IF_ERROR(check_memory_plan(p, m));
  return m;
}

Status check_memory_plan(const IntProgram& p, const MemoryPlan& plan) {
  QMAP_ASSIGN_OR_RETURN(MemoryPlan want, classify(p));
  const size_t nt = want.storage.size();
  if (plan.storage != want.storage || plan.bytes != want.bytes || plan.offset.size() != nt)
    return error("runtime: memory plan: storage classes or sizes differ from the program's tensors");
  if (plan.arena_bytes < 0 || plan.arena_bytes % kArenaAlignment != 0)
    return error("runtime: memory plan: arena size {} is not a non-negative multiple of {}", plan.arena_bytes,
                 kArenaAlignment);
  std::vector<size_t> arena;
  for (size_t t = 0; t < nt; ++t) {
    if (want.storage[t] != Storage::kArena) continue;
    const int64_t off = plan.offset[t];
    if (off < 0 || off % kArenaAlignment != 0 || off > plan.arena_bytes || want.bytes[t] > plan.arena_bytes - off)
      return error("runtime: memory plan: tensor '{}' at offset {} ({} bytes) is misaligned or outside the {}-byte arena",
                   p.tensors[t].name, off, want.bytes[t], plan.arena_bytes);
    arena.push_back(t);
  }
  for (size_t i = 0; i < arena.size(); ++i)
    for (size_t j = i + 1; j < arena.size(); ++j) {
      const size_t a = arena[i], b = arena[j];
      if (!lifetimes_overlap(want.first_step, want.last_step, a, b) || want.bytes[a] == 0 || want.bytes[b] == 0)
        continue;
      // An in-place output over its own input, exactly (same offset; equal sizes by the rule).
      const bool in_place = (want.in_place_of[a] == static_cast<int32_t>(b) || want.in_place_of[b] == static_cast<int32_t>(a)) &&
                            plan.offset[a] == plan.offset[b];
      if (!in_place && plan.offset[a] < plan.offset[b] + want.bytes[b] && plan.offset[b] < plan.offset[a] + want.bytes[a])
        return error("runtime: memory plan: tensors '{}' and '{}' are alive together and overlap in the arena",
                     p.tensors[a].name, p.tensors[b].name);
    }
  return ok_status();
}

}  // namespace qmap::rt
