// Launch plan registration validation (upstream launch_plan_validator.go, the literal and
// parameter checks of validation.go, notifications_validator.go).
#include <algorithm>

#include "flyte/manager/cron.h"
#include "flyte/manager/errors.h"
#include "flyte/plugin/go_compat.h"
#include "flyte/manager/validation.h"

// Schedule.cron_expression is deprecated in the IDL, but upstream still honours it.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace flyte::plugins::manager {
namespace {

using plugin::Status;

constexpr int64_t kMinTimestampSeconds = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTimestampSeconds = 253402300799;  // 9999-12-31T23:59:59Z

// The text of Go's ValidateLiteralType error for a literal whose type cannot be inferred.
constexpr char kUnknownLiteralType[] =
    "got unknown literal type: [<nil>].\nSuggested solution: Please update all your Flyte "
    "deployment images to the latest version and try again";

template <typename Map>
std::vector<std::string> SortedKeys(const Map& map) {
  std::vector<std::string> keys;
  keys.reserve(map.size());
  for (const auto& entry : map) keys.push_back(entry.first);
  std::sort(keys.begin(), keys.end());
  return keys;
}

bool IsDatetime(const flyteidl::core::Literal& literal) {
  return literal.has_scalar() && literal.scalar().has_primitive() &&
         literal.scalar().primitive().has_datetime();
}

// Go's %v of a possibly-nil message pointer.
std::string TypeText(const flyteidl::core::LiteralType* type) {
  return type == nullptr ? "<nil>" : plugin::GoProtoText(*type);
}

bool IsTerminalPhase(int phase) {
  using flyteidl::core::WorkflowExecution;
  return phase == WorkflowExecution::SUCCEEDED || phase == WorkflowExecution::FAILED ||
         phase == WorkflowExecution::TIMED_OUT || phase == WorkflowExecution::ABORTED;
}

Status ValidateRecipients(const google::protobuf::RepeatedPtrField<std::string>& recipients) {
  if (recipients.empty()) return MissingArgumentError("recipients");
  for (const auto& r : recipients) {
    if (r.empty()) return MissingArgumentError("recipient");
  }
  return Status::Ok();
}

}  // namespace

namespace {

// `nested`: inside a collection or map, where a literal whose type cannot be inferred at all
// also leaves a nil (Go's inferred collection or map type holds it; only a top-level nil is
// caught by ValidateLiteralType, which callers check first).
bool InfersNilSomewhere(const flyteidl::core::Literal& literal, bool nested) {
  using Scalar = flyteidl::core::Scalar;
  switch (literal.value_case()) {
    case flyteidl::core::Literal::kScalar: {
      const Scalar& s = literal.scalar();
      switch (s.value_case()) {
        case Scalar::kBlob:
          return s.blob().has_metadata() ? !s.blob().metadata().has_type() : nested;
        case Scalar::kSchema:
          return !s.schema().has_type();
        case Scalar::kStructuredDataset:
          return !s.structured_dataset().has_metadata() ||
                 !s.structured_dataset().metadata().has_structured_dataset_type();
        case Scalar::VALUE_NOT_SET:
          return nested;
        default:
          return false;
      }
    }
    case flyteidl::core::Literal::kCollection:
      for (const auto& l : literal.collection().literals()) {
        if (InfersNilSomewhere(l, true)) return true;
      }
      return false;
    case flyteidl::core::Literal::kMap:
      for (const auto& [key, l] : literal.map().literals()) {
        if (InfersNilSomewhere(l, true)) return true;
      }
      return false;
    case flyteidl::core::Literal::kOffloadedMetadata:
      return false;  // its type is given, not inferred
    default:
      return nested;
  }
}

}  // namespace

bool InfersUncastableType(const flyteidl::core::Literal& literal) {
  return InfersNilSomewhere(literal, false);
}

