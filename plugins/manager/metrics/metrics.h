// Metrics manager (upstream impl/metrics_manager.go): GetExecutionMetrics breaks a workflow
// execution down into a tree of spans (the console's timeline): workflow, node and task
// execution spans and the overhead operations between them, read from the repositories.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "flyte/manager/data.h"
#include "flyte/manager/support.h"
#include "flyte/plugin/managers.h"
#include "flyteidl/admin/node_execution.pb.h"
#include "flyteidl/core/compiler.pb.h"
#include "flyteidl/core/metrics.pb.h"

namespace flyte::plugins::manager {

class MetricsManagerImpl final : public plugin::MetricsManager {
 public:
  // `data`: storage.limits.maxDownloadMBs bounds the workflow closures read.
  MetricsManagerImpl(const plugin::HostContext& host, RemoteDataSettings data)
      : services_(host), data_(std::move(data)) {}

#define FLYTE_DECLARE_(NAME, REQUEST, RESPONSE)                                    \
  plugin::Status NAME(plugin::CallContext& call, const flyteidl::REQUEST& request, \
                      flyteidl::RESPONSE& response) override;
  FLYTE_METRICS_MANAGER_RPCS(FLYTE_DECLARE_)
#undef FLYTE_DECLARE_

 private:
  Services services_;
  RemoteDataSettings data_;
};

// Node and task executions are read a page of this size at a time, as upstream.
inline constexpr uint32_t kMetricsRequestLimit = 50;

}  // namespace flyte::plugins::manager
