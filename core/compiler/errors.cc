// Compile error texts, scopes and the collected-errors text, as upstream formats them.
#include "flyte/core/compiler/errors.h"

#include <algorithm>
#include <tuple>

namespace flyte::core::compiler {
namespace {

CompileError Make(std::string_view code, std::string description, std::string_view node_id) {
  return CompileError{std::string(code), std::string(node_id), std::move(description)};
}

std::string S(std::string_view v) { return std::string(v); }

}  // namespace

std::string CompileError::ToString() const {
  return "Code: " + code + ", Node Id: " + node_id + ", Description: " + description;
}

bool CompileError::operator<(const CompileError& o) const {
  return std::tie(code, node_id, description) < std::tie(o.code, o.node_id, o.description);
}

bool CompileError::operator==(const CompileError& o) const {
  return code == o.code && node_id == o.node_id && description == o.description;
}

CompileError BranchNodeNotSpecifiedError(std::string_view id) {
  return Make(code::kBranchNodeIdNotFound, "BranchNode not assigned", id);
}

CompileError BranchNodeHasNoConditionError(std::string_view id) {
  return Make(code::kBranchNodeHasNoCondition,
              "One of the branches on the node doesn't have a condition.", id);
}

CompileError BranchNodeHasNoDefaultError(std::string_view id) {
  return Make(code::kBranchNodeHasNoDefault,
              "Branch Node must have either the else case set or a default error.", id);
}

CompileError ValueRequiredError(std::string_view node_id, std::string_view param_name) {
  return Make(code::kValueRequired, "Value required [" + S(param_name) + "].", node_id);
}

CompileError InvalidValueError(std::string_view node_id, std::string_view param_name) {
  return Make(code::kInvalidValue, "Invalid value [" + S(param_name) + "].", node_id);
}

CompileError ParameterNotBoundError(std::string_view node_id, std::string_view param_name) {
  return Make(code::kParameterNotBound, "Parameter not bound [" + S(param_name) + "].", node_id);
}

CompileError NodeReferenceNotFoundError(std::string_view node_id, std::string_view reference_id) {
  return Make(code::kNodeReferenceNotFound, "Referenced node [" + S(reference_id) + "] not found.",
              node_id);
}

CompileError WorkflowReferenceNotFoundError(std::string_view node_id,
                                            std::string_view reference_id) {
  return Make(code::kWorkflowReferenceNotFound,
              "Referenced Workflow [" + S(reference_id) + "] not found.", node_id);
}

CompileError TaskReferenceNotFoundError(std::string_view node_id, std::string_view reference_id) {
  return Make(code::kTaskReferenceNotFound, "Referenced Task [" + S(reference_id) + "] not found.",
              node_id);
}

CompileError VariableNameNotFoundError(std::string_view node_id, std::string_view reference_id,
                                       std::string_view variable_name) {
  return Make(code::kVariableNameNotFound,
              "Variable [" + S(variable_name) + "] not found on node [" + S(reference_id) + "].",
              node_id);
}

CompileError ParameterBoundMoreThanOnceError(std::string_view node_id,
                                             std::string_view param_name) {
  return Make(code::kParameterBoundMoreThanOnce,
              "Input [" + S(param_name) + "] is bound more than once.", node_id);
}

CompileError DuplicateAliasError(std::string_view node_id, std::string_view alias) {
  return Make(code::kDuplicateAlias,
              "Duplicate alias [" + S(alias) +
                  "] found. An output alias can only be used once in the Workflow.",
              node_id);
}

CompileError DuplicateIdFoundError(std::string_view node_id) {
  return Make(code::kDuplicateId, "Trying to insert two nodes with the same id.", node_id);
}

CompileError MismatchingTypesError(std::string_view node_id, std::string_view from_var,
                                   std::string_view from_type, std::string_view to_type) {
  return Make(code::kMismatchingTypes,
              "Variable [" + S(from_var) + "] (type [" + S(from_type) +
                  "]) doesn't match expected type [" + S(to_type) + "].",
              node_id);
}

CompileError MismatchingVariablesError(std::string_view node_id, std::string_view from_var,
                                       std::string_view from_type, std::string_view to_var,
                                       std::string_view to_type) {
  return Make(code::kMismatchingTypes,
              "The output variable '" + S(from_var) + "' has type [" + S(from_type) +
                  "], but it's assigned to the input variable '" + S(to_var) +
                  "' which has type type [" + S(to_type) + "].",
              node_id);
}

CompileError InvalidLiteralTypeError(std::string_view node_id, std::string_view input_var,
                                     std::string_view err) {
  return Make(code::kInvalidLiteralType,
              "Failed to validate literal type for [" + S(input_var) + "] with err: " + S(err),
              node_id);
}

CompileError MismatchingBindingsError(std::string_view node_id, std::string_view sink_param,
                                      std::string_view expected_type,
                                      std::string_view received_type) {
  return Make(code::kMismatchingBindings,
              "Input [" + S(sink_param) + "] on node [" + S(node_id) +
                  "] expects bindings of type [" + S(expected_type) + "].  Received [" +
                  S(received_type) + "]",
              node_id);
}

CompileError FieldNotFoundError(std::string_view node_id, std::string_view from_var,
                                std::string_view from_type, std::string_view key) {
  return Make(code::kFieldNotFound,
              "Variable [" + S(from_var) + "] (type [" + S(from_type) + "]) doesn't have field [" +
                  S(key) + "].",
              node_id);
}

CompileError IllegalEnumValueError(std::string_view node_id, std::string_view sink_param,
                                   std::string_view received_value,
                                   const std::vector<std::string>& expected_values) {
  // Go prints a []string with %v as "[a b c]".
  std::string values = "[";
  for (size_t i = 0; i < expected_values.size(); ++i) {
    if (i > 0) values += " ";
    values += expected_values[i];
  }
  values += "]";
  return Make(code::kIllegalEnumValue,
              "Input [" + S(sink_param) + "] on node [" + S(node_id) +
                  "] is an Enum and expects value to be one of [" + values + "].  Received [" +
                  S(received_value) + "]",
              node_id);
}

CompileError MismatchingInterfacesError(std::string_view node_id1, std::string_view node_id2) {
  return Make(code::kMismatchingInterfaces,
              "Interfaces of nodes [" + S(node_id1) + "] and [" + S(node_id2) + "] do not match.",
              node_id1);
}

CompileError InconsistentTypesError(std::string_view node_id, std::string_view expected_type,
                                    std::string_view actual_type) {
  return Make(code::kInconsistentTypes,
              "Expected type: " + S(expected_type) + " but found " + S(actual_type), node_id);
}

CompileError WorkflowHasNoEntryNodeError(std::string_view graph_id) {
  return Make(code::kNoEntryNodeFound,
              "Can't find a node to start executing Workflow [" + S(graph_id) + "].", graph_id);
}

CompileError CycleDetectedError(std::string_view node_id, std::string_view cycle) {
  return Make(code::kCycleDetected,
              "A cycle has been detected while traversing the Workflow [" + S(cycle) + "].",
              node_id);
}

CompileError UnreachableNodesError(std::string_view node_id, std::string_view nodes) {
  return Make(code::kUnreachableNodes, "The Workflow contain unreachable nodes [" + S(nodes) + "].",
              node_id);
}

CompileError UnrecognizedValueError(std::string_view node_id, std::string_view value) {
  return Make(code::kUnrecognizedValue, "Unrecognized value [" + S(value) + "].", node_id);
}

CompileError WorkflowBuildError(std::string_view err) {
  return Make(code::kWorkflowBuildError, S(err), "");
}

CompileError ValueCollisionError(std::string_view node_id, std::string_view value_name,
                                 std::string_view value) {
  return Make(code::kValueCollision,
              S(value_name) + " is expected to be unique. " + S(value) + " already exists.",
              node_id);
}

CompileError SyntaxErrorError(std::string_view node_id, std::string_view element) {
  return Make(code::kSyntaxError, "Failed to parse element [" + S(element) + "].", node_id);
}

CompileError NoNodesFoundError(std::string_view graph_id) {
  return Make(code::kNoNodesFound, "Can't find any nodes in workflow [" + S(graph_id) + "].",
              graph_id);
}

CompileError AmbiguousBindingUnionValueError(std::string_view node_id, std::string_view sink_param,
                                             std::string_view expected_type,
                                             std::string_view binding, std::string_view match1,
                                             std::string_view match2) {
  return Make(code::kAmbiguousBindingUnionValue,
              "Input [" + S(sink_param) + "] on node [" + S(node_id) +
                  "] expects bindings of union type [" + S(expected_type) + "].  Received [" +
                  S(binding) + "] which is ambiguous as both variants [" + S(match1) + "] and [" +
                  S(match2) + "] match.",
              node_id);
}

CompileError IncompatibleBindingUnionValueError(std::string_view node_id,
                                                std::string_view sink_param,
                                                std::string_view expected_type,
                                                std::string_view binding) {
  return Make(code::kIncompatibleBindingUnionValue,
              "Input [" + S(sink_param) + "] on node [" + S(node_id) +
                  "] expects bindings of union type [" + S(expected_type) + "].  Received [" +
                  S(binding) + "] which does not match any of the variants.",
              node_id);
}

CompileError NoConditionFoundError(std::string_view node_id) {
  return Make(code::kNoConditionFound,
              "Can't find any condition in gate node [" + S(node_id) + "].", node_id);
}

CompileErrors::CompileErrors() : state_(std::make_shared<State>()) {
  state_->errors = std::make_shared<std::set<CompileError>>();
}

CompileErrors CompileErrors::NewScope() const {
  auto child = std::make_shared<State>();
  child->parent = state_;
  child->errors = state_->errors;
  return CompileErrors(std::move(child));
}

void CompileErrors::Collect(CompileError error) const {
  for (State* s = state_.get(); s != nullptr; s = s->parent.get()) ++s->count;
  state_->errors->insert(std::move(error));
}

std::vector<CompileError> CompileErrors::List() const {
  std::vector<CompileError> out(state_->errors->begin(), state_->errors->end());
  std::stable_sort(out.begin(), out.end(), [](const CompileError& a, const CompileError& b) {
    if (a.code == b.code) return a.ToString() < b.ToString();
    return a.code < b.code;
  });
  return out;
}

std::string CompileErrors::Error() const {
  auto list = List();
  std::string out = "Collected Errors: " + std::to_string(list.size()) + "\n";
  for (size_t i = 0; i < list.size(); ++i) {
    out += "\tError " + std::to_string(i) + ": " + list[i].ToString() + "\n";
  }
  return out;
}

}  // namespace flyte::core::compiler
