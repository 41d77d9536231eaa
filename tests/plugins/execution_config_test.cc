// Unit tests of the execution-config resolution over an in-memory resource repository.
#include <catch2/catch.hpp>

#include <algorithm>
#include <vector>

#include "flyte/manager/execution_config.h"

namespace {

namespace admin = flyteidl::admin;
namespace db = flyte::plugin::db;
using flyte::plugin::Status;
using flyte::plugin::StatusCode;
using flyte::plugin::StatusOr;
using flyte::plugins::manager::ExecutionAppConfig;
using flyte::plugins::manager::ExecutionNames;
using flyte::plugins::manager::GetClusterAssignment;
using flyte::plugins::manager::GetExecutionConfig;
using flyte::plugins::manager::ResolveExecutionConfig;

// Rows kept in a vector; resolution as the repository contract describes it.
class FakeResourceRepo : public db::ResourceRepo {
 public:
  Status LockKey(const db::ResourceKey&) override { return {}; }  // one thread here
  Status CreateOrUpdate(const db::ResourceModel& resource) override {
    for (auto& row : rows_) {
      if (SameKey(row.key, resource.key)) {
        row.attributes = resource.attributes;
        return {};
      }
    }
    rows_.push_back(resource);
    rows_.back().id = static_cast<int64_t>(rows_.size());
    return {};
  }
  StatusOr<db::ResourceModel> Get(const db::ResourceKey& key) override {
    for (const auto& row : rows_) {
      if (SameKey(row.key, key)) return row;
    }
    return flyte::plugin::NotFound("not found");
  }
  StatusOr<db::ResourceModel> GetMostSpecific(const db::ResourceKey& key) override {
    ++lookups;
    if (!fail_with.ok()) return fail_with;
    if (key.project.empty() && key.domain.empty()) {
      return flyte::plugin::Internal("missing and/or invalid parameters");
    }
    const db::ResourceModel* best = nullptr;
    for (const auto& row : rows_) {
      if (row.key.resource_type != key.resource_type) continue;
      if (!Matches(row.key.project, key.project) || !Matches(row.key.domain, key.domain) ||
          !Matches(row.key.workflow, key.workflow) ||
          !Matches(row.key.launch_plan, key.launch_plan)) {
        continue;
      }
      if (!best || row.priority > best->priority) best = &row;
    }
    if (!best) return flyte::plugin::NotFound("Resource not found");
    return *best;
  }
  StatusOr<db::ResourceModel> GetProjectLevel(const std::string& project,
                                              const std::string& resource_type) override {
    return Get(db::ResourceKey{project, "", "", "", resource_type});
  }
  Status Delete(const db::ResourceKey&) override { return {}; }
  StatusOr<std::vector<db::ResourceModel>> ListAll(const std::string&) override {
    return rows_;
  }

  void Put(db::ResourceKey key, int32_t priority, const admin::MatchingAttributes& attributes) {
    db::ResourceModel row;
    row.key = std::move(key);
    row.priority = priority;
    row.attributes = attributes.SerializeAsString();
    REQUIRE(CreateOrUpdate(row).ok());
  }
  void PutExecConfig(const std::string& project, const std::string& domain,
                     const std::string& workflow, const admin::WorkflowExecutionConfig& wec,
                     const std::string& launch_plan = "") {
    admin::MatchingAttributes attributes;
    *attributes.mutable_workflow_execution_config() = wec;
    int32_t priority = !launch_plan.empty() ? db::kResourcePriorityLaunchPlan
                       : !workflow.empty()  ? db::kResourcePriorityWorkflow
                       : !domain.empty()    ? db::kResourcePriorityProjectDomain
                                            : db::kResourcePriorityProject;
    Put({project, domain, workflow, launch_plan, "WORKFLOW_EXECUTION_CONFIG"}, priority,
        attributes);
  }

  Status fail_with;
  int lookups = 0;

