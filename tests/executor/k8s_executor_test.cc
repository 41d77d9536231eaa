// The Kubernetes executor against a loopback API server: what it sends, and how it reads every
// answer (created, already exists, forbidden, server errors, a server that never answers).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>
#include <nlohmann/json.hpp>

#include "flyte/manager/encoding.h"
#include "fake_kube_api.h"
#include "k8s_executor.h"
#include "test_support.h"

namespace {

namespace fs = std::filesystem;
namespace core = flyteidl::core;
using flyte::plugin::StatusCode;
using namespace flyte::plugins::executor;
using nlohmann::json;

const fs::path kSnacks =
    fs::path(FLYTE_SOURCE_DIR) / ".." / "shared" / "fixtures" / "compiler" / "snacks-core";

const FakeKubeCerts& Certs() {
  static FakeKubeCerts certs(fs::temp_directory_path() /
                             ("flyte-k8s-certs-" + std::to_string(::getpid())));
  return certs;
}

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

using flyte::plugins::manager::Base64;

// A kubeconfig for `server`: the test CA inline, a bearer token or the client certificate.
std::string Kubeconfig(const std::string& server, bool client_cert, const std::string& ca = "ca.crt") {
  const auto& c = Certs();
  std::string user = client_cert ? "    client-certificate-data: " + Base64(c.Read("client.crt")) +
                                       "\n    client-key: " + (c.dir / "client.key").string() + "\n"
                                 : "    token: s3cr3t-token\n";
  std::string text = "apiVersion: v1\nkind: Config\ncurrent-context: test\n"
                     "clusters:\n- name: fake\n  cluster:\n    server: " + server +
                     "\n    certificate-authority-data: " + Base64(c.Read(ca)) +
                     "\ncontexts:\n- name: other\n  context: {cluster: nowhere, user: nobody}\n"
                     "- name: test\n  context:\n    cluster: fake\n    user: admin\n"
                     "users:\n- name: admin\n  user:\n" + user;
  return flyte::test::WriteTempFile("kubeconfig", text);
}

flyte::plugin::ExecutionData Data(const std::string& name = "exec-1") {
  flyte::plugin::ExecutionData d;
  d.namespace_ = "flytesnacks-development";
  d.execution_id.set_project("flytesnacks");
  d.execution_id.set_domain("development");
  d.execution_id.set_name(name);
  d.reference_workflow_name = "core.control_flow.chain_tasks.chain_tasks_wf";
  d.reference_launch_plan_name = d.reference_workflow_name;
  REQUIRE(google::protobuf::util::JsonStringToMessage(
              Slurp(kSnacks / "compiled" / "019_core.control_flow.chain_tasks.chain_tasks_wf_2_wf.json"),
              &d.workflow_closure)
              .ok());
  d.workflow_closure_reference = "s3://bucket/closure.pb";
  d.offloaded_inputs_reference = "s3://bucket/inputs.pb";
  d.parameters.accepted_at = std::chrono::system_clock::from_time_t(1700000000);
  d.parameters.event_version = 2;
  return d;
}

K8sWorkflowExecutor Executor(const std::string& kubeconfig, const std::string& timeout = "5s") {
  auto config = ParseK8sExecutorConfig({{"kubeConfig", kubeconfig}, {"timeout", timeout}}, json::object());
  REQUIRE(config.ok());
  return K8sWorkflowExecutor(std::move(config.value()));
}

const std::string kCollection =
    "/apis/flyte.lyft.com/v1alpha1/namespaces/flytesnacks-development/flyteworkflows";

json StatusBody(int code, const std::string& reason, const std::string& message) {
  return {{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
          {"message", message}, {"reason", reason}, {"code", code}};
}

}  // namespace

TEST_CASE("PrepareFlyteWorkflow adds the execution's identity, permissions and overrides",
          "[unit]") {
  auto data = Data();
  auto& p = data.parameters;
  p.labels = {{"team", "ml"}, {"project", "overridden"}};
  p.annotations = {{"note", "x"}};
  p.role_name_key = "iam.amazonaws.com/role";
  auto* run_as = p.execution_config.mutable_security_context()->mutable_run_as();
  run_as->set_iam_role("arn:aws:iam::1:role/r");
  run_as->set_k8s_service_account("flyte-sa");
  p.execution_config.set_max_parallelism(7);
  p.execution_config.mutable_interruptible()->set_value(true);
  p.execution_config.set_overwrite_cache(true);
  auto* env = p.execution_config.mutable_envs()->add_values();
  env->set_key("A");
  env->set_value("1");
  flyteidl::admin::PluginOverride o;
  o.set_task_type("spark");
  o.add_plugin_id("spark-k8s");
  o.set_missing_plugin_behavior(flyteidl::admin::PluginOverride::USE_DEFAULT);
  p.task_plugin_overrides.push_back(o);
  core::WorkflowExecutionIdentifier recovery;
  recovery.set_project("flytesnacks");
  recovery.set_domain("development");
  recovery.set_name("old");
  p.recovery_execution = recovery;
  p.task_resource_defaults = {"500m", "", "1Gi", ""};
  p.task_resource_limits = {"2", "1", "4Gi", "10Gi"};
  p.raw_output_data_config.set_output_location_prefix("s3://raw");

  auto wf = BuildFlyteWorkflow(data.workflow_closure, &p.inputs, data.execution_id, data.namespace_);
  REQUIRE(wf.ok());
  REQUIRE(PrepareFlyteWorkflow(data, wf.value()).ok());
  const json& w = wf.value();
  CHECK(w["executionId"] == json{{"project", "flytesnacks"}, {"domain", "development"}, {"name", "exec-1"}});
  CHECK(w["acceptedAt"] == "2023-11-14T22:13:20Z");
  CHECK(w["metadata"]["finalizers"] == json{"flyte.org/finalizer"});
  CHECK(w["metadata"]["namespace"] == "flytesnacks-development");
  CHECK(w["metadata"]["labels"]["team"] == "ml");
  CHECK(w["metadata"]["labels"]["project"] == "overridden");
  CHECK(w["metadata"]["labels"]["execution-id"] == "exec-1");
  CHECK(w["metadata"]["annotations"] == json{{"note", "x"}, {"iam.amazonaws.com/role", "arn:aws:iam::1:role/r"}});
  CHECK(w["serviceAccountName"] == "flyte-sa");
  CHECK(w["securityContext"] == json{{"run_as", {{"iam_role", "arn:aws:iam::1:role/r"}, {"k8s_service_account", "flyte-sa"}}}});
  CHECK(w["workflowMeta"] == json{{"eventVersion", 2}});
  CHECK(w["rawOutputDataConfig"] == json{{"output_location_prefix", "s3://raw"}});
  CHECK(w["executionConfig"] ==
        json{{"TaskPluginImpls", {{"spark", {{"PluginIDs", {"spark-k8s"}}, {"MissingPluginBehavior", 1}}}}},
             {"MaxParallelism", 7},
             {"RecoveryExecution", {{"project", "flytesnacks"}, {"domain", "development"}, {"name", "old"}}},
             {"TaskResources",
              {{"Requests", {{"CPU", "500m"}, {"Memory", "1Gi"}, {"EphemeralStorage", "0"}, {"Storage", "0"}, {"GPU", "0"}}},
               {"Limits", {{"CPU", "2"}, {"Memory", "4Gi"}, {"EphemeralStorage", "10Gi"}, {"Storage", "0"}, {"GPU", "1"}}}}},
             {"Interruptible", true},
             {"OverwriteCache", true},
             {"EnvironmentVariables", {{"A", "1"}}}});
  CHECK(w["metadata"]["labels"]["shard-key"] == std::to_string(ShardKey("exec-1")));

  // The plugin's own roleNameKey replaces the one handed over with the execution.
  auto again = BuildFlyteWorkflow(data.workflow_closure, &p.inputs, data.execution_id, data.namespace_);
  REQUIRE(again.ok());
  const std::string plugin_key = "eks.amazonaws.com/role-arn";
  REQUIRE(PrepareFlyteWorkflow(data, again.value(), &plugin_key).ok());
  CHECK(again.value()["metadata"]["annotations"] ==
        json{{"note", "x"}, {"eks.amazonaws.com/role-arn", "arn:aws:iam::1:role/r"}});
}

TEST_CASE("Offloading replaces the closure and inputs by their references", "[unit]") {
  auto data = Data();
  auto wf = BuildFlyteWorkflow(data.workflow_closure, &data.parameters.inputs, data.execution_id, data.namespace_);
  REQUIRE(wf.ok());
  ApplyOffloading(data, {true, true, "https://console"}, wf.value());
  CHECK(wf.value()["spec"].is_null());
  CHECK(wf.value()["tasks"].is_null());
  CHECK_FALSE(wf.value().contains("inputs"));
  CHECK(wf.value()["workflowClosureReference"] == "s3://bucket/closure.pb");
  CHECK(wf.value()["offloadedInputs"] == "s3://bucket/inputs.pb");
  CHECK(wf.value()["consoleUrl"] == "https://console");
}

TEST_CASE("A workflow missing a required input or given an unknown one is not built", "[unit]") {
  core::CompiledWorkflowClosure closure;
  REQUIRE(google::protobuf::util::JsonStringToMessage(
              Slurp(kSnacks / "compiled" / "026_core.control_flow.conditions.multiplier_2_wf.json"), &closure)
              .ok());
  core::LiteralMap inputs;
  auto id = Data().execution_id;
  auto missing = BuildFlyteWorkflow(closure, &inputs, id, "ns");
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == StatusCode::kUnknown);  // not an admin error upstream
  CHECK(missing.status().message() ==
        "Collected Errors: 1\n\tError 0: Code: ParameterNotBound, Node Id: start-node, Description: Parameter not bound [my_input].\n");
  (*inputs.mutable_literals())["nope"].mutable_scalar()->mutable_primitive()->set_integer(1);
  (*inputs.mutable_literals())["my_input"].mutable_scalar()->mutable_primitive()->set_float_value(1);
  auto unknown = BuildFlyteWorkflow(closure, &inputs, id, "ns");
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().message() ==
        "Collected Errors: 1\n\tError 0: Code: VariableNameNotFound, Node Id: start-node, Description: Variable [nope] not found on node [].\n");
  CHECK_FALSE(BuildFlyteWorkflow(closure, nullptr, id, "ns").ok());
}

