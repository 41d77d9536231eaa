// Turns exceptions thrown by handlers into INTERNAL, logging what was thrown.
#include "recovery.h"

#include <atomic>
#include <exception>

#include <prometheus/counter.h>
#include <spdlog/spdlog.h>

namespace flyte::plugins {

namespace {

// What the exception being handled says; call only inside a catch block.
std::string CurrentExceptionText() {
  try {
    throw;
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "a non-standard exception";
  }
}

}  // namespace

RecoveryInterceptor::RecoveryInterceptor(std::shared_ptr<spdlog::logger> logger,
                                         prometheus::Counter* panics)
    : logger_(std::move(logger)), panics_(panics) {}

plugin::Status RecoveryInterceptor::Recover(plugin::CallContext& call,
                                            google::protobuf::Message& response,
                                            const std::string& what) {
  if (panics_) panics_->Increment();
  logger_->error("recovered from a failure in {}: {}", call.full_method(), what);
  // As upstream: INTERNAL with no message, so nothing of the failure leaks to the client.
  response.Clear();
  return plugin::Status(plugin::StatusCode::kInternal, "");
}

plugin::Status RecoveryInterceptor::Intercept(plugin::CallContext& call,
                                              const google::protobuf::Message& request,
                                              google::protobuf::Message& response,
                                              const plugin::UnaryNext& next) {
  try {
    return next(call, request, response);
  } catch (...) {
    return Recover(call, response, CurrentExceptionText());
  }
}

void RecoveryInterceptor::InterceptAsync(plugin::CallContext& call,
                                         const google::protobuf::Message& request,
                                         google::protobuf::Message& response,
                                         const plugin::UnaryNextAsync& next,
                                         plugin::UnaryCallback done) {
  // Whichever comes first answers: the rest of the chain through `done`, or this link for an
  // exception thrown while the rest of the chain starts.
  struct Answer {
    explicit Answer(plugin::UnaryCallback d) : done(std::move(d)) {}
    std::atomic<bool> given{false};
    plugin::UnaryCallback done;
  };
  auto answer = std::make_shared<Answer>(std::move(done));
  try {
    next(call, request, response, [answer](plugin::Status status) {
      if (!answer->given.exchange(true, std::memory_order_acq_rel)) answer->done(std::move(status));
    });
  } catch (...) {
    std::string what = CurrentExceptionText();
    if (!answer->given.exchange(true, std::memory_order_acq_rel)) {
      answer->done(Recover(call, response, what));
      return;
    }
    // Answered already (the handler called `done`, then threw): the answer stands. `call` is
    // still valid while this frame runs.
    if (panics_) panics_->Increment();
    logger_->error("recovered from a failure in {} after it was answered: {}", call.full_method(),
                   what);
  }
}

}  // namespace flyte::plugins
