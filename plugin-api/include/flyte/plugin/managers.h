// One interface per AdminService area. The host binds each AdminService RPC to the manager
// registered for its area; an RPC whose manager is absent answers UNIMPLEMENTED.
// Every method: fills `response`, returns OK or the error the client sees; thread-safe.
//
// Each area's RPCs are listed once, as X-macro rows (RPC name, request type, response type under
// flyteidl::), and both the interface below and the host's bindings are generated from them.
#pragma once

#include <functional>

#include "flyteidl/admin/common.pb.h"
#include "flyteidl/admin/description_entity.pb.h"
#include "flyteidl/admin/event.pb.h"
#include "flyteidl/admin/execution.pb.h"
#include "flyteidl/admin/launch_plan.pb.h"
#include "flyteidl/admin/matchable_resource.pb.h"
#include "flyteidl/admin/node_execution.pb.h"
#include "flyteidl/admin/project_attributes.pb.h"
#include "flyteidl/admin/project_domain_attributes.pb.h"
#include "flyteidl/admin/project.pb.h"
#include "flyteidl/admin/task.pb.h"
#include "flyteidl/admin/task_execution.pb.h"
#include "flyteidl/admin/version.pb.h"
#include "flyteidl/admin/workflow.pb.h"
#include "flyteidl/admin/workflow_attributes.pb.h"
#include "flyte/plugin/call_context.h"
#include "flyte/plugin/plugin_id.h"
#include "flyte/plugin/registry.h"
#include "flyte/plugin/status.h"

#define FLYTE_VERSION_MANAGER_RPCS(X) \
  X(GetVersion, admin::GetVersionRequest, admin::GetVersionResponse)

#define FLYTE_PROJECT_MANAGER_RPCS(X)                                        \
  X(RegisterProject, admin::ProjectRegisterRequest, admin::ProjectRegisterResponse) \
  X(UpdateProject, admin::Project, admin::ProjectUpdateResponse)             \
  X(GetProject, admin::ProjectGetRequest, admin::Project)                    \
  X(ListProjects, admin::ProjectListRequest, admin::Projects)                \
  X(GetDomains, admin::GetDomainRequest, admin::GetDomainsResponse)

#define FLYTE_TASK_MANAGER_RPCS(X)                                     \
  X(CreateTask, admin::TaskCreateRequest, admin::TaskCreateResponse)   \
  X(GetTask, admin::ObjectGetRequest, admin::Task)                     \
  X(ListTaskIds, admin::NamedEntityIdentifierListRequest, admin::NamedEntityIdentifierList) \
  X(ListTasks, admin::ResourceListRequest, admin::TaskList)

#define FLYTE_WORKFLOW_MANAGER_RPCS(X)                                         \
  X(CreateWorkflow, admin::WorkflowCreateRequest, admin::WorkflowCreateResponse) \
  X(GetWorkflow, admin::ObjectGetRequest, admin::Workflow)                     \
  X(ListWorkflowIds, admin::NamedEntityIdentifierListRequest, admin::NamedEntityIdentifierList) \
  X(ListWorkflows, admin::ResourceListRequest, admin::WorkflowList)

#define FLYTE_LAUNCH_PLAN_MANAGER_RPCS(X)                                              \
  X(CreateLaunchPlan, admin::LaunchPlanCreateRequest, admin::LaunchPlanCreateResponse) \
  X(GetLaunchPlan, admin::ObjectGetRequest, admin::LaunchPlan)                         \
  X(GetActiveLaunchPlan, admin::ActiveLaunchPlanRequest, admin::LaunchPlan)            \
  X(ListActiveLaunchPlans, admin::ActiveLaunchPlanListRequest, admin::LaunchPlanList)  \
  X(ListLaunchPlanIds, admin::NamedEntityIdentifierListRequest, admin::NamedEntityIdentifierList) \
  X(ListLaunchPlans, admin::ResourceListRequest, admin::LaunchPlanList)                \
  X(UpdateLaunchPlan, admin::LaunchPlanUpdateRequest, admin::LaunchPlanUpdateResponse)

#define FLYTE_NAMED_ENTITY_MANAGER_RPCS(X)                                        \
  X(ListNamedEntities, admin::NamedEntityListRequest, admin::NamedEntityList)     \
  X(GetNamedEntity, admin::NamedEntityGetRequest, admin::NamedEntity)             \
  X(UpdateNamedEntity, admin::NamedEntityUpdateRequest, admin::NamedEntityUpdateResponse)

#define FLYTE_DESCRIPTION_ENTITY_MANAGER_RPCS(X)                           \
  X(GetDescriptionEntity, admin::ObjectGetRequest, admin::DescriptionEntity) \
  X(ListDescriptionEntities, admin::DescriptionEntityListRequest, admin::DescriptionEntityList)