TEST_CASE("Go's duration text and label sanitising are reproduced", "[unit]") {
  CHECK(GoDuration(1200, 0) == "20m0s");
  CHECK(GoDuration(3600, 0) == "1h0m0s");
  CHECK(GoDuration(1, 500000000) == "1.5s");
  CHECK(GoDuration(0, 0) == "0s");
  CHECK(GoDuration(0, 2000000) == "2ms");
  CHECK(SanitizeLabelValue("Core.Control_Flow..x-") == "core-control-flow-x");
  CHECK(ParseGoDuration("1m30s").value() == std::chrono::milliseconds(90000));
  CHECK_FALSE(ParseGoDuration("5 parsecs").ok());
  // Go's own refusals, not a prefix read and the rest dropped, and no overflow.
  CHECK(ParseGoDuration("1.2.3s").status().message() == "time: missing unit in duration \"1.2.3s\"");
  CHECK_FALSE(ParseGoDuration(std::string(400, '9') + "s").ok());
  CHECK(ParseGoDuration("-5s").value() == std::chrono::milliseconds(-5000));
}

TEST_CASE("Execute POSTs the FlyteWorkflow with the bearer token over verified TLS", "[integration]") {
  FakeKubeApi api(Certs());
  auto executor = Executor(Kubeconfig(api.url(), false));
  auto data = Data();
  auto response = executor.Execute(data);
  REQUIRE(response.ok());
  CHECK(response->cluster == "");
  auto requests = api.Requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].target == kCollection);
  CHECK(requests[0].headers["authorization"] == "Bearer s3cr3t-token");
  CHECK(requests[0].headers["content-type"] == "application/json");
  CHECK(requests[0].client_cn.empty());
  auto expected = executor.Build(data);
  REQUIRE(expected.ok());
  CHECK(json::parse(requests[0].body) == expected.value());
  CHECK(json::parse(requests[0].body)["metadata"]["name"] == "exec-1");
}