 private:
  static bool Matches(const std::string& column, const std::string& wanted) {
    return column.empty() || column == wanted;
  }
  static bool SameKey(const db::ResourceKey& a, const db::ResourceKey& b) {
    return a.project == b.project && a.domain == b.domain && a.workflow == b.workflow &&
           a.launch_plan == b.launch_plan && a.resource_type == b.resource_type;
  }
  std::vector<db::ResourceModel> rows_;
};

const ExecutionNames kNames{"proj", "dev", "wf", "lp"};

// A config with every field set, tagged with `who` so the winning level is visible.
admin::WorkflowExecutionConfig Full(const std::string& who, int32_t parallelism) {
  admin::WorkflowExecutionConfig c;
  c.set_max_parallelism(parallelism);
  c.mutable_security_context()->mutable_run_as()->set_k8s_service_account("sa-" + who);
  c.mutable_raw_output_data_config()->set_output_location_prefix("s3://" + who);
  (*c.mutable_labels()->mutable_values())["l"] = who;
  (*c.mutable_annotations()->mutable_values())["a"] = who;
  c.mutable_interruptible()->set_value(who.size() % 2 == 0);
  auto* env = c.mutable_envs()->add_values();
  env->set_key("E");
  env->set_value(who);
  return c;
}

template <typename Spec>
void Fill(Spec& spec, const admin::WorkflowExecutionConfig& c) {
  spec.set_max_parallelism(c.max_parallelism());
  *spec.mutable_security_context() = c.security_context();
  *spec.mutable_raw_output_data_config() = c.raw_output_data_config();
  *spec.mutable_labels() = c.labels();
  *spec.mutable_annotations() = c.annotations();
  *spec.mutable_interruptible() = c.interruptible();
  *spec.mutable_envs() = c.envs();
}

ExecutionAppConfig FullAppConfig() {
  ExecutionAppConfig config;
  config.max_parallelism = 7;
  config.k8s_service_account = "sa-config";
  config.output_location_prefix = "s3://config";
  config.labels = {{"l", "config"}};
  config.annotations = {{"a", "config"}};
  config.interruptible = true;
  config.envs = {{"E", "config"}};
  return config;
}

void RequireFrom(const admin::WorkflowExecutionConfig& c, const std::string& who,
                 int32_t parallelism) {
  CHECK(c.max_parallelism() == parallelism);
  CHECK(c.security_context().run_as().k8s_service_account() == "sa-" + who);
  CHECK(c.raw_output_data_config().output_location_prefix() == "s3://" + who);
  CHECK(c.labels().values().at("l") == who);
  CHECK(c.annotations().values().at("a") == who);
  REQUIRE(c.envs().values_size() == 1);
  CHECK(c.envs().values(0).value() == who);
}

admin::WorkflowExecutionConfig Resolve(FakeResourceRepo& repo, const admin::ExecutionSpec& spec,
                                       const admin::LaunchPlanSpec* lp,
                                       const ExecutionAppConfig& config = FullAppConfig()) {
  auto resolved = GetExecutionConfig(spec, lp, kNames, repo, config);
  REQUIRE(resolved.ok());
  return *resolved;
}

// Every level populated; `from` is the highest level kept.
struct Levels {
  FakeResourceRepo repo;
  admin::ExecutionSpec spec;
  admin::LaunchPlanSpec lp;
  explicit Levels(int from) {
    if (from <= 0) Fill(spec, Full("request", 1));
    if (from <= 1) Fill(lp, Full("lp", 2));
    if (from <= 2) repo.PutExecConfig("proj", "dev", "wf", Full("workflow", 3));
    if (from <= 3) repo.PutExecConfig("proj", "dev", "", Full("domain", 4));
    if (from <= 4) repo.PutExecConfig("proj", "", "", Full("project", 5));
  }
};

TEST_CASE("The request spec wins over every other level for every field", "[unit]") {
  Levels levels(0);
  RequireFrom(Resolve(levels.repo, levels.spec, &levels.lp), "request", 1);
}

TEST_CASE("The launch plan spec wins when the request leaves the fields unset", "[unit]") {
  Levels levels(1);
  RequireFrom(Resolve(levels.repo, levels.spec, &levels.lp), "lp", 2);
}

TEST_CASE("The workflow-level attribute wins over project-domain, project and config", "[unit]") {
  Levels levels(2);
  RequireFrom(Resolve(levels.repo, levels.spec, &levels.lp), "workflow", 3);
}

TEST_CASE("The project-domain attribute wins over project and config", "[unit]") {
  Levels levels(3);
  RequireFrom(Resolve(levels.repo, levels.spec, &levels.lp), "domain", 4);
}

TEST_CASE("The project-level attribute wins over the application config", "[unit]") {
  Levels levels(4);
  RequireFrom(Resolve(levels.repo, levels.spec, &levels.lp), "project", 5);
}

TEST_CASE("The application config applies when no other level sets anything", "[unit]") {
  Levels levels(5);
  auto c = Resolve(levels.repo, levels.spec, &levels.lp);
  RequireFrom(c, "config", 7);
  CHECK(c.interruptible().value());
  CHECK(levels.repo.lookups == 2);
}

TEST_CASE("Empty everything resolves to the built-in config defaults", "[unit]") {
  FakeResourceRepo repo;
  auto config = ExecutionAppConfig::FromConfig(nlohmann::json::object());
  REQUIRE(config.ok());
  auto c = Resolve(repo, admin::ExecutionSpec(), nullptr, *config);
  CHECK(c.max_parallelism() == 25);
  CHECK_FALSE(c.has_interruptible());
  CHECK_FALSE(c.overwrite_cache());
  CHECK_FALSE(c.has_raw_output_data_config());
  CHECK(c.labels().values().empty());
  CHECK(c.annotations().values().empty());
  CHECK(c.envs().values().empty());
  REQUIRE(c.has_security_context());
  REQUIRE(c.security_context().has_run_as());
  CHECK(c.security_context().run_as().k8s_service_account().empty());
  CHECK(c.security_context().run_as().execution_identity().empty());
}

TEST_CASE("Fields set at different levels are each taken from their most specific level",
          "[unit]") {
  FakeResourceRepo repo;
  admin::ExecutionSpec spec;
  (*spec.mutable_labels()->mutable_values())["l"] = "request";
  admin::LaunchPlanSpec lp;
  lp.mutable_raw_output_data_config()->set_output_location_prefix("s3://lp");
  admin::WorkflowExecutionConfig workflow;
  workflow.mutable_interruptible()->set_value(false);
  repo.PutExecConfig("proj", "dev", "wf", workflow);
  admin::WorkflowExecutionConfig project;
  project.set_max_parallelism(42);
  project.mutable_security_context()->mutable_run_as()->set_iam_role("role-project");
  repo.PutExecConfig("proj", "", "", project);

  auto c = Resolve(repo, spec, &lp);
  CHECK(c.labels().values().at("l") == "request");
  CHECK(c.raw_output_data_config().output_location_prefix() == "s3://lp");
  REQUIRE(c.has_interruptible());
  CHECK_FALSE(c.interruptible().value());  // explicit false at the workflow level beats config
  CHECK(c.max_parallelism() == 42);        // project level fills what the workflow row lacks
  CHECK(c.security_context().run_as().iam_role() == "role-project");
  CHECK(c.annotations().values().at("a") == "config");
  CHECK(c.envs().values(0).value() == "config");
}

TEST_CASE("The project-domain row shadows the project row only for fields it sets", "[unit]") {
  FakeResourceRepo repo;
  admin::WorkflowExecutionConfig domain;
  domain.mutable_security_context()->mutable_run_as()->set_k8s_service_account("sa-domain");
  repo.PutExecConfig("proj", "dev", "", domain);
  admin::WorkflowExecutionConfig project;
  project.set_max_parallelism(9);
  project.mutable_security_context()->mutable_run_as()->set_k8s_service_account("sa-project");
  repo.PutExecConfig("proj", "", "", project);
  auto c = Resolve(repo, admin::ExecutionSpec(), nullptr);
  CHECK(c.security_context().run_as().k8s_service_account() == "sa-domain");
  CHECK(c.max_parallelism() == 9);
}

TEST_CASE("Attributes of another workflow, domain or a launch plan level do not apply", "[unit]") {
  FakeResourceRepo repo;
  repo.PutExecConfig("proj", "dev", "other", Full("other", 11));
  repo.PutExecConfig("proj", "prod", "", Full("prod", 12));
  repo.PutExecConfig("proj", "dev", "wf", Full("lprow", 13), "lp");
  RequireFrom(Resolve(repo, admin::ExecutionSpec(), nullptr), "config", 7);
}

TEST_CASE("Without a workflow name only project-domain and project rows match", "[unit]") {
  FakeResourceRepo repo;
  repo.PutExecConfig("proj", "dev", "wf", Full("workflow", 3));
  repo.PutExecConfig("proj", "dev", "", Full("domain", 4));
  auto resolved = GetExecutionConfig(admin::ExecutionSpec(), nullptr,
                                     ExecutionNames{"proj", "dev", "", ""}, repo, FullAppConfig());
  REQUIRE(resolved.ok());
  RequireFrom(*resolved, "domain", 4);
}

TEST_CASE("A max parallelism of zero is treated as unset", "[unit]") {
  FakeResourceRepo repo;
  admin::ExecutionSpec spec;
  spec.set_max_parallelism(0);
  admin::LaunchPlanSpec lp;
  lp.set_max_parallelism(0);
  admin::WorkflowExecutionConfig workflow;
  workflow.set_max_parallelism(0);
  repo.PutExecConfig("proj", "dev", "wf", workflow);
  CHECK(Resolve(repo, spec, &lp).max_parallelism() == 7);
  lp.set_max_parallelism(3);
  CHECK(Resolve(repo, spec, &lp).max_parallelism() == 3);
}

TEST_CASE("Interruptible is taken from the first level with the wrapper present", "[unit]") {
  FakeResourceRepo repo;
  admin::ExecutionSpec spec;
  admin::LaunchPlanSpec lp;
  ExecutionAppConfig config;  // interruptible false: contributes nothing
  CHECK_FALSE(Resolve(repo, spec, &lp, config).has_interruptible());
  config.interruptible = true;
  auto c = Resolve(repo, spec, &lp, config);
  REQUIRE(c.has_interruptible());
  CHECK(c.interruptible().value());
  lp.mutable_interruptible()->set_value(false);
  c = Resolve(repo, spec, &lp, config);
  REQUIRE(c.has_interruptible());
  CHECK_FALSE(c.interruptible().value());
  spec.mutable_interruptible()->set_value(true);
  CHECK(Resolve(repo, spec, &lp, config).interruptible().value());
}

TEST_CASE("Overwrite cache is true when any level sets it", "[unit]") {
  ExecutionAppConfig config;
  for (int level = 0; level < 4; ++level) {
    FakeResourceRepo repo;
    admin::ExecutionSpec spec;
    admin::LaunchPlanSpec lp;
    ExecutionAppConfig c = config;
    admin::WorkflowExecutionConfig on;
    on.set_overwrite_cache(true);
    if (level == 0) spec.set_overwrite_cache(true);
    if (level == 1) lp.set_overwrite_cache(true);
    if (level == 2) repo.PutExecConfig("proj", "", "", on);
    if (level == 3) c.overwrite_cache = true;
    CHECK(Resolve(repo, spec, &lp, c).overwrite_cache());
  }
  FakeResourceRepo repo;
  CHECK_FALSE(Resolve(repo, admin::ExecutionSpec(), nullptr, config).overwrite_cache());
}

TEST_CASE("Envs, labels and annotations are replaced as a whole, never merged", "[unit]") {
  FakeResourceRepo repo;
  admin::ExecutionSpec spec;
  auto* env = spec.mutable_envs()->add_values();
  env->set_key("ONLY");
  env->set_value("request");
  (*spec.mutable_labels()->mutable_values())["mine"] = "x";
  admin::ExecutionSpec empty_maps;
  empty_maps.mutable_envs();
  empty_maps.mutable_labels();
  auto config = FullAppConfig();
  config.envs["OTHER"] = "y";

  auto c = Resolve(repo, spec, nullptr, config);
  REQUIRE(c.envs().values_size() == 1);
  CHECK(c.envs().values(0).key() == "ONLY");
  CHECK(c.labels().values().size() == 1);
  CHECK(c.labels().values().count("mine") == 1);

  // Present but empty maps are unset: the config's apply, envs in key order.
  c = Resolve(repo, empty_maps, nullptr, config);
  REQUIRE(c.envs().values_size() == 2);
  CHECK(c.envs().values(0).key() == "E");
  CHECK(c.envs().values(1).key() == "OTHER");
  CHECK(c.labels().values().at("l") == "config");
}

TEST_CASE("A security context without an account, role or identity counts as unset", "[unit]") {
  FakeResourceRepo repo;
  admin::ExecutionSpec spec;
  spec.mutable_security_context()->mutable_run_as();
  admin::LaunchPlanSpec lp;
  lp.mutable_security_context()->mutable_run_as()->set_execution_identity("lp-identity");
  auto c = Resolve(repo, spec, &lp);
  CHECK(c.security_context().run_as().execution_identity() == "lp-identity");
  CHECK(c.security_context().run_as().k8s_service_account().empty());
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
TEST_CASE("Deprecated auth roles fill the security context before the config", "[unit]") {
  ExecutionAppConfig config = FullAppConfig();
  FakeResourceRepo repo;
  admin::ExecutionSpec spec;
  admin::LaunchPlanSpec lp;
  lp.set_role("lp-role");
  auto c = Resolve(repo, spec, &lp, config);
  CHECK(c.security_context().run_as().iam_role() == "lp-role");
  CHECK(c.security_context().run_as().k8s_service_account().empty());

  lp.mutable_auth()->set_kubernetes_service_account("sa-auth");
  c = Resolve(repo, spec, &lp, config);
  CHECK(c.security_context().run_as().k8s_service_account() == "sa-auth");
  CHECK(c.security_context().run_as().iam_role().empty());

  lp.mutable_auth_role()->set_assumable_iam_role("lp-auth-role");
  c = Resolve(repo, spec, &lp, config);
  CHECK(c.security_context().run_as().iam_role() == "lp-auth-role");

  spec.mutable_auth_role()->set_kubernetes_service_account("sa-request-role");
  c = Resolve(repo, spec, &lp, config);
  CHECK(c.security_context().run_as().k8s_service_account() == "sa-request-role");

  // An empty request auth role still shadows the launch plan's, so the config applies.
  spec.mutable_auth_role()->Clear();
  c = Resolve(repo, spec, &lp, config);
  CHECK(c.security_context().run_as().k8s_service_account() == "sa-config");

  // A security context from any attribute level beats the deprecated fields.
  admin::WorkflowExecutionConfig project;
  project.mutable_security_context()->mutable_run_as()->set_iam_role("role-project");
  repo.PutExecConfig("proj", "", "", project);
  spec.mutable_auth_role()->set_kubernetes_service_account("sa-request-role");
  c = Resolve(repo, spec, &lp, config);
  CHECK(c.security_context().run_as().iam_role() == "role-project");
  CHECK(c.security_context().run_as().k8s_service_account().empty());
}
#pragma GCC diagnostic pop

TEST_CASE("The caller identity fills only an empty execution identity", "[unit]") {
  FakeResourceRepo repo;
  admin::ExecutionSpec spec;
  auto c = GetExecutionConfig(spec, nullptr, kNames, repo, FullAppConfig(), "caller");
  REQUIRE(c.ok());
  CHECK(c->security_context().run_as().execution_identity() == "caller");
  CHECK(c->security_context().run_as().k8s_service_account() == "sa-config");
  spec.mutable_security_context()->mutable_run_as()->set_execution_identity("explicit");
  c = GetExecutionConfig(spec, nullptr, kNames, repo, FullAppConfig(), "caller");
  REQUIRE(c.ok());
  CHECK(c->security_context().run_as().execution_identity() == "explicit");
}

TEST_CASE("Resource lookup failures other than not-found are returned", "[unit]") {
  FakeResourceRepo repo;
  repo.fail_with = flyte::plugin::Unavailable("db down");
  auto c = GetExecutionConfig(admin::ExecutionSpec(), nullptr, kNames, repo, FullAppConfig());
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == StatusCode::kUnavailable);

  FakeResourceRepo undecodable;
  db::ResourceModel row;
  row.key = {"proj", "", "", "", "WORKFLOW_EXECUTION_CONFIG"};
  row.priority = db::kResourcePriorityProject;
  row.attributes = "\xff\xff\xff";
  REQUIRE(undecodable.CreateOrUpdate(row).ok());
  c = GetExecutionConfig(admin::ExecutionSpec(), nullptr, kNames, undecodable, FullAppConfig());
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == StatusCode::kInternal);
}

