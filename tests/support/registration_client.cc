// flytectl's register flow, reproduced for tests: ordering, hydration, create RPCs.
#include "registration_client.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace flyte::test {

namespace {

std::string ReadAll(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void HydrateId(flyteidl::core::Identifier* id, const Target& t) {
  if (id->project().empty() || id->project() == "{{ registration.project }}") id->set_project(t.project);
  if (id->domain().empty() || id->domain() == "{{ registration.domain }}") id->set_domain(t.domain);
  if (id->version().empty() || id->version() == "{{ registration.version }}") id->set_version(t.version);
}

void HydrateNode(flyteidl::core::Node* node, const Target& t) {
  if (node->has_task_node() && node->task_node().has_reference_id()) {
    HydrateId(node->mutable_task_node()->mutable_reference_id(), t);
  }
  if (node->has_workflow_node()) {
    auto* wn = node->mutable_workflow_node();
    if (wn->has_launchplan_ref()) HydrateId(wn->mutable_launchplan_ref(), t);
    if (wn->has_sub_workflow_ref()) HydrateId(wn->mutable_sub_workflow_ref(), t);
  }
  if (node->has_branch_node()) {
    auto* ie = node->mutable_branch_node()->mutable_if_else();
    if (ie->has_case_() && ie->case_().has_then_node()) HydrateNode(ie->mutable_case_()->mutable_then_node(), t);
    for (auto& other : *ie->mutable_other()) {
      if (other.has_then_node()) HydrateNode(other.mutable_then_node(), t);
    }
    if (ie->has_else_node()) HydrateNode(ie->mutable_else_node(), t);
  }
  if (node->has_array_node() && node->array_node().has_node()) {
    HydrateNode(node->mutable_array_node()->mutable_node(), t);
  }
}

void HydrateTemplate(flyteidl::core::WorkflowTemplate* wf, const Target& t) {
  for (auto& node : *wf->mutable_nodes()) HydrateNode(&node, t);
  if (wf->has_failure_node()) HydrateNode(wf->mutable_failure_node(), t);
  HydrateId(wf->mutable_id(), t);
}

void PatchArgs(google::protobuf::RepeatedPtrField<std::string>* args, const Target& t) {
  for (auto& a : *args) {
    if (a == "{{ .remote_package_path }}") a = t.fast_upload_location;
    if (a == "{{ .dest_dir }}") a = ".";
  }
}

}  // namespace

std::string FlytesnacksCoreDir() {
  return std::string(FLYTE_SOURCE_DIR) + "/../shared/fixtures/pyflyte-packages/flytesnacks-core";
}

std::vector<PackageEntry> ReadPackage(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::string name = e.path().filename().string();
    if (name.size() > 3 && name.substr(name.size() - 3) == ".pb") names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  std::vector<PackageEntry> out;
  for (const auto& name : names) {
    std::string bytes = ReadAll(std::filesystem::path(dir) / name);
    char kind = name[name.size() - 4];
    PackageEntry entry{name, flyteidl::admin::TaskSpec()};
    // The suffix picks the first message tried; the others follow in flytectl's order.
    std::vector<char> order = {kind};
    for (char k : {'1', '2', '3'}) {
      if (k != kind) order.push_back(k);
    }
    bool parsed = false;
    for (char k : order) {
      if (k == '1') {
        flyteidl::admin::TaskSpec s;
        if (s.ParseFromString(bytes) && s.has_template_()) { entry.spec = s; parsed = true; }
      } else if (k == '2') {
        flyteidl::admin::WorkflowSpec s;
        if (s.ParseFromString(bytes) && s.has_template_()) { entry.spec = s; parsed = true; }
      } else {
        flyteidl::admin::LaunchPlan s;
        if (s.ParseFromString(bytes) && s.has_spec()) { entry.spec = s; parsed = true; }
      }
      if (parsed) break;
    }
    if (!parsed) throw std::runtime_error("cannot parse " + name);
    out.push_back(std::move(entry));
  }
  return out;
}

void Hydrate(PackageEntry& entry, const Target& t) {
  if (auto* task = std::get_if<flyteidl::admin::TaskSpec>(&entry.spec)) {
    auto* tmpl = task->mutable_template_();
    HydrateId(tmpl->mutable_id(), t);
    if (tmpl->has_container()) PatchArgs(tmpl->mutable_container()->mutable_args(), t);
  } else if (auto* wf = std::get_if<flyteidl::admin::WorkflowSpec>(&entry.spec)) {
    HydrateTemplate(wf->mutable_template_(), t);
    for (auto& sub : *wf->mutable_sub_workflows()) HydrateTemplate(&sub, t);
  } else if (auto* lp = std::get_if<flyteidl::admin::LaunchPlan>(&entry.spec)) {
    HydrateId(lp->mutable_id(), t);
    HydrateId(lp->mutable_spec()->mutable_workflow_id(), t);
  }
}

RegisterResult Register(flyteidl::service::AdminService::Stub& stub, const PackageEntry& entry,
                        const Target& t) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  grpc::Status status;
  auto set_id = [&](flyteidl::core::Identifier* id, flyteidl::core::ResourceType rt,
                    const flyteidl::core::Identifier& from) {
    id->set_resource_type(rt);
    id->set_project(t.project);
    id->set_domain(t.domain);
    id->set_name(from.name());
    id->set_version(from.version());
  };
  if (const auto* task = std::get_if<flyteidl::admin::TaskSpec>(&entry.spec)) {
    flyteidl::admin::TaskCreateRequest req;
    set_id(req.mutable_id(), flyteidl::core::TASK, task->template_().id());
    *req.mutable_spec() = *task;
    flyteidl::admin::TaskCreateResponse resp;
    status = stub.CreateTask(&ctx, req, &resp);
  } else if (const auto* wf = std::get_if<flyteidl::admin::WorkflowSpec>(&entry.spec)) {
    flyteidl::admin::WorkflowCreateRequest req;
    set_id(req.mutable_id(), flyteidl::core::WORKFLOW, wf->template_().id());
    *req.mutable_spec() = *wf;
    flyteidl::admin::WorkflowCreateResponse resp;
    status = stub.CreateWorkflow(&ctx, req, &resp);
  } else if (const auto* lp = std::get_if<flyteidl::admin::LaunchPlan>(&entry.spec)) {
    flyteidl::admin::LaunchPlanCreateRequest req;
    set_id(req.mutable_id(), flyteidl::core::LAUNCH_PLAN, lp->id());
    *req.mutable_spec() = lp->spec();
    flyteidl::admin::LaunchPlanCreateResponse resp;
    status = stub.CreateLaunchPlan(&ctx, req, &resp);
  }
  return {entry.file, status.error_code(), status.error_message()};
}

}  // namespace flyte::test