TEST_CASE("A number encoding/json refuses fails the launch as client-go's encoder does, sending nothing",
          "[integration]") {
  FakeKubeApi api(Certs());
  auto executor = Executor(Kubeconfig(api.url(), false));
  for (const auto& [ratio, text] : {std::make_pair(std::nanf(""), "NaN"),
                                    std::make_pair(std::numeric_limits<float>::infinity(), "+Inf"),
                                    std::make_pair(-std::numeric_limits<float>::infinity(), "-Inf")}) {
    INFO(text);
    auto data = Data();
    // One of the workflow's task nodes becomes an array node over a copy of itself.
    auto* nodes = data.workflow_closure.mutable_primary()->mutable_template_()->mutable_nodes();
    auto it = std::find_if(nodes->begin(), nodes->end(), [](const auto& n) { return n.has_task_node(); });
    REQUIRE(it != nodes->end());
    core::Node sub = *it;
    sub.set_id(it->id() + "-sub");
    it->clear_task_node();
    *it->mutable_array_node()->mutable_node() = sub;
    it->mutable_array_node()->set_min_success_ratio(ratio);
    auto built = executor.Build(data);
    REQUIRE(built.ok());
    CHECK(GoUnsupportedJsonValue(built.value()) == std::optional<std::string>(text));
    auto r = executor.Execute(data);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInternal);
    CHECK(r.status().message() == std::string("failed to create workflow in propeller json: unsupported value: ") + text);
  }
  CHECK(api.Requests().empty());
  // A finite ratio goes through.
  CHECK_FALSE(GoUnsupportedJsonValue(json::parse(R"({"a":[1,0.5,{"b":null}]})")).has_value());
  CHECK(executor.Execute(Data()).ok());
  CHECK(api.Requests().size() == 1);
}

