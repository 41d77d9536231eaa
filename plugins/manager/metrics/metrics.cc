// The span tree of GetExecutionMetrics, built as upstream's metrics manager builds it.
#include "metrics.h"

#include <algorithm>

#include "flyte/manager/event_checks.h"
#include "flyte/manager/checks.h"
#include "flyte/manager/data.h"
#include "flyte/manager/errors.h"
#include "flyte/plugin/go_compat.h"
#include "flyte/manager/node_internal_data.h"
#include "flyteidl/admin/execution.pb.h"
#include "flyteidl/admin/workflow.pb.h"
#include "task_execution.h"
#include "task_execution_model.h"

namespace flyte::plugins::manager {

using plugin::Status;
using plugin::StatusOr;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
using google::protobuf::Timestamp;

namespace {

constexpr const char* kNodeIdle = "NODE_IDLE";
constexpr const char* kNodeReset = "NODE_RESET";
constexpr const char* kNodeSetup = "NODE_SETUP";
constexpr const char* kNodeTeardown = "NODE_TEARDOWN";
constexpr const char* kNodeTransition = "NODE_TRANSITION";
constexpr const char* kTaskRuntime = "TASK_RUNTIME";
constexpr const char* kTaskSetup = "TASK_SETUP";
constexpr const char* kTaskTeardown = "TASK_TEARDOWN";
constexpr const char* kWorkflowSetup = "WORKFLOW_SETUP";
constexpr const char* kWorkflowTeardown = "WORKFLOW_TEARDOWN";
constexpr const char* kStartNode = "start-node";
constexpr const char* kEndNode = "end-node";

using NodeExecutions = std::map<std::string, admin::NodeExecution>;  // by spec node id

int64_t Nanos(const Timestamp& ts) { return ts.seconds() * 1000000000 + ts.nanos(); }
bool Before(const Timestamp& a, const Timestamp& b) { return Nanos(a) < Nanos(b); }
bool IsZero(const Timestamp& ts) { return ts.seconds() == 0 && ts.nanos() == 0; }

Timestamp Plus(const Timestamp& ts, const google::protobuf::Duration& d) {
  const int64_t ns = Nanos(ts) + d.seconds() * 1000000000 + d.nanos();
  Timestamp out;
  out.set_seconds(ns / 1000000000);
  out.set_nanos(static_cast<int32_t>(ns % 1000000000));
  if (out.nanos() < 0) {
    out.set_nanos(out.nanos() + 1000000000);
    out.set_seconds(out.seconds() - 1);
  }
  return out;
}

// Upstream passes possibly-nil timestamps through; an unset field stays unset.
core::Span Operation(const Timestamp* start, const Timestamp* end, const char* operation) {
  core::Span span;
  if (start != nullptr) *span.mutable_start_time() = *start;
  if (end != nullptr) *span.mutable_end_time() = *end;
  span.set_operation_id(operation);
  return span;
}

template <typename Closure>
const Timestamp* CreatedAt(const Closure& c) {
  return c.has_created_at() ? &c.created_at() : nullptr;
}
template <typename Closure>
const Timestamp* UpdatedAt(const Closure& c) {
  return c.has_updated_at() ? &c.updated_at() : nullptr;
}
template <typename Closure>
const Timestamp* StartedAt(const Closure& c) {
  return c.has_started_at() ? &c.started_at() : nullptr;
}

const core::Node* BranchNodeFor(const std::string& node_id, const core::BranchNode& branch) {
  const auto& if_else = branch.if_else();
  if (if_else.case_().then_node().id() == node_id) return &if_else.case_().then_node();
  for (const auto& other : if_else.other()) {
    if (other.then_node().id() == node_id) return &other.then_node();
  }
  if (if_else.has_else_node() && if_else.else_node().id() == node_id) return &if_else.else_node();
  return nullptr;
}

// The upstream node of `node_id` updated last.
const admin::NodeExecution* LatestUpstream(const std::string& node_id,
                                           const core::CompiledWorkflowClosure& closure,
                                           const NodeExecutions& executions) {
  const auto& upstream = closure.primary().connections().upstream();
  auto it = upstream.find(node_id);
  if (it == upstream.end()) return nullptr;
  const admin::NodeExecution* latest = nullptr;
  int64_t latest_at = 0;
  for (const auto& id : it->second.ids()) {
    auto found = executions.find(id);
    if (found == executions.end()) continue;
    const int64_t t = Nanos(found->second.closure().updated_at());
    if (t > latest_at) {
      latest = &found->second;
      latest_at = t;
    }
  }
  return latest;
}

class SpanBuilder {
 public:
  SpanBuilder(plugin::db::Repositories& db, plugin::ObjectStore& store, const RemoteDataSettings& data)
      : db_(db), store_(store), data_(data) {}

