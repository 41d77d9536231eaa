// Request validation of the registration managers, ported from upstream FlyteAdmin's
// manager/impl/validation package: same checks, same order, same messages. Every function is
// stateless and thread-safe; failures are INVALID_ARGUMENT unless stated otherwise.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "flyte/manager/filters.h"
#include "flyte/manager/quantity.h"
#include "flyte/plugin/compiler.h"
#include "flyte/plugin/repositories.h"
#include "flyte/plugin/status.h"
#include "flyteidl/admin/common.pb.h"
#include "flyteidl/admin/description_entity.pb.h"
#include "flyteidl/admin/launch_plan.pb.h"
#include "flyteidl/admin/matchable_resource.pb.h"
#include "flyteidl/admin/project.pb.h"
#include "flyteidl/admin/schedule.pb.h"
#include "flyteidl/admin/task.pb.h"
#include "flyteidl/admin/workflow.pb.h"

namespace flyte::plugins::manager {

// ---- Configuration (filled from the `domains`, `task_resources`, `task_type_whitelist` and
// ---- `registration` config sections) ----

struct DomainConfig {
  std::string id;
  std::string name;
};
// development, staging, production (upstream's defaults, in that order).
std::vector<DomainConfig> DefaultDomains();

// One allowed scope of a task type; an empty project means every project, an empty domain every
// domain of the project.
struct WhitelistScope {
  std::string project;
  std::string domain;
};
// task type -> scopes; a type absent or with no scopes is allowed everywhere.
using TaskTypeWhitelist = std::map<std::string, std::vector<WhitelistScope>>;

// Zero quantities mean "not set".
struct TaskResourceSet {
  Quantity cpu;
  Quantity gpu;
  Quantity memory;
  Quantity ephemeral_storage;
};
struct TaskResources {
  TaskResourceSet defaults;
  TaskResourceSet limits;
};
// Upstream's built-in task_resources: defaults cpu 2, memory 200Mi; limits cpu 2, memory 1Gi,
// gpu 1.
TaskResources DefaultTaskResources();
// The platform resources from a TASK_RESOURCE matchable attribute (unparsable values are zero,
// as upstream logs and ignores them).
TaskResources TaskResourcesFromAttributes(const flyteidl::admin::TaskResourceAttributes& attrs);

struct RegistrationValidationConfig {
  int max_workflow_nodes = 100;     // registration.maxWorkflowNodes; 0 = no limit
  std::string workflow_size_limit;  // registration.workflowSizeLimit, a k8s quantity; "" = off
  int max_label_entries = 0;        // registration.maxLabelEntries (executions)
  int max_annotation_entries = 0;   // registration.maxAnnotationEntries (executions)
};

// ---- Basic helpers (validation.go) ----

// "missing <field>" when empty.
plugin::Status ValidateEmptyStringField(std::string_view value, std::string_view field);
// "<field> cannot exceed <limit> characters" (bytes).
plugin::Status ValidateMaxLengthStringField(std::string_view value, std::string_view field,
                                            size_t limit);
// "<field> map cannot exceed <limit> entries".
plugin::Status ValidateMaxMapLengthField(size_t size, std::string_view field, size_t limit);
// At most 16 entries ("labels map cannot exceed 16 entries"); keys k8s qualified names
// ("invalid label key [k]: [<k8s messages>]"), values k8s label values
// ("invalid label value [v]: [...]"). Keys are checked in sorted order.
plugin::Status ValidateLabels(const flyteidl::admin::Labels& labels);

// id null -> "missing id"; then "missing project|domain|name|version" in that order.
plugin::Status ValidateIdentifierFieldsSet(const flyteidl::core::Identifier* id);
// "missing id"; a resource type other than the entity's (TASK, WORKFLOW, LAUNCH_PLAN; UNSPECIFIED
// for any other entity) -> "unexpected resource type <rt lower> for identifier [<id text>],
// expected <lower> instead"; then the fields.
plugin::Status ValidateIdentifier(const flyteidl::core::Identifier* id, Entity expected);
// "missing id", "missing project|domain|name".
plugin::Status ValidateNamedEntityIdentifier(const flyteidl::admin::NamedEntityIdentifier* id);
// UNSPECIFIED or a value outside the enum -> "invalid value for resource_type".
plugin::Status ValidateResourceType(int resource_type);
// 0 -> "invalid value for limit".
plugin::Status ValidateLimit(uint32_t limit);

// ResourceListRequest (ListTasks/Workflows/LaunchPlans): id, project, domain, limit.
plugin::Status ValidateResourceListRequest(const flyteidl::admin::ResourceListRequest& request);
// NamedEntityIdentifierListRequest (List*Ids): project, domain, limit.
plugin::Status ValidateNamedEntityIdentifierListRequest(
    const flyteidl::admin::NamedEntityIdentifierListRequest& request);
// ActiveLaunchPlanRequest: project, domain, name (no "missing id").
plugin::Status ValidateActiveLaunchPlanRequest(
    const flyteidl::admin::ActiveLaunchPlanRequest& request);
// ActiveLaunchPlanListRequest: project, domain, limit.
plugin::Status ValidateActiveLaunchPlanListRequest(
    const flyteidl::admin::ActiveLaunchPlanListRequest& request);
// GetDescriptionEntity: resource type, then all four id fields.
plugin::Status ValidateDescriptionEntityGetRequest(
    const flyteidl::admin::ObjectGetRequest& request);
// ListDescriptionEntities: id, project, domain, name, limit.
plugin::Status ValidateDescriptionEntityListRequest(
    const flyteidl::admin::DescriptionEntityListRequest& request);

// ---- Named entities (named_entity_validator.go) ----

plugin::Status ValidateNamedEntityGetRequest(const flyteidl::admin::NamedEntityGetRequest& request);
// Also "missing metadata", and a non-ACTIVE state on a type other than TASK/WORKFLOW/LAUNCH_PLAN:
// "Resource [<TYPE>] cannot have its state updated".
plugin::Status ValidateNamedEntityUpdateRequest(
    const flyteidl::admin::NamedEntityUpdateRequest& request);
// project, domain, resource type, limit.
plugin::Status ValidateNamedEntityListRequest(
    const flyteidl::admin::NamedEntityListRequest& request);

// ---- Projects (project_validator.go) ----

// "missing project", "missing project_name", then ValidateProject.
plugin::Status ValidateProjectRegisterRequest(
    const flyteidl::admin::ProjectRegisterRequest& request);
// "missing project_id".
plugin::Status ValidateProjectGetRequest(const flyteidl::admin::ProjectGetRequest& request);
// "missing project_id"; labels; "invalid project id [<id>]: [<k8s DNS-1123 label messages>]";
// "project_name cannot exceed 64 characters"; "project_description cannot exceed 300
// characters"; any domains -> "Domains are currently only set system wide. Please retry without
// domains included in your request."
plugin::Status ValidateProject(const flyteidl::admin::Project& project);
// The project must exist and be ACTIVE and the domain configured:
// "failed to validate that project [p] and domain [d] are registered, err: [project [p] not
// found]" (or the repository's message for other errors), InactiveProjectError (with the
// admin.InactiveProject detail), "domain [d] is unrecognized by system".
plugin::Status ValidateProjectAndDomain(plugin::db::ProjectRepo& projects,
                                        const std::vector<DomainConfig>& domains,
                                        const std::string& project, const std::string& domain);
// Exists and ACTIVE: "failed to validate that project [p] is registered, err: [...]",
// "project [p] is not active" (no detail).
plugin::Status ValidateProjectForUpdate(plugin::db::ProjectRepo& projects,
                                        const std::string& project);
// Exists: "failed to validate that project [p] exists, err: [...]".
plugin::Status ValidateProjectExists(plugin::db::ProjectRepo& projects, const std::string& project);

// ---- Tasks (task_validator.go) ----

// The whole of ValidateTask: identifier (TASK), project/domain, "missing spec", "missing type",
// whitelist ("task type must be whitelisted before use"), "missing metadata", "missing runtime
// version", "missing typed interface", then the container ("missing image", resources against
// `platform.limits`) or the k8s pod ("invalid TaskSpecification, pod tasks should specify their
// target as a K8sPod with a defined pod spec"; each container's requests/limits). Resource
// messages name the template's own id (before it is overwritten with the request id). A pod
// spec whose containers/resources do not have the shape of a k8s PodSpec, or a quantity that
// does not parse there, fails INTERNAL with the Go decoder's text, as upstream surfaces it.
plugin::Status ValidateTask(const flyteidl::admin::TaskCreateRequest& request,
                            plugin::db::ProjectRepo& projects,
                            const std::vector<DomainConfig>& domains, const TaskResources& platform,
                            const TaskTypeWhitelist& whitelist);
// Just the template part (everything after "missing spec").
plugin::Status ValidateTaskTemplate(const flyteidl::core::Identifier& task_id,
                                    const flyteidl::core::TaskTemplate& task,
                                    const TaskResources& platform,
                                    const TaskTypeWhitelist& whitelist);
// Container resources against the platform limits (requests = "defaults" in messages).
plugin::Status ValidateTaskResources(const flyteidl::core::Identifier* task_id,
                                     const TaskResourceSet& platform_limits,
                                     const flyteidl::core::Resources& resources);

// ---- Workflows (workflow_validator.go) ----

// Identifier (WORKFLOW), project/domain, "missing spec".
plugin::Status ValidateWorkflow(const flyteidl::admin::WorkflowCreateRequest& request,
                                plugin::db::ProjectRepo& projects,
                                const std::vector<DomainConfig>& domains);
// "Workflow closure size exceeds max limit [<limit>]" and "number of nodes in workflow [<id>]
// exceeds limit (<n> > <max>)" (top-level nodes of the primary, minus start and end). A size
// limit that is not a quantity fails INTERNAL.
plugin::Status ValidateCompiledWorkflow(const flyteidl::core::Identifier& id,
                                        const flyteidl::admin::WorkflowClosure& closure,
                                        const RegistrationValidationConfig& config);

// ---- Launch plans (launch_plan_validator.go, notifications_validator.go) ----

// The whole of ValidateLaunchPlan, in upstream's order: identifier (LAUNCH_PLAN), project and
// domain, "missing spec", spec.workflow_id (WORKFLOW), labels, fixed inputs, default inputs,
// expected inputs against `workflow_interface`, schedule; then replaces
// spec.default_inputs with the expected inputs (the stored form) and checks notifications and
// launch conditions. `enable_artifacts` is flyteadmin.featureGates.enableArtifacts.
plugin::Status ValidateLaunchPlan(flyteidl::admin::LaunchPlanCreateRequest& request,
                                  plugin::db::ProjectRepo& projects,
                                  const std::vector<DomainConfig>& domains, bool enable_artifacts,
                                  const flyteidl::core::TypedInterface& workflow_interface,
                                  plugin::WorkflowCompiler& compiler);

// fixed_inputs: "missing key in fixed_inputs", "missing valid literal in fixed_inputs <n>",
// datetime timestamp validity (upstream stops at the first datetime literal; names are visited
// in sorted order here).
plugin::Status ValidateLiteralMap(const flyteidl::core::LiteralMap& inputs, std::string_view field);
// default_inputs: artifact query gate, "missing key in ...", the Variable/Type message, "neither
// default, nor is required", the literal type of a default and its castability ("Type mismatch
// for Parameter <n> in <field> has type <var type>, expected <inferred>"), datetime validity.
plugin::Status ValidateParameterMap(const flyteidl::core::ParameterMap& inputs,
                                    std::string_view field, bool enable_artifacts,
                                    plugin::WorkflowCompiler& compiler);
// The expected inputs: per workflow input, the LP default if any, else (unless fixed) a required
// parameter with the workflow variable's type and description. Errors: "invalid launch plan
// default|fixed inputs, expected none but found <n>", "unexpected default_input <n>",
// "invalid default_input wrong type <n>, expected <t>, got <t> instead", "unexpected
// fixed_input <n>", literal type errors, "invalid fixed_input wrong type <n>, expected <t>, got
// <t> instead".
plugin::StatusOr<flyteidl::core::ParameterMap> CheckAndFetchExpectedInputs(
    const flyteidl::core::VariableMap* workflow_inputs,
    const flyteidl::core::LiteralMap& fixed_inputs,
    const flyteidl::core::ParameterMap& default_inputs, plugin::WorkflowCompiler& compiler);
// Schedule rules (only when cron_expression, rate or cron_schedule is set): unbound required
// inputs, the kickoff-time argument, "Invalid cron expression: <robfig error>".
plugin::Status ValidateSchedule(const flyteidl::admin::Schedule& schedule,
                                const flyteidl::core::ParameterMap& expected_inputs);
// "missing recipients", "missing recipient", "invalid value for notification type",
// "invalid value for phase" (phases must be terminal).
plugin::Status ValidateNotifications(
    const google::protobuf::RepeatedPtrField<flyteidl::admin::Notification>& notifications);
// The timestamp check of protobuf's CheckValid: "proto: timestamp (<text>) before 0001-01-01",
// "... after 9999-12-31", "... has out-of-range nanos", "proto: invalid nil Timestamp".
plugin::Status ValidateDatetime(const flyteidl::core::Literal& literal);
// Whether upstream's type inference (validators.LiteralTypeForLiteral) leaves a nil inner
// message in the type of `literal`: a blob whose metadata has no type, a schema without a type,
// a structured dataset without metadata or without its type, anywhere in collections and maps;
// or an element whose type cannot be inferred at all, inside a collection or map. Ours infers
// an empty inner message there, which a generic blob, schema or structured dataset would
// accept; upstream's type checkers need the inner message, so such a type casts to nothing.
bool InfersUncastableType(const flyteidl::core::Literal& literal);
// UpdateLaunchPlan's test of whether a spec carries a schedule worth (un)registering.
bool IsScheduleEmpty(const flyteidl::admin::LaunchPlanSpec& spec);

}  // namespace flyte::plugins::manager