Status ValidateDatetime(const flyteidl::core::Literal& literal) {
  if (!IsDatetime(literal)) {
    return plugin::InvalidArgument("proto: invalid nil Timestamp");
  }
  const auto& ts = literal.scalar().primitive().datetime();
  const std::string text = plugin::GoProtoText(ts);
  if (ts.seconds() < kMinTimestampSeconds) {
    return plugin::InvalidArgument("proto: timestamp (" + text + ") before 0001-01-01");
  }
  if (ts.seconds() > kMaxTimestampSeconds) {
    return plugin::InvalidArgument("proto: timestamp (" + text + ") after 9999-12-31");
  }
  if (ts.nanos() < 0 || ts.nanos() >= 1000000000) {
    return plugin::InvalidArgument("proto: timestamp (" + text + ") has out-of-range nanos");
  }
  return Status::Ok();
}

Status ValidateLiteralMap(const flyteidl::core::LiteralMap& inputs, std::string_view field) {
  const std::string f(field);
  for (const auto& name : SortedKeys(inputs.literals())) {
    const auto& literal = inputs.literals().at(name);
    if (name.empty()) return plugin::InvalidArgument("missing key in " + f);
    if (literal.value_case() == flyteidl::core::Literal::VALUE_NOT_SET &&
        !literal.has_offloaded_metadata()) {
      return plugin::InvalidArgument("missing valid literal in " + f + " " + name);
    }
    if (IsDatetime(literal)) return ValidateDatetime(literal);
  }
  return Status::Ok();
}

Status ValidateParameterMap(const flyteidl::core::ParameterMap& inputs, std::string_view field,
                            bool enable_artifacts, plugin::WorkflowCompiler& compiler) {
  const std::string f(field);
  const auto names = SortedKeys(inputs.parameters());
  if (!enable_artifacts) {
    for (const auto& name : names) {
      if (inputs.parameters().at(name).has_artifact_query()) {
        return plugin::InvalidArgument("artifact mode not enabled but query found " + f + " " +
                                       name);
      }
    }
  }
  for (const auto& name : names) {
    const auto& param = inputs.parameters().at(name);
    if (name.empty()) return plugin::InvalidArgument("missing key in " + f);
    if (!param.has_var() || !param.var().has_type()) {
      return plugin::InvalidArgument("The Variable component of the Parameter " + name + " in " +
                                     f + " either is missing, or has a missing Type");
    }
    if (!param.has_default_() && !param.has_artifact_query() && !param.required()) {
      return plugin::InvalidArgument("Invalid variable " + name + " in " + f +
                                     " - variable has neither default, nor is required. One must "
                                     "be specified");
    }
    if (param.has_default_()) {
      auto inferred = compiler.LiteralTypeForLiteral(param.default_());
      if (!inferred.ok()) return InvalidLiteralTypeError(name, kUnknownLiteralType);
      if (InfersUncastableType(param.default_()) ||
          !compiler.AreTypesCastable(*inferred, param.var().type())) {
        return plugin::InvalidArgument("Type mismatch for Parameter " + name + " in " + f +
                                       " has type " + plugin::GoProtoText(param.var().type()) +
                                       ", expected " + plugin::GoProtoText(*inferred));
      }
      if (param.var().type().simple() == flyteidl::core::DATETIME &&
          param.var().type().type_case() == flyteidl::core::LiteralType::kSimple) {
        return ValidateDatetime(param.default_());
      }
    }
  }
  return Status::Ok();
}