// Matchable attributes at project, project-domain and workflow level (upstream's
// ResourceManager).
#define FLYTE_RESOURCE_MANAGER_RPCS(X)                                                        \
  X(UpdateProjectAttributes, admin::ProjectAttributesUpdateRequest,                           \
    admin::ProjectAttributesUpdateResponse)                                                   \
  X(GetProjectAttributes, admin::ProjectAttributesGetRequest, admin::ProjectAttributesGetResponse) \
  X(DeleteProjectAttributes, admin::ProjectAttributesDeleteRequest,                           \
    admin::ProjectAttributesDeleteResponse)                                                   \
  X(UpdateProjectDomainAttributes, admin::ProjectDomainAttributesUpdateRequest,               \
    admin::ProjectDomainAttributesUpdateResponse)                                             \
  X(GetProjectDomainAttributes, admin::ProjectDomainAttributesGetRequest,                     \
    admin::ProjectDomainAttributesGetResponse)                                                \
  X(DeleteProjectDomainAttributes, admin::ProjectDomainAttributesDeleteRequest,               \
    admin::ProjectDomainAttributesDeleteResponse)                                             \
  X(UpdateWorkflowAttributes, admin::WorkflowAttributesUpdateRequest,                         \
    admin::WorkflowAttributesUpdateResponse)                                                  \
  X(GetWorkflowAttributes, admin::WorkflowAttributesGetRequest,                               \
    admin::WorkflowAttributesGetResponse)                                                     \
  X(DeleteWorkflowAttributes, admin::WorkflowAttributesDeleteRequest,                         \
    admin::WorkflowAttributesDeleteResponse)                                                  \
  X(ListMatchableAttributes, admin::ListMatchableAttributesRequest,                           \
    admin::ListMatchableAttributesResponse)

// Workflow executions and their events (upstream's ExecutionManager).
#define FLYTE_EXECUTION_MANAGER_RPCS(X)                                                        \
  X(CreateExecution, admin::ExecutionCreateRequest, admin::ExecutionCreateResponse)            \
  X(RelaunchExecution, admin::ExecutionRelaunchRequest, admin::ExecutionCreateResponse)        \
  X(RecoverExecution, admin::ExecutionRecoverRequest, admin::ExecutionCreateResponse)          \
  X(GetExecution, admin::WorkflowExecutionGetRequest, admin::Execution)                        \
  X(UpdateExecution, admin::ExecutionUpdateRequest, admin::ExecutionUpdateResponse)            \
  X(GetExecutionData, admin::WorkflowExecutionGetDataRequest, admin::WorkflowExecutionGetDataResponse) \
  X(ListExecutions, admin::ResourceListRequest, admin::ExecutionList)                          \
  X(TerminateExecution, admin::ExecutionTerminateRequest, admin::ExecutionTerminateResponse)   \
  X(CreateWorkflowEvent, admin::WorkflowExecutionEventRequest, admin::WorkflowExecutionEventResponse)

// Node executions and their events (upstream's NodeExecutionManager).
#define FLYTE_NODE_EXECUTION_MANAGER_RPCS(X)                                                    \
  X(CreateNodeEvent, admin::NodeExecutionEventRequest, admin::NodeExecutionEventResponse)       \
  X(GetNodeExecution, admin::NodeExecutionGetRequest, admin::NodeExecution)                     \
  X(GetDynamicNodeWorkflow, admin::GetDynamicNodeWorkflowRequest, admin::DynamicNodeWorkflowResponse) \
  X(ListNodeExecutions, admin::NodeExecutionListRequest, admin::NodeExecutionList)              \
  X(ListNodeExecutionsForTask, admin::NodeExecutionForTaskListRequest, admin::NodeExecutionList) \
  X(GetNodeExecutionData, admin::NodeExecutionGetDataRequest, admin::NodeExecutionGetDataResponse)

// Task executions and their events (upstream's TaskExecutionManager).
#define FLYTE_TASK_EXECUTION_MANAGER_RPCS(X)                                                    \
  X(CreateTaskEvent, admin::TaskExecutionEventRequest, admin::TaskExecutionEventResponse)       \
  X(GetTaskExecution, admin::TaskExecutionGetRequest, admin::TaskExecution)                     \
  X(ListTaskExecutions, admin::TaskExecutionListRequest, admin::TaskExecutionList)              \
  X(GetTaskExecutionData, admin::TaskExecutionGetDataRequest, admin::TaskExecutionGetDataResponse)

// The event RPCs, flytepropeller's ingestion path, also have a form that answers through a
// callback (declared as `void NAMEAsync(call, request, response, done)`), through which the host
// serves them: the manager hands the work to the database's batch thread and returns, and no
// thread waits while the shared commit is made. The synchronous form stays for in-process
// callers (the local executor). Both must behave the same.
#define FLYTE_EXECUTION_MANAGER_ASYNC_RPCS(X) \
  X(CreateWorkflowEvent, admin::WorkflowExecutionEventRequest, admin::WorkflowExecutionEventResponse)