TEST_CASE("Upstream's server.kube-config names the kubeconfig when the plugin has none",
          "[integration]") {
  FakeKubeApi api(Certs());
  // Variables in the path expand, as os.ExpandEnv expands upstream's `$HOME/.flyte/...`.
  const fs::path kubeconfig = Kubeconfig(api.url(), false);
  ::setenv("FLYTE_TEST_KUBE_DIR", kubeconfig.parent_path().c_str(), 1);
  auto config = ParseK8sExecutorConfig(
      json::object(),
      {{"server", {{"kube-config", "${FLYTE_TEST_KUBE_DIR}/" + kubeconfig.filename().string()}}}});
  ::unsetenv("FLYTE_TEST_KUBE_DIR");
  REQUIRE(config.ok());
  K8sWorkflowExecutor executor(std::move(config.value()));
  REQUIRE(executor.Execute(Data()).ok());
  auto requests = api.Requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].headers["authorization"] == "Bearer s3cr3t-token");
}

TEST_CASE("A client certificate from the kubeconfig authenticates the executor", "[integration]") {
  FakeKubeApi api(Certs(), /*require_client_cert=*/true);
  auto executor = Executor(Kubeconfig(api.url(), true));
  REQUIRE(executor.Execute(Data()).ok());
  auto requests = api.Requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].client_cn == "flyteadmin-client");
  CHECK(requests[0].headers.count("authorization") == 0);

  // Without the certificate the server refuses the handshake.
  auto anonymous = Executor(Kubeconfig(api.url(), false));
  auto refused = anonymous.Execute(Data("exec-2"));
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kInternal);
  CHECK(api.Requests().size() == 1);
}

TEST_CASE("A server certificate from another CA is refused before anything is sent", "[integration]") {
  FakeKubeApi api(Certs());
  auto executor = Executor(Kubeconfig(api.url(), false, "other-ca.crt"));
  auto refused = executor.Execute(Data());
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kInternal);
  CHECK(refused.status().message().rfind("failed to create workflow in propeller Post \"" + api.url() + kCollection + "\": tls: ", 0) == 0);
  CHECK(api.Requests().empty());
}

TEST_CASE("Execute reads the API server's answers as upstream does", "[integration]") {
  FakeKubeApi api(Certs());
  auto executor = Executor(Kubeconfig(api.url(), false), "400ms");

  SECTION("409 AlreadyExists counts as started") {
    api.Answer({409, StatusBody(409, "AlreadyExists", "flyteworkflows.flyte.lyft.com \"exec-1\" already exists").dump()});
    CHECK(executor.Execute(Data()).ok());
  }
  SECTION("Another 409 (a conflict, not an existing object) is an error, as apimachinery reads it") {
    api.Answer({409, StatusBody(409, "Conflict", "Operation cannot be fulfilled on resourcequotas").dump()});
    auto r = executor.Execute(Data());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() ==
          "failed to create workflow in propeller Operation cannot be fulfilled on resourcequotas");
    api.Answer({409, "not a Status"});
    auto bare = executor.Execute(Data());
    REQUIRE_FALSE(bare.ok());
    CHECK(bare.status().message() == "failed to create workflow in propeller the server reported a conflict");
  }
  SECTION("403 Forbidden is an internal error carrying the server's message") {
    const std::string message = "flyteworkflows.flyte.lyft.com is forbidden: User \"system:serviceaccount:flyte:flyteadmin\" cannot create resource";
    api.Answer({403, StatusBody(403, "Forbidden", message).dump()});
    auto r = executor.Execute(Data());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInternal);
    CHECK(r.status().message() == "failed to create workflow in propeller " + message);
  }
  SECTION("500 and 503 are internal errors") {
    api.Answer({500, StatusBody(500, "InternalError", "etcdserver: request timed out").dump()});
    auto r = executor.Execute(Data());
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInternal);
    CHECK(r.status().message() == "failed to create workflow in propeller etcdserver: request timed out");
    api.Answer({503, "upstream connect error"});
    auto r2 = executor.Execute(Data());
    REQUIRE_FALSE(r2.ok());
    CHECK(r2.status().message() == "failed to create workflow in propeller the server is currently unable to handle the request");
  }
  SECTION("A server that does not answer in time fails the call at the deadline") {
    api.Answer({201, "{}", std::chrono::milliseconds(1500)});
    const auto start = std::chrono::steady_clock::now();
    auto r = executor.Execute(Data());
    const auto took = std::chrono::steady_clock::now() - start;
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInternal);
    CHECK(r.status().message().find("context deadline exceeded") != std::string::npos);
    CHECK(took < std::chrono::milliseconds(1200));
  }
}

