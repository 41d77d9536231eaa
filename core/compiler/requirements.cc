// The tasks and launch plans a workflow needs (upstream requirements.go and common/id_set.go).
#include <tuple>

#include "flyte/plugin/go_compat.h"
#include "workflow_builder.h"

namespace flyte::core::compiler::internal {
namespace {

using flyteidl::core::Identifier;
using flyteidl::core::Node;
using flyteidl::core::WorkflowTemplate;

class IdentifierSet {
 public:
  void Insert(const Identifier& id) { items_.emplace(IdKey(&id), id); }

  // Sorted by (resource type, project, domain, name, version); ties by key for determinism.
  std::vector<Identifier> List() const {
    std::vector<std::pair<std::string, const Identifier*>> v;
    v.reserve(items_.size());
    for (const auto& [k, id] : items_) v.emplace_back(k, &id);
    std::stable_sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
      const Identifier& x = *a.second;
      const Identifier& y = *b.second;
      return std::make_tuple(static_cast<int>(x.resource_type()), std::cref(x.project()),
                             std::cref(x.domain()), std::cref(x.name()), std::cref(x.version()),
                             std::cref(a.first)) <
             std::make_tuple(static_cast<int>(y.resource_type()), std::cref(y.project()),
                             std::cref(y.domain()), std::cref(y.name()), std::cref(y.version()),
                             std::cref(b.first));
    });
    std::vector<Identifier> out;
    out.reserve(v.size());
    for (const auto& [k, id] : v) out.push_back(*id);
    return out;
  }

 private:
  std::map<std::string, Identifier> items_;
};

class Walker {
 public:
  Walker(const SubWorkflowLookup& lookup, bool follow, const CompileErrors& errs)
      : lookup_(lookup), follow_(follow), errs_(errs) {}

  void Workflow(const WorkflowTemplate& wf) {
    for (const auto& n : wf.nodes()) Visit(n);
    if (wf.has_failure_node()) Visit(wf.failure_node());
  }

  IdentifierSet tasks;
  IdentifierSet launch_plans;

 private:
  void Visit(const Node& node) {
    if (node.has_task_node() && node.task_node().has_reference_id()) {
      tasks.Insert(node.task_node().reference_id());
    } else if (node.has_workflow_node()) {
      const auto& wn = node.workflow_node();
      if (wn.has_launchplan_ref()) {
        launch_plans.Insert(wn.launchplan_ref());
      } else if (wn.has_sub_workflow_ref() && follow_) {
        std::string key = IdKey(&wn.sub_workflow_ref());
        const WorkflowTemplate* sub = lookup_(key);
        if (sub == nullptr) {
          errs_.Collect(WorkflowReferenceNotFoundError(node.id(), key));
        } else if (visited_.insert(key).second) {
          // Revisiting a sub-workflow adds nothing new (sets, identical errors), so each is walked
          // once; this also ends the walk on sub-workflows that reference themselves.
          Workflow(*sub);
        }
      }
    } else if (node.has_branch_node()) {
      const auto& ie = node.branch_node().if_else();
      Visit(ie.case_().then_node());
      for (const auto& other : ie.other()) Visit(other.then_node());
      if (ie.has_else_node()) Visit(ie.else_node());
    } else if (node.has_array_node()) {
      Visit(node.array_node().node());
    }
  }

  const SubWorkflowLookup& lookup_;
  bool follow_;
  CompileErrors errs_;
  std::set<std::string> visited_;
};

}  // namespace

std::string IdKey(const Identifier* id) { return plugin::GoProtoTextOrNil(id); }

Requirements CollectRequirements(const WorkflowTemplate& workflow, const SubWorkflowLookup& lookup,
                                 bool follow_sub_workflows, const CompileErrors& errs) {
  Walker walker(lookup, follow_sub_workflows, errs);
  walker.Workflow(workflow);
  return Requirements{walker.tasks.List(), walker.launch_plans.List()};
}

}  // namespace flyte::core::compiler::internal