#define FLYTE_NODE_EXECUTION_MANAGER_ASYNC_RPCS(X) \
  X(CreateNodeEvent, admin::NodeExecutionEventRequest, admin::NodeExecutionEventResponse)
#define FLYTE_TASK_EXECUTION_MANAGER_ASYNC_RPCS(X) \
  X(CreateTaskEvent, admin::TaskExecutionEventRequest, admin::TaskExecutionEventResponse)
// GetVersion answers without waiting on anything: through its callback form it is answered on
// the gRPC thread that received it, without a hand-off to the handler pool.
#define FLYTE_VERSION_MANAGER_ASYNC_RPCS(X) \
  X(GetVersion, admin::GetVersionRequest, admin::GetVersionResponse)
#define FLYTE_NO_ASYNC_RPCS(X)

// The console's timeline spans (upstream's MetricsManager).
#define FLYTE_METRICS_MANAGER_RPCS(X) \
  X(GetExecutionMetrics, admin::WorkflowExecutionGetMetricsRequest, admin::WorkflowExecutionGetMetricsResponse)

// Every manager area: (interface, PluginID, RPC list, RPCs also answered through a callback).
#define FLYTE_MANAGER_AREAS(X)                                                  \
  X(VersionManager, kVersionManager, FLYTE_VERSION_MANAGER_RPCS, FLYTE_VERSION_MANAGER_ASYNC_RPCS)                \
  X(ProjectManager, kProjectManager, FLYTE_PROJECT_MANAGER_RPCS, FLYTE_NO_ASYNC_RPCS)                \
  X(TaskManager, kTaskManager, FLYTE_TASK_MANAGER_RPCS, FLYTE_NO_ASYNC_RPCS)                         \
  X(WorkflowManager, kWorkflowManager, FLYTE_WORKFLOW_MANAGER_RPCS, FLYTE_NO_ASYNC_RPCS)             \
  X(LaunchPlanManager, kLaunchPlanManager, FLYTE_LAUNCH_PLAN_MANAGER_RPCS, FLYTE_NO_ASYNC_RPCS)      \
  X(NamedEntityManager, kNamedEntityManager, FLYTE_NAMED_ENTITY_MANAGER_RPCS, FLYTE_NO_ASYNC_RPCS)   \
  X(DescriptionEntityManager, kDescriptionEntityManager, FLYTE_DESCRIPTION_ENTITY_MANAGER_RPCS, FLYTE_NO_ASYNC_RPCS) \
  X(ResourceManager, kResourceManager, FLYTE_RESOURCE_MANAGER_RPCS, FLYTE_NO_ASYNC_RPCS)                \
  X(ExecutionManager, kExecutionManager, FLYTE_EXECUTION_MANAGER_RPCS, FLYTE_EXECUTION_MANAGER_ASYNC_RPCS)          \
  X(NodeExecutionManager, kNodeExecutionManager, FLYTE_NODE_EXECUTION_MANAGER_RPCS, FLYTE_NODE_EXECUTION_MANAGER_ASYNC_RPCS) \
  X(TaskExecutionManager, kTaskExecutionManager, FLYTE_TASK_EXECUTION_MANAGER_RPCS, FLYTE_TASK_EXECUTION_MANAGER_ASYNC_RPCS) \
  X(MetricsManager, kMetricsManager, FLYTE_METRICS_MANAGER_RPCS, FLYTE_NO_ASYNC_RPCS)

namespace flyte::plugin {

#define FLYTE_MANAGER_METHOD_(NAME, REQUEST, RESPONSE)                                   \
  virtual Status NAME(CallContext& call, const flyteidl::REQUEST& request, \
                      flyteidl::RESPONSE& response) = 0;
#define FLYTE_MANAGER_ASYNC_METHOD_(NAME, REQUEST, RESPONSE)                                        \
  virtual void NAME##Async(CallContext& call, const flyteidl::REQUEST& request,                  \
                           flyteidl::RESPONSE& response, std::function<void(Status)> done) = 0;
#define FLYTE_MANAGER_INTERFACE_(CLASS, ID, RPCS, ASYNC_RPCS) \
  class FLYTE_PLUGIN_API_EXPORT CLASS : public PluginBase {    \
   public:                                                     \
    ~CLASS() override;                                         \
    RPCS(FLYTE_MANAGER_METHOD_)                                \
    ASYNC_RPCS(FLYTE_MANAGER_ASYNC_METHOD_)                    \
  };

FLYTE_MANAGER_AREAS(FLYTE_MANAGER_INTERFACE_)

#undef FLYTE_MANAGER_INTERFACE_
#undef FLYTE_MANAGER_ASYNC_METHOD_
#undef FLYTE_MANAGER_METHOD_

}  // namespace flyte::plugin
