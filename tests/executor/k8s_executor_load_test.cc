// The real flyte_executor_k8s .so in the served admin: a registered flytesnacks launch plan is
// launched and its FlyteWorkflow lands on a loopback Kubernetes API server.
#include <filesystem>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "flyte/manager/encoding.h"
#include "fake_kube_api.h"
#include "flyteidl/service/admin.grpc.pb.h"
#include "registration_client.h"
#include "served_server.h"
#include "test_support.h"

namespace {

namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
using nlohmann::json;

using flyte::plugins::manager::Base64;

admin::ExecutionCreateRequest LaunchMyWf() {
  admin::ExecutionCreateRequest create;
  create.set_project("flytesnacks");
  create.set_domain("development");
  auto* lp = create.mutable_spec()->mutable_launch_plan();
  lp->set_resource_type(core::LAUNCH_PLAN);
  lp->set_project("flytesnacks");
  lp->set_domain("development");
  lp->set_name("core.flyte_basics.basic_workflow.my_wf");
  lp->set_version("v1");
  create.mutable_spec()->mutable_metadata()->set_mode(admin::ExecutionMetadata::MANUAL);
  auto& literals = *create.mutable_inputs()->mutable_literals();
  literals["a"].mutable_scalar()->mutable_primitive()->set_integer(3);
  literals["b"].mutable_scalar()->mutable_primitive()->set_string_value("hello");
  return create;
}

}  // namespace

TEST_CASE("The k8s executor plugin creates the launched execution's FlyteWorkflow on the API server",
          "[plugin-load]") {
  FakeKubeCerts certs(std::filesystem::temp_directory_path() /
                      ("flyte-k8s-load-" + std::to_string(flyte::test::FreePort())));
  FakeKubeApi api(certs);
  const std::string kubeconfig = flyte::test::WriteTempFile(
      "kubeconfig-" + std::to_string(api.port()),
      "apiVersion: v1\nkind: Config\ncurrent-context: t\nclusters:\n- name: c\n  cluster:\n"
      "    server: " + api.url() + "\n    certificate-authority-data: " + Base64(certs.Read("ca.crt")) +
      "\ncontexts:\n- name: t\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user:\n"
      "    token: load-test-token\n");
  flyte::test::ServedServer served(
      "    - name: flyte_manager_project\n"
      "    - name: flyte_manager_task\n"
      "    - name: flyte_manager_workflow\n"
      "    - name: flyte_manager_launch_plan\n"
      "    - name: flyte_manager_named_entity\n"
      "    - name: flyte_manager_execution\n"
      "    - name: flyte_executor_k8s\n"
      "      config:\n"
      "        kubeConfig: " + kubeconfig + "\n"
      "        timeout: 5s\n");
  auto stub = flyteidl::service::AdminService::NewStub(served.channel());
  flyte::test::Target target{"flytesnacks", "development", "v1"};
  for (auto& entry : flyte::test::ReadPackage(flyte::test::FlytesnacksCoreDir())) {
    flyte::test::Hydrate(entry, target);
    auto r = flyte::test::Register(*stub, entry, target);
    INFO(r.file << ": " << r.message);
    REQUIRE((r.code == grpc::StatusCode::OK || r.code == grpc::StatusCode::ALREADY_EXISTS));
  }

  admin::ExecutionCreateResponse created;
  {
    grpc::ClientContext ctx;
    auto st = stub->CreateExecution(&ctx, LaunchMyWf(), &created);
    INFO(st.error_message());
    REQUIRE(st.ok());
  }
  const std::string name = created.id().name();
  auto requests = api.Requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].target ==
        "/apis/flyte.lyft.com/v1alpha1/namespaces/flytesnacks-development/flyteworkflows");
  CHECK(requests[0].headers["authorization"] == "Bearer load-test-token");
  const json cr = json::parse(requests[0].body);
  CHECK(cr["kind"] == "flyteworkflow");
  CHECK(cr["apiVersion"] == "flyte.lyft.com/v1alpha1");
  CHECK(cr["metadata"]["name"] == name);
  CHECK(cr["metadata"]["namespace"] == "flytesnacks-development");
  CHECK(cr["metadata"]["labels"]["workflow-name"] == "core-flyte-basics-basic-workflow-my-wf");
  CHECK(cr["metadata"]["finalizers"] == json{"flyte.org/finalizer"});
  CHECK(cr["executionId"] == json{{"project", "flytesnacks"}, {"domain", "development"}, {"name", name}});
  CHECK(cr["spec"]["id"] == "flytesnacks:development:core.flyte_basics.basic_workflow.my_wf");
  CHECK(cr["inputs"]["literals"]["a"]["scalar"]["primitive"]["integer"] == "3");
  CHECK(cr["inputs"]["literals"]["b"]["scalar"]["primitive"]["stringValue"] == "hello");
  CHECK(cr["workflowMeta"]["eventVersion"] == 2);
  CHECK(cr.contains("acceptedAt"));
  CHECK_FALSE(cr["tasks"].empty());

  // A refusal by the API server leaves a FAILED execution behind, as upstream records it.
  api.Answer({403, json{{"kind", "Status"}, {"message", "flyteworkflows.flyte.lyft.com is forbidden"},
                        {"reason", "Forbidden"}, {"code", 403}}.dump()});
  admin::ExecutionCreateResponse refused;
  {
    grpc::ClientContext ctx;
    auto st = stub->CreateExecution(&ctx, LaunchMyWf(), &refused);
    INFO(st.error_message());
    REQUIRE(st.ok());
  }
  admin::WorkflowExecutionGetRequest get;
  *get.mutable_id() = refused.id();
  admin::Execution execution;
  grpc::ClientContext ctx;
  REQUIRE(stub->GetExecution(&ctx, get, &execution).ok());
  CHECK(execution.closure().phase() == core::WorkflowExecution::FAILED);
  CHECK(execution.closure().error().message().find(
            "failed to create workflow in propeller flyteworkflows.flyte.lyft.com is forbidden") !=
        std::string::npos);
}