TEST_CASE("Abort deletes the resource in the background and ignores a missing one", "[integration]") {
  FakeKubeApi api(Certs());
  auto executor = Executor(Kubeconfig(api.url(), false));
  flyte::plugin::AbortData abort{"flytesnacks-development", Data().execution_id, ""};
  api.Answer({200, StatusBody(200, "", "").dump()});
  REQUIRE(executor.Abort(abort).ok());
  auto requests = api.Requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "DELETE");
  CHECK(requests[0].target == kCollection + "/exec-1");
  CHECK(json::parse(requests[0].body)["propagationPolicy"] == "Background");
  CHECK(requests[0].headers["authorization"] == "Bearer s3cr3t-token");

  api.Answer({404, StatusBody(404, "NotFound", "flyteworkflows.flyte.lyft.com \"exec-1\" not found").dump()});
  CHECK(executor.Abort(abort).ok());

  api.Answer({403, StatusBody(403, "Forbidden", "forbidden").dump()});
  auto r = executor.Abort(abort);
  REQUIRE_FALSE(r.ok());
  CHECK(r.code() == StatusCode::kInternal);
  CHECK(r.message() == "failed to terminate execution: project:\"flytesnacks\" domain:\"development\" name:\"exec-1\" with err forbidden");

  abort.cluster = "elsewhere";
  auto remote = executor.Abort(abort);
  REQUIRE_FALSE(remote.ok());
  CHECK(remote.message() == "remote target elsewhere is not supported");
}

TEST_CASE("The in-cluster service account is used when no kubeconfig is given", "[integration]") {
  FakeKubeApi api(Certs());
  const std::string token = flyte::test::WriteTempFile("token", "pod-token\n");
  json config = {{"inCluster", {{"tokenPath", token}, {"caPath", (Certs().dir / "ca.crt").string()},
                                {"host", "127.0.0.1"}, {"port", std::to_string(api.port())}}}};
  auto parsed = ParseK8sExecutorConfig(config, json::object());
  REQUIRE(parsed.ok());
  K8sWorkflowExecutor executor(std::move(parsed.value()));
  REQUIRE(executor.Execute(Data()).ok());
  REQUIRE(api.Requests().size() == 1);
  CHECK(api.Requests()[0].headers["authorization"] == "Bearer pod-token");
  // The kubelet rotates the projected token: the next call reads the new one.
  std::ofstream(token) << "rotated-token\n";
  REQUIRE(executor.Execute(Data("exec-2")).ok());
  REQUIRE(api.Requests().size() == 2);
  CHECK(api.Requests()[1].headers["authorization"] == "Bearer rotated-token");

  json broken = {{"inCluster", {{"tokenPath", token}, {"caPath", "/nonexistent/ca.crt"}, {"host", "h"}, {"port", "1"}}}};
  CHECK_FALSE(ParseK8sExecutorConfig(broken, json::object()).ok());

  // server.master applies to a kubeconfig only (client-go's BuildConfigFromFlags): in the pod
  // it is not looked at.
  auto with_master = ParseK8sExecutorConfig(config, {{"server", {{"master", "https://elsewhere:1"}}}});
  REQUIRE(with_master.ok());
  K8sWorkflowExecutor in_pod(std::move(with_master.value()));
  REQUIRE(in_pod.Execute(Data("exec-3")).ok());
  CHECK(api.Requests().size() == 3);

  // A clusterConfigs entry with inCluster: true is that same service account; its endpoint and
  // auth are not looked at.
  json clusters = config;
  json root = {{"clusters", {{"clusterConfigs", {{{"name", "home"}, {"enabled", true}, {"inCluster", true},
                                                  {"auth", {{"type", "whatever"}}}}}}}}};
  auto multi = ParseK8sExecutorConfig(clusters, root);
  INFO(multi.status().message());
  REQUIRE(multi.ok());
  K8sWorkflowExecutor home(std::move(multi.value()));
  auto r = home.Execute(Data("exec-4"));
  REQUIRE(r.ok());
  CHECK(r->cluster == "home");
  CHECK(api.Requests().size() == 4);
}

