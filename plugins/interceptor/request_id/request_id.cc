// Request ids: taken from x-request-id metadata or generated, then echoed and logged.
#include "request_id.h"

#include <algorithm>
#include <random>

namespace flyte::plugins {

std::string GenerateRequestId() {
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  thread_local std::mt19937_64 rng{std::random_device{}()};
  std::uniform_int_distribution<int> pick(0, sizeof(kAlphabet) - 2);
  std::string id = "a-";
  for (int i = 0; i < 20; ++i) id.push_back(kAlphabet[pick(rng)]);
  return id;
}

namespace {

// Whether a client's id can be echoed in metadata and written to logs as it is.
bool UsableRequestId(std::string_view id) {
  return !id.empty() && id.size() <= 256 && std::all_of(id.begin(), id.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) <= 0x7e;
  });
}

// Gives the call its id (the client's, unless it is empty or not printable ASCII of at most 256
// characters) and echoes it; returns it.
const std::string& AssignRequestId(plugin::CallContext& call) {
  std::string_view given = call.Header(kRequestIdKey);
  call.set_request_id(UsableRequestId(given) ? std::string(given) : GenerateRequestId());
  call.AddResponseHeader(kRequestIdKey, call.request_id());
  return call.request_id();
}

}  // namespace

plugin::Status RequestIdInterceptor::Intercept(plugin::CallContext& call,
                                               const google::protobuf::Message& request,
                                               google::protobuf::Message& response,
                                               const plugin::UnaryNext& next) {
  plugin::ScopedRequestId scope(AssignRequestId(call));
  return next(call, request, response);
}

void RequestIdInterceptor::InterceptAsync(plugin::CallContext& call,
                                          const google::protobuf::Message& request,
                                          google::protobuf::Message& response,
                                          const plugin::UnaryNextAsync& next,
                                          plugin::UnaryCallback done) {
  // The id is current while the rest of the chain starts on this thread, as in Intercept. The
  // thread that completes the call later does not carry it (links' completion work runs there
  // innermost first, so no callback of this link could cover it); a handler that logs there
  // sets it itself with ScopedRequestId(call.request_id()).
  plugin::ScopedRequestId scope(AssignRequestId(call));
  next(call, request, response, std::move(done));
}

}  // namespace flyte::plugins
