// Request ids: taken from x-request-id metadata or generated, then echoed and logged.
#include "request_id.h"

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

plugin::Status RequestIdInterceptor::Intercept(plugin::CallContext& call,
                                               const google::protobuf::Message& request,
                                               google::protobuf::Message& response,
                                               const plugin::UnaryNext& next) {
  std::string_view given = call.Header(kRequestIdKey);
  call.set_request_id(given.empty() ? GenerateRequestId() : std::string(given));
  call.AddResponseHeader(kRequestIdKey, call.request_id());
  plugin::ScopedRequestId scope(call.request_id());
  return next(call, request, response);
}

}  // namespace flyte::plugins
