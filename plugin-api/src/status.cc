// Status names and formatting.
#include "flyte/plugin/status.h"

#include <future>
#include <memory>

namespace flyte::plugin {

const char* StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kCancelled: return "CANCELLED";
    case StatusCode::kUnknown: return "UNKNOWN";
    case StatusCode::kInvalidArgument: return "INVALID_ARGUMENT";
    case StatusCode::kDeadlineExceeded: return "DEADLINE_EXCEEDED";
    case StatusCode::kNotFound: return "NOT_FOUND";
    case StatusCode::kAlreadyExists: return "ALREADY_EXISTS";
    case StatusCode::kPermissionDenied: return "PERMISSION_DENIED";
    case StatusCode::kResourceExhausted: return "RESOURCE_EXHAUSTED";
    case StatusCode::kFailedPrecondition: return "FAILED_PRECONDITION";
    case StatusCode::kAborted: return "ABORTED";
    case StatusCode::kOutOfRange: return "OUT_OF_RANGE";
    case StatusCode::kUnimplemented: return "UNIMPLEMENTED";
    case StatusCode::kInternal: return "INTERNAL";
    case StatusCode::kUnavailable: return "UNAVAILABLE";
    case StatusCode::kDataLoss: return "DATA_LOSS";
    case StatusCode::kUnauthenticated: return "UNAUTHENTICATED";
  }
  return "UNKNOWN";
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return std::string(StatusCodeName(code_)) + ": " + message_;
}

Status AwaitStatus(const std::function<void(std::function<void(Status)>)>& start) {
  // Shared with the callback, so one that arrives while the waiter is already unwinding (the
  // work threw after answering) touches nothing freed.
  auto answered = std::make_shared<std::promise<Status>>();
  std::future<Status> status = answered->get_future();
  start([answered](Status s) {
    try {
      answered->set_value(std::move(s));
    } catch (const std::future_error&) {
      // A second answer from work that broke the exactly-once contract: the first stands.
    }
  });
  return status.get();
}

}  // namespace flyte::plugin