  // ExecutionManager.GetExecution, which validates the id first ("missing project", ...).
  StatusOr<admin::Execution> GetExecution(const core::WorkflowExecutionIdentifier& id) {
    if (auto s = ValidateWorkflowExecutionId(&id); !s.ok()) return s;
    auto row = db_.Executions().Get({id.project(), id.domain(), id.name()});
    if (!row.ok()) {
      if (row.status().code() != plugin::StatusCode::kNotFound) return row.status();
      core::Identifier key;
      key.set_project(id.project());
      key.set_domain(id.domain());
      key.set_name(id.name());
      return plugin::NotFound("missing entity of type execution with identifier " +
                              plugin::GoProtoText(key));
    }
    admin::Execution execution;
    if (!execution.mutable_closure()->ParseFromString(row->closure))
      return plugin::Internal("failed to unmarshal closure");
    auto* out_id = execution.mutable_id();
    out_id->set_project(row->key.project);
    out_id->set_domain(row->key.domain);
    out_id->set_name(row->key.name);
    return execution;
  }

  Status ParseExecution(const admin::Execution& execution, int depth, core::Span& out) {
    const auto& closure = execution.closure();
    // The executions being expanded, outermost first. A child that is already among them (a
    // cycle, which only bad events can make) or one nested beyond kMaxNestedExecutions is given
    // its own span without children: a negative depth, which upstream reads as unlimited,
    // would otherwise recurse until the stack runs out.
    const std::string key = execution.id().project() + "/" + execution.id().domain() + "/" +
                            execution.id().name();
    if (std::find(path_.begin(), path_.end(), key) != path_.end() ||
        path_.size() >= kMaxNestedExecutions) {
      depth = 0;
    }
    path_.push_back(key);
    struct Pop {
      std::vector<std::string>& path;
      ~Pop() { path.pop_back(); }
    } pop{path_};
    if (depth != 0) {
      auto workflow = GetWorkflowClosure(closure.has_workflow_id() ? &closure.workflow_id() : nullptr);
      if (!workflow.ok()) return workflow.status();
      auto nodes = ListNodeExecutions(execution.id(), nullptr);
      if (!nodes.ok()) return nodes.status();
      auto start = nodes->find(kStartNode);
      if (start == nodes->end() || !start->second.closure().has_updated_at() ||
          IsZero(start->second.closure().updated_at())) {
        *out.add_spans() = Operation(CreatedAt(closure), UpdatedAt(closure), kWorkflowSetup);
      } else {
        *out.add_spans() =
            Operation(CreatedAt(closure), UpdatedAt(start->second.closure()), kWorkflowSetup);
        if (auto s = ParseNodeExecutions(nodes.value(), workflow.value(), out, depth - 1); !s.ok())
          return s;
        const auto* latest = LatestUpstream(kEndNode, workflow.value(), nodes.value());
        if (latest != nullptr && !Before(closure.updated_at(), latest->closure().updated_at())) {
          *out.add_spans() =
              Operation(UpdatedAt(latest->closure()), UpdatedAt(closure), kWorkflowTeardown);
        }
      }
    }
    if (closure.has_created_at()) *out.mutable_start_time() = closure.created_at();
    if (closure.has_updated_at()) *out.mutable_end_time() = closure.updated_at();
    *out.mutable_workflow_id() = execution.id();
    return Status::Ok();
  }

