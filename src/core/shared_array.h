// SharedArray<T>: a read-only array that either owns its elements (built from a std::vector)
// or views memory someone else owns, kept alive by shared ownership. The IntProgram's
// convolution weights are one: the toolchain builds them as vectors, the .bin reader points
// them into the file's buffer instead of copying (a ResNet-50 .bin is 25 MB of weights, and
// copying them cost more than the rest of the load).
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <span>
#include <vector>

namespace qmap {

template <typename T>
class SharedArray {
 public:
  using value_type = T;
  using iterator = const T*;
  using const_iterator = const T*;

  SharedArray() = default;
  SharedArray(std::vector<T> v) {  // NOLINT(google-explicit-constructor): a vector is an owned array
    auto own = std::make_shared<std::vector<T>>(std::move(v));
    data_ = own->data();
    size_ = own->size();
    owner_ = std::move(own);
  }
  // `n` elements at `data`, which `owner` keeps alive.
  SharedArray(std::shared_ptr<const void> owner, const T* data, size_t n)
      : owner_(std::move(owner)), data_(data), size_(n) {}

  const T* data() const { return data_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const T* begin() const { return data_; }
  const T* end() const { return data_ + size_; }
  const T& operator[](size_t i) const { return data_[i]; }
  operator std::span<const T>() const { return {data_, size_}; }  // NOLINT(google-explicit-constructor)

  void assign(size_t n, const T& value) { *this = SharedArray(std::vector<T>(n, value)); }
  template <typename It>
  void assign(It first, It last) {
    *this = SharedArray(std::vector<T>(first, last));
  }
  // Drops the last element (a view shrinks; the memory stays): tests forge size defects with it.
  void pop_back() { --size_; }

  friend bool operator==(const SharedArray& a, const SharedArray& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }

 private:
  std::shared_ptr<const void> owner_;
  const T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace qmap
