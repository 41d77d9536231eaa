// Propeller's node ids and branch evaluator, without any I/O.
#include "node_logic.h"

#include <functional>
#include <random>
#include <set>

#include "task_runtime.h"

// Propeller's evaluator reads the (deprecated) primitive operands only, and so does this one.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace flyte::plugins::executor {

namespace {

namespace core = flyteidl::core;

constexpr int kMaxUniqueIdLength = 20;        // common.maxUniqueIDLength
constexpr int kMaxChildExecutionLength = 20;  // subworkflow.maxLengthForSubWorkflow
constexpr char kMalformedBranch[] = "MalformedBranchUserError";
constexpr char kUserProvidedError[] = "UserProvidedError";


// flytestdlib errors render as "[code] message"; `code` receives the code.
plugin::Status CodedError(std::string* code_out, const std::string& code,
                          const std::string& message) {
  if (code_out != nullptr) *code_out = code;
  return plugin::InvalidArgument("[" + code + "] " + message);
}

// Go's reflect type name of a primitive's oneof value, as propeller prints it.
std::string GoType(const core::Primitive& p) {
  switch (p.value_case()) {
    case core::Primitive::kInteger:
      return "*core.Primitive_Integer";
    case core::Primitive::kFloatValue:
      return "*core.Primitive_FloatValue";
    case core::Primitive::kStringValue:
      return "*core.Primitive_StringValue";
    case core::Primitive::kBoolean:
      return "*core.Primitive_Boolean";
    case core::Primitive::kDatetime:
      return "*core.Primitive_Datetime";
    case core::Primitive::kDuration:
      return "*core.Primitive_Duration";
    default:
      return "<nil>";
  }
}

plugin::StatusOr<bool> Compare(const core::Primitive& l, const core::Primitive& r,
                               core::ComparisonExpression::Operator op, std::string* code) {
  if (l.value_case() != r.value_case()) {
    return CodedError(code, kMalformedBranch,
                      "Comparison between different primitives types. lVal[" + GoType(l) +
                          "]:rVal[" + GoType(r) + "]");
  }
  std::function<bool()> gt, eq;
  switch (l.value_case()) {
    case core::Primitive::kInteger:
      gt = [&] { return l.integer() > r.integer(); };
      eq = [&] { return l.integer() == r.integer(); };
      break;
    case core::Primitive::kFloatValue:
      gt = [&] { return l.float_value() > r.float_value(); };
      eq = [&] { return l.float_value() == r.float_value(); };
      break;
    case core::Primitive::kStringValue:
      gt = [&] { return l.string_value() > r.string_value(); };
      eq = [&] { return l.string_value() == r.string_value(); };
      break;
    case core::Primitive::kBoolean:
      eq = [&] { return l.boolean() == r.boolean(); };
      break;
    case core::Primitive::kDatetime:
      gt = [&] { return l.datetime().seconds() > r.datetime().seconds(); };
      eq = [&] { return l.datetime().seconds() == r.datetime().seconds(); };
      break;
    case core::Primitive::kDuration:
      gt = [&] { return l.duration().seconds() > r.duration().seconds(); };
      eq = [&] { return l.duration().seconds() == r.duration().seconds(); };
      break;
    default:
      if (code != nullptr) code->clear();
      return plugin::InvalidArgument("comparator not defined for type: [" + GoType(l) + "]");
  }
  const bool boolean = l.value_case() == core::Primitive::kBoolean;
  auto not_for_bool = [&](const char* name) {
    return CodedError(code, kMalformedBranch,
                      std::string("[") + name + "] not defined for boolean operands.");
  };
  switch (op) {
    case core::ComparisonExpression::GT:
      if (boolean) return not_for_bool("GT");
      return gt();
    case core::ComparisonExpression::GTE:
      if (boolean) return not_for_bool("GTE");
      return eq() || gt();
    case core::ComparisonExpression::LT:
      if (boolean) return not_for_bool("LT");
      return !(gt() || eq());
    case core::ComparisonExpression::LTE:
      if (boolean) return not_for_bool("LTE");
      return !gt();
    case core::ComparisonExpression::EQ:
      return eq();
    case core::ComparisonExpression::NEQ:
      return !eq();
    default:
      return CodedError(code, kMalformedBranch,
                        "Unsupported operator type in Propeller. System error.");
  }
}

const core::Primitive* PrimitiveOf(const core::Literal& l) {
  if (!l.has_scalar() || !l.scalar().has_primitive()) return nullptr;
  return &l.scalar().primitive();
}

plugin::StatusOr<bool> EvaluateComparison(const core::ComparisonExpression& expr,
                                          const core::LiteralMap& inputs, std::string* code) {
  const core::Literal* lvalue = nullptr;
  const core::Literal* rvalue = nullptr;
  if (!expr.left_value().has_primitive()) {
    auto it = inputs.literals().find(expr.left_value().var());
    if (it == inputs.literals().end())
      return CodedError(code, kMalformedBranch,
                        "Failed to find Value for Variable [" + expr.left_value().var() + "]");
    lvalue = &it->second;
  }
  if (!expr.right_value().has_primitive()) {
    auto it = inputs.literals().find(expr.right_value().var());
    if (it == inputs.literals().end())
      return CodedError(code, kMalformedBranch,
                        "Failed to find Value for Variable [" + expr.right_value().var() + "]");
    rvalue = &it->second;
  }
  const core::Primitive* l =
      lvalue != nullptr ? PrimitiveOf(*lvalue) : &expr.left_value().primitive();
  const core::Primitive* r =
      rvalue != nullptr ? PrimitiveOf(*rvalue) : &expr.right_value().primitive();
  if (l == nullptr)
    return CodedError(code, kMalformedBranch,
                      "Only primitives can be compared. LHS Variable is non primitive.");
  if (r == nullptr) {
    // Propeller's two messages differ by the final period.
    return CodedError(code, kMalformedBranch,
                      lvalue != nullptr
                          ? "Only primitives can be compared. RHS Variable is non primitive"
                          : "Only primitives can be compared. RHS Variable is non primitive.");
  }
  return Compare(*l, *r, expr.operator_(), code);
}

}  // namespace