 private:
  // Upstream calls the workflow manager directly, so the id must name a WORKFLOW (no defaulting
  // of an unspecified resource type as the service layer does).
  StatusOr<core::CompiledWorkflowClosure> GetWorkflowClosure(const core::Identifier* id) {
    if (auto s = ValidateIdentifierFor(id, core::WORKFLOW); !s.ok()) return s;
    auto row = db_.Workflows().Get(KeyOf(*id));
    if (!row.ok()) return MissingEntity(row.status(), core::WORKFLOW, *id);
    admin::WorkflowClosure closure;
    if (auto s = ReadWorkflowClosure(store_, data_, row->remote_closure_identifier, closure); !s.ok()) return s;
    return closure.compiled_workflow();
  }

  StatusOr<admin::NodeExecution> NodeExecutionOf(const plugin::db::NodeExecutionModel& row) {
    admin::NodeExecution out;
    if (!out.mutable_closure()->ParseFromString(row.closure))
      return plugin::Internal("failed to unmarshal closure");
    if (!out.mutable_metadata()->ParseFromString(row.node_execution_metadata)) {
      return plugin::Internal("failed to unmarshal nodeExecutionMetadata");
    }
    // Older propellers (event version 0) did not send is_parent / is_dynamic: inferred from the
    // children, as upstream's node execution manager does for such rows only.
    auto* metadata = out.mutable_metadata();
    auto version = DecodeEventVersion(row.internal_data);
    if (!version.ok()) return version.status();
    if (version.value() == 0 && !metadata->is_parent_node() && !metadata->is_dynamic()) {
      plugin::db::ListInput input;
      input.filters.push_back(
          {"node_executions", "parent_id", plugin::db::FilterOp::kEq, {std::to_string(row.id)}});
      auto children = db_.NodeExecutions().Count(input);
      if (!children.ok()) return children.status();
      if (children.value() > 0) {
        metadata->set_is_parent_node(true);
        if (!row.dynamic_workflow_remote_closure_reference.empty()) metadata->set_is_dynamic(true);
      }
    }
    auto* id = out.mutable_id();
    id->set_node_id(row.key.node_id);
    id->mutable_execution_id()->set_project(row.key.execution.project);
    id->mutable_execution_id()->set_domain(row.key.execution.domain);
    id->mutable_execution_id()->set_name(row.key.execution.name);
    out.set_input_uri(row.input_uri);
    return out;
  }

  // Upstream's ListNodeExecutions, page by page: the top-level nodes of the execution, or the
  // children of `parent_node_id`; keyed by spec node id (a later page's duplicate wins).
  StatusOr<NodeExecutions> ListNodeExecutions(const core::WorkflowExecutionIdentifier& execution,
                                              const std::string* parent_node_id) {
    plugin::db::ListInput input;
    input.filters = {EqualityFilter(Entity::kNodeExecution, "project", execution.project()),
                     EqualityFilter(Entity::kNodeExecution, "domain", execution.domain()),
                     EqualityFilter(Entity::kNodeExecution, "name", execution.name())};
    if (parent_node_id != nullptr) {
      auto parent = db_.NodeExecutions().Get(
          {{execution.project(), execution.domain(), execution.name()}, *parent_node_id});
      if (!parent.ok()) {
        if (parent.status().code() != plugin::StatusCode::kNotFound) return parent.status();
        core::NodeExecutionIdentifier key;
        key.set_node_id(*parent_node_id);
        *key.mutable_execution_id() = execution;
        return plugin::NotFound("missing entity of type node execution with identifier " +
                                plugin::GoProtoText(key));
      }
      input.filters.push_back({"node_executions",
                               "parent_id",
                               plugin::db::FilterOp::kEq,
                               {std::to_string(parent->id)}});
    }
    input.limit = kMetricsRequestLimit;
    NodeExecutions out;
    for (;;) {
      auto rows = db_.NodeExecutions().List(input);
      if (!rows.ok()) return rows.status();
      for (const auto& row : rows.value()) {
        // The repositories have no IS NULL filter: top-level rows are picked here.
        if (parent_node_id == nullptr && (row.parent_id || row.parent_task_execution_id)) continue;
        auto message = NodeExecutionOf(row);
        if (!message.ok()) return message.status();
        out[message->metadata().spec_node_id()] = std::move(message.value());
      }
      if (rows->size() < input.limit) break;
      input.offset += rows->size();
    }
    return out;
  }

