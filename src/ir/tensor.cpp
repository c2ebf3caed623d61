#include "ir/tensor.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <new>

namespace qmap {

const char* dtype_name(DType t) {
  switch (t) {
    case DType::kUndefined: return "undefined";
    case DType::kFloat32: return "float32";
    case DType::kUInt8: return "uint8";
    case DType::kInt8: return "int8";
    case DType::kInt16: return "int16";
    case DType::kInt32: return "int32";
    case DType::kInt64: return "int64";
    case DType::kBool: return "bool";
    case DType::kFloat64: return "float64";
  }
  return "?";
}

size_t dtype_size(DType t) {
  switch (t) {
    case DType::kUndefined: return 0;
    case DType::kFloat32: return 4;
    case DType::kUInt8: return 1;
    case DType::kInt8: return 1;
    case DType::kInt16: return 2;
    case DType::kInt32: return 4;
    case DType::kInt64: return 8;
    case DType::kBool: return 1;
    case DType::kFloat64: return 8;
  }
  return 0;
}

bool dtype_from_onnx(int32_t code, DType* out) {
  switch (code) {
    case 1: case 2: case 3: case 5: case 6: case 7: case 9: case 11:
      *out = static_cast<DType>(code);
      return true;
    default:
      return false;
  }
}

const char* onnx_dtype_name(int32_t code) {
  static const char* const kNames[] = {"UNDEFINED", "FLOAT",  "UINT8",   "INT8",      "UINT16",
                                       "INT16",     "INT32",  "INT64",   "STRING",    "BOOL",
                                       "FLOAT16",   "DOUBLE", "UINT32",  "UINT64",    "COMPLEX64",
                                       "COMPLEX128", "BFLOAT16"};
  if (code >= 0 && code < static_cast<int32_t>(std::size(kNames))) return kNames[code];
  return "UNKNOWN";
}

int64_t num_elements(const Dims& dims) {
  int64_t n = 1;
  for (int64_t d : dims) n *= d;
  return n;
}

std::string dims_str(const Dims& dims) {
  if (dims.empty()) return "scalar";
  std::string s;
  for (size_t i = 0; i < dims.size(); ++i) {
    if (i) s += 'x';
    s += dims[i] < 0 ? std::string("?") : std::to_string(dims[i]);
  }
  return s;
}

namespace {
std::shared_ptr<std::byte[]> alloc_bytes(size_t n, bool zero) {
  // 64-byte alignment so SIMD kernels may use aligned loads on whole tensors.
  const size_t size = n == 0 ? 64 : (n + 63) / 64 * 64;
  auto* p = static_cast<std::byte*>(::operator new[](size, std::align_val_t(64)));
  if (zero) std::memset(p, 0, size);
  return std::shared_ptr<std::byte[]>(p, [](std::byte* q) { ::operator delete[](q, std::align_val_t(64)); });
}
}  // namespace

Tensor::Tensor(DType dtype, Dims dims) : Tensor(dtype, std::move(dims), /*zero=*/true) {}

Tensor::Tensor(DType dtype, Dims dims, bool zero) : dtype_(dtype), dims_(std::move(dims)) {
  for (int64_t d : dims_) QMAP_CHECK(d >= 0, "negative dimension in {}", dims_str(dims_));
  bytes_ = alloc_bytes(nbytes(), zero);
}

Tensor Tensor::uninitialized(DType dtype, Dims dims) { return Tensor(dtype, std::move(dims), /*zero=*/false); }

Tensor Tensor::view(DType dtype, Dims dims, std::byte* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.dims_ = std::move(dims);
  // Aliasing constructor with an empty owner: a non-owning pointer (use_count 0).
  t.bytes_ = std::shared_ptr<std::byte[]>(std::shared_ptr<std::byte[]>(), data);
  return t;
}

Tensor Tensor::alias(DType dtype, Dims dims, std::shared_ptr<std::byte[]> owner, std::byte* data) {
  QMAP_CHECK(reinterpret_cast<uintptr_t>(data) % 64 == 0, "aliased tensor data is not 64-byte aligned");
  Tensor t;
  t.dtype_ = dtype;
  t.dims_ = std::move(dims);
  t.bytes_ = std::shared_ptr<std::byte[]>(std::move(owner), data);
  return t;
}

Tensor Tensor::reshaped(Dims dims) const {
  QMAP_CHECK(num_elements(dims) == numel(), "reshape {} -> {}", dims_str(dims_), dims_str(dims));
  Tensor t = *this;
  t.dims_ = std::move(dims);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t = uninitialized(dtype_, dims_);
  if (nbytes() > 0) std::memcpy(t.raw(), raw(), nbytes());
  return t;
}

namespace {
template <typename F>
void visit_numeric(DType t, F&& f) {
  switch (t) {
    case DType::kFloat32: f(float{}); return;
    case DType::kFloat64: f(double{}); return;
    case DType::kUInt8: f(uint8_t{}); return;
    case DType::kInt8: f(int8_t{}); return;
    case DType::kInt16: f(int16_t{}); return;
    case DType::kInt32: f(int32_t{}); return;
    case DType::kInt64: f(int64_t{}); return;
    case DType::kBool: f(bool{}); return;
    case DType::kUndefined: break;
  }
  QMAP_CHECK(false, "undefined dtype");
}

template <typename To, typename From>
To convert_value(From v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != From{};
  } else if constexpr (std::is_floating_point_v<To>) {
    return static_cast<To>(v);
  } else if constexpr (std::is_floating_point_v<From>) {
    if (std::isnan(v)) return To{};
    const double d = std::trunc(static_cast<double>(v));
    if (d <= static_cast<double>(std::numeric_limits<To>::lowest())) return std::numeric_limits<To>::lowest();
    if (d >= static_cast<double>(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    return static_cast<To>(d);
  } else {
    return static_cast<To>(v);  // integer -> integer wraps like ONNX Runtime's static_cast
  }
}
}  // namespace

std::vector<int64_t> Tensor::to_int64() const {
  std::vector<int64_t> out(static_cast<size_t>(numel()));
  visit_numeric(dtype_, [&](auto tag) {
    using T = decltype(tag);
    auto src = data<T>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = convert_value<int64_t>(src[i]);
  });
  return out;
}

std::vector<double> Tensor::to_double() const {
  std::vector<double> out(static_cast<size_t>(numel()));
  visit_numeric(dtype_, [&](auto tag) {
    using T = decltype(tag);
    auto src = data<T>();
    for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(src[i]);
  });
  return out;
}

Tensor cast_tensor(const Tensor& src, DType to) {
  Tensor dst(to, src.dims());
  visit_numeric(src.dtype(), [&](auto from_tag) {
    using From = decltype(from_tag);
    visit_numeric(to, [&](auto to_tag) {
      using To = decltype(to_tag);
      auto s = src.data<From>();
      auto d = dst.data<To>();
      for (size_t i = 0; i < s.size(); ++i) d[i] = convert_value<To>(s[i]);
    });
  });
  return dst;
}

}  // namespace qmap
