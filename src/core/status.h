// Status and Result<T>: the error channel of every function that reads user input.
// Messages follow DESIGN.md §6: "<stage>: <op type> '<node>': <what> <value>: <rule>".
// Invariant breaks (programming errors) use QMAP_CHECK and abort with file:line.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <variant>

#include <fmt/format.h>

namespace qmap {

class [[nodiscard]] Status {
 public:
  Status() = default;
  static Status error(std::string message) {
    Status s;
    s.message_ = std::move(message);
    return s;
  }
  bool ok() const { return !message_.has_value(); }
  explicit operator bool() const { return ok(); }
  const std::string& message() const {
    static const std::string kEmpty;
    return message_ ? *message_ : kEmpty;
  }
  // Prefixes context ("onnx import: file 'x.onnx': ") to an error; no-op on success.
  Status with_context(const std::string& prefix) const {
    if (ok()) return *this;
    return error(prefix + *message_);
  }

 private:
  std::optional<std::string> message_;
};

inline Status ok_status() { return Status(); }

template <typename... Args>
Status error(fmt::format_string<Args...> f, Args&&... args) {
  return Status::error(fmt::format(f, std::forward<Args>(args)...));
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT
    if (std::get<Status>(v_).ok()) {
      std::fprintf(stderr, "qmap: internal error: Result built from an ok Status\n");
      std::abort();
    }
  }
  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

[[noreturn]] inline void check_failed(const char* file, int line, const char* cond,
                                      const std::string& msg) {
  std::fprintf(stderr, "qmap: internal invariant broken at %s:%d: %s %s\n", file, line, cond,
               msg.c_str());
  std::abort();
}

}  // namespace qmap

#define QMAP_CONCAT_INNER(a, b) a##b
#define QMAP_CONCAT(a, b) QMAP_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` (a Status) failed.
#define QMAP_RETURN_IF_ERROR(expr)             \
  do {                                         \
    ::qmap::Status qmap_status_ = (expr);      \
    if (!qmap_status_.ok()) return qmap_status_; \
  } while (0)

// `QMAP_ASSIGN_OR_RETURN(auto x, make_x());` unwraps a Result<T> or returns its Status.
#define QMAP_ASSIGN_OR_RETURN(lhs, expr)                              \
  auto QMAP_CONCAT(qmap_result_, __LINE__) = (expr);                 \
  if (!QMAP_CONCAT(qmap_result_, __LINE__).ok())                     \
    return QMAP_CONCAT(qmap_result_, __LINE__).status();             \
  lhs = std::move(QMAP_CONCAT(qmap_result_, __LINE__)).value()

#define QMAP_CHECK(cond, ...)                                                      \
  do {                                                                             \
    if (!(cond)) ::qmap::check_failed(__FILE__, __LINE__, #cond, fmt::format("" __VA_ARGS__)); \
  } while (0)
