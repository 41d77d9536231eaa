// Upstream FlyteAdmin's shared error texts (manager/impl/shared, errors/errors.go,
// repositories/errors) and the status details clients read from them.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <string_view>
#include <vector>

#include "flyte/plugin/status.h"
#include "flyteidl/admin/launch_plan.pb.h"
#include "flyteidl/core/compiler.pb.h"
#include "flyteidl/core/identifier.pb.h"

namespace flyte::plugins::manager {

// Field names used in "missing <field>" / "invalid value for <field>" (shared/constants.go).
inline constexpr std::string_view kFieldProject = "project";
inline constexpr std::string_view kFieldDomain = "domain";
inline constexpr std::string_view kFieldName = "name";
inline constexpr std::string_view kFieldId = "id";
inline constexpr std::string_view kFieldVersion = "version";
inline constexpr std::string_view kFieldResourceType = "resource_type";
inline constexpr std::string_view kFieldSpec = "spec";
inline constexpr std::string_view kFieldType = "type";
inline constexpr std::string_view kFieldRuntimeVersion = "runtime version";
inline constexpr std::string_view kFieldMetadata = "metadata";
inline constexpr std::string_view kFieldTypedInterface = "typed interface";
inline constexpr std::string_view kFieldImage = "image";
inline constexpr std::string_view kFieldLimit = "limit";
inline constexpr std::string_view kFieldFilters = "filters";
inline constexpr std::string_view kFieldExpectedInputs = "expected_inputs";
inline constexpr std::string_view kFieldFixedInputs = "fixed_inputs";
inline constexpr std::string_view kFieldDefaultInputs = "default_inputs";
inline constexpr std::string_view kFieldInputs = "inputs";
inline constexpr std::string_view kFieldState = "state";

// INVALID_ARGUMENT "missing <field>".
plugin::Status MissingArgumentError(std::string_view field);
// INVALID_ARGUMENT "invalid value for <field>".
plugin::Status InvalidArgumentError(std::string_view field);
// Several messages joined with ", " under one code (NewCollectedFlyteAdminError).
plugin::Status CollectedError(plugin::StatusCode code, const std::vector<plugin::Status>& errors);

// A status detail carrying `message` as a google.protobuf.Any would
// ("type.googleapis.com/<full name>", serialized bytes).
plugin::StatusDetail PackDetail(const google::protobuf::Message& message);

// Go's String() of an identifier, as upstream prints ids in messages:
// resource_type:TASK project:"p" domain:"d" name:"n" version:"v".
std::string IdentifierText(const google::protobuf::Message& id);

// NOT_FOUND "missing entity of type <TASK|WORKFLOW|LAUNCH_PLAN> with identifier project:"p"
// domain:"d" name:"n" version:"v"" (the repositories print only the four key fields).
plugin::Status MissingEntityError(std::string_view entity_type,
                                  const flyteidl::core::Identifier& id);

// INVALID_ARGUMENT "project [<id>] is not active" with an admin.InactiveProject{id} detail.
plugin::Status InactiveProjectError(std::string_view project);

// INVALID_ARGUMENT "Failed to validate literal type for [<name>] with err: <error>".
plugin::Status InvalidLiteralTypeError(std::string_view name, std::string_view error);

// ALREADY_EXISTS "task with identical structure already exists".
plugin::Status TaskExistsIdenticalStructureError();
// INVALID_ARGUMENT "<name> task with different structure already exists. (Please register a new
// version of the task):\n<diff>" (see StructureDiff).
plugin::Status TaskExistsDifferentStructureError(const flyteidl::core::Identifier& request_id,
                                                 const flyteidl::core::CompiledTask& existing,
                                                 const flyteidl::core::CompiledTask& requested);
// ALREADY_EXISTS "workflow with identical structure already exists" with detail
// admin.CreateWorkflowFailureReason{exists_identical_structure{id}}.
plugin::Status WorkflowExistsIdenticalStructureError(const flyteidl::core::Identifier& request_id);
// INVALID_ARGUMENT "<name> workflow with different structure already exists. (Please register a
// new version of the workflow):\n<diff>" with detail
// CreateWorkflowFailureReason{exists_different_structure{id}}.
plugin::Status WorkflowExistsDifferentStructureError(
    const flyteidl::core::Identifier& request_id,
    const flyteidl::core::CompiledWorkflowClosure& existing,
    const flyteidl::core::CompiledWorkflowClosure& requested);
// ALREADY_EXISTS "launch plan with identical structure already exists".
plugin::Status LaunchPlanExistsIdenticalStructureError();
// INVALID_ARGUMENT "<name> launch plan with different structure already exists. (Please
// register a new version of the launch plan):\n<diff of the specs>".
plugin::Status LaunchPlanExistsDifferentStructureError(
    const flyteidl::core::Identifier& request_id, const flyteidl::admin::LaunchPlanSpec& existing,
    const flyteidl::admin::LaunchPlanSpec& requested);

// INVALID_ARGUMENT "Unrecognized launch plan state <state> for update for launch plan [<id>]".
plugin::Status UnrecognizedLaunchPlanStateError(int state, const flyteidl::core::Identifier& id);

}  // namespace flyte::plugins::manager
