// Compile errors as upstream reports them: codes, message texts, scopes and the collected text.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace flyte::core::compiler {

// Upstream's error codes (flytepropeller/pkg/compiler/errors/compiler_errors.go).
namespace code {
inline constexpr std::string_view kCycleDetected = "CycleDetected";
inline constexpr std::string_view kBranchNodeIdNotFound = "BranchNodeIdNotFound";
inline constexpr std::string_view kBranchNodeHasNoCondition = "BranchNodeHasNoCondition";
inline constexpr std::string_view kBranchNodeHasNoDefault = "BranchNodeHasNoDefault";
inline constexpr std::string_view kValueRequired = "ValueRequired";
inline constexpr std::string_view kInvalidValue = "InvalidValue";
inline constexpr std::string_view kNodeReferenceNotFound = "NodeReferenceNotFound";
inline constexpr std::string_view kTaskReferenceNotFound = "TaskReferenceNotFound";
inline constexpr std::string_view kWorkflowReferenceNotFound = "WorkflowReferenceNotFound";
inline constexpr std::string_view kVariableNameNotFound = "VariableNameNotFound";
inline constexpr std::string_view kDuplicateAlias = "DuplicateAlias";
inline constexpr std::string_view kDuplicateId = "DuplicateId";
inline constexpr std::string_view kMismatchingTypes = "MismatchingTypes";
inline constexpr std::string_view kMismatchingBindings = "MismatchingBindings";
inline constexpr std::string_view kMismatchingInterfaces = "MismatchingInterfaces";
inline constexpr std::string_view kInconsistentTypes = "InconsistentTypes";
inline constexpr std::string_view kParameterBoundMoreThanOnce = "ParameterBoundMoreThanOnce";
inline constexpr std::string_view kParameterNotBound = "ParameterNotBound";
inline constexpr std::string_view kNoEntryNodeFound = "NoEntryNodeFound";
inline constexpr std::string_view kUnreachableNodes = "UnreachableNodes";
inline constexpr std::string_view kUnrecognizedValue = "UnrecognizedValue";
inline constexpr std::string_view kWorkflowBuildError = "WorkflowBuildError";
inline constexpr std::string_view kValueCollision = "ValueCollision";
inline constexpr std::string_view kSyntaxError = "SyntaxError";
inline constexpr std::string_view kNoNodesFound = "NoNodesFound";
inline constexpr std::string_view kIllegalEnumValue = "IllegalEnumValue";
inline constexpr std::string_view kAmbiguousBindingUnionValue = "AmbiguousBindingUnionValue";
inline constexpr std::string_view kIncompatibleBindingUnionValue = "IncompatibleBindingUnionValue";
inline constexpr std::string_view kNoConditionFound = "NoConditionFound";
inline constexpr std::string_view kFieldNotFound = "FieldNotFound";
inline constexpr std::string_view kInvalidLiteralType = "InvalidLiteralType";
}  // namespace code

struct CompileError {
  std::string code;
  std::string node_id;
  std::string description;

  // "Code: <code>, Node Id: <node>, Description: <description>".
  std::string ToString() const;

  bool operator<(const CompileError& o) const;
  bool operator==(const CompileError& o) const;
};

// Constructors for every upstream error, with upstream's texts.
CompileError BranchNodeNotSpecifiedError(std::string_view branch_node_id);
CompileError BranchNodeHasNoConditionError(std::string_view branch_node_id);
CompileError BranchNodeHasNoDefaultError(std::string_view branch_node_id);
CompileError ValueRequiredError(std::string_view node_id, std::string_view param_name);
CompileError InvalidValueError(std::string_view node_id, std::string_view param_name);
CompileError ParameterNotBoundError(std::string_view node_id, std::string_view param_name);
CompileError NodeReferenceNotFoundError(std::string_view node_id, std::string_view reference_id);
CompileError WorkflowReferenceNotFoundError(std::string_view node_id,
                                            std::string_view reference_id);