TEST_CASE("The application config is read from the flyteadmin keys", "[unit]") {
  auto root = nlohmann::json::parse(R"({
    "flyteadmin": {"maxParallelism": 3, "labels": {"a": "1"}, "annotations": {"b": "2"},
                   "interruptible": true, "overwriteCache": true, "assumableIamRole": "role",
                   "k8sServiceAccount": "sa", "outputLocationPrefix": "s3://out",
                   "envs": {"K": "V"}},
    "registration": {"maxLabelEntries": 4, "maxAnnotationEntries": 5},
    "clusterPools": {"clusterPoolAssignments": {"dev": {"pool": "gpu"}}}
  })");
  auto config = ExecutionAppConfig::FromConfig(root);
  REQUIRE(config.ok());
  CHECK(config->max_parallelism == 3);
  CHECK(config->labels.at("a") == "1");
  CHECK(config->annotations.at("b") == "2");
  CHECK(config->interruptible);
  CHECK(config->overwrite_cache);
  CHECK(config->assumable_iam_role == "role");
  CHECK(config->k8s_service_account == "sa");
  CHECK(config->output_location_prefix == "s3://out");
  CHECK(config->envs.at("K") == "V");
  CHECK(config->max_label_entries == 4);
  CHECK(config->max_annotation_entries == 5);
  CHECK(config->cluster_pool_by_domain.at("dev") == "gpu");

  auto bad = ExecutionAppConfig::FromConfig(
      nlohmann::json::parse(R"({"flyteadmin": {"maxParallelism": "many"}})"));
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().code() == StatusCode::kInvalidArgument);
  CHECK_THAT(bad.status().message(), Catch::Contains("flyteadmin.maxParallelism"));

  // Identity annotations: off, "flyte.org", no keys unless configured (an empty prefix is the
  // default too, as upstream's getter makes it).
  CHECK_FALSE(config->inject_identity_annotations);
  CHECK(config->identity_annotation_prefix == "flyte.org");
  CHECK(config->identity_annotation_keys.empty());
  auto identity = ExecutionAppConfig::FromConfig(nlohmann::json::parse(
      R"({"flyteadmin": {"injectIdentityAnnotations": true, "identityAnnotationPrefix": "",
                         "identityAnnotationKeys": ["email", "sub"]}})"));
  REQUIRE(identity.ok());
  CHECK(identity->inject_identity_annotations);
  CHECK(identity->identity_annotation_prefix == "flyte.org");
  CHECK(identity->identity_annotation_keys == std::vector<std::string>{"email", "sub"});
  for (const auto& [doc, key] : std::vector<std::pair<std::string, std::string>>{
           {R"({"flyteadmin": {"identityAnnotationKeys": "email"}})", "flyteadmin.identityAnnotationKeys"},
           {R"({"flyteadmin": {"identityAnnotationKeys": ["email", 3]}})", "flyteadmin.identityAnnotationKeys[1]"},
           {R"({"flyteadmin": {"injectIdentityAnnotations": "yes"}})", "flyteadmin.injectIdentityAnnotations"}}) {
    auto wrong = ExecutionAppConfig::FromConfig(nlohmann::json::parse(doc));
    REQUIRE_FALSE(wrong.ok());
    CHECK(wrong.status().code() == StatusCode::kInvalidArgument);
    CHECK_THAT(wrong.status().message(), Catch::Contains("config key " + key + " must be"));
  }
}