std::string GenerateUniqueId(const std::optional<ParentInfo>& parent, const std::string& node_id) {
  if (!parent) return FixedLengthUniqueIdForParts(kMaxUniqueIdLength, {"", "", node_id});
  return FixedLengthUniqueIdForParts(kMaxUniqueIdLength,
                                     {parent->unique_id, std::to_string(parent->attempt), node_id});
}

std::string ChildExecutionName(const std::string& execution_name, const std::string& node_unique_id,
                               uint32_t attempt) {
  return FixedLengthUniqueIdForParts64(kMaxChildExecutionLength,
                                       {execution_name, node_unique_id, std::to_string(attempt)});
}

std::string FixedLengthUniqueIdForParts64(int max_length, const std::vector<std::string>& parts) {
  std::string joined;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (i > 0 && !joined.empty()) joined += '-';
    joined += parts[i];
  }
  if (static_cast<int>(joined.size()) <= max_length) return joined;
  uint64_t h = 14695981039346656037ull;
  for (unsigned char c : joined) {
    h ^= c;
    h *= 1099511628211ull;
  }
  unsigned char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<unsigned char>(h >> (56 - 8 * i));
  return "f" + PropellerBase32(bytes, 8);
}

plugin::StatusOr<bool> EvaluateBooleanExpression(const core::BooleanExpression& expr,
                                                 const core::LiteralMap& inputs,
                                                 std::string* code) {
  if (expr.has_comparison()) return EvaluateComparison(expr.comparison(), inputs, code);
  if (!expr.has_conjunction())
    return CodedError(code, kMalformedBranch,
                      "No Comparison or Conjunction found in Branch node expression.");
  auto l = EvaluateBooleanExpression(expr.conjunction().left_expression(), inputs, code);
  if (!l.ok()) return l;
  auto r = EvaluateBooleanExpression(expr.conjunction().right_expression(), inputs, code);
  if (!r.ok()) return r;
  if (expr.conjunction().operator_() == core::ConjunctionExpression::OR)
    return l.value() || r.value();
  return l.value() && r.value();
}

