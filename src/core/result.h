#pragma once
// Recoverable errors travel in the return value; only main prints them and
// picks the exit code. One header, so a move to std::expected touches one file.
#include <string>
#include <utility>
#include <variant>

namespace lineage {

/// Exit codes are part of the command-line contract (README, DESIGN.md).
enum class ErrorKind {
  kNotFound = 2,
  kPermission = 3,
  kUsage = 4,
  kInternal = 5,
};

struct Error {
  ErrorKind kind = ErrorKind::kInternal;
  std::string message;
};

template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}            // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}        // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

inline Error usage_error(std::string message) { return {ErrorKind::kUsage, std::move(message)}; }
inline Error not_found(std::string message) { return {ErrorKind::kNotFound, std::move(message)}; }

}  // namespace lineage