TEST_CASE("Identity annotations name the user or the application, never replacing an annotation",
          "[unit]") {
  using flyte::plugins::manager::AddIdentityAnnotations;
  using flyte::plugins::manager::CallerIdentity;
  ExecutionAppConfig config;
  config.inject_identity_annotations = true;
  config.identity_annotation_keys = {"email", "sub", "id", "name"};
  std::map<std::string, std::string> annotations = {{"flyte.org/user-email", "kept"}};
  AddIdentityAnnotations(config, CallerIdentity{"u1", "", "u@example.com", "subject-1"}, annotations);
  CHECK(annotations == std::map<std::string, std::string>{{"flyte.org/user-email", "kept"},
                                                          {"flyte.org/user-sub", "subject-1"}});
  // No email claim: that key is skipped rather than written empty.
  annotations.clear();
  AddIdentityAnnotations(config, CallerIdentity{"u1", "", "", ""}, annotations);
  CHECK(annotations == std::map<std::string, std::string>{{"flyte.org/user-sub", "u1"}});
  annotations.clear();
  AddIdentityAnnotations(config, CallerIdentity{"svc", "svc-app", "", ""}, annotations);
  CHECK(annotations == std::map<std::string, std::string>{
                           {"flyte.org/app-email", "svc-app"}, {"flyte.org/app-sub", "svc-app"}, {"flyte.org/app-id", "svc-app"}});
  annotations.clear();
  AddIdentityAnnotations(config, CallerIdentity{}, annotations);
  CHECK(annotations.empty());
  for (const char* prefix : {"Upper.case", "-dash.start", "dots..twice", "under_score"}) {
    config.identity_annotation_prefix = prefix;
    AddIdentityAnnotations(config, CallerIdentity{"u1", "", "u@example.com", ""}, annotations);
    CHECK(annotations.empty());
  }
  config.identity_annotation_prefix = "flyte.org";
  config.inject_identity_annotations = false;
  AddIdentityAnnotations(config, CallerIdentity{"u1", "", "u@example.com", ""}, annotations);
  CHECK(annotations.empty());
}

