// Workflow manager: CreateWorkflow (validate, resolve tasks and launch plans, compile, size and
// node limits, digest, closure to object storage), GetWorkflow, ListWorkflows, ListWorkflowIds.
#pragma once

#include "flyte/manager/data.h"
#include "flyte/manager/keys_in_flight.h"
#include "flyte/manager/support.h"
#include "flyte/plugin/managers.h"

namespace flyte::plugins::manager {

class WorkflowManagerImpl final : public plugin::WorkflowManager {
 public:
  // `data`: storage.limits.maxDownloadMBs bounds the closures GetWorkflow reads.
  WorkflowManagerImpl(const plugin::HostContext& host, RegistrationSettings settings, RemoteDataSettings data)
      : services_(host), settings_(std::move(settings)), data_(std::move(data)) {}

#define FLYTE_DECLARE_(NAME, REQUEST, RESPONSE) \
  plugin::Status NAME(plugin::CallContext& call, const flyteidl::REQUEST& request, flyteidl::RESPONSE& response) override;
  FLYTE_WORKFLOW_MANAGER_RPCS(FLYTE_DECLARE_)
#undef FLYTE_DECLARE_

 private:
  plugin::StatusOr<flyteidl::core::CompiledWorkflowClosure> Compile(const flyteidl::admin::WorkflowCreateRequest& request,
                                                                    const flyteidl::core::WorkflowTemplate& primary);
  Services services_;
  RegistrationSettings settings_;
  RemoteDataSettings data_;
  // Workflow ids being created: from the existence check until the row is stored, so that a
  // concurrent create of one id cannot overwrite the stored closure of the other.
  KeysInFlight ids_in_flight_;
};

}  // namespace flyte::plugins::manager