CompileError TaskReferenceNotFoundError(std::string_view node_id, std::string_view reference_id);
CompileError VariableNameNotFoundError(std::string_view node_id, std::string_view reference_id,
                                       std::string_view variable_name);
CompileError ParameterBoundMoreThanOnceError(std::string_view node_id, std::string_view param_name);
CompileError DuplicateAliasError(std::string_view node_id, std::string_view alias);
CompileError DuplicateIdFoundError(std::string_view node_id);
CompileError MismatchingTypesError(std::string_view node_id, std::string_view from_var,
                                   std::string_view from_type, std::string_view to_type);
CompileError MismatchingVariablesError(std::string_view node_id, std::string_view from_var,
                                       std::string_view from_type, std::string_view to_var,
                                       std::string_view to_type);
CompileError InvalidLiteralTypeError(std::string_view node_id, std::string_view input_var,
                                     std::string_view err);
CompileError MismatchingBindingsError(std::string_view node_id, std::string_view sink_param,
                                      std::string_view expected_type,
                                      std::string_view received_type);
CompileError FieldNotFoundError(std::string_view node_id, std::string_view from_var,
                                std::string_view from_type, std::string_view key);
CompileError IllegalEnumValueError(std::string_view node_id, std::string_view sink_param,
                                   std::string_view received_value,
                                   const std::vector<std::string>& expected_values);
CompileError MismatchingInterfacesError(std::string_view node_id1, std::string_view node_id2);
CompileError InconsistentTypesError(std::string_view node_id, std::string_view expected_type,
                                    std::string_view actual_type);
CompileError WorkflowHasNoEntryNodeError(std::string_view graph_id);
CompileError CycleDetectedError(std::string_view node_id, std::string_view cycle);
CompileError UnreachableNodesError(std::string_view node_id, std::string_view nodes);
CompileError UnrecognizedValueError(std::string_view node_id, std::string_view value);
CompileError WorkflowBuildError(std::string_view err);
CompileError ValueCollisionError(std::string_view node_id, std::string_view value_name,
                                 std::string_view value);
CompileError SyntaxErrorError(std::string_view node_id, std::string_view element);
CompileError NoNodesFoundError(std::string_view graph_id);
CompileError AmbiguousBindingUnionValueError(std::string_view node_id, std::string_view sink_param,
                                             std::string_view expected_type,
                                             std::string_view binding, std::string_view match1,
                                             std::string_view match2);
CompileError IncompatibleBindingUnionValueError(std::string_view node_id,
                                                std::string_view sink_param,
                                                std::string_view expected_type,
                                                std::string_view binding);
CompileError NoConditionFoundError(std::string_view node_id);

// A scope of collected errors, shared like upstream's CompileErrors interface value: copies of a
// handle refer to the same scope. A child scope reports every error to its parents; the root keeps
// the deduplicated set. HasErrors/ErrorCount count what was collected in this scope and below
// (duplicates included). Not thread-safe; one compile uses it from one thread.
class CompileErrors {
 public:
  // A new root scope.
  CompileErrors();

  CompileErrors NewScope() const;
  void Collect(CompileError error) const;
  bool HasErrors() const { return state_->count > 0; }
  int ErrorCount() const { return state_->count; }

  // The unique errors, sorted by code and then by text (as upstream lists them).
  std::vector<CompileError> List() const;

  // "Collected Errors: <n>\n" and one "\tError <i>: <error>\n" line per unique error.
  std::string Error() const;

 private:
  struct State {
    std::shared_ptr<State> parent;
    std::shared_ptr<std::set<CompileError>> errors;  // the root's set, shared by all scopes
    int count = 0;
  };
  explicit CompileErrors(std::shared_ptr<State> state) : state_(std::move(state)) {}

  std::shared_ptr<State> state_;
};

}  // namespace flyte::core::compiler