plugin::StatusOr<flyteidl::core::ParameterMap> CheckAndFetchExpectedInputs(
    const flyteidl::core::VariableMap* workflow_inputs,
    const flyteidl::core::LiteralMap& fixed_inputs,
    const flyteidl::core::ParameterMap& default_inputs, plugin::WorkflowCompiler& compiler) {
  flyteidl::core::ParameterMap expected;
  const auto& defaults = default_inputs.parameters();
  const auto& fixed = fixed_inputs.literals();
  if (workflow_inputs == nullptr || workflow_inputs->variables().empty()) {
    if (!defaults.empty()) {
      return plugin::InvalidArgument(
          "invalid launch plan default inputs, expected none but found " +
          std::to_string(defaults.size()));
    }
    if (!fixed.empty()) {
      return plugin::InvalidArgument("invalid launch plan fixed inputs, expected none but found " +
                                     std::to_string(fixed.size()));
    }
    return expected;
  }
  const auto& wf = workflow_inputs->variables();
  for (const auto& name : SortedKeys(defaults)) {
    const auto it = wf.find(name);
    if (it == wf.end()) return plugin::InvalidArgument("unexpected default_input " + name);
    const auto& param = defaults.at(name);
    if (!compiler.AreTypesCastable(param.var().type(), it->second.type())) {
      return plugin::InvalidArgument(
          "invalid default_input wrong type " + name + ", expected " +
          plugin::GoProtoText(param.var().type()) + ", got " +
          TypeText(it->second.has_type() ? &it->second.type() : nullptr) + " instead");
    }
  }
  for (const auto& name : SortedKeys(fixed)) {
    const auto it = wf.find(name);
    if (it == wf.end()) return plugin::InvalidArgument("unexpected fixed_input " + name);
    auto inferred = compiler.LiteralTypeForLiteral(fixed.at(name));
    if (!inferred.ok()) return InvalidLiteralTypeError(name, kUnknownLiteralType);
    if (InfersUncastableType(fixed.at(name)) || !compiler.AreTypesCastable(*inferred, it->second.type())) {
      return plugin::InvalidArgument(
          "invalid fixed_input wrong type " + name + ", expected " +
          TypeText(it->second.has_type() ? &it->second.type() : nullptr) + ", got " +
          plugin::GoProtoText(*inferred) + " instead");
    }
  }
  auto& out = *expected.mutable_parameters();
  for (const auto& [name, variable] : wf) {
    if (const auto d = defaults.find(name); d != defaults.end()) {
      out[name] = d->second;
    } else if (fixed.find(name) == fixed.end()) {
      flyteidl::core::Parameter param;
      if (variable.has_type()) *param.mutable_var()->mutable_type() = variable.type();
      param.mutable_var()->set_description(variable.description());
      param.set_required(true);
      out[name] = std::move(param);
    }
  }
  return expected;
}

Status ValidateSchedule(const flyteidl::admin::Schedule& schedule,
                        const flyteidl::core::ParameterMap& expected_inputs) {
  if (schedule.cron_expression().empty() && !schedule.has_rate() && !schedule.has_cron_schedule()) {
    return Status::Ok();
  }
  const std::string& kickoff = schedule.kickoff_time_input_arg();
  for (const auto& name : SortedKeys(expected_inputs.parameters())) {
    if (expected_inputs.parameters().at(name).required() && name != kickoff) {
      return plugin::InvalidArgument(
          "Cannot create a launch plan with a schedule if there is an unbound required input. [" +
          name + "] is required");
    }
  }
  if (!kickoff.empty()) {
    const auto it = expected_inputs.parameters().find(kickoff);
    if (it == expected_inputs.parameters().end()) {
      return plugin::InvalidArgument(
          "Cannot create a schedule with a KickoffTimeInputArg that does not point to a free "
          "input. [" +
          kickoff + "] is not free or does not exist.");
    }
    const auto& var = it->second.var();
    if (!(var.type().type_case() == flyteidl::core::LiteralType::kSimple &&
          var.type().simple() == flyteidl::core::DATETIME)) {
      return plugin::InvalidArgument("KickoffTimeInputArg must reference a datetime input. [" +
                                     kickoff + "] is a [" +
                                     TypeText(var.has_type() ? &var.type() : nullptr) + "]");
    }
  }
  std::string cron;
  if (!schedule.cron_expression().empty()) {
    cron = schedule.cron_expression();
  } else if (schedule.has_cron_schedule()) {
    cron = schedule.cron_schedule().schedule();
  }
  if (!cron.empty()) {
    if (auto err = CronParseError(cron)) {
      return plugin::InvalidArgument("Invalid cron expression: " + *err);
    }
  }
  return Status::Ok();
}

