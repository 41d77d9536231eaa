// The helpers of local_executor_support.h.
#include "local_executor_support.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <thread>

namespace flyte::test::local {

namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

namespace {

std::vector<std::string> Layers(const ServerOptions& options) {
  if (options.data_dir.empty()) return {};
  return {"database:\n  sqlite:\n    file: " + options.data_dir +
          "/admin.db\nstorage:\n  stow:\n    config:\n      path: " + options.data_dir +
          "/storage\n"};
}

using Stub = flyteidl::service::AdminService::Stub;

// Calls the admin's `rpc` with `req`, failing the test on an error status.
template <typename Req, typename Resp>
Resp Call(LocalServer& s, grpc::Status (Stub::*rpc)(grpc::ClientContext*, const Req&, Resp*),
          const Req& req) {
  grpc::ClientContext ctx;
  Resp resp;
  auto st = (s.stub.get()->*rpc)(&ctx, req, &resp);
  INFO(st.error_message());
  REQUIRE(st.ok());
  return resp;
}

}  // namespace

std::string Plugins(const ServerOptions& options) {
  std::string out =
      "    - name: flyte_manager_project\n"
      "    - name: flyte_manager_task\n"
      "    - name: flyte_manager_workflow\n"
      "    - name: flyte_manager_launch_plan\n";
  if (options.signal) out += "    - name: flyte_manager_signal\n";
  out +=
      "    - name: flyte_manager_execution\n"
      "    - name: flyte_manager_node_execution\n"
      "    - name: flyte_manager_task_execution\n";
  if (options.metrics) out += "    - name: flyte_manager_metrics\n";
  return out +
         "    - name: flyte_executor_local\n"
         "      config:\n"
         "        terminationGracePeriod: " +
         std::to_string(options.termination_grace_period_ms) + "\n" + options.executor_config;
}

LocalServer::LocalServer(const ServerOptions& options)
    : served(Plugins(options), Layers(options)),
      stub(flyteidl::service::AdminService::NewStub(served.channel())),
      signals(flyteidl::service::SignalService::NewStub(served.channel())) {}

void LocalServer::Stop() {
  stub.reset();
  signals.reset();
  served.Stop();
}

core::Identifier Id(core::ResourceType type, const std::string& name) {
  core::Identifier id;
  id.set_resource_type(type);
  id.set_project(kProject);
  id.set_domain(kDomain);
  id.set_name(name);
  id.set_version(kVersion);
  return id;
}

core::BindingData Promise(const std::string& node, const std::string& var) {
  core::BindingData b;
  b.mutable_promise()->set_node_id(node);
  b.mutable_promise()->set_var(var);
  return b;
}

core::BindingData Scalar(int64_t v) {
  core::BindingData b;
  *b.mutable_scalar() = Int(v).scalar();
  return b;
}

core::LiteralType IntList() {
  core::LiteralType t;
  *t.mutable_collection_type() = Simple(core::INTEGER);
  return t;
}

admin::TaskCreateRequest ProgramTask(const std::string& name, const std::vector<std::string>& args,
                                     const core::LiteralType& number,
                                     const core::LiteralType& text) {
  admin::TaskCreateRequest req;
  *req.mutable_id() = Id(core::TASK, name);
  auto* t = req.mutable_spec()->mutable_template_();
  *t->mutable_id() = req.id();
  t->set_type("python-task");
  t->mutable_metadata()->mutable_runtime()->set_type(core::RuntimeMetadata::FLYTE_SDK);
  t->mutable_metadata()->mutable_runtime()->set_version("1.16.0");
  auto* in = t->mutable_interface()->mutable_inputs()->mutable_variables();
  *(*in)["a"].mutable_type() = number;
  *(*in)["b"].mutable_type() = number;
  auto* out = t->mutable_interface()->mutable_outputs()->mutable_variables();
  *(*out)["c"].mutable_type() = number;
  *(*out)["info"].mutable_type() = text;
  auto* c = t->mutable_container();
  c->set_image("local/none:latest");
  c->add_command(LOCAL_TASK_PROGRAM);
  for (const auto& a : args) c->add_args(a);
  return req;
}

void CreateTask(LocalServer& s, const admin::TaskCreateRequest& req) {
  Call(s, &Stub::CreateTask, req);
}

void RegisterTask(LocalServer& s, const std::string& name, const std::vector<std::string>& args,
                  uint32_t retries, const std::vector<std::pair<std::string, std::string>>& env) {
  auto req = ProgramTask(name, args);
  auto* t = req.mutable_spec()->mutable_template_();
  if (retries > 0) t->mutable_metadata()->mutable_retries()->set_retries(retries);
  for (const auto& [k, v] : env) {
    auto* kv = t->mutable_container()->add_env();
    kv->set_key(k);
    kv->set_value(v);
  }
  CreateTask(s, req);
}

core::Node TaskNode(const std::string& id, const std::string& task, const core::BindingData& a,
                    const core::BindingData& b) {
  core::Node node;
  node.set_id(id);
  node.mutable_metadata()->set_name(id + "-name");
  *node.mutable_task_node()->mutable_reference_id() = Id(core::TASK, task);
  Bind(node, "a", a);
  Bind(node, "b", b);
  return node;
}

void Bind(core::Node& node, const std::string& var, const core::BindingData& data) {
  auto* b = node.add_inputs();
  b->set_var(var);
  *b->mutable_binding() = data;
}

core::WorkflowTemplate Template(
    const std::string& name, const std::vector<core::Node>& nodes,
    const std::vector<std::pair<std::string, core::BindingData>>& outputs) {
  core::WorkflowTemplate wf;
  *wf.mutable_id() = Id(core::WORKFLOW, name);
  auto* in = wf.mutable_interface()->mutable_inputs()->mutable_variables();
  *(*in)["x"].mutable_type() = Simple(core::INTEGER);
  *(*in)["y"].mutable_type() = Simple(core::INTEGER);
  auto* out = wf.mutable_interface()->mutable_outputs()->mutable_variables();
  for (const auto& [var, binding] : outputs) {
    *(*out)[var].mutable_type() = Simple(core::INTEGER);
    auto* o = wf.add_outputs();
    o->set_var(var);
    *o->mutable_binding() = binding;
  }
  for (const auto& n : nodes) *wf.add_nodes() = n;
  return wf;
}

core::Identifier Register(LocalServer& s, const core::WorkflowTemplate& wf,
                          const std::vector<core::WorkflowTemplate>& subs) {
  admin::WorkflowCreateRequest req;
  *req.mutable_id() = wf.id();
  *req.mutable_spec()->mutable_template_() = wf;
  for (const auto& sub : subs) *req.mutable_spec()->add_sub_workflows() = sub;
  Call(s, &Stub::CreateWorkflow, req);
  admin::LaunchPlanCreateRequest lp;
  *lp.mutable_id() = Id(core::LAUNCH_PLAN, wf.id().name());
  *lp.mutable_spec()->mutable_workflow_id() = wf.id();
  auto* params = lp.mutable_spec()->mutable_default_inputs()->mutable_parameters();
  for (const char* v : {"x", "y"}) {
    *(*params)[v].mutable_var()->mutable_type() = Simple(core::INTEGER);
    (*params)[v].set_required(true);
  }
  Call(s, &Stub::CreateLaunchPlan, lp);
  return lp.id();
}

core::WorkflowExecutionIdentifier Launch(LocalServer& s, const core::Identifier& lp,
                                         const std::string& name, int64_t x, int64_t y,
                                         const LaunchOptions& options) {
  admin::ExecutionCreateRequest req;
  req.set_project(kProject);
  req.set_domain(kDomain);
  req.set_name(name);
  *req.mutable_spec()->mutable_launch_plan() = lp;
  if (options.max_parallelism > 0) req.mutable_spec()->set_max_parallelism(options.max_parallelism);
  if (options.interruptible) req.mutable_spec()->mutable_interruptible()->set_value(true);
  for (const auto& [k, v] : options.envs) {
    auto* env = req.mutable_spec()->mutable_envs()->add_values();
    env->set_key(k);
    env->set_value(v);
  }
  (*req.mutable_inputs()->mutable_literals())["x"] = Int(x);
  (*req.mutable_inputs()->mutable_literals())["y"] = Int(y);
  return Call(s, &Stub::CreateExecution, req).id();
}

admin::Execution Get(LocalServer& s, const core::WorkflowExecutionIdentifier& id) {
  admin::WorkflowExecutionGetRequest req;
  *req.mutable_id() = id;
  return Call(s, &Stub::GetExecution, req);
}

bool Terminal(core::WorkflowExecution::Phase p) {
  return p == core::WorkflowExecution::SUCCEEDED || p == core::WorkflowExecution::FAILED ||
         p == core::WorkflowExecution::ABORTED || p == core::WorkflowExecution::TIMED_OUT;
}

void Terminate(LocalServer& s, const core::WorkflowExecutionIdentifier& id,
               const std::string& cause) {
  admin::ExecutionTerminateRequest req;
  *req.mutable_id() = id;
  req.set_cause(cause);
  Call(s, &Stub::TerminateExecution, req);
}

admin::Execution WaitTerminal(LocalServer& s, const core::WorkflowExecutionIdentifier& id,
                              std::chrono::seconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (true) {
    auto e = Get(s, id);
    if (Terminal(e.closure().phase())) return e;
    if (std::chrono::steady_clock::now() > deadline) {
      FAIL("execution " << id.name() << " still "
                        << core::WorkflowExecution::Phase_Name(e.closure().phase()));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::map<std::string, admin::NodeExecution> Nodes(LocalServer& s,
                                                  const core::WorkflowExecutionIdentifier& id,
                                                  const std::string& parent) {
  admin::NodeExecutionListRequest req;
  *req.mutable_workflow_execution_id() = id;
  req.set_limit(100);
  req.set_unique_parent_id(parent);
  const auto list = Call(s, &Stub::ListNodeExecutions, req);
  std::map<std::string, admin::NodeExecution> out;
  for (const auto& n : list.node_executions()) out[n.id().node_id()] = n;
  return out;
}

std::vector<std::string> Keys(const std::map<std::string, admin::NodeExecution>& nodes) {
  std::vector<std::string> out;
  for (const auto& [k, v] : nodes) out.push_back(k);
  return out;
}

std::vector<admin::TaskExecution> Tasks(LocalServer& s, const core::WorkflowExecutionIdentifier& id,
                                        const std::string& node) {
  admin::TaskExecutionListRequest req;
  *req.mutable_node_execution_id()->mutable_execution_id() = id;
  req.mutable_node_execution_id()->set_node_id(node);
  req.set_limit(100);
  req.mutable_sort_by()->set_key("retry_attempt");
  req.mutable_sort_by()->set_direction(admin::Sort::ASCENDING);
  const auto list = Call(s, &Stub::ListTaskExecutions, req);
  return {list.task_executions().begin(), list.task_executions().end()};
}

core::LiteralMap Outputs(LocalServer& s, const core::WorkflowExecutionIdentifier& id) {
  admin::WorkflowExecutionGetDataRequest req;
  *req.mutable_id() = id;
  return Call(s, &Stub::GetExecutionData, req).full_outputs();
}

int64_t IntOf(const core::LiteralMap& m, const std::string& var) {
  auto it = m.literals().find(var);
  REQUIRE(it != m.literals().end());
  return it->second.scalar().primitive().integer();
}

pid_t WaitForPid(const std::string& file) {
  pid_t pid = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (pid == 0 && std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(file);
    in >> pid;
    if (pid == 0) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return pid;
}

}  // namespace flyte::test::local