BranchDecision DecideBranch(const core::BranchNode& branch, const core::LiteralMap& inputs) {
  BranchDecision d;
  const auto& ie = branch.if_else();
  auto fail = [&](const std::string& code, const std::string& message) {
    if (code == kMalformedBranch || code == kUserProvidedError) {
      d.error.set_kind(core::ExecutionError::USER);
      d.error.set_code(code);
      d.error.set_message(message);
    } else {
      d.error.set_kind(core::ExecutionError::SYSTEM);
      d.error.set_code("IllegalStateError");
      d.error.set_message("Branch evaluation failed. Error [" + message + "]");
    }
    d.node = nullptr;
    return d;
  };
  auto evaluate = [&](const core::IfBlock& block) -> plugin::StatusOr<bool> {
    std::string code;
    auto r = EvaluateBooleanExpression(block.condition(), inputs, &code);
    if (!r.ok()) return plugin::Status(r.status().code(), code + "\n" + r.status().message());
    return r;
  };
  auto split = [](const plugin::Status& s) {
    const auto& m = s.message();
    auto nl = m.find('\n');
    return std::make_pair(m.substr(0, nl), m.substr(nl + 1));
  };
  auto first = evaluate(ie.case_());
  if (!first.ok()) {
    auto [code, message] = split(first.status());
    return fail(code, message);
  }
  if (first.value()) d.node = &ie.case_().then_node();
  for (const auto& block : ie.other()) {
    if (d.node != nullptr) continue;
    auto r = evaluate(block);
    if (!r.ok()) {
      auto [code, message] = split(r.status());
      return fail(code, message);
    }
    if (r.value()) d.node = &block.then_node();
  }
  if (d.node == nullptr && ie.has_else_node()) d.node = &ie.else_node();
  if (d.node != nullptr) return d;
  if (ie.has_error())
    return fail(kUserProvidedError, "[UserProvidedError] " + ie.error().message());
  return fail(kMalformedBranch, "[MalformedBranchUserError] No branch satisfied");
}

DynamicWorkflowSpec BuildDynamicWorkflowSpec(const core::DynamicJobSpec& spec,
                                             const core::TaskTemplate& parent_task,
                                             const core::WorkflowExecutionIdentifier& execution,
                                             const std::string& node_unique_id,
                                             const std::string& version) {
  DynamicWorkflowSpec out;
  auto& wf = out.workflow;
  auto* id = wf.mutable_id();
  id->set_resource_type(core::WORKFLOW);
  id->set_project(execution.project());
  id->set_domain(execution.domain());
  id->set_name("dynamic_" + node_unique_id);
  id->set_version(version);
  *wf.mutable_nodes() = spec.nodes();
  *wf.mutable_outputs() = spec.outputs();
  if (parent_task.has_interface())
    *wf.mutable_interface()->mutable_outputs() = parent_task.interface().outputs();
  else
    wf.mutable_interface();
  std::set<std::string> seen;
  for (const auto& t : spec.tasks()) {
    if (!seen.insert(t.id().SerializeAsString()).second) continue;
    core::TaskTemplate task = t;
    if (task.has_container() && parent_task.has_container()) {
      for (const auto& kv : parent_task.container().config())
        *task.mutable_container()->add_config() = kv;
    }
    out.tasks.push_back(std::move(task));
  }
  return out;
}

std::string RandomDynamicVersion(int n) {
  static constexpr char kAlphabet[] = "bcdfghjklmnpqrstvwxz2456789";
  std::random_device device;
  std::mt19937_64 gen(device());
  std::uniform_int_distribution<size_t> pick(0, sizeof(kAlphabet) - 2);
  std::string out;
  for (int i = 0; i < n; ++i) out += kAlphabet[pick(gen)];
  return out;
}

bool ResolveInterruptible(const core::NodeMetadata& node,
                          const flyteidl::admin::WorkflowExecutionConfig& execution_config,
                          const core::WorkflowTemplate& workflow) {
  if (node.interruptible_value_case() == core::NodeMetadata::kInterruptible)
    return node.interruptible();
  if (execution_config.has_interruptible()) return execution_config.interruptible().value();
  return workflow.metadata_defaults().interruptible();
}

}  // namespace flyte::plugins::executor