Status ValidateNotifications(
    const google::protobuf::RepeatedPtrField<flyteidl::admin::Notification>& notifications) {
  for (const auto& n : notifications) {
    switch (n.type_case()) {
      case flyteidl::admin::Notification::kEmail:
        if (auto s = ValidateRecipients(n.email().recipients_email()); !s.ok()) return s;
        break;
      case flyteidl::admin::Notification::kSlack:
        if (auto s = ValidateRecipients(n.slack().recipients_email()); !s.ok()) return s;
        break;
      case flyteidl::admin::Notification::kPagerDuty:
        if (auto s = ValidateRecipients(n.pager_duty().recipients_email()); !s.ok()) return s;
        break;
      default:
        return InvalidArgumentError("notification type");
    }
    for (const int phase : n.phases()) {
      if (!IsTerminalPhase(phase)) return InvalidArgumentError("phase");
    }
  }
  return Status::Ok();
}

bool IsScheduleEmpty(const flyteidl::admin::LaunchPlanSpec& spec) {
  if (!spec.entity_metadata().has_schedule()) return true;
  const auto& schedule = spec.entity_metadata().schedule();
  if (schedule.has_cron_schedule() && !schedule.cron_schedule().schedule().empty()) return false;
  if (!schedule.cron_expression().empty()) return false;
  if (schedule.rate().value() != 0) return false;
  return true;
}

Status ValidateLaunchPlan(flyteidl::admin::LaunchPlanCreateRequest& request,
                          plugin::db::ProjectRepo& projects,
                          const std::vector<DomainConfig>& domains, bool enable_artifacts,
                          const flyteidl::core::TypedInterface& workflow_interface,
                          plugin::WorkflowCompiler& compiler) {
  if (auto s = ValidateIdentifier(request.has_id() ? &request.id() : nullptr, Entity::kLaunchPlan);
      !s.ok()) {
    return s;
  }
  if (auto s = ValidateProjectAndDomain(projects, domains, request.id().project(),
                                        request.id().domain());
      !s.ok()) {
    return s;
  }
  if (!request.has_spec()) return MissingArgumentError(kFieldSpec);
  auto& spec = *request.mutable_spec();
  if (auto s = ValidateIdentifier(spec.has_workflow_id() ? &spec.workflow_id() : nullptr,
                                  Entity::kWorkflow);
      !s.ok()) {
    return s;
  }
  if (auto s = ValidateLabels(spec.labels()); !s.ok()) return s;
  if (auto s = ValidateLiteralMap(spec.fixed_inputs(), kFieldFixedInputs); !s.ok()) return s;
  if (auto s = ValidateParameterMap(spec.default_inputs(), kFieldDefaultInputs, enable_artifacts,
                                    compiler);
      !s.ok()) {
    return s;
  }
  auto expected = CheckAndFetchExpectedInputs(
      workflow_interface.has_inputs() ? &workflow_interface.inputs() : nullptr, spec.fixed_inputs(),
      spec.default_inputs(), compiler);
  if (!expected.ok()) return expected.status();
  if (auto s = ValidateSchedule(spec.entity_metadata().schedule(), *expected); !s.ok()) return s;
  *spec.mutable_default_inputs() = std::move(*expected);
  if (spec.has_entity_metadata()) {
    if (auto s = ValidateNotifications(spec.entity_metadata().notifications()); !s.ok()) return s;
    if (spec.entity_metadata().has_launch_conditions()) {
      return plugin::InvalidArgument("Launch condition must be empty, found " +
                                     plugin::GoProtoText(spec.entity_metadata().launch_conditions()));
    }
  }
  return Status::Ok();
}

}  // namespace flyte::plugins::manager
