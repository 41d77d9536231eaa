// Metrics interceptor: grpc-prometheus' per-RPC series (started, handled by code, messages,
// latency histogram) for every call, gRPC and REST alike.
#pragma once

#include <array>
#include <chrono>
#include <map>
#include <memory>
#include <shared_mutex>
#include <string>

#include "flyte/plugin/unary.h"

namespace prometheus {
class Counter;
class Histogram;
class Registry;
template <typename T>
class Family;
}  // namespace prometheus

namespace flyte::plugins {

class MetricsInterceptor final : public plugin::UnaryInterceptor {
 public:
  MetricsInterceptor(prometheus::Registry& registry, bool latency_histogram);
  ~MetricsInterceptor() override;

  int Order() const override { return kMetricsOrder; }
  plugin::Status Intercept(plugin::CallContext& call, const google::protobuf::Message& request,
                           google::protobuf::Message& response, const plugin::UnaryNext& next) override;
  bool SupportsAsync() const override { return true; }
  void InterceptAsync(plugin::CallContext& call, const google::protobuf::Message& request,
                      google::protobuf::Message& response, const plugin::UnaryNextAsync& next,
                      plugin::UnaryCallback done) override;

 private:
  struct PerMethod;
  PerMethod& For(const std::string& full_method);
  // A call's series: Begin counts it started and received; End counts how it was handled.
  PerMethod& Begin(const plugin::CallContext& call);
  void End(PerMethod& m, std::chrono::steady_clock::time_point start, const plugin::Status& status);

  prometheus::Family<prometheus::Counter>& started_;
  prometheus::Family<prometheus::Counter>& handled_;
  prometheus::Family<prometheus::Counter>& received_;
  prometheus::Family<prometheus::Counter>& sent_;
  prometheus::Family<prometheus::Histogram>* latency_;
  std::shared_mutex mu_;
  std::map<std::string, std::unique_ptr<PerMethod>, std::less<>> methods_;
};

}  // namespace flyte::plugins
