// Tensor: a dtype, a shape and a shared, 64-byte aligned byte buffer (row-major, C order).
// Copying a Tensor shares the buffer; use clone() for a deep copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace qmap {

// Element types the IR carries. The numeric values are ONNX TensorProto.DataType codes,
// so importers/exporters map them 1:1.
enum class DType : int32_t {
  kUndefined = 0,
  kFloat32 = 1,
  kUInt8 = 2,
  kInt8 = 3,
  kInt16 = 5,  // 16-bit activations of the higher-precision form (docs/quantization.md)
  kInt32 = 6,
  kInt64 = 7,
  kBool = 9,
  kFloat64 = 11,
};

const char* dtype_name(DType t);      // "float32", "int64", ...
size_t dtype_size(DType t);           // bytes per element; 0 for kUndefined
bool dtype_from_onnx(int32_t code, DType* out);  // false for types the IR does not carry
const char* onnx_dtype_name(int32_t code);       // "FLOAT16", "STRING", ... for messages

template <typename T> constexpr DType dtype_of();
template <> constexpr DType dtype_of<float>() { return DType::kFloat32; }
template <> constexpr DType dtype_of<double>() { return DType::kFloat64; }
template <> constexpr DType dtype_of<uint8_t>() { return DType::kUInt8; }
template <> constexpr DType dtype_of<int8_t>() { return DType::kInt8; }
template <> constexpr DType dtype_of<int16_t>() { return DType::kInt16; }
template <> constexpr DType dtype_of<int32_t>() { return DType::kInt32; }
template <> constexpr DType dtype_of<int64_t>() { return DType::kInt64; }
template <> constexpr DType dtype_of<bool>() { return DType::kBool; }

// Calls f(T{}) with the C++ element type of `t` for the arithmetic dtypes (float32,
// float64, int8, uint8, int32, int64); returns false, without calling f, for the others.
// Ops use it to instantiate one templated kernel per dtype instead of repeating a switch.
template <typename F>
bool visit_arithmetic_dtype(DType t, F&& f) {
  switch (t) {
    case DType::kFloat32: f(float{}); return true;
    case DType::kFloat64: f(double{}); return true;
    case DType::kInt8: f(int8_t{}); return true;
    case DType::kUInt8: f(uint8_t{}); return true;
    case DType::kInt32: f(int32_t{}); return true;
    case DType::kInt64: f(int64_t{}); return true;
    default: return false;
  }
}

using Dims = std::vector<int64_t>;

int64_t num_elements(const Dims& dims);  // product; 1 for a scalar
std::string dims_str(const Dims& dims);    // "1x3x224x224"; "scalar" for rank 0

class Tensor {
 public:
  Tensor() = default;
  // Zero-filled tensor.
  Tensor(DType dtype, Dims dims);
  // Tensor whose contents are unspecified, for a buffer the caller overwrites in full (op
  // outputs: see EvalCtx). Skips the zero fill, which for large activations costs a full
  // extra pass over memory.
  static Tensor uninitialized(DType dtype, Dims dims);
  // A tensor over memory it does not own (`data`, at least nbytes() bytes, suitably aligned):
  // the runtime's views into its arena. The caller keeps the memory alive while any copy of
  // the view exists; sole_owner() is false for a view.
  static Tensor view(DType dtype, Dims dims, std::byte* data);
  // A tensor over part of a buffer that `owner` keeps alive (a weight blob inside a loaded
  // .bin's bytes): no copy; the buffer lives while any tensor over it does.
  static Tensor alias(DType dtype, Dims dims, std::shared_ptr<std::byte[]> owner, std::byte* data);

  template <typename T>
  static Tensor from_vector(Dims dims, const std::vector<T>& values) {
    Tensor t(dtype_of<T>(), std::move(dims));
    QMAP_CHECK(static_cast<int64_t>(values.size()) == t.numel(), "size mismatch");
    auto dst = t.data<T>();
    for (size_t i = 0; i < values.size(); ++i) dst[i] = values[i];
    return t;
  }
  template <typename T>
  static Tensor scalar(T v) { return from_vector<T>({}, {v}); }

  DType dtype() const { return dtype_; }
  const Dims& dims() const { return dims_; }
  int rank() const { return static_cast<int>(dims_.size()); }
  int64_t numel() const { return num_elements(dims_); }
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  bool defined() const { return dtype_ != DType::kUndefined; }

  // True when no other Tensor shares this buffer, so writing it changes no other tensor.
  bool sole_owner() const { return bytes_ && bytes_.use_count() == 1; }

  std::byte* raw() { return bytes_ ? bytes_.get() : nullptr; }
  const std::byte* raw() const { return bytes_ ? bytes_.get() : nullptr; }

  template <typename T>
  std::span<T> data() {
    QMAP_CHECK(dtype_of<T>() == dtype_, "tensor is {}, accessed as {}", dtype_name(dtype_),
               dtype_name(dtype_of<T>()));
    return {reinterpret_cast<T*>(raw()), static_cast<size_t>(numel())};
  }
  template <typename T>
  std::span<const T> data() const {
    QMAP_CHECK(dtype_of<T>() == dtype_, "tensor is {}, accessed as {}", dtype_name(dtype_),
               dtype_name(dtype_of<T>()));
    return {reinterpret_cast<const T*>(raw()), static_cast<size_t>(numel())};
  }

  // Same buffer, new dims (element count must match).
  Tensor reshaped(Dims dims) const;
  Tensor clone() const;

  // Reads an integer-typed tensor (int32/int64/int8/uint8/bool) as int64 values.
  std::vector<int64_t> to_int64() const;
  // Reads any numeric tensor as double values.
  std::vector<double> to_double() const;

 private:
  Tensor(DType dtype, Dims dims, bool zero);

  DType dtype_ = DType::kUndefined;
  Dims dims_;
  std::shared_ptr<std::byte[]> bytes_;
};

// Converts between numeric dtypes with ONNX Cast semantics for the carried types
// (float->int truncates toward zero; out-of-range values are implementation-defined in
// ONNX; here they saturate).
Tensor cast_tensor(const Tensor& src, DType to);

}  // namespace qmap
