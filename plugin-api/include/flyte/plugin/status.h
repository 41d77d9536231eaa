// Status and StatusOr: the error values every plugin API returns; mapped 1:1 to gRPC codes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "flyte/plugin/export.h"

namespace flyte::plugin {

// Same numbering as grpc::StatusCode, so the mapping at the edge is the identity.
enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

// Name as gRPC spells it ("INVALID_ARGUMENT").
FLYTE_PLUGIN_API_EXPORT const char* StatusCodeName(StatusCode code);

// A detail attached to an error, as a packed google.protobuf.Any (type URL + serialized bytes),
// e.g. admin.EventFailureReason, which clients read from the gRPC status details.
struct StatusDetail {
  std::string type_url;
  std::string value;
};

class FLYTE_PLUGIN_API_EXPORT Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  const std::vector<StatusDetail>& details() const { return details_; }

  Status& AddDetail(StatusDetail detail) {
    details_.push_back(std::move(detail));
    return *this;
  }

  // "INVALID_ARGUMENT: message", for logs.
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
  std::vector<StatusDetail> details_;
};

inline Status InvalidArgument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status Unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }

// A value or the Status explaining why there is none. Never holds an OK status without a value.
template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    if (status_.ok()) status_ = Status(StatusCode::kInternal, "StatusOr built from an OK status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() & { return *value_; }
  const T& operator*() const& { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

// Starts asynchronous work with `start(done)` and waits until `done` is called, from any thread;
// returns the status it was given. A second call of `done` is ignored.
FLYTE_PLUGIN_API_EXPORT Status AwaitStatus(const std::function<void(std::function<void(Status)>)>& start);

}  // namespace flyte::plugin