TEST_CASE("Several clusters: the label picks among its enabled clusters, Abort finds the named one",
          "[integration]") {
  FakeKubeApi east(Certs()), west(Certs()), off(Certs());
  const std::string ca = (Certs().dir / "ca.crt").string();
  const std::string token = flyte::test::WriteTempFile("token", "cluster-token");
  auto cluster = [&](const std::string& name, const FakeKubeApi& api, bool enabled) {
    return json{{"name", name}, {"endpoint", api.url()}, {"enabled", enabled},
                {"auth", {{"type", "file_path"}, {"tokenPath", token}, {"certPath", ca}}}};
  };
  json root = {{"clusters",
                {{"clusterConfigs", {cluster("east", east, true), cluster("west", west, true), cluster("off", off, false)}},
                 // A disabled (or unknown) cluster's entry is dropped before its weight is
                 // looked at, as upstream builds its lists: 2 would otherwise be refused.
                 {"labelClusterMap", {{"gpu", {{{"id", "west"}, {"weight", 1}}, {{"id", "off"}, {"weight", 2}},
                                               {{"id", "mars"}, {"weight", 5}}}},
                                      {"cpu", {{{"id", "east"}, {"weight", 1}}}}}},
                 {"defaultExecutionLabel", "cpu"}}}};
  auto parsed = ParseK8sExecutorConfig(json::object(), root);
  REQUIRE(parsed.ok());
  K8sWorkflowExecutor executor(std::move(parsed.value()));

  auto data = Data("labelled");
  flyteidl::admin::ExecutionClusterLabel label;
  label.set_value("gpu");
  data.parameters.execution_cluster_label = label;
  for (int i = 0; i < 3; ++i) {
    auto r = executor.Execute(data);
    REQUIRE(r.ok());
    CHECK(r->cluster == "west");
  }
  auto unlabelled = executor.Execute(Data("plain"));
  REQUIRE(unlabelled.ok());
  CHECK(unlabelled->cluster == "east");
  CHECK(west.Requests().size() == 3);
  CHECK(east.Requests().size() == 1);
  CHECK(off.Requests().empty());
  CHECK(west.Requests()[0].headers["authorization"] == "Bearer cluster-token");

  REQUIRE(executor.Abort({"flytesnacks-development", data.execution_id, "west"}).ok());
  CHECK(west.Requests().back().method == "DELETE");
  auto unknown = executor.Abort({"flytesnacks-development", data.execution_id, "mars"});
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.message() == "invalid cluster target mars");

  // Without a label on the request, the EXECUTION_CLUSTER_LABEL attribute decides (upstream asks
  // with the workflow name as launch plan); a failing lookup fails the launch.
  std::vector<std::string> asked;
  auto with_lookup = ParseK8sExecutorConfig(json::object(), root);
  REQUIRE(with_lookup.ok());
  K8sWorkflowExecutor looking(std::move(with_lookup.value()),
                              [&](const std::string& p, const std::string& d, const std::string& w,
                                  const std::string& l) -> flyte::plugin::StatusOr<std::string> {
                                asked = {p, d, w, l};
                                if (p == "broken") return flyte::plugin::Internal("db down");
                                return std::string("gpu");
                              });
  auto attributed = looking.Execute(Data("attributed"));
  REQUIRE(attributed.ok());
  CHECK(attributed->cluster == "west");
  CHECK(asked == std::vector<std::string>{"flytesnacks", "development",
                                          "core.control_flow.chain_tasks.chain_tasks_wf",
                                          "core.control_flow.chain_tasks.chain_tasks_wf"});
  auto broken_data = Data("broken");
  broken_data.execution_id.set_project("broken");
  auto broken = looking.Execute(broken_data);
  REQUIRE_FALSE(broken.ok());
  CHECK(broken.status().message() == "failed to create workflow in propeller db down");
  asked.clear();
  REQUIRE(looking.Execute(data).ok());  // the request's own label needs no lookup
  CHECK(asked.empty());

  // No cluster recorded with the execution: the resource is deleted wherever it is.
  const size_t east_before = east.Requests().size(), west_before = west.Requests().size();
  east.Answer({404, StatusBody(404, "NotFound", "not found").dump()});
  REQUIRE(executor.Abort({"flytesnacks-development", data.execution_id, ""}).ok());
  REQUIRE(east.Requests().size() == east_before + 1);
  REQUIRE(west.Requests().size() == west_before + 1);
  CHECK(east.Requests().back().method == "DELETE");
  CHECK(west.Requests().back().method == "DELETE");
  CHECK(west.Requests().back().target == kCollection + "/labelled");
  CHECK(off.Requests().empty());
  west.Answer({403, StatusBody(403, "Forbidden", "forbidden").dump()});
  auto refused = executor.Abort({"flytesnacks-development", data.execution_id, ""});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.code() == StatusCode::kInternal);

  // As upstream's start: weights within [0, 1], and some cluster enabled.
  json heavy = root;
  heavy["clusters"]["labelClusterMap"]["cpu"][0]["weight"] = 2;
  auto too_heavy = ParseK8sExecutorConfig(json::object(), heavy);
  REQUIRE_FALSE(too_heavy.ok());
  CHECK(too_heavy.status().message() ==
        "clusters.labelClusterMap.cpu: invalid weight 2 for cluster east (weights are between 0 and 1)");
  json none = root;
  for (auto& c : none["clusters"]["clusterConfigs"]) c["enabled"] = false;
  auto none_enabled = ParseK8sExecutorConfig(json::object(), none);
  REQUIRE_FALSE(none_enabled.ok());
  CHECK(none_enabled.status().message() == "clusters.clusterConfigs: no cluster is enabled");

  root["clusters"]["clusterConfigs"].push_back(cluster("east", east, true));
  auto duplicate = ParseK8sExecutorConfig(json::object(), root);
  REQUIRE_FALSE(duplicate.ok());
  CHECK(duplicate.status().message() == "duplicate clusters for name east");
}