  StatusOr<std::vector<admin::TaskExecution>> ListTaskExecutions(
      const core::NodeExecutionIdentifier& node) {
    plugin::db::ListInput input;
    input.filters = {
        EqualityFilter(Entity::kTaskExecution, "project", node.execution_id().project()),
        EqualityFilter(Entity::kTaskExecution, "domain", node.execution_id().domain()),
        EqualityFilter(Entity::kTaskExecution, "name", node.execution_id().name()),
        EqualityFilter(Entity::kTaskExecution, "node_id", node.node_id())};
    input.limit = kMetricsRequestLimit;
    std::vector<admin::TaskExecution> out;
    for (;;) {
      auto rows = db_.TaskExecutions().List(input);
      if (!rows.ok()) return rows.status();
      for (const auto& row : rows.value()) {
        auto is_parent = HasChildNodeExecutions(db_.NodeExecutions(), row.id);
        if (!is_parent.ok()) return is_parent.status();
        auto message = FromTaskExecutionModel(row, is_parent.value());
        if (!message.ok()) return message.status();
        out.push_back(std::move(message.value()));
      }
      if (rows->size() < input.limit) break;
      input.offset += rows->size();
    }
    return out;
  }

  // The dynamic workflow a node execution recorded (GetNodeExecutionData's dynamic_workflow).
  StatusOr<core::CompiledWorkflowClosure> DynamicWorkflow(const core::NodeExecutionIdentifier& id) {
    const auto& e = id.execution_id();
    auto row = db_.NodeExecutions().Get({{e.project(), e.domain(), e.name()}, id.node_id()});
    if (!row.ok()) {
      if (row.status().code() != plugin::StatusCode::kNotFound) return row.status();
      return plugin::NotFound("missing entity of type node execution with identifier " +
                              plugin::GoProtoText(id));
    }
    core::CompiledWorkflowClosure closure;
    const auto& uri = row->dynamic_workflow_remote_closure_reference;
    if (uri.empty()) return closure;
    // As GetNodeExecutionData's fetch (fetchDynamicWorkflowClosure) reads and checks it.
    if (auto s = ReadDynamicWorkflowClosure(store_, data_, uri, closure); !s.ok()) return s;
    return closure;
  }

  static void ParseTaskExecution(const admin::TaskExecution& task, core::Span& out) {
    const auto& c = task.closure();
    if (!c.has_started_at() || IsZero(c.started_at())) {
      *out.add_spans() = Operation(CreatedAt(c), UpdatedAt(c), kTaskSetup);
    } else {
      *out.add_spans() = Operation(CreatedAt(c), StartedAt(c), kTaskSetup);
      if (!c.has_duration() || (c.duration().seconds() == 0 && c.duration().nanos() == 0)) {
        *out.add_spans() = Operation(StartedAt(c), UpdatedAt(c), kTaskRuntime);
      } else {
        const Timestamp end = Plus(c.started_at(), c.duration());
        *out.add_spans() = Operation(StartedAt(c), &end, kTaskRuntime);
        if (!Before(c.updated_at(), end))
          *out.add_spans() = Operation(&end, UpdatedAt(c), kTaskTeardown);
      }
    }
    if (c.has_created_at()) *out.mutable_start_time() = c.created_at();
    if (c.has_updated_at()) *out.mutable_end_time() = c.updated_at();
    *out.mutable_task_id() = task.id();
  }