TEST_CASE("Labels come from the resolved config, then project labels fill missing keys",
          "[unit]") {
  FakeResourceRepo repo;
  admin::ExecutionSpec spec;
  (*spec.mutable_labels()->mutable_values())["team"] = "request";
  admin::LaunchPlanSpec lp;
  (*lp.mutable_labels()->mutable_values())["lp"] = "x";
  admin::Labels project;
  (*project.mutable_values())["team"] = "project";
  (*project.mutable_values())["cost"] = "center";
  ExecutionAppConfig config;
  auto r = ResolveExecutionConfig(spec, &lp, kNames, repo, config, &project);
  REQUIRE(r.ok());
  CHECK(r->labels == std::map<std::string, std::string>{{"team", "request"}, {"cost", "center"}});
  CHECK(r->annotations.empty());
  CHECK_FALSE(r->raw_output_data_config.has_value());
  CHECK_FALSE(r->cluster_assignment.has_value());
}

TEST_CASE("Too many labels or annotations are rejected only in the launch plan flow", "[unit]") {
  FakeResourceRepo repo;
  admin::ExecutionSpec spec;
  (*spec.mutable_labels()->mutable_values())["a"] = "1";
  (*spec.mutable_labels()->mutable_values())["b"] = "2";
  admin::LaunchPlanSpec lp;
  ExecutionAppConfig config;
  config.max_label_entries = 1;
  auto r = ResolveExecutionConfig(spec, &lp, kNames, repo, config);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == StatusCode::kInvalidArgument);
  CHECK(r.status().message() == "labels has too many entries [2 > 1]");
  CHECK(ResolveExecutionConfig(spec, nullptr, kNames, repo, config).ok());

  config.max_label_entries = 0;
  config.max_annotation_entries = 1;
  config.annotations = {{"x", "1"}, {"y", "2"}};
  r = ResolveExecutionConfig(spec, &lp, kNames, repo, config);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().message() == "annotations has too many entries [2 > 1]");
}