TEST_CASE("The client throttle is client-go's token bucket", "[unit]") {
  using std::chrono::milliseconds;
  using std::chrono::nanoseconds;
  KubeRateLimiter limiter(10, 2);  // 10 per second, 2 at once
  const auto t0 = std::chrono::steady_clock::now();
  auto ms = [](std::optional<nanoseconds> w) {
    REQUIRE(w.has_value());
    return std::chrono::duration_cast<milliseconds>(*w).count();
  };
  CHECK(ms(limiter.Reserve(t0, milliseconds(0))) == 0);
  CHECK(ms(limiter.Reserve(t0, milliseconds(0))) == 0);
  CHECK(ms(limiter.Reserve(t0, milliseconds(150))) == 100);
  // A wait longer than the call's bound reserves nothing: the next caller waits no longer.
  CHECK_FALSE(limiter.Reserve(t0, milliseconds(150)).has_value());
  CHECK(ms(limiter.Reserve(t0, milliseconds(0))) == 200);
  // Tokens come back at 10 per second, up to the burst of 2.
  CHECK(ms(limiter.Reserve(t0 + milliseconds(250), milliseconds(0))) == 50);
  const auto idle = t0 + std::chrono::seconds(5);
  CHECK(ms(limiter.Reserve(idle, milliseconds(0))) == 0);
  CHECK(ms(limiter.Reserve(idle, milliseconds(0))) == 0);
  CHECK(ms(limiter.Reserve(idle, milliseconds(0))) == 100);

  // qps 0 and burst 0 are client-go's defaults (5 and 10); a negative qps throttles nothing.
  auto defaults = MakeRateLimiter({0, 0, milliseconds(0)});
  REQUIRE(defaults != nullptr);
  for (int i = 0; i < 10; ++i) CHECK(ms(defaults->Reserve(t0, milliseconds(0))) == 0);
  CHECK(ms(defaults->Reserve(t0, milliseconds(0))) == 200);
  CHECK(MakeRateLimiter({-1, 0, milliseconds(0)}) == nullptr);
}

