// Node, interface, branch, condition and binding validation (upstream validators package).
#include <algorithm>
#include <climits>

#include "flyte/plugin/go_compat.h"
#include "flyte/core/compiler/typing.h"
#include "workflow_builder.h"

namespace flyte::core::compiler::internal {
namespace {

using flyteidl::core::Binding;
using flyteidl::core::BindingData;
using flyteidl::core::BooleanExpression;
using flyteidl::core::LiteralType;
using flyteidl::core::Node;
using flyteidl::core::Operand;
using flyteidl::core::TypedInterface;
using flyteidl::core::Variable;
using flyteidl::core::VariableMap;

using Bindings = google::protobuf::RepeatedPtrField<Binding>;

TypedInterface EmptyInterface() {
  TypedInterface iface;
  iface.mutable_inputs();
  iface.mutable_outputs();
  return iface;
}

bool ContainsBinding(const Bindings& bindings, const std::string& name) {
  for (const auto& b : bindings) {
    if (b.var() == name) return true;
  }
  return false;
}

const Variable* FindVariable(const VariableMap* vars, const std::string& name) {
  if (vars == nullptr) return nullptr;
  auto it = vars->variables().find(name);
  return it == vars->variables().end() ? nullptr : &it->second;
}

std::string TypeText(const Variable* v) {
  return plugin::GoProtoTextOrNil(v->has_type() ? &v->type() : nullptr);
}

const LiteralType* TypeOf(const Variable* v) { return v->has_type() ? &v->type() : nullptr; }

void ValidateVariables(const std::string& node_id, const VariableMap& params,
                       const CompileErrors& errs) {
  for (const auto& [name, param] : params.variables()) {
    if (name.empty()) errs.Collect(ValueRequiredError(node_id, "paramName"));
    if (!param.has_type()) errs.Collect(ValueRequiredError(node_id, "param.Type"));
  }
}

// The node's outputs after applying its aliases, or nullopt when its interface is unknown.
std::optional<std::map<std::string, const Variable*>> ValidateEffectiveOutputParameters(
    NodeBuilder* n, const CompileErrors& errs, bool* ok) {
  std::map<std::string, std::string> aliases;  // var -> alias
  for (const auto& alias : n->node->output_aliases()) {
    if (aliases.count(alias.var()) > 0) {
      errs.Collect(DuplicateAliasError(n->id(), alias.alias()));
    } else {
      aliases[alias.var()] = alias.alias();
    }
  }
  std::optional<std::map<std::string, const Variable*>> params;
  if (n->iface != nullptr) {
    params.emplace();
    for (const auto& [name, param] : n->iface->outputs().variables()) {
      auto it = aliases.find(name);
      if (it != aliases.end()) {
        (*params)[it->second] = &param;
        aliases.erase(it);
      } else {
        (*params)[name] = &param;
      }
    }
    // Aliases left over name outputs the node does not have.
    for (const auto& [var, alias] : aliases) {
      errs.Collect(ParameterNotBoundError(n->id(), alias));
    }
  }
  *ok = !errs.HasErrors();
  return params;
}

const Variable* ValidateOutputVar(NodeBuilder* n, const std::string& name,
                                  const CompileErrors& errs, bool* ok) {
  const Variable* param = nullptr;
  bool effective_ok = false;
  auto outputs = ValidateEffectiveOutputParameters(n, errs.NewScope(), &effective_ok);
  if (effective_ok) {
    if (outputs) {
      auto it = outputs->find(name);
      if (it != outputs->end()) param = it->second;
    }
    if (param == nullptr) errs.Collect(VariableNameNotFoundError(n->id(), n->id(), name));
  }
  *ok = !errs.HasErrors();
  return param;
}

const Variable* ValidateInputVar(NodeBuilder* n, const std::string& name, bool require_param_type,
                                 const CompileErrors& errs, bool* ok) {
  *ok = false;
  if (n->iface == nullptr) return nullptr;
  if (const Variable* v = FindVariable(&n->iface->inputs(), name)) {
    *ok = true;
    return v;
  }
  if (!require_param_type && ContainsBinding(n->node->inputs(), name)) return nullptr;
  errs.Collect(VariableNameNotFoundError(n->id(), n->id(), name));
  return nullptr;
}

bool ValidateVarType(const std::string& node_id, const std::string& param_name,
                     const Variable* param, const LiteralType* expected,
                     const CompileErrors& errs) {
  if (TypeText(param) != plugin::GoProtoTextOrNil(expected)) {
    errs.Collect(MismatchingTypesError(node_id, param_name, LiteralTypeToStr(TypeOf(param)),
                                       LiteralTypeToStr(expected)));
  }
  return !errs.HasErrors();
}

NodeBuilder* ValidateNodeId(WorkflowBuilder& w, const std::string& node_id,
                            const CompileErrors& errs, bool* ok) {
  if (node_id.empty()) {
    NodeBuilder* n = w.GetNode(kStartNodeId);
    *ok = !errs.HasErrors();
    return n;
  }
  NodeBuilder* n = w.GetNode(node_id);
  if (n == nullptr) errs.Collect(NodeReferenceNotFoundError(node_id, node_id));
  *ok = !errs.HasErrors();
  return n;
}

// Upstream typing.ParseVarName: the regex (\[(\d+)\]\.)?(\w+) must match exactly once.
bool ParseVarName(const std::string& s, std::string* name, std::optional<long long>* index) {
  auto is_word = [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
  };
  auto is_digit = [](char c) { return c >= '0' && c <= '9'; };
  int matches = 0;
  std::string first_name;
  std::string first_index;
  size_t i = 0;
  while (i < s.size()) {
    size_t end = std::string::npos;
    std::string idx;
    // Leftmost-first: the optional "[n]." prefix is preferred when the rest also matches.
    if (s[i] == '[') {
      size_t j = i + 1;
      while (j < s.size() && is_digit(s[j])) ++j;
      if (j > i + 1 && j + 1 < s.size() && s[j] == ']' && s[j + 1] == '.') {
        size_t k = j + 2;
        size_t w = k;
        while (w < s.size() && is_word(s[w])) ++w;
        if (w > k) {
          end = w;
          idx = s.substr(i + 1, j - i - 1);
          if (matches == 0) first_name = s.substr(k, w - k);
        }
      }
    }
    if (end == std::string::npos && is_word(s[i])) {
      size_t w = i;
      while (w < s.size() && is_word(s[w])) ++w;
      end = w;
      if (matches == 0) first_name = s.substr(i, w - i);
    }
    if (end == std::string::npos) {
      ++i;
      continue;
    }
    if (matches == 0) first_index = idx;
    ++matches;
    i = end;
  }
  if (matches != 1) return false;
  *name = first_name;
  index->reset();
  if (!first_index.empty()) {
    // strconv.Atoi: fails on overflow.
    long long v = 0;
    for (char c : first_index) {
      if (v > (LLONG_MAX - (c - '0')) / 10) return false;
      v = v * 10 + (c - '0');
    }
    *index = v;
  }
  return true;
}

struct BindingResult {
  std::optional<LiteralType> type;
  std::vector<std::string> upstream;
  bool ok = false;
};

const char* BindingValueTypeName(const BindingData& b) {
  switch (b.value_case()) {
    case BindingData::kScalar:
      return "*core.BindingData_Scalar";
    case BindingData::kCollection:
      return "*core.BindingData_Collection";
    case BindingData::kPromise:
      return "*core.BindingData_Promise";
    case BindingData::kMap:
      return "*core.BindingData_Map";
    case BindingData::kOffloadedMetadata:
      return "*core.BindingData_OffloadedMetadata";
    default:
      return "";
  }
}

BindingResult ValidateBinding(WorkflowBuilder& w, NodeBuilder* node, const std::string& node_param,
                              BindingData* binding, const LiteralType& expected,
                              const CompileErrors& errs, bool validate_param_types) {
  const std::string& node_id = node->id();
  auto fail = [&]() { return BindingResult{std::nullopt, {}, !errs.HasErrors()}; };

  // Only scalars and promises see through a union in AreTypesCastable; other bindings try each
  // variant.
  if (binding->value_case() != BindingData::kScalar &&
      binding->value_case() != BindingData::kPromise && expected.has_union_type()) {
    bool ok = false;
    const LiteralType* matching = nullptr;
    BindingResult result;
    for (const auto& t : expected.union_type().variants()) {
      BindingResult r =
          ValidateBinding(w, node, node_param, binding, t, CompileErrors(), validate_param_types);
      if (r.ok) {
        if (ok) {
          errs.Collect(AmbiguousBindingUnionValueError(node_id, node_param, plugin::GoProtoText(expected),
                                                       plugin::GoProtoText(*binding), plugin::GoProtoText(*matching),
                                                       plugin::GoProtoText(t)));
          return fail();
        }
        matching = &t;
        result = std::move(r);
        ok = true;
      }
    }
    if (ok) return result;
    errs.Collect(IncompatibleBindingUnionValueError(node_id, node_param, plugin::GoProtoText(expected),
                                                    plugin::GoProtoText(*binding)));
    return fail();
  }

  switch (binding->value_case()) {
    case BindingData::kCollection: {
      if (expected.has_collection_type()) {
        BindingResult out;
        std::optional<LiteralType> sub;
        for (auto& v : *binding->mutable_collection()->mutable_bindings()) {
          BindingResult r = ValidateBinding(w, node, node_param, &v, expected.collection_type(),
                                            errs.NewScope(), validate_param_types);
          if (r.ok) {
            out.upstream.insert(out.upstream.end(), r.upstream.begin(), r.upstream.end());
            sub = std::move(r.type);
          }
        }
        LiteralType t;
        *t.mutable_collection_type() = sub ? *sub : LiteralType();
        out.type = std::move(t);
        out.ok = !errs.HasErrors();
        return out;
      }
      errs.Collect(MismatchingBindingsError(node_id, node_param, plugin::GoProtoText(expected),
                                            plugin::GoProtoText(binding->collection())));
      return fail();
    }
    case BindingData::kMap: {
      if (expected.has_map_value_type()) {
        BindingResult out;
        std::optional<LiteralType> sub;
        // Upstream walks a Go map here; we walk the keys in order.
        std::vector<std::string> keys;
        for (const auto& [k, unused] : binding->map().bindings()) keys.push_back(k);
        std::sort(keys.begin(), keys.end());
        auto* bindings = binding->mutable_map()->mutable_bindings();
        for (const auto& k : keys) {
          BindingResult r =
              ValidateBinding(w, node, node_param, &(*bindings)[k], expected.map_value_type(),
                              errs.NewScope(), validate_param_types);
          if (r.ok) {
            out.upstream.insert(out.upstream.end(), r.upstream.begin(), r.upstream.end());
            sub = std::move(r.type);
          }
        }
        LiteralType t;
        *t.mutable_map_value_type() = sub ? *sub : LiteralType();
        out.type = std::move(t);
        out.ok = !errs.HasErrors();
        return out;
      }
      errs.Collect(
          MismatchingBindingsError(node_id, node_param, plugin::GoProtoText(expected), plugin::GoProtoText(binding->map())));
      return fail();
    }
    case BindingData::kPromise: {
      auto* promise = binding->mutable_promise();
      bool found = false;
      NodeBuilder* up = ValidateNodeId(w, promise->node_id(), errs.NewScope(), &found);
      if (found && up != nullptr) {
        std::string name;
        std::optional<long long> index;
        if (!ParseVarName(promise->var(), &name, &index)) {
          errs.Collect(SyntaxErrorError(node_id, promise->var()));
          return fail();
        }
        std::string input_var = node_param;
        std::string output_var = promise->var();
        if (node->node->has_metadata())
          input_var = node->node->metadata().name() + "." + node_param;
        if (up->node->has_metadata())
          output_var = up->node->metadata().name() + "." + promise->var();

        bool param_found = false;
        const Variable* param = ValidateOutputVar(up, name, errs.NewScope(), &param_found);
        if (param_found && param != nullptr) {
          const LiteralType* source = &param->type();
          if (index.has_value()) {
            if (!param->type().has_collection_type()) {
              errs.Collect(MismatchingVariablesError(node_id, output_var,
                                                     LiteralTypeToStr(TypeOf(param)), input_var,
                                                     LiteralTypeToStr(&expected)));
            } else {
              source = &param->type().collection_type();
            }
          }
          for (const auto& attr : promise->attr_path()) {
            if (source->has_collection_type()) {
              source = &source->collection_type();
            } else if (source->has_map_value_type()) {
              source = &source->map_value_type();
            } else if (source->has_structure() && source->structure().dataclass_type_size() > 0) {
              const auto& fields = source->structure().dataclass_type();
              auto it = fields.find(attr.string_value());
              if (it == fields.end()) {
                errs.Collect(FieldNotFoundError(node_id, promise->var(), plugin::GoProtoText(*source),
                                                attr.string_value()));
                return fail();
              }
              source = &it->second;
            }
          }
          if (!validate_param_types || AreTypesCastable(*source, expected)) {
            promise->set_node_id(up->id());
            BindingResult out;
            if (param->has_type()) out.type = param->type();
            out.upstream.push_back(promise->node_id());
            out.ok = true;
            return out;
          }
          errs.Collect(MismatchingVariablesError(node->id(), output_var, LiteralTypeToStr(source),
                                                 input_var, LiteralTypeToStr(&expected)));
          return fail();
        }
      }
      errs.Collect(ParameterNotBoundError(node_id, node_param));
      return fail();
    }
    case BindingData::kScalar: {
      const auto& scalar = binding->scalar();
      std::optional<LiteralType> literal_type = LiteralTypeForScalar(scalar);
      if (!literal_type) {
        errs.Collect(UnrecognizedValueError(node_id, GoScalarValueTypeName(scalar)));
      } else if (validate_param_types && !AreTypesCastable(*literal_type, expected)) {
        errs.Collect(MismatchingTypesError(node_id, node_param, LiteralTypeToStr(&*literal_type),
                                           LiteralTypeToStr(&expected)));
      }
      if (expected.has_enum_type()) {
        const std::string& v = scalar.primitive().string_value();
        const auto& values = expected.enum_type().values();
        if (std::find(values.begin(), values.end(), v) == values.end()) {
          errs.Collect(IllegalEnumValueError(
              node_id, node_param, v, std::vector<std::string>(values.begin(), values.end())));
        }
      }
      return BindingResult{std::move(literal_type), {}, !errs.HasErrors()};
    }
    default:
      errs.Collect(MismatchingBindingsError(node_id, node_param, plugin::GoProtoText(expected),
                                            BindingValueTypeName(*binding)));
      return fail();
  }
}

// Operand.primitive is deprecated in favour of scalar, but upstream still reads only primitive.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
bool HasPrimitive(const Operand& o) { return o.has_primitive(); }
const flyteidl::core::Primitive& PrimitiveOf(const Operand& o) { return o.primitive(); }
#pragma GCC diagnostic pop

std::optional<LiteralType> ValidateOperand(NodeBuilder* node, const std::string& param_name,
                                           const Operand* operand, bool require_param_type,
                                           const CompileErrors& errs, bool* ok) {
  std::optional<LiteralType> type;
  if (operand == nullptr) {
    errs.Collect(ValueRequiredError(node->id(), param_name));
  } else if (HasPrimitive(*operand)) {
    type = LiteralTypeForPrimitive(PrimitiveOf(*operand));
  } else if (!operand->var().empty()) {
    if (node->iface != nullptr) {
      bool param_ok = false;
      const Variable* param =
          ValidateInputVar(node, operand->var(), require_param_type, errs.NewScope(), &param_ok);
      if (param_ok && param != nullptr && param->has_type()) type = param->type();
    } else {
      errs.Collect(ValueRequiredError(node->id(), operand->var()));
    }
  } else {
    errs.Collect(ValueRequiredError(node->id(), param_name + ".Val"));
  }
  *ok = !errs.HasErrors();
  return type;
}

bool ValidateBooleanExpression(WorkflowBuilder& w, NodeBuilder* node, const BooleanExpression* expr,
                               bool require_param_type, const CompileErrors& errs) {
  if (expr == nullptr) {
    errs.Collect(BranchNodeHasNoConditionError(node->id()));
  } else if (expr->has_comparison()) {
    const auto& cmp = expr->comparison();
    bool ok1 = false;
    bool ok2 = false;
    auto t1 =
        ValidateOperand(node, "RightValue", cmp.has_right_value() ? &cmp.right_value() : nullptr,
                        require_param_type, errs.NewScope(), &ok1);
    auto t2 = ValidateOperand(node, "LeftValue", cmp.has_left_value() ? &cmp.left_value() : nullptr,
                              require_param_type, errs.NewScope(), &ok2);
    if (ok1 && ok2 && t1 && t2 && plugin::GoProtoText(*t1) != plugin::GoProtoText(*t2)) {
      errs.Collect(MismatchingTypesError(node->id(), "RightValue", LiteralTypeToStr(&*t1),
                                         LiteralTypeToStr(&*t2)));
    }
  } else if (expr->has_conjunction()) {
    const auto& c = expr->conjunction();
    ValidateBooleanExpression(w, node, c.has_left_expression() ? &c.left_expression() : nullptr,
                              require_param_type, errs.NewScope());
    ValidateBooleanExpression(w, node, c.has_right_expression() ? &c.right_expression() : nullptr,
                              require_param_type, errs.NewScope());
  } else {
    errs.Collect(ValueRequiredError(node->id(), "Expr"));
  }
  return !errs.HasErrors();
}

// The branch node's interface: inputs from its bindings, outputs common to all its cases.
TypedInterface* ValidateBranchInterface(WorkflowBuilder& w, NodeBuilder* node,
                                        const CompileErrors& errs) {
  if (node->iface != nullptr) return node->iface;
  Node* n = node->node;
  if (!n->has_branch_node()) {
    errs.Collect(ValueRequiredError(n->id(), "Branch"));
    return nullptr;
  }
  if (!n->branch_node().has_if_else()) {
    errs.Collect(ValueRequiredError(n->id(), "Branch.IfElse"));
    return nullptr;
  }
  if (!n->branch_node().if_else().has_case_()) {
    errs.Collect(ValueRequiredError(n->id(), "Branch.IfElse.Case"));
    return nullptr;
  }
  if (!n->branch_node().if_else().case_().has_then_node()) {
    errs.Collect(ValueRequiredError(n->id(), "Branch.IfElse.Case.ThenNode"));
    return nullptr;
  }
  auto* if_else = n->mutable_branch_node()->mutable_if_else();

  std::vector<Node*> cases;
  cases.push_back(if_else->mutable_case_()->mutable_then_node());
  for (auto& other : *if_else->mutable_other()) {
    if (!other.has_then_node()) {
      errs.Collect(ValueRequiredError(n->id(), "IfElse.Case.ThenNode"));
      continue;
    }
    cases.push_back(other.mutable_then_node());
  }
  if (if_else->has_else_node()) cases.push_back(if_else->mutable_else_node());

  std::optional<VariableMap> outputs;  // the first case's outputs
  std::set<std::string> final_names;
  for (Node* block : cases) {
    NodeBuilder* b = w.GetOrCreateNodeBuilder(block);
    block->set_id(n->id() + "-" + block->id());
    bool ok = false;
    TypedInterface* iface2 = ValidateUnderlyingInterface(w, b, errs.NewScope(), &ok);
    if (!ok) continue;
    if (!outputs) {
      outputs = iface2->outputs();
      for (const auto& [name, unused] : outputs->variables()) final_names.insert(name);
      continue;
    }
    const auto& outputs2 = iface2->outputs().variables();
    std::set<std::string> both;
    for (const auto& name : final_names) {
      if (outputs2.count(name) > 0) both.insert(name);
    }
    final_names = std::move(both);
    for (const auto& name : final_names) {
      const Variable* v1 = &outputs->variables().at(name);
      const Variable* v2 = &outputs2.at(name);
      if (ValidateVarType(block->id(), name, v1, TypeOf(v2), errs.NewScope())) {
        ValidateVarType(block->id(), name, v2, TypeOf(v1), errs.NewScope());
      }
    }
  }

  // The inputs come from the bindings; the conditions may only use those.
  VariableMap empty;
  bool bindings_ok = false;
  VariableMap inputs = ValidateBindings(w, node, n->mutable_inputs(), &empty, false,
                                        EdgeDirection::kUpstream, errs.NewScope(), &bindings_ok);
  if (errs.HasErrors() || !outputs) return nullptr;
  TypedInterface iface;
  *iface.mutable_inputs() = std::move(inputs);
  auto* out_vars = iface.mutable_outputs()->mutable_variables();
  for (const auto& [name, v] : outputs->variables()) {
    if (final_names.count(name) > 0) (*out_vars)[name] = v;
  }
  return w.NewInterface(std::move(iface));
}

std::vector<NodeBuilder*> ValidateBranchNode(WorkflowBuilder& w, NodeBuilder* node,
                                             bool require_param_type, const CompileErrors& errs,
                                             bool* ok) {
  Node* n = node->node;
  const auto& if_else = n->branch_node().if_else();
  std::vector<flyteidl::core::IfBlock*> mutable_blocks;
  bool has_if_else = n->branch_node().has_if_else();
  if (!if_else.has_case_()) {
    errs.Collect(BranchNodeHasNoConditionError(n->id()));
  } else {
    mutable_blocks.push_back(n->mutable_branch_node()->mutable_if_else()->mutable_case_());
  }
  if (has_if_else) {
    for (auto& other : *n->mutable_branch_node()->mutable_if_else()->mutable_other()) {
      mutable_blocks.push_back(&other);
    }
  }
  std::vector<NodeBuilder*> sub_nodes;
  for (auto* block : mutable_blocks) {
    ValidateBooleanExpression(w, node, block->has_condition() ? &block->condition() : nullptr,
                              require_param_type, errs.NewScope());
    if (!block->has_then_node()) {
      errs.Collect(BranchNodeNotSpecifiedError(n->id()));
    } else {
      sub_nodes.push_back(w.GetOrCreateNodeBuilder(block->mutable_then_node()));
    }
  }
  if (if_else.has_else_node()) {
    sub_nodes.push_back(
        w.GetOrCreateNodeBuilder(n->mutable_branch_node()->mutable_if_else()->mutable_else_node()));
  } else if (if_else.default_case() == flyteidl::core::IfElseBlock::DEFAULT_NOT_SET) {
    errs.Collect(BranchNodeHasNoDefaultError(n->id()));
  }
  std::vector<NodeBuilder*> discovered;
  for (NodeBuilder* sub : sub_nodes) {
    if (ValidateNode(w, sub, require_param_type, errs.NewScope())) discovered.push_back(sub);
  }
  *ok = !errs.HasErrors();
  return discovered;
}

}  // namespace

bool ValidateInterface(const std::string& node_id, TypedInterface* iface,
                       const CompileErrors& errs) {
  if (iface->has_inputs() && iface->inputs().variables_size() > 0) {
    ValidateVariables(node_id, iface->inputs(), errs.NewScope());
  } else {
    iface->mutable_inputs()->Clear();
  }
  if (iface->has_outputs() && iface->outputs().variables_size() > 0) {
    ValidateVariables(node_id, iface->outputs(), errs.NewScope());
  } else {
    iface->mutable_outputs()->Clear();
  }
  return !errs.HasErrors();
}

TypedInterface* ValidateUnderlyingInterface(WorkflowBuilder& w, NodeBuilder* node,
                                            const CompileErrors& errs, bool* ok) {
  if (node->iface != nullptr) {
    *ok = true;
    return node->iface;
  }
  Node* n = node->node;
  TypedInterface* iface = nullptr;
  switch (n->target_case()) {
    case Node::kTaskNode: {
      if (!n->task_node().has_reference_id()) {
        errs.Collect(ValueRequiredError(n->id(), "TaskNode.ReferenceId"));
      } else if (auto* task = w.GetTask(n->task_node().reference_id())) {
        // The task's own interface object: validating it below fills in missing maps on the
        // task itself, as upstream does.
        iface =
            task->has_interface() ? task->mutable_interface() : w.NewInterface(EmptyInterface());
      } else {
        errs.Collect(TaskReferenceNotFoundError(n->id(), IdKey(&n->task_node().reference_id())));
      }
      break;
    }
    case Node::kWorkflowNode: {
      const auto& wn = n->workflow_node();
      auto* tmpl = w.core_workflow()->mutable_template_();
      std::string lp_key = IdKey(wn.has_launchplan_ref() ? &wn.launchplan_ref() : nullptr);
      std::string sub_key = IdKey(wn.has_sub_workflow_ref() ? &wn.sub_workflow_ref() : nullptr);
      if (lp_key == IdKey(tmpl->has_id() ? &tmpl->id() : nullptr)) {
        if (tmpl->has_interface()) {
          iface = tmpl->mutable_interface();
        } else {
          errs.Collect(ValueRequiredError(n->id(), "WorkflowNode.Interface"));
        }
      } else if (wn.has_launchplan_ref()) {
        if (const auto* lp = w.GetLaunchPlan(wn.launchplan_ref())) {
          // Required inputs, plus the defaulted ones the node overrides.
          TypedInterface t;
          auto* exposed = t.mutable_inputs()->mutable_variables();
          for (const auto& [name, p] : lp->expected_inputs.parameters()) {
            if (p.required() || ContainsBinding(n->inputs(), name)) (*exposed)[name] = p.var();
          }
          *t.mutable_outputs() = lp->expected_outputs;
          iface = w.NewInterface(std::move(t));
        } else {
          errs.Collect(WorkflowReferenceNotFoundError(n->id(), lp_key));
        }
      } else if (wn.has_sub_workflow_ref()) {
        if (auto* sub = w.GetSubWorkflow(wn.sub_workflow_ref())) {
          if (!sub->has_template_()) {
            errs.Collect(ValueRequiredError(n->id(), "WorkflowNode.Template"));
          } else if (!sub->template_().has_interface()) {
            errs.Collect(ValueRequiredError(n->id(), "WorkflowNode.Template.Interface"));
          } else {
            iface = sub->mutable_template_()->mutable_interface();
          }
        } else {
          errs.Collect(WorkflowReferenceNotFoundError(n->id(), sub_key));
        }
      } else {
        errs.Collect(WorkflowReferenceNotFoundError(n->id(), lp_key + "/" + sub_key));
      }
      break;
    }
    case Node::kBranchNode:
      iface = ValidateBranchInterface(w, node, errs.NewScope());
      break;
    case Node::kGateNode: {
      const auto& gate = n->gate_node();
      if (gate.has_approve()) {
        // An approval passes its inputs through as outputs.
        VariableMap empty;
        bool bindings_ok = false;
        VariableMap vars =
            ValidateBindings(w, node, n->mutable_inputs(), &empty, false, EdgeDirection::kUpstream,
                             errs.NewScope(), &bindings_ok);
        TypedInterface t;
        *t.mutable_inputs() = vars;
        *t.mutable_outputs() = std::move(vars);
        iface = w.NewInterface(std::move(t));
      } else if (gate.has_signal()) {
        const auto& signal = gate.signal();
        if (!signal.has_type()) {
          errs.Collect(ValueRequiredError(n->id(), "GateNode.Signal.Type"));
        } else if (signal.output_variable_name().empty()) {
          errs.Collect(ValueRequiredError(n->id(), "GateNode.Signal.OutputVariableName"));
        } else {
          TypedInterface t;
          t.mutable_inputs();
          *(*t.mutable_outputs()->mutable_variables())[signal.output_variable_name()]
               .mutable_type() = signal.type();
          iface = w.NewInterface(std::move(t));
        }
      } else if (gate.has_sleep()) {
        iface = w.NewInterface(EmptyInterface());
      } else {
        errs.Collect(NoConditionFoundError(n->id()));
      }
      break;
    }
    case Node::kArrayNode: {
      // flytekit already wraps the inner node's types in collections where needed.
      NodeBuilder* inner = w.GetOrCreateNodeBuilder(n->mutable_array_node()->mutable_node());
      bool inner_ok = false;
      TypedInterface* inner_iface =
          ValidateUnderlyingInterface(w, inner, errs.NewScope(), &inner_ok);
      if (inner_ok) iface = inner_iface;
      break;
    }
    default:
      errs.Collect(ValueRequiredError(n->id(), "Target"));
  }
  if (iface != nullptr) ValidateInterface(n->id(), iface, errs.NewScope());
  if (!errs.HasErrors()) node->iface = iface;
  *ok = !errs.HasErrors();
  return iface;
}

bool ValidateNode(WorkflowBuilder& w, NodeBuilder* node, bool validate_condition_types,
                  const CompileErrors& errs) {
  Node* n = node->node;
  if (n->id().empty()) errs.Collect(ValueRequiredError("<node>", "Id"));
  if (n->id() == kStartNodeId || n->id() == kEndNodeId) return true;

  bool iface_ok = false;
  ValidateUnderlyingInterface(w, node, errs.NewScope(), &iface_ok);
  if (iface_ok) {
    bool unused = false;
    ValidateEffectiveOutputParameters(node, errs.NewScope(), &unused);
  }

  // Sorted so the output does not depend on the client's ordering.
  std::sort(n->mutable_upstream_node_ids()->begin(), n->mutable_upstream_node_ids()->end());

  if (n->has_branch_node()) {
    bool ok = false;
    auto sub_nodes = ValidateBranchNode(w, node, validate_condition_types, errs.NewScope(), &ok);
    if (ok) {
      for (NodeBuilder* sub : sub_nodes) w.AddEdges(sub, EdgeDirection::kUpstream, errs.NewScope());
    }
  } else if (n->has_workflow_node() && n->workflow_node().has_sub_workflow_ref()) {
    const auto& ref = n->workflow_node().sub_workflow_ref();
    std::string key = IdKey(&ref);
    // Each sub-workflow is compiled once per referencing workflow.
    if (!w.HasCompiledSubWorkflow(key)) {
      if (auto* sub = w.GetSubWorkflow(ref)) {
        if (!node->sub_workflow_compiled) {
          auto& compiling = w.context()->compiling;
          if (std::find(compiling.begin(), compiling.end(), key) != compiling.end()) {
            std::string cycle;
            for (const auto& k : compiling) cycle += k + ">";
            errs.Collect(CycleDetectedError(n->id(), cycle + key));
          } else {
            compiling.push_back(key);
            bool wf_ok = false;
            auto compiled =
                WorkflowBuilder::ValidateWorkflow(sub, w.context(), errs.NewScope(), &wf_ok);
            compiling.pop_back();
            if (wf_ok) {
              node->sub_workflow_compiled = true;
              w.StoreCompiledSubWorkflow(key);
            }
          }
        }
      } else {
        errs.Collect(WorkflowReferenceNotFoundError(n->id(), key));
      }
    }
  } else if (n->has_task_node() && n->task_node().has_reference_id()) {
    if (auto* task = w.GetTask(n->task_node().reference_id())) {
      node->task = task;
    } else {
      errs.Collect(TaskReferenceNotFoundError(n->id(), IdKey(&n->task_node().reference_id())));
    }
  }
  return !errs.HasErrors();
}

VariableMap ValidateBindings(WorkflowBuilder& w, NodeBuilder* node, Bindings* bindings,
                             const VariableMap* params, bool validate_param_types,
                             EdgeDirection direction, const CompileErrors& errs, bool* ok) {
  VariableMap resolved;
  std::set<std::string> provided;
  for (auto& binding : *bindings) {
    const Variable* param = FindVariable(params, binding.var());
    if (param == nullptr && validate_param_types) {
      errs.Collect(VariableNameNotFoundError(node->id(), node->id(), binding.var()));
    } else if (!binding.has_binding()) {
      errs.Collect(ValueRequiredError(node->id(), "Binding"));
    } else if (provided.count(binding.var()) > 0) {
      errs.Collect(ParameterBoundMoreThanOnceError(node->id(), binding.var()));
    } else {
      // Without type checking any type is accepted: the expected type is a bare simple NONE.
      LiteralType none;
      none.set_simple(flyteidl::core::NONE);
      const LiteralType& expected =
          (!validate_param_types && param == nullptr) ? none : param->type();
      provided.insert(binding.var());
      BindingResult r = ValidateBinding(w, node, binding.var(), binding.mutable_binding(), expected,
                                        errs.NewScope(), validate_param_types);
      if (r.ok) {
        for (const auto& up : r.upstream) {
          switch (direction) {
            case EdgeDirection::kBidirectional:
              w.AddExecutionEdge(up, node->id());
              break;
            case EdgeDirection::kDownstream:
              w.AddDownstreamEdge(up, node->id());
              break;
            case EdgeDirection::kUpstream:
              w.AddUpstreamEdge(up, node->id());
              break;
          }
        }
        Variable& v = (*resolved.mutable_variables())[binding.var()];
        v.Clear();
        if (r.type) *v.mutable_type() = std::move(*r.type);
      }
    }
  }
  if (params != nullptr) {
    for (const auto& [name, v] : params->variables()) {
      if (provided.count(name) == 0 && !IsOptionalType(v)) {
        errs.Collect(ParameterNotBoundError(node->id(), name));
      }
    }
  }
  *ok = !errs.HasErrors();
  return resolved;
}

}  // namespace flyte::core::compiler::internal