  static void ParseTaskExecutions(std::vector<admin::TaskExecution>& tasks, core::Span& out,
                                  int depth) {
    std::stable_sort(tasks.begin(), tasks.end(),
                     [](const admin::TaskExecution& a, const admin::TaskExecution& b) {
                       return Before(a.closure().created_at(), b.closure().created_at());
                     });
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (i > 0) {
        *out.add_spans() =
            Operation(UpdatedAt(tasks[i - 1].closure()), CreatedAt(tasks[i].closure()), kNodeReset);
      }
      if (depth != 0) ParseTaskExecution(tasks[i], *out.add_spans());
    }
  }

  Status ParseTaskNode(const admin::NodeExecution& node, core::Span& out, int depth) {
    auto tasks = ListTaskExecutions(node.id());
    if (!tasks.ok()) return tasks.status();
    const auto& c = node.closure();
    if (tasks->empty()) {
      *out.add_spans() = Operation(CreatedAt(c), UpdatedAt(c), kNodeSetup);
      return Status::Ok();
    }
    *out.add_spans() = Operation(CreatedAt(c), CreatedAt(tasks->front().closure()), kNodeSetup);
    ParseTaskExecutions(tasks.value(), out, depth);
    const auto& last = tasks->back().closure();
    if (!Before(c.updated_at(), last.updated_at()))
      *out.add_spans() = Operation(UpdatedAt(last), UpdatedAt(c), kNodeTeardown);
    return Status::Ok();
  }

  Status ParseDynamicNode(const admin::NodeExecution& node, core::Span& out, int depth) {
    auto tasks = ListTaskExecutions(node.id());
    if (!tasks.ok()) return tasks.status();
    const auto& c = node.closure();
    if (tasks->empty()) {
      *out.add_spans() = Operation(CreatedAt(c), UpdatedAt(c), kNodeSetup);
      return Status::Ok();
    }
    *out.add_spans() = Operation(CreatedAt(c), CreatedAt(tasks->front().closure()), kNodeSetup);
    ParseTaskExecutions(tasks.value(), out, depth);
    auto children = ListNodeExecutions(node.id().execution_id(), &node.id().node_id());
    if (!children.ok()) return children.status();
    const auto& last = tasks->back().closure();
    if (children->empty()) {
      if (!Before(c.updated_at(), last.updated_at()))
        *out.add_spans() = Operation(UpdatedAt(last), UpdatedAt(c), kNodeReset);
      return Status::Ok();
    }
    auto start = children->find(kStartNode);
    *out.add_spans() = Operation(
        UpdatedAt(last), start == children->end() ? nullptr : UpdatedAt(start->second.closure()),
        kNodeReset);
    auto workflow = DynamicWorkflow(node.id());
    if (!workflow.ok()) return workflow.status();
    return ParseChildren(children.value(), workflow.value(), c, out, depth);
  }

  Status ParseBranchNode(const admin::NodeExecution& node, const core::BranchNode& branch,
                         core::Span& out, int depth) {
    auto children = ListNodeExecutions(node.id().execution_id(), &node.id().node_id());
    if (!children.ok()) return children.status();
    const auto& c = node.closure();
    if (children->empty()) {
      *out.add_spans() = Operation(CreatedAt(c), UpdatedAt(c), kNodeSetup);
      return Status::Ok();
    }
    if (children->size() != 1) {
      return plugin::Internal("invalid branch node execution: expected 1 but found " +
                              std::to_string(children->size()) + " node execution(s)");
    }
    const auto& taken = children->begin()->second;
    const core::Node* target = BranchNodeFor(taken.metadata().spec_node_id(), branch);
    if (target == nullptr) {
      return plugin::Internal("failed to identify branch node final node definition for nodeID '" +
                              taken.metadata().spec_node_id() + "' and branchNode '" +
                              plugin::GoProtoText(branch) + "'");
    }
    *out.add_spans() = Operation(CreatedAt(c), CreatedAt(taken.closure()), kNodeSetup);
    if (auto s = ParseNodeExecution(taken, *target, *out.add_spans(), depth); !s.ok()) return s;
    if (!Before(c.updated_at(), taken.closure().updated_at())) {
      *out.add_spans() = Operation(UpdatedAt(taken.closure()), UpdatedAt(c), kNodeTeardown);
    }
    return Status::Ok();
  }

