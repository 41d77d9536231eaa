// Per-RPC Prometheus series named as grpc-prometheus names them, cached per method so a call
// costs a few atomic increments.
#include "metrics.h"

#include <atomic>
#include <chrono>
#include <mutex>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

namespace flyte::plugins {

namespace {

// grpc_code label values as grpc-go's codes.Code.String() spells them.
const char* CodeLabel(plugin::StatusCode code) {
  static constexpr const char* kNames[] = {
      "OK",           "Canceled",          "Unknown",      "InvalidArgument", "DeadlineExceeded",
      "NotFound",     "AlreadyExists",     "PermissionDenied", "ResourceExhausted",
      "FailedPrecondition", "Aborted",     "OutOfRange",   "Unimplemented",   "Internal",
      "Unavailable",  "DataLoss",          "Unauthenticated"};
  auto i = static_cast<std::size_t>(code);
  return i < std::size(kNames) ? kNames[i] : "Unknown";
}

}  // namespace

struct MetricsInterceptor::PerMethod {
  std::map<std::string, std::string> labels;
  prometheus::Counter* started = nullptr;
  prometheus::Counter* received = nullptr;
  prometheus::Counter* sent = nullptr;
  prometheus::Histogram* latency = nullptr;
  std::array<std::atomic<prometheus::Counter*>, 17> handled{};
  std::mutex handled_mu;
};

MetricsInterceptor::MetricsInterceptor(prometheus::Registry& registry, bool latency_histogram)
    : started_(prometheus::BuildCounter()
                   .Name("grpc_server_started_total")
                   .Help("Total number of RPCs started on the server.")
                   .Register(registry)),
      handled_(prometheus::BuildCounter()
                   .Name("grpc_server_handled_total")
                   .Help("Total number of RPCs completed on the server, regardless of success or failure.")
                   .Register(registry)),
      received_(prometheus::BuildCounter()
                    .Name("grpc_server_msg_received_total")
                    .Help("Total number of RPC stream messages received on the server.")
                    .Register(registry)),
      sent_(prometheus::BuildCounter()
                .Name("grpc_server_msg_sent_total")
                .Help("Total number of gRPC stream messages sent by the server.")
                .Register(registry)),
      latency_(latency_histogram
                   ? &prometheus::BuildHistogram()
                          .Name("grpc_server_handling_seconds")
                          .Help("Histogram of response latency (seconds) of gRPC that had been application-level handled by the server.")
                          .Register(registry)
                   : nullptr) {}

MetricsInterceptor::~MetricsInterceptor() = default;

MetricsInterceptor::PerMethod& MetricsInterceptor::For(const std::string& full_method) {
  {
    std::shared_lock lock(mu_);
    if (auto it = methods_.find(full_method); it != methods_.end()) return *it->second;
  }
  std::unique_lock lock(mu_);
  if (auto it = methods_.find(full_method); it != methods_.end()) return *it->second;
  auto m = std::make_unique<PerMethod>();
  std::string_view path = full_method;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  auto slash = path.find('/');
  m->labels = {{"grpc_type", "unary"},
               {"grpc_service", std::string(path.substr(0, slash))},
               {"grpc_method", std::string(slash == std::string_view::npos ? path : path.substr(slash + 1))}};
  m->started = &started_.Add(m->labels);
  m->received = &received_.Add(m->labels);
  m->sent = &sent_.Add(m->labels);
  if (latency_) {
    static const prometheus::Histogram::BucketBoundaries kBuckets{
        0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
    m->latency = &latency_->Add(m->labels, kBuckets);
  }
  auto& ref = *m;
  methods_.emplace(full_method, std::move(m));
  return ref;
}

MetricsInterceptor::PerMethod& MetricsInterceptor::Begin(const plugin::CallContext& call) {
  PerMethod& m = For(call.full_method());
  m.started->Increment();
  m.received->Increment();
  return m;
}

void MetricsInterceptor::End(PerMethod& m, std::chrono::steady_clock::time_point start,
                             const plugin::Status& status) {
  if (m.latency) {
    m.latency->Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (status.ok()) m.sent->Increment();
  auto code = static_cast<std::size_t>(status.code());
  if (code >= m.handled.size()) code = static_cast<std::size_t>(plugin::StatusCode::kUnknown);
  prometheus::Counter* counter = m.handled[code].load(std::memory_order_acquire);
  if (!counter) {
    std::lock_guard lock(m.handled_mu);
    counter = m.handled[code].load(std::memory_order_relaxed);
    if (!counter) {
      auto labels = m.labels;
      labels["grpc_code"] = CodeLabel(status.code());
      counter = &handled_.Add(labels);
      m.handled[code].store(counter, std::memory_order_release);
    }
  }
  counter->Increment();
}

plugin::Status MetricsInterceptor::Intercept(plugin::CallContext& call,
                                             const google::protobuf::Message& request,
                                             google::protobuf::Message& response,
                                             const plugin::UnaryNext& next) {
  PerMethod& m = Begin(call);
  auto start = std::chrono::steady_clock::now();
  plugin::Status status = next(call, request, response);
  End(m, start, status);
  return status;
}

void MetricsInterceptor::InterceptAsync(plugin::CallContext& call,
                                        const google::protobuf::Message& request,
                                        google::protobuf::Message& response,
                                        const plugin::UnaryNextAsync& next,
                                        plugin::UnaryCallback done) {
  PerMethod& m = Begin(call);
  auto start = std::chrono::steady_clock::now();
  // The latency runs until the call is answered, on whichever thread answers it.
  next(call, request, response, [this, &m, start, done = std::move(done)](plugin::Status status) {
    End(m, start, status);
    done(std::move(status));
  });
}

}  // namespace flyte::plugins
