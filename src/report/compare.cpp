#include "report/compare.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/status.h"

namespace qmap {

namespace {

struct Sums {
  double dot = 0, na = 0, nb = 0, l1 = 0, l2 = 0, cheb = 0;
  void add(double x, double y) {
    const double d = x - y;
    dot += x * y;
    na += x * x;
    nb += y * y;
    l1 += std::fabs(d);
    l2 += d * d;
    cheb = std::max(cheb, std::fabs(d));
  }
};

}  // namespace

TensorDistance compare_tensors(const Tensor& reference, const Tensor& other) {
  QMAP_CHECK(reference.numel() == other.numel(), "compare_tensors: {} vs {} elements",
             reference.numel(), other.numel());
  Sums s;
  if (reference.dtype() == DType::kFloat32 && other.dtype() == DType::kFloat32) {
    const auto a = reference.data<float>();
    const auto b = other.data<float>();
    for (size_t i = 0; i < a.size(); ++i) s.add(a[i], b[i]);
  } else {
    const std::vector<double> a = reference.to_double(), b = other.to_double();
    for (size_t i = 0; i < a.size(); ++i) s.add(a[i], b[i]);
  }
  const auto [dot, na, nb, l1, l2, cheb] = s;
  const size_t count = static_cast<size_t>(reference.numel());
  TensorDistance r;
  if (na == 0 && nb == 0) r.cosine = 1;
  else if (na == 0 || nb == 0) r.cosine = 0;
  else r.cosine = dot / (std::sqrt(na) * std::sqrt(nb));
  const double n = count == 0 ? 1.0 : static_cast<double>(count);
  r.l1 = l1 / n;
  r.l2 = std::sqrt(l2) / n;
  r.chebyshev = cheb;
  r.mse = l2 / n;
  r.sqnr_db = l2 == 0 ? std::numeric_limits<double>::infinity() : 10.0 * std::log10(na / l2);
  return r;
}

}  // namespace qmap
