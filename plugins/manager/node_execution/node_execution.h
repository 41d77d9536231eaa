// Node execution manager (upstream impl/node_execution_manager.go): node events from propeller
// create and advance node execution rows; reads serve them with their data and dynamic workflows.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "flyte/manager/data.h"
#include "flyte/manager/support.h"
#include "flyte/plugin/managers.h"

namespace spdlog {
class logger;
}

namespace flyte::plugins::manager {

class NodeExecutionManagerImpl final : public plugin::NodeExecutionManager {
 public:
  NodeExecutionManagerImpl(const plugin::HostContext& host, RemoteDataSettings settings);

#define FLYTE_DECLARE_(NAME, REQUEST, RESPONSE) \
  plugin::Status NAME(plugin::CallContext& call, const flyteidl::REQUEST& request, flyteidl::RESPONSE& response) override;
  FLYTE_NODE_EXECUTION_MANAGER_RPCS(FLYTE_DECLARE_)
#undef FLYTE_DECLARE_
  void CreateNodeEventAsync(plugin::CallContext& call, const flyteidl::admin::NodeExecutionEventRequest& request,
                            flyteidl::admin::NodeExecutionEventResponse& response,
                            std::function<void(plugin::Status)> done) override;

 private:
  void LogInvalidEvent(const flyteidl::admin::NodeExecutionEventRequest& request) const;
  // The event's reads, checks and writes (createNodeExecutionWithEvent or
  // updateNodeExecutionWithEvent), run inside one grouped database operation.
  plugin::Status ApplyNodeEvent(const flyteidl::admin::NodeExecutionEventRequest& request);
  // listNodeExecutions: node executions of `execution` within `scope`, with the request's
  // filters, sort, limit and token; error messages trimmed.
  plugin::Status List(const plugin::db::ExecutionKey& execution, std::vector<plugin::db::Filter> scope,
                      const std::string& request_filters, const flyteidl::admin::Sort* sort_by, uint32_t limit,
                      const std::string& token, flyteidl::admin::NodeExecutionList& response);

  Services services_;
  RemoteDataSettings settings_;
  std::shared_ptr<spdlog::logger> logger_;
};

}  // namespace flyte::plugins::manager