TEST_CASE("The raw output data config is the resolved one", "[unit]") {
  FakeResourceRepo repo;
  admin::WorkflowExecutionConfig domain;
  domain.mutable_raw_output_data_config()->set_output_location_prefix("s3://domain");
  repo.PutExecConfig("proj", "dev", "", domain);
  auto r = ResolveExecutionConfig(admin::ExecutionSpec(), nullptr, kNames, repo, FullAppConfig());
  REQUIRE(r.ok());
  REQUIRE(r->raw_output_data_config.has_value());
  CHECK(r->raw_output_data_config->output_location_prefix() == "s3://domain");
}

TEST_CASE("Cluster assignment reconciles the request pool with the stored one", "[unit]") {
  FakeResourceRepo repo;
  ExecutionAppConfig config;
  config.cluster_pool_by_domain["dev"] = "config-pool";
  admin::ExecutionSpec spec;

  auto stored = GetClusterAssignment(spec, "proj", "dev", repo, config);
  REQUIRE(stored.ok());
  REQUIRE(stored->has_value());
  CHECK((*stored)->cluster_pool_name() == "config-pool");

  auto none = GetClusterAssignment(spec, "proj", "prod", repo, config);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  spec.mutable_cluster_assignment()->set_cluster_pool_name("wanted");
  auto from_request = GetClusterAssignment(spec, "proj", "prod", repo, config);
  REQUIRE(from_request.ok());
  CHECK((*from_request)->cluster_pool_name() == "wanted");

  admin::MatchingAttributes attributes;
  attributes.mutable_cluster_assignment()->set_cluster_pool_name("attr-pool");
  repo.Put({"proj", "dev", "", "", "CLUSTER_ASSIGNMENT"}, db::kResourcePriorityProjectDomain,
           attributes);
  auto conflict = GetClusterAssignment(spec, "proj", "dev", repo, config);
  REQUIRE_FALSE(conflict.ok());
  CHECK(conflict.status().code() == StatusCode::kInvalidArgument);
  CHECK(conflict.status().message() ==
        "execution with project \"proj\" and domain \"dev\" cannot run on cluster pool "
        "\"wanted\", because its configured to run on pool \"attr-pool\"");

  spec.mutable_cluster_assignment()->set_cluster_pool_name("attr-pool");
  auto same = GetClusterAssignment(spec, "proj", "dev", repo, config);
  REQUIRE(same.ok());
  CHECK((*same)->cluster_pool_name() == "attr-pool");
}

}  // namespace