TEST_CASE("kubeClientConfig: server defaults, the plugin's keys, and a cluster's own replacing them",
          "[unit]") {
  const std::string kubeconfig = Kubeconfig("https://127.0.0.1:1", false);
  auto single = [&](const json& plugin, const json& root) {
    json pc = plugin;
    pc["kubeConfig"] = kubeconfig;
    return ParseK8sExecutorConfig(pc, root);
  };
  // Upstream's defaults: 100 per second, bursts of 25, 30 s per call.
  auto plain = single(json::object(), json::object());
  REQUIRE(plain.ok());
  const auto& c = plain->targets.front().client;
  CHECK(c.qps == 100);
  CHECK(c.burst == 25);
  CHECK(c.timeout == std::chrono::seconds(30));
  CHECK(plain->targets.front().limiter != nullptr);

  auto from_server = single({{"burst", 7}},
                            {{"server", {{"kubeClientConfig", {{"qps", 3}, {"timeout", "0s"}}}}}});
  REQUIRE(from_server.ok());
  const auto& s = from_server->targets.front().client;
  CHECK(s.qps == 3);
  CHECK(s.burst == 7);
  CHECK(s.timeout == std::chrono::milliseconds(0));

  for (const auto& [bad, message] : std::vector<std::pair<json, std::string>>{
           {{{"qps", "fast"}}, "qps must be a whole number, not \"fast\""},
           {{{"qps", 2.5}}, "qps must be a whole number, not 2.5"},
           {{{"burst", -1}}, "burst must not be negative, not -1"},
           {{{"timeout", "soon"}}, "timeout: time: invalid duration \"soon\""},
           {{{"timeout", 30}}, "timeout must be a duration such as \"30s\""}}) {
    auto refused = single(bad, json::object());
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.status().code() == StatusCode::kInvalidArgument);
    CHECK(refused.status().message() == message);
  }
  // Weakly typed as upstream decodes: "50" and 50.0 are 50; an empty timeout is no key at all.
  auto weak = single({{"qps", "50"}, {"burst", 6.0}, {"timeout", ""}}, json::object());
  REQUIRE(weak.ok());
  CHECK(weak->targets.front().client.qps == 50);
  CHECK(weak->targets.front().client.burst == 6);
  CHECK(weak->targets.front().client.timeout == std::chrono::seconds(30));
  // A positive timeout under a millisecond stays a bound.
  auto tiny = single({{"timeout", "500us"}}, json::object());
  REQUIRE(tiny.ok());
  CHECK(tiny->targets.front().client.timeout == std::chrono::milliseconds(1));
  auto server_refused = single(json::object(), {{"server", {{"kubeClientConfig", {{"burst", "many"}}}}}});
  REQUIRE_FALSE(server_refused.ok());
  CHECK(server_refused.status().message() == "server.kubeClientConfig.burst must be a whole number, not \"many\"");

  // Several clusters: an endpoint's own kubeClientConfig replaces the server's whole (its
  // absent fields are zero, as upstream swaps the struct); the others keep the server's.
  const std::string ca = (Certs().dir / "ca.crt").string();
  const std::string token = flyte::test::WriteTempFile("token", "cluster-token");
  auto cluster = [&](const std::string& name) {
    return json{{"name", name}, {"endpoint", "https://127.0.0.1:1"}, {"enabled", true},
                {"auth", {{"tokenPath", token}, {"certPath", ca}}}};
  };
  json own = cluster("own");
  own["kubeClientConfig"] = {{"qps", 50}};
  json root = {{"server", {{"kubeClientConfig", {{"qps", 20}, {"burst", 4}, {"timeout", "10s"}}}}},
               {"clusters", {{"clusterConfigs", {own, cluster("shared")}}}}};
  auto multi = ParseK8sExecutorConfig(json::object(), root);
  REQUIRE(multi.ok());
  REQUIRE(multi->targets.size() == 2);
  CHECK(multi->targets[0].client.qps == 50);
  CHECK(multi->targets[0].client.burst == 0);
  CHECK(multi->targets[0].client.timeout == std::chrono::milliseconds(0));
  CHECK(multi->targets[1].client.qps == 20);
  CHECK(multi->targets[1].client.burst == 4);
  CHECK(multi->targets[1].client.timeout == std::chrono::seconds(10));
  CHECK(multi->targets[0].limiter != multi->targets[1].limiter);

  // A null kubeClientConfig is none: the server's settings stay.
  json none = cluster("none");
  none["kubeClientConfig"] = nullptr;
  auto with_null = ParseK8sExecutorConfig(json::object(), {{"clusters", {{"clusterConfigs", {none}}}}});
  REQUIRE(with_null.ok());
  CHECK(with_null->targets[0].client.qps == 100);

  json wrong = cluster("wrong");
  wrong["kubeClientConfig"] = {{"qps", -1}, {"timeout", "later"}};
  auto refused = ParseK8sExecutorConfig(json::object(), {{"clusters", {{"clusterConfigs", {wrong}}}}});
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().message() == "cluster wrong: kubeClientConfig.timeout: time: invalid duration \"later\"");
}

TEST_CASE("A throttled call that would outwait its timeout fails at once and sends nothing; timeout 0 "
          "bounds nothing",
          "[integration]") {
  FakeKubeApi api(Certs());
  auto config = ParseK8sExecutorConfig(
      {{"kubeConfig", Kubeconfig(api.url(), false)}, {"qps", 1}, {"burst", 1}, {"timeout", "50ms"}},
      json::object());
  REQUIRE(config.ok());
  K8sWorkflowExecutor executor(std::move(config.value()));
  REQUIRE(executor.Execute(Data("first")).ok());
  auto second = executor.Execute(Data("second"));
  REQUIRE_FALSE(second.ok());
  CHECK(second.status().code() == StatusCode::kInternal);
  CHECK(second.status().message() ==
        "failed to create workflow in propeller client rate limiter Wait returned an error: rate: Wait(n=1) "
        "would exceed context deadline");
  CHECK(api.Requests().size() == 1);

  // Without a timeout, the throttle's wait is taken and the call goes.
  auto unbounded = ParseK8sExecutorConfig(
      {{"kubeConfig", Kubeconfig(api.url(), false)}, {"qps", 20}, {"burst", 1}, {"timeout", "0s"}},
      json::object());
  REQUIRE(unbounded.ok());
  K8sWorkflowExecutor patient(std::move(unbounded.value()));
  const auto start = std::chrono::steady_clock::now();
  REQUIRE(patient.Execute(Data("third")).ok());
  REQUIRE(patient.Execute(Data("fourth")).ok());
  REQUIRE(patient.Abort({"flytesnacks-development", Data("fourth").execution_id, ""}).ok());
  // Three calls at 20 per second with no burst to spare: the last two each waited their turn.
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(95));
  CHECK(api.Requests().size() == 4);
}