  static void ParseGateNode(const admin::NodeExecution& node, core::Span& out) {
    const auto& c = node.closure();
    if (!c.has_started_at() || IsZero(c.started_at())) {
      *out.add_spans() = Operation(CreatedAt(c), UpdatedAt(c), kNodeSetup);
      return;
    }
    *out.add_spans() = Operation(CreatedAt(c), StartedAt(c), kNodeSetup);
    if (!c.has_duration() || (c.duration().seconds() == 0 && c.duration().nanos() == 0)) {
      *out.add_spans() = Operation(StartedAt(c), UpdatedAt(c), kNodeIdle);
    } else {
      const Timestamp end = Plus(c.started_at(), c.duration());
      *out.add_spans() = Operation(StartedAt(c), &end, kNodeIdle);
      *out.add_spans() = Operation(&end, UpdatedAt(c), kNodeTeardown);
    }
  }

  Status ParseLaunchPlanNode(const admin::NodeExecution& node, core::Span& out, int depth) {
    const auto& c = node.closure();
    if (!c.has_workflow_node_metadata()) {
      *out.add_spans() = Operation(CreatedAt(c), UpdatedAt(c), kNodeSetup);
      return Status::Ok();
    }
    auto execution = GetExecution(c.workflow_node_metadata().executionid());
    if (!execution.ok()) return execution.status();
    const auto& child = execution->closure();
    *out.add_spans() = Operation(CreatedAt(c), CreatedAt(child), kNodeSetup);
    if (auto s = ParseExecution(execution.value(), depth, *out.add_spans()); !s.ok()) return s;
    if (!Before(c.updated_at(), child.updated_at()))
      *out.add_spans() = Operation(UpdatedAt(child), UpdatedAt(c), kNodeTeardown);
    return Status::Ok();
  }

  Status ParseSubworkflowNode(const admin::NodeExecution& node, const core::Identifier& workflow_id,
                              core::Span& out, int depth) {
    auto children = ListNodeExecutions(node.id().execution_id(), &node.id().node_id());
    if (!children.ok()) return children.status();
    const auto& c = node.closure();
    if (children->empty()) {
      *out.add_spans() = Operation(CreatedAt(c), UpdatedAt(c), kNodeSetup);
      return Status::Ok();
    }
    auto start = children->find(kStartNode);
    *out.add_spans() = Operation(
        CreatedAt(c), start == children->end() ? nullptr : UpdatedAt(start->second.closure()),
        kNodeSetup);
    auto workflow = GetWorkflowClosure(&workflow_id);
    if (!workflow.ok()) return workflow.status();
    return ParseChildren(children.value(), workflow.value(), c, out, depth);
  }

  Status ParseNodeExecution(const admin::NodeExecution& node, const core::Node& definition,
                            core::Span& out, int depth) {
    if (depth != 0) {
      Status status;
      switch (definition.target_case()) {
        case core::Node::kBranchNode:
          status = ParseBranchNode(node, definition.branch_node(), out, depth - 1);
          break;
        case core::Node::kGateNode:
          ParseGateNode(node, out);
          break;
        case core::Node::kTaskNode:
          status = node.metadata().is_parent_node() ? ParseDynamicNode(node, out, depth - 1)
                                                    : ParseTaskNode(node, out, depth - 1);
          break;
        case core::Node::kWorkflowNode: {
          const auto& wf = definition.workflow_node();
          if (wf.has_launchplan_ref()) {
            status = ParseLaunchPlanNode(node, out, depth - 1);
          } else if (wf.has_sub_workflow_ref()) {
            status = ParseSubworkflowNode(node, wf.sub_workflow_ref(), out, depth - 1);
          } else {
            status =
                plugin::Internal("failed to identify workflow node type for node: &{WorkflowNode:" +
                                 plugin::GoProtoText(wf) + "}");
          }
          break;
        }
        default:
          // Other node kinds (e.g. array nodes) get no breakdown, so the rest still shows.
          break;
      }
      if (!status.ok()) return status;
    }
    const auto& c = node.closure();
    if (c.has_created_at()) *out.mutable_start_time() = c.created_at();
    if (c.has_updated_at()) *out.mutable_end_time() = c.updated_at();
    *out.mutable_node_id() = node.id();
    return Status::Ok();
  }

