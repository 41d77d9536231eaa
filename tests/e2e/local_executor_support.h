// What the local-executor e2e tests share: a served flyteadmin running flyte_executor_local, and
// registering, launching and reading back runs of the stand-in task program (LOCAL_TASK_PROGRAM)
// in flytesnacks/development at version v1.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "flyteidl/service/admin.grpc.pb.h"
#include "flyteidl/service/signal.grpc.pb.h"
#include "literals.h"
#include "served_server.h"

namespace flyte::test::local {

using test::Bool;
using test::Int;
using test::Simple;
using test::Str;

inline constexpr const char* kProject = "flytesnacks";
inline constexpr const char* kDomain = "development";
inline constexpr const char* kVersion = "v1";

// The managers a run needs plus flyte_executor_local; the flags add the managers only some tests
// use.
struct ServerOptions {
  bool signal = false;   // flyte_manager_signal, for gates
  bool metrics = false;  // flyte_manager_metrics
  int termination_grace_period_ms = 2000;
  // Further lines of the executor's config section, each indented by eight spaces.
  std::string executor_config;
  // If set, the server takes over this admin.db and storage (another server's data_dir()), as a
  // restarted server would.
  std::string data_dir;
};

// The pluginHost.load entries for `options`.
std::string Plugins(const ServerOptions& options);

struct LocalServer {
  explicit LocalServer(const ServerOptions& options = {});
  // Stops it now, requiring a clean exit (see ServedServer::Stop).
  void Stop();

  ServedServer served;
  std::unique_ptr<flyteidl::service::AdminService::Stub> stub;
  std::unique_ptr<flyteidl::service::SignalService::Stub> signals;
};

flyteidl::core::Identifier Id(flyteidl::core::ResourceType type, const std::string& name);
flyteidl::core::BindingData Promise(const std::string& node, const std::string& var);
flyteidl::core::BindingData Scalar(int64_t v);
// The type of a list of integers.
flyteidl::core::LiteralType IntList();

// A task of the stand-in program with `args`: inputs a and b and output c of type `number`,
// output info of type `text`.
flyteidl::admin::TaskCreateRequest ProgramTask(
    const std::string& name, const std::vector<std::string>& args,
    const flyteidl::core::LiteralType& number = Simple(flyteidl::core::INTEGER),
    const flyteidl::core::LiteralType& text = Simple(flyteidl::core::STRING));
void CreateTask(LocalServer& s, const flyteidl::admin::TaskCreateRequest& req);
// ProgramTask on integers and a string, with `retries` and container `env`.
void RegisterTask(LocalServer& s, const std::string& name, const std::vector<std::string>& args,
                  uint32_t retries = 0,
                  const std::vector<std::pair<std::string, std::string>>& env = {});

// A node `id` (named id + "-name") running `task` with inputs a and b.
flyteidl::core::Node TaskNode(const std::string& id, const std::string& task,
                              const flyteidl::core::BindingData& a,
                              const flyteidl::core::BindingData& b);
void Bind(flyteidl::core::Node& node, const std::string& var,
          const flyteidl::core::BindingData& data);
// A workflow template with integer inputs x, y and integer outputs bound as given.
flyteidl::core::WorkflowTemplate Template(
    const std::string& name, const std::vector<flyteidl::core::Node>& nodes,
    const std::vector<std::pair<std::string, flyteidl::core::BindingData>>& outputs);
// Registers the workflow (with its sub-workflows) and its default launch plan (x, y required);
// returns the launch plan's id.
flyteidl::core::Identifier Register(LocalServer& s, const flyteidl::core::WorkflowTemplate& wf,
                                    const std::vector<flyteidl::core::WorkflowTemplate>& subs = {});

struct LaunchOptions {
  int max_parallelism = 0;  // 0: not set
  std::vector<std::pair<std::string, std::string>> envs{};
  bool interruptible = false;  // the execution's interruptible override
};
// Creates execution `name` of launch plan `lp` with inputs x and y.
flyteidl::core::WorkflowExecutionIdentifier Launch(LocalServer& s,
                                                   const flyteidl::core::Identifier& lp,
                                                   const std::string& name, int64_t x, int64_t y,
                                                   const LaunchOptions& options = {});

flyteidl::admin::Execution Get(LocalServer& s,
                               const flyteidl::core::WorkflowExecutionIdentifier& id);
bool Terminal(flyteidl::core::WorkflowExecution::Phase p);
// TerminateExecution with `cause`; fails the test if the admin refuses.
void Terminate(LocalServer& s, const flyteidl::core::WorkflowExecutionIdentifier& id,
               const std::string& cause);
// Polls until the execution is terminal; fails the test after `limit`.
flyteidl::admin::Execution WaitTerminal(LocalServer& s,
                                        const flyteidl::core::WorkflowExecutionIdentifier& id,
                                        std::chrono::seconds limit = std::chrono::seconds(60));
// The node executions by node id as the console lists them: the top level, or a parent's
// children.
std::map<std::string, flyteidl::admin::NodeExecution> Nodes(
    LocalServer& s, const flyteidl::core::WorkflowExecutionIdentifier& id,
    const std::string& parent = "");
// The node ids of `nodes`, in order.
std::vector<std::string> Keys(const std::map<std::string, flyteidl::admin::NodeExecution>& nodes);
// A node's task executions, first attempt first.
std::vector<flyteidl::admin::TaskExecution> Tasks(
    LocalServer& s, const flyteidl::core::WorkflowExecutionIdentifier& id, const std::string& node);
// The execution's outputs (GetExecutionData full_outputs).
flyteidl::core::LiteralMap Outputs(LocalServer& s,
                                   const flyteidl::core::WorkflowExecutionIdentifier& id);
// The integer `var` of `m`; fails the test if it is missing.
int64_t IntOf(const flyteidl::core::LiteralMap& m, const std::string& var);

// The process id a task program wrote to `file` (its sleep commands do), waiting up to 30 s for
// it; 0 if none came.
pid_t WaitForPid(const std::string& file);

}  // namespace flyte::test::local
