// Builders of upstream FlyteAdmin's shared error statuses.
#include "flyte/manager/errors.h"

#include "flyte/manager/digest.h"
#include "flyte/plugin/go_compat.h"
#include "flyteidl/admin/project.pb.h"
#include "flyteidl/admin/workflow.pb.h"

namespace flyte::plugins::manager {
namespace {

using plugin::Status;
using plugin::StatusCode;

std::string JoinLines(const std::vector<std::string>& lines) {
  std::string out;
  for (size_t i = 0; i < lines.size(); ++i) {
    if (i > 0) out += '\n';
    out += lines[i];
  }
  return out;
}

std::string DifferentStructureMessage(const flyteidl::core::Identifier& id, std::string_view what,
                                      const google::protobuf::Message& existing,
                                      const google::protobuf::Message& requested) {
  return id.name() + " " + std::string(what) +
         " with different structure already exists. (Please register a new version of the " +
         std::string(what) + "):\n" + JoinLines(StructureDiff(existing, requested));
}

}  // namespace

Status MissingArgumentError(std::string_view field) {
  return plugin::InvalidArgument("missing " + std::string(field));
}

Status InvalidArgumentError(std::string_view field) {
  return plugin::InvalidArgument("invalid value for " + std::string(field));
}

Status CollectedError(StatusCode code, const std::vector<Status>& errors) {
  std::string message;
  for (size_t i = 0; i < errors.size(); ++i) {
    if (i > 0) message += ", ";
    message += errors[i].message();
  }
  return Status(code, std::move(message));
}

plugin::StatusDetail PackDetail(const google::protobuf::Message& message) {
  return plugin::StatusDetail{"type.googleapis.com/" + message.GetDescriptor()->full_name(),
                              message.SerializeAsString()};
}

std::string IdentifierText(const google::protobuf::Message& id) { return plugin::GoProtoText(id); }

Status MissingEntityError(std::string_view entity_type, const flyteidl::core::Identifier& id) {
  flyteidl::core::Identifier key;
  key.set_project(id.project());
  key.set_domain(id.domain());
  key.set_name(id.name());
  key.set_version(id.version());
  return plugin::NotFound("missing entity of type " + std::string(entity_type) +
                          " with identifier " + plugin::GoProtoText(key));
}

Status InactiveProjectError(std::string_view project) {
  Status status = plugin::InvalidArgument("project [" + std::string(project) + "] is not active");
  flyteidl::admin::InactiveProject detail;
  detail.set_id(std::string(project));
  status.AddDetail(PackDetail(detail));
  return status;
}

Status InvalidLiteralTypeError(std::string_view name, std::string_view error) {
  return plugin::InvalidArgument("Failed to validate literal type for [" + std::string(name) +
                                 "] with err: " + std::string(error));
}

Status TaskExistsIdenticalStructureError() {
  return plugin::AlreadyExists("task with identical structure already exists");
}

Status TaskExistsDifferentStructureError(const flyteidl::core::Identifier& request_id,
                                         const flyteidl::core::CompiledTask& existing,
                                         const flyteidl::core::CompiledTask& requested) {
  return plugin::InvalidArgument(
      DifferentStructureMessage(request_id, "task", existing, requested));
}

Status WorkflowExistsIdenticalStructureError(const flyteidl::core::Identifier& request_id) {
  Status status = plugin::AlreadyExists("workflow with identical structure already exists");
  flyteidl::admin::CreateWorkflowFailureReason reason;
  *reason.mutable_exists_identical_structure()->mutable_id() = request_id;
  status.AddDetail(PackDetail(reason));
  return status;
}

Status WorkflowExistsDifferentStructureError(
    const flyteidl::core::Identifier& request_id,
    const flyteidl::core::CompiledWorkflowClosure& existing,
    const flyteidl::core::CompiledWorkflowClosure& requested) {
  Status status = plugin::InvalidArgument(
      DifferentStructureMessage(request_id, "workflow", existing, requested));
  flyteidl::admin::CreateWorkflowFailureReason reason;
  *reason.mutable_exists_different_structure()->mutable_id() = request_id;
  status.AddDetail(PackDetail(reason));
  return status;
}

Status LaunchPlanExistsIdenticalStructureError() {
  return plugin::AlreadyExists("launch plan with identical structure already exists");
}

Status LaunchPlanExistsDifferentStructureError(const flyteidl::core::Identifier& request_id,
                                               const flyteidl::admin::LaunchPlanSpec& existing,
                                               const flyteidl::admin::LaunchPlanSpec& requested) {
  return plugin::InvalidArgument(
      DifferentStructureMessage(request_id, "launch plan", existing, requested));
}

Status UnrecognizedLaunchPlanStateError(int state, const flyteidl::core::Identifier& id) {
  const auto* value = flyteidl::admin::LaunchPlanState_descriptor()->FindValueByNumber(state);
  const std::string state_text = value != nullptr ? value->name() : std::to_string(state);
  return plugin::InvalidArgument("Unrecognized launch plan state " + state_text +
                                 " for update for launch plan [" + plugin::GoProtoText(id) + "]");
}

}  // namespace flyte::plugins::manager