  // The spans of a node's child executions, then its teardown after the end node's upstream
  // (sub-workflow and dynamic nodes).
  Status ParseChildren(const NodeExecutions& children, const core::CompiledWorkflowClosure& workflow,
                       const admin::NodeExecutionClosure& c, core::Span& out, int depth) {
    if (auto s = ParseNodeExecutions(children, workflow, out, depth); !s.ok()) return s;
    const auto* latest = LatestUpstream(kEndNode, workflow, children);
    if (latest != nullptr && !Before(c.updated_at(), latest->closure().updated_at())) {
      *out.add_spans() = Operation(UpdatedAt(latest->closure()), UpdatedAt(c), kNodeTeardown);
    }
    return Status::Ok();
  }

  Status ParseNodeExecutions(const NodeExecutions& executions,
                             const core::CompiledWorkflowClosure& workflow, core::Span& out,
                             int depth) {
    std::vector<const admin::NodeExecution*> sorted;
    for (const auto& [_, e] : executions) sorted.push_back(&e);
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const admin::NodeExecution* a, const admin::NodeExecution* b) {
                       return Before(a->closure().created_at(), b->closure().created_at());
                     });
    for (const auto* node : sorted) {
      const auto& spec_id = node->metadata().spec_node_id();
      if (spec_id == kStartNode || spec_id == kEndNode) continue;
      const core::Node* definition = nullptr;
      for (const auto& n : workflow.primary().template_().nodes()) {
        if (n.id() == spec_id) definition = &n;
      }
      if (definition == nullptr) {
        const auto& tmpl = workflow.primary().template_();
        return plugin::Internal("failed to discover workflow node '" + spec_id + "' in workflow '" +
                                (tmpl.has_id() ? plugin::GoProtoText(tmpl.id()) : std::string("<nil>")) +
                                "'");
      }
      core::Span span;
      if (auto s = ParseNodeExecution(*node, *definition, span, depth); !s.ok()) return s;
      if (const auto* latest = LatestUpstream(spec_id, workflow, executions)) {
        core::Span transition =
            Operation(UpdatedAt(latest->closure()), CreatedAt(node->closure()), kNodeTransition);
        span.mutable_spans()->Add(std::move(transition));
        std::rotate(span.mutable_spans()->rbegin(), span.mutable_spans()->rbegin() + 1,
                    span.mutable_spans()->rend());
      }
      *out.add_spans() = std::move(span);
    }
    return Status::Ok();
  }

  static constexpr size_t kMaxNestedExecutions = 100;
  plugin::db::Repositories& db_;
  plugin::ObjectStore& store_;
  const RemoteDataSettings& data_;
  std::vector<std::string> path_;
};


}  // namespace

Status MetricsManagerImpl::GetExecutionMetrics(
    plugin::CallContext&, const admin::WorkflowExecutionGetMetricsRequest& request,
    admin::WorkflowExecutionGetMetricsResponse& response) {
  if (auto s = ValidateWorkflowExecutionId(request.has_id() ? &request.id() : nullptr); !s.ok()) return s;
  auto db = services_.Db();
  if (!db.ok()) return db.status();
  auto store = services_.Storage();
  if (!store.ok()) return store.status();
  SpanBuilder builder(*db.value(), *store.value(), data_);
  auto execution = builder.GetExecution(request.id());
  if (!execution.ok()) return execution.status();
  core::Span span;
  if (auto s = builder.ParseExecution(execution.value(), request.depth(), span); !s.ok()) return s;
  *response.mutable_span() = std::move(span);
  return Status::Ok();
}

}  // namespace flyte::plugins::manager
