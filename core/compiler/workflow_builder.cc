// Compiling one workflow: rebuilding its node list, edges, reachability and connections
// (upstream workflow_compiler.go and builders.go).
#include "workflow_builder.h"

#include <algorithm>

#include "flyte/plugin/go_compat.h"

namespace flyte::core::compiler::internal {

using flyteidl::core::CompiledWorkflow;
using flyteidl::core::Identifier;
using flyteidl::core::Node;
using flyteidl::core::TaskTemplate;
using flyteidl::core::TypedInterface;
using flyteidl::core::WorkflowTemplate;

WorkflowBuilder::WorkflowBuilder(CompiledWorkflow* workflow, CompileContext* context)
    : workflow_(workflow), context_(context) {}

WorkflowBuilder::~WorkflowBuilder() = default;

NodeBuilder* WorkflowBuilder::GetOrCreateNodeBuilder(Node* node) {
  auto& slot = builders_[node];
  if (!slot) {
    slot = std::make_unique<NodeBuilder>();
    slot->node = node;
  }
  return slot.get();
}

NodeBuilder* WorkflowBuilder::GetNode(const std::string& id) {
  auto it = nodes_.find(id);
  return it == nodes_.end() ? nullptr : it->second;
}

TaskTemplate* WorkflowBuilder::GetTask(const Identifier& id) {
  auto it = tasks_.find(IdKey(&id));
  return it == tasks_.end() ? nullptr : it->second;
}

const plugin::LaunchPlanInterface* WorkflowBuilder::GetLaunchPlan(const Identifier& id) {
  auto it = launch_plans_.find(IdKey(&id));
  return it == launch_plans_.end() ? nullptr : it->second;
}

CompiledWorkflow* WorkflowBuilder::GetSubWorkflow(const Identifier& id) {
  auto it = context_->sub_workflows.find(IdKey(&id));
  return it == context_->sub_workflows.end() ? nullptr : it->second;
}

bool WorkflowBuilder::HasCompiledSubWorkflow(const std::string& key) const {
  return compiled_sub_workflows_.count(key) > 0;
}

void WorkflowBuilder::StoreCompiledSubWorkflow(const std::string& key) {
  compiled_sub_workflows_.insert(key);
}

TypedInterface* WorkflowBuilder::NewInterface(TypedInterface iface) {
  interfaces_.push_back(std::make_unique<TypedInterface>(std::move(iface)));
  return interfaces_.back().get();
}

void WorkflowBuilder::AddUpstreamEdge(const std::string& provider, const std::string& dependent) {
  upstream_[dependent].insert(provider.empty() ? kStartNodeId : provider);
}

void WorkflowBuilder::AddDownstreamEdge(const std::string& provider, const std::string& dependent) {
  downstream_[provider.empty() ? kStartNodeId : provider].insert(dependent);
}

void WorkflowBuilder::AddExecutionEdge(const std::string& from, const std::string& to) {
  AddDownstreamEdge(from, to);
  AddUpstreamEdge(from, to);
}

bool WorkflowBuilder::AddEdges(NodeBuilder* n, EdgeDirection direction, const CompileErrors& errs) {
  // A node whose interface could not be resolved gets no edges.
  if (n->iface == nullptr) return false;
  if (direction == EdgeDirection::kDownstream || direction == EdgeDirection::kBidirectional) {
    // Copy: the ids are read while edges are added.
    std::vector<std::string> ups(n->node->upstream_node_ids().begin(),
                                 n->node->upstream_node_ids().end());
    for (const auto& up : ups) AddExecutionEdge(up, n->id());
  }
  bool ok = false;
  ValidateBindings(*this, n, n->node->mutable_inputs(), &n->iface->inputs(), true, direction,
                   errs.NewScope(), &ok);
  return ok;
}

NodeBuilder* WorkflowBuilder::AddNode(NodeBuilder* n) {
  if (nodes_.count(n->id()) > 0) return n;  // the first node with an id wins; no error
  nodes_[n->id()] = n;
  auto it = detached_.find(n->node);
  if (it != detached_.end()) {
    workflow_->mutable_template_()->mutable_nodes()->AddAllocated(it->second.release());
    detached_.erase(it);
  }
  return n;
}

void WorkflowBuilder::UpdateRequiredReferences() {
  auto lookup = [this](const std::string& key) -> const WorkflowTemplate* {
    auto it = context_->sub_workflows.find(key);
    return it == context_->sub_workflows.end() ? nullptr : &it->second->template_();
  };
  Requirements reqs = CollectRequirements(workflow_->template_(), lookup, false, CompileErrors());
  for (const auto& id : reqs.launch_plan_ids) {
    std::string key = IdKey(&id);
    auto it = context_->launch_plans.find(key);
    if (it != context_->launch_plans.end()) launch_plans_[key] = it->second;
  }
  for (const auto& id : reqs.task_ids) {
    std::string key = IdKey(&id);
    auto it = context_->tasks.find(key);
    if (it != context_->tasks.end()) tasks_[key] = it->second;
  }
}

bool WorkflowBuilder::ValidateAllRequirements(const CompileErrors& errs) {
  auto lookup = [this](const std::string& key) -> const WorkflowTemplate* {
    auto it = context_->sub_workflows.find(key);
    return it == context_->sub_workflows.end() ? nullptr : &it->second->template_();
  };
  Requirements reqs = CollectRequirements(workflow_->template_(), lookup, true, errs);
  for (const auto& id : reqs.launch_plan_ids) {
    std::string key = IdKey(&id);
    if (context_->launch_plans.count(key) == 0) {
      errs.Collect(WorkflowReferenceNotFoundError(kStartNodeId, key));
    }
  }
  for (const auto& id : reqs.task_ids) {
    std::string key = IdKey(&id);
    if (context_->tasks.count(key) == 0) {
      errs.Collect(TaskReferenceNotFoundError(kStartNodeId, key));
    }
  }
  return !errs.HasErrors();
}

bool WorkflowBuilder::ValidateReachable(const CompileErrors& errs) {
  // Depth-first from the start node over downstream edges, neighbours in sorted order (upstream
  // walks a Go map, so its order is unspecified); iterative so long chains cannot exhaust the
  // stack.
  static const std::set<std::string> kNone;
  auto neighbours = [this](const std::string& id) -> const std::set<std::string>& {
    auto it = downstream_.find(id);
    return it == downstream_.end() ? kNone : it->second;
  };
  std::set<std::string> visited;
  std::set<std::string> visiting;
  struct Frame {
    std::string id;
    std::set<std::string>::const_iterator next;
    std::set<std::string>::const_iterator end;
  };
  std::vector<Frame> stack;
  auto push = [&](const std::string& id) {
    visiting.insert(id);
    visited.insert(id);
    const auto& n = neighbours(id);
    stack.push_back(Frame{id, n.begin(), n.end()});
  };
  push(kStartNodeId);
  while (!stack.empty()) {
    Frame& top = stack.back();
    if (top.next == top.end) {
      visiting.erase(top.id);
      stack.pop_back();
      continue;
    }
    std::string next = *top.next++;
    if (visiting.count(next) > 0) {
      std::string cycle;
      for (const auto& f : stack) cycle += f.id + ">";
      cycle += next;
      errs.Collect(CycleDetectedError(kStartNodeId, cycle));
      return !errs.HasErrors();
    }
    // A node reached again outside the current path is explored again, as upstream does; its
    // subtree has no cycle through the current path, so the result is the same.
    if (visited.count(next) > 0) continue;
    push(next);
  }
  std::string unreachable;
  for (const auto& [id, unused] : nodes_) {
    if (id == kEndNodeId || visited.count(id) > 0) continue;
    if (!unreachable.empty()) unreachable += ",";
    unreachable += id;
  }
  if (!unreachable.empty()) errs.Collect(UnreachableNodesError(kStartNodeId, unreachable));
  return !errs.HasErrors();
}

void WorkflowBuilder::WriteConnections() {
  auto* connections = workflow_->mutable_connections();
  connections->Clear();
  for (const auto& [id, set] : downstream_) {
    auto& list = (*connections->mutable_downstream())[id];
    for (const auto& x : set) list.add_ids(x);
  }
  for (const auto& [id, set] : upstream_) {
    auto& list = (*connections->mutable_upstream())[id];
    for (const auto& x : set) list.add_ids(x);
  }
}

std::unique_ptr<WorkflowBuilder> WorkflowBuilder::ValidateWorkflow(CompiledWorkflow* fg,
                                                                   CompileContext* context,
                                                                   const CompileErrors& errs,
                                                                   bool* ok) {
  WorkflowTemplate* tmpl = fg->mutable_template_();
  if (tmpl->nodes_size() == 0) {
    errs.Collect(NoNodesFoundError(IdKey(tmpl->has_id() ? &tmpl->id() : nullptr)));
    *ok = !errs.HasErrors();
    return nullptr;
  }

  auto wf = std::make_unique<WorkflowBuilder>(fg, context);
  wf->UpdateRequiredReferences();

  if (!ValidateInterface(kStartNodeId, tmpl->mutable_interface(), errs.NewScope())) {
    *ok = !errs.HasErrors();
    return nullptr;
  }

  // Take the nodes out; they go back in the order they are added (start, end, then the user's).
  std::vector<Node*> checkpoint(tmpl->nodes_size());
  tmpl->mutable_nodes()->ExtractSubrange(0, tmpl->nodes_size(), checkpoint.data());
  for (Node* n : checkpoint) wf->detached_[n] = std::unique_ptr<Node>(n);
  fg->mutable_connections()->Clear();

  auto start = std::make_unique<Node>();
  start->set_id(kStartNodeId);
  Node* start_ptr = start.get();
  wf->detached_[start_ptr] = std::move(start);
  NodeBuilder* global_input = wf->AddNode(wf->GetOrCreateNodeBuilder(start_ptr));
  {
    TypedInterface iface;
    *iface.mutable_outputs() = tmpl->interface().inputs();
    global_input->iface = wf->NewInterface(std::move(iface));
  }

  auto end = std::make_unique<Node>();
  end->set_id(kEndNodeId);
  Node* end_ptr = end.get();
  wf->detached_[end_ptr] = std::move(end);
  NodeBuilder* global_output = wf->AddNode(wf->GetOrCreateNodeBuilder(end_ptr));
  {
    TypedInterface iface;
    *iface.mutable_inputs() = tmpl->interface().outputs();
    global_output->iface = wf->NewInterface(std::move(iface));
  }
  // Upstream shares the binding objects between the template's outputs and the end node's
  // inputs; we copy them and write the end node's (possibly rewritten) bindings back below.
  *end_ptr->mutable_inputs() = tmpl->outputs();

  std::set<std::string> top_level;
  for (Node* n : checkpoint) {
    top_level.insert(n->id());
    NodeBuilder* node = wf->AddNode(wf->GetOrCreateNodeBuilder(n));
    ValidateNode(*wf, node, false, errs.NewScope());
  }

  // Explicit and implicit edges. Iteration is over a sorted copy: edges never add nodes.
  std::vector<NodeBuilder*> all_nodes;
  all_nodes.reserve(wf->nodes_.size());
  for (const auto& [id, n] : wf->nodes_) all_nodes.push_back(n);
  for (NodeBuilder* n : all_nodes) {
    if (n->id() == kStartNodeId) continue;
    wf->AddEdges(n, EdgeDirection::kBidirectional, errs.NewScope());
  }

  if (tmpl->has_failure_node()) {
    NodeBuilder* failure = wf->GetOrCreateNodeBuilder(tmpl->mutable_failure_node());
    ValidateNode(*wf, failure, false, errs.NewScope());
    wf->AddEdges(failure, EdgeDirection::kUpstream, errs.NewScope());
  }

  // Nodes with no inputs from other nodes start with the workflow; nodes nobody consumes must
  // still finish before it ends.
  for (const auto& [id, n] : wf->nodes_) {
    if (id == kStartNodeId || id == kEndNodeId) continue;
    if (top_level.count(id) == 0) continue;
    if (wf->upstream_.count(id) == 0) wf->AddExecutionEdge(kStartNodeId, id);
    if (wf->downstream_.count(id) == 0) wf->AddExecutionEdge(id, kEndNodeId);
  }

  // The workflow's outputs are bound.
  if (ValidateInterface(global_output->id(), global_output->iface, errs.NewScope())) {
    bool bindings_ok = false;
    ValidateBindings(*wf, global_output, end_ptr->mutable_inputs(), &global_output->iface->inputs(),
                     true, EdgeDirection::kBidirectional, errs.NewScope(), &bindings_ok);
  }

  wf->ValidateReachable(errs.NewScope());
  wf->WriteConnections();
  *tmpl->mutable_outputs() = end_ptr->inputs();

  *ok = !errs.HasErrors();
  return wf;
}

}  // namespace flyte::core::compiler::internal
