// Request validation: identifiers, lists, named entities, projects, tasks and workflows.
#include "flyte/manager/validation.h"

#include <google/protobuf/util/json_util.h>

#include <catch2/catch.hpp>
#include <functional>

#include "fakes.h"

namespace flyte::plugins::manager {
namespace {

using plugin::Status;
using plugin::StatusCode;
using testing::FakeProjectRepo;

void CheckInvalid(const Status& status, const std::string& message) {
  INFO(status.message());
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(status.message() == message);
}

flyteidl::core::Identifier Id(int rt, std::string p, std::string d, std::string n, std::string v) {
  flyteidl::core::Identifier id;
  id.set_resource_type(static_cast<flyteidl::core::ResourceType>(rt));
  id.set_project(std::move(p));
  id.set_domain(std::move(d));
  id.set_name(std::move(n));
  id.set_version(std::move(v));
  return id;
}

TEST_CASE("Identifiers need the entity's resource type and all four fields", "[unit]") {
  struct Case {
    flyteidl::core::Identifier id;
    Entity entity;
    std::string message;  // empty: valid
  };
  const std::vector<Case> cases = {
      {Id(flyteidl::core::TASK, "p", "d", "n", "v"), Entity::kTask, ""},
      {Id(flyteidl::core::TASK, "", "d", "n", "v"), Entity::kTask, "missing project"},
      {Id(flyteidl::core::TASK, "p", "", "n", "v"), Entity::kTask, "missing domain"},
      {Id(flyteidl::core::TASK, "p", "d", "", "v"), Entity::kTask, "missing name"},
      {Id(flyteidl::core::TASK, "p", "d", "n", ""), Entity::kTask, "missing version"},
      {Id(flyteidl::core::WORKFLOW, "project", "domain", "", ""), Entity::kTask,
       "unexpected resource type workflow for identifier [resource_type:WORKFLOW "
       "project:\"project\" domain:\"domain\"], expected task instead"},
      {Id(flyteidl::core::UNSPECIFIED, "", "", "", ""), Entity::kWorkflow,
       "unexpected resource type unspecified for identifier [], expected workflow instead"},
      {Id(flyteidl::core::TASK, "p", "d", "n", "v"), Entity::kLaunchPlan,
       "unexpected resource type task for identifier [resource_type:TASK project:\"p\" "
       "domain:\"d\" name:\"n\" version:\"v\"], expected launch_plan instead"},
      {Id(42, "p", "d", "n", "v"), Entity::kWorkflow,
       "unexpected resource type 42 for identifier [resource_type:42 project:\"p\" domain:\"d\" "
       "name:\"n\" version:\"v\"], expected workflow instead"},
  };
  for (const auto& c : cases) {
    const Status s = ValidateIdentifier(&c.id, c.entity);
    if (c.message.empty()) {
      CHECK(s.ok());
    } else {
      CheckInvalid(s, c.message);
    }
  }
  CheckInvalid(ValidateIdentifier(nullptr, Entity::kTask), "missing id");
  CheckInvalid(ValidateIdentifierFieldsSet(nullptr), "missing id");
  const auto any_type = Id(flyteidl::core::LAUNCH_PLAN, "p", "d", "n", "");
  CheckInvalid(ValidateIdentifierFieldsSet(&any_type), "missing version");
}

TEST_CASE("Basic field checks use upstream's wording", "[unit]") {
  CheckInvalid(ValidateEmptyStringField("", "foo"), "missing foo");
  CHECK(ValidateEmptyStringField("x", "foo").ok());
  CheckInvalid(ValidateMaxLengthStringField("abcdefg", "foo", 6), "foo cannot exceed 6 characters");
  CHECK(ValidateMaxLengthStringField("abcdef", "foo", 6).ok());
  CheckInvalid(ValidateMaxMapLengthField(3, "foo", 2), "foo map cannot exceed 2 entries");
  CheckInvalid(ValidateLimit(0), "invalid value for limit");
  CHECK(ValidateLimit(1).ok());
  for (const int rt : {0, 5, -1}) {
    INFO(rt);
    CheckInvalid(ValidateResourceType(rt), "invalid value for resource_type");
  }
  for (const int rt : {1, 2, 3, 4}) CHECK(ValidateResourceType(rt).ok());
}

TEST_CASE("List requests require their identifier parts and a limit", "[unit]") {
  flyteidl::admin::ResourceListRequest list;
  CheckInvalid(ValidateResourceListRequest(list), "missing id");
  list.mutable_id()->set_domain("d");
  CheckInvalid(ValidateResourceListRequest(list), "missing project");
  list.mutable_id()->set_project("p");
  list.mutable_id()->clear_domain();
  CheckInvalid(ValidateResourceListRequest(list), "missing domain");
  list.mutable_id()->set_domain("d");
  CheckInvalid(ValidateResourceListRequest(list), "invalid value for limit");
  list.set_limit(10);
  CHECK(ValidateResourceListRequest(list).ok());

  flyteidl::admin::NamedEntityIdentifierListRequest ids;
  CheckInvalid(ValidateNamedEntityIdentifierListRequest(ids), "missing project");
  ids.set_project("p");
  CheckInvalid(ValidateNamedEntityIdentifierListRequest(ids), "missing domain");
  ids.set_domain("d");
  CheckInvalid(ValidateNamedEntityIdentifierListRequest(ids), "invalid value for limit");

  flyteidl::admin::ActiveLaunchPlanRequest active;
  CheckInvalid(ValidateActiveLaunchPlanRequest(active), "missing project");
  active.mutable_id()->set_project("p");
  active.mutable_id()->set_domain("d");
  CheckInvalid(ValidateActiveLaunchPlanRequest(active), "missing name");

  flyteidl::admin::ActiveLaunchPlanListRequest active_list;
  active_list.set_project("p");
  active_list.set_domain("d");
  CheckInvalid(ValidateActiveLaunchPlanListRequest(active_list), "invalid value for limit");

  flyteidl::admin::DescriptionEntityListRequest de_list;
  CheckInvalid(ValidateDescriptionEntityListRequest(de_list), "missing id");
  de_list.mutable_id()->set_project("p");
  de_list.mutable_id()->set_domain("d");
  CheckInvalid(ValidateDescriptionEntityListRequest(de_list), "missing name");
  de_list.mutable_id()->set_name("n");
  de_list.set_limit(1);
  CHECK(ValidateDescriptionEntityListRequest(de_list).ok());

  flyteidl::admin::ObjectGetRequest de_get;
  CheckInvalid(ValidateDescriptionEntityGetRequest(de_get), "invalid value for resource_type");
  *de_get.mutable_id() = Id(flyteidl::core::WORKFLOW, "p", "d", "n", "");
  CheckInvalid(ValidateDescriptionEntityGetRequest(de_get), "missing version");
}

TEST_CASE("Named entity requests are validated in upstream's order", "[unit]") {
  flyteidl::admin::NamedEntityGetRequest get;
  CheckInvalid(ValidateNamedEntityGetRequest(get), "invalid value for resource_type");
  get.set_resource_type(flyteidl::core::TASK);
  CheckInvalid(ValidateNamedEntityGetRequest(get), "missing id");
  get.mutable_id()->set_project("p");
  CheckInvalid(ValidateNamedEntityGetRequest(get), "missing domain");
  get.mutable_id()->set_domain("d");
  get.mutable_id()->set_name("n");
  CHECK(ValidateNamedEntityGetRequest(get).ok());

  flyteidl::admin::NamedEntityUpdateRequest update;
  update.set_resource_type(flyteidl::core::DATASET);
  *update.mutable_id() = get.id();
  CheckInvalid(ValidateNamedEntityUpdateRequest(update), "missing metadata");
  update.mutable_metadata()->set_state(flyteidl::admin::NAMED_ENTITY_ARCHIVED);
  CheckInvalid(ValidateNamedEntityUpdateRequest(update),
               "Resource [DATASET] cannot have its state updated");
  update.mutable_metadata()->set_state(flyteidl::admin::NAMED_ENTITY_ACTIVE);
  CHECK(ValidateNamedEntityUpdateRequest(update).ok());
  for (const auto rt :
       {flyteidl::core::TASK, flyteidl::core::WORKFLOW, flyteidl::core::LAUNCH_PLAN}) {
    update.set_resource_type(rt);
    update.mutable_metadata()->set_state(flyteidl::admin::NAMED_ENTITY_ARCHIVED);
    CHECK(ValidateNamedEntityUpdateRequest(update).ok());
  }

  flyteidl::admin::NamedEntityListRequest list;
  list.set_project("p");
  CheckInvalid(ValidateNamedEntityListRequest(list), "missing domain");
  list.set_domain("d");
  CheckInvalid(ValidateNamedEntityListRequest(list), "invalid value for resource_type");
  list.set_resource_type(flyteidl::core::WORKFLOW);
  CheckInvalid(ValidateNamedEntityListRequest(list), "invalid value for limit");
}

flyteidl::admin::Project ValidProject() {
  flyteidl::admin::Project p;
  p.set_id("flytesnacks");
  p.set_name("Flyte Snacks");
  p.set_description("desc");
  return p;
}

TEST_CASE("Project registration and update are validated like upstream", "[unit]") {
  flyteidl::admin::ProjectRegisterRequest reg;
  CheckInvalid(ValidateProjectRegisterRequest(reg), "missing project");
  *reg.mutable_project() = ValidProject();
  CHECK(ValidateProjectRegisterRequest(reg).ok());
  reg.mutable_project()->clear_name();
  CheckInvalid(ValidateProjectRegisterRequest(reg), "missing project_name");
  CHECK(ValidateProject(reg.project()).ok());  // name optional on update

  struct Case {
    std::function<void(flyteidl::admin::Project&)> mutate;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](auto& p) { p.clear_id(); }, "missing project_id"},
      {[](auto& p) { p.set_id("%)(*&"); },
       "invalid project id [%)(*&]: [a lowercase RFC 1123 label must consist of lower case "
       "alphanumeric characters or '-', and must start and end with an alphanumeric character "
       "(e.g. 'my-name',  or '123-abc', regex used for validation is "
       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')]"},
      {[](auto& p) { p.set_id("a.b"); }, "invalid project id [a.b]: [must not contain dots]"},
      {[](auto& p) { p.set_id(std::string(64, 'a')); },
       "invalid project id [" + std::string(64, 'a') + "]: [must be no more than 63 characters]"},
      {[](auto& p) { p.set_name(std::string(65, 'n')); },
       "project_name cannot exceed 64 characters"},
      {[](auto& p) { p.set_description(std::string(301, 'd')); },
       "project_description cannot exceed 300 characters"},
      {[](auto& p) { p.add_domains()->set_id("development"); },
       "Domains are currently only set system wide. Please retry without domains included in "
       "your request."},
      {[](auto& p) { (*p.mutable_labels()->mutable_values())["#badkey"] = "v"; },
       "invalid label key [#badkey]: [name part must consist of alphanumeric characters, '-', '_' "
       "or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
       "'my.name',  or '123-abc', regex used for validation is "
       "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')]"},
      {[](auto& p) { (*p.mutable_labels()->mutable_values())["key"] = "bad value"; },
       "invalid label value [bad value]: [a valid label must be an empty string or consist of "
       "alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric "
       "character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
       "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')]"},
      {[](auto& p) {
         for (int i = 0; i < 17; ++i)
           (*p.mutable_labels()->mutable_values())["k" + std::to_string(i)] = "v";
       },
       "labels map cannot exceed 16 entries"},
      // Labels are checked before the id.
      {[](auto& p) {
         p.set_id("BAD");
         (*p.mutable_labels()->mutable_values())["-x"] = "v";
       },
       "invalid label key [-x]: [name part must consist of alphanumeric characters, '-', '_' or "
       "'.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
       "'my.name',  or '123-abc', regex used for validation is "
       "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')]"},
  };
  for (const auto& c : cases) {
    auto p = ValidProject();
    c.mutate(p);
    CheckInvalid(ValidateProject(p), c.message);
  }
  auto labelled = ValidProject();
  (*labelled.mutable_labels()->mutable_values())["example.com/team"] = "";
  (*labelled.mutable_labels()->mutable_values())["env"] = "prod_1";
  CHECK(ValidateProject(labelled).ok());

  flyteidl::admin::ProjectGetRequest get;
  CheckInvalid(ValidateProjectGetRequest(get), "missing project_id");
}

TEST_CASE("Project and domain must be registered, active and configured", "[unit]") {
  FakeProjectRepo repo;
  repo.Add("p");
  repo.Add("archived", flyteidl::admin::Project::ARCHIVED);
  repo.Add("system", flyteidl::admin::Project::SYSTEM_GENERATED);
  const auto domains = DefaultDomains();
  CHECK(ValidateProjectAndDomain(repo, domains, "p", "development").ok());
  CheckInvalid(ValidateProjectAndDomain(repo, domains, "q", "development"),
               "failed to validate that project [q] and domain [development] are registered, err: "
               "[project [q] not found]");
  for (const std::string project : {"archived", "system"}) {
    const auto s = ValidateProjectAndDomain(repo, domains, project, "development");
    CheckInvalid(s, "project [" + project + "] is not active");
    REQUIRE(s.details().size() == 1);
    CHECK(s.details()[0].type_url == "type.googleapis.com/flyteidl.admin.InactiveProject");
    flyteidl::admin::InactiveProject detail;
    REQUIRE(detail.ParseFromString(s.details()[0].value));
    CHECK(detail.id() == project);
  }
  CheckInvalid(ValidateProjectAndDomain(repo, domains, "p", "qa"),
               "domain [qa] is unrecognized by system");
  repo.get_error = Status(StatusCode::kUnknown, "foo");
  CheckInvalid(ValidateProjectAndDomain(repo, domains, "p", "development"),
               "failed to validate that project [p] and domain [development] are registered, err: "
               "[foo]");
  repo.get_error = Status::Ok();
  CheckInvalid(ValidateProjectForUpdate(repo, "archived"), "project [archived] is not active");
  CHECK(ValidateProjectForUpdate(repo, "archived").details().empty());
  CheckInvalid(ValidateProjectExists(repo, "q"),
               "failed to validate that project [q] exists, err: [project [q] not found]");
  CHECK(ValidateProjectExists(repo, "archived").ok());
}

flyteidl::admin::TaskCreateRequest ValidTaskRequest() {
  flyteidl::admin::TaskCreateRequest r;
  *r.mutable_id() = Id(flyteidl::core::TASK, "p", "development", "t", "v1");
  auto* t = r.mutable_spec()->mutable_template_();
  *t->mutable_id() = r.id();
  t->set_type("python-task");
  t->mutable_metadata()->mutable_runtime()->set_version("1.0");
  t->mutable_interface();
  t->mutable_container()->set_image("img");
  return r;
}

TaskResources MockPlatform() {
  TaskResources r;
  r.limits.memory = *Quantity::Parse("500Mi");
  r.limits.cpu = *Quantity::Parse("200m");
  r.limits.gpu = *Quantity::Parse("8");
  return r;
}

google::protobuf::Struct PodSpec(const std::string& json) {
  google::protobuf::Struct s;
  REQUIRE(google::protobuf::util::JsonStringToMessage(json, &s).ok());
  return s;
}

TEST_CASE("Task templates are validated field by field in upstream's order", "[unit]") {
  FakeProjectRepo repo;
  repo.Add("p");
  const auto domains = DefaultDomains();
  const auto platform = MockPlatform();
  CHECK(ValidateTask(ValidTaskRequest(), repo, domains, platform, {}).ok());

  using Req = flyteidl::admin::TaskCreateRequest;
  struct Case {
    std::function<void(Req&)> mutate;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](Req& r) { r.clear_id(); }, "missing id"},
      {[](Req& r) { r.mutable_id()->set_resource_type(flyteidl::core::WORKFLOW); },
       "unexpected resource type workflow for identifier [resource_type:WORKFLOW project:\"p\" "
       "domain:\"development\" name:\"t\" version:\"v1\"], expected task instead"},
      {[](Req& r) { r.mutable_id()->clear_version(); }, "missing version"},
      {[](Req& r) { r.mutable_id()->set_project("nope"); },
       "failed to validate that project [nope] and domain [development] are registered, err: "
       "[project [nope] not found]"},
      {[](Req& r) { r.mutable_id()->set_domain("qa"); }, "domain [qa] is unrecognized by system"},
      {[](Req& r) { r.clear_spec(); }, "missing spec"},
      {[](Req& r) { r.mutable_spec()->clear_template_(); }, "missing spec"},
      {[](Req& r) { r.mutable_spec()->mutable_template_()->clear_type(); }, "missing type"},
      {[](Req& r) { r.mutable_spec()->mutable_template_()->clear_metadata(); }, "missing metadata"},
      {[](Req& r) {
         r.mutable_spec()
             ->mutable_template_()
             ->mutable_metadata()
             ->mutable_runtime()
             ->clear_version();
       },
       "missing runtime version"},
      {[](Req& r) { r.mutable_spec()->mutable_template_()->clear_interface(); },
       "missing typed interface"},
      {[](Req& r) { r.mutable_spec()->mutable_template_()->mutable_container()->clear_image(); },
       "missing image"},
      {[](Req& r) { r.mutable_spec()->mutable_template_()->mutable_k8s_pod(); },
       "invalid TaskSpecification, pod tasks should specify their target as a K8sPod with a "
       "defined pod spec"},
  };
  for (const auto& c : cases) {
    auto r = ValidTaskRequest();
    c.mutate(r);
    CheckInvalid(ValidateTask(r, repo, domains, platform, {}), c.message);
  }
  // No runtime metadata at all is fine; no target at all is fine.
  auto r = ValidTaskRequest();
  r.mutable_spec()->mutable_template_()->mutable_metadata()->clear_runtime();
  r.mutable_spec()->mutable_template_()->clear_container();
  CHECK(ValidateTask(r, repo, domains, platform, {}).ok());
}

TEST_CASE("The task type whitelist admits only listed scopes", "[unit]") {
  FakeProjectRepo repo;
  repo.Add("p");
  const auto domains = DefaultDomains();
  const auto platform = MockPlatform();
  const auto request = ValidTaskRequest();  // project p, domain development, type python-task
  struct Case {
    std::vector<WhitelistScope> scopes;
    bool allowed;
  };
  const std::vector<Case> cases = {
      {{}, true},
      {{{"", ""}}, true},
      {{{"p", ""}}, true},
      {{{"p", "development"}}, true},
      {{{"p", "production"}}, false},
      {{{"other", ""}}, false},
      {{{"other", ""}, {"p", "production"}, {"p", "development"}}, true},
  };
  for (const auto& c : cases) {
    TaskTypeWhitelist whitelist{{"python-task", c.scopes}, {"spark", {{"x", "y"}}}};
    const auto s = ValidateTask(request, repo, domains, platform, whitelist);
    if (c.allowed) {
      CHECK(s.ok());
    } else {
      CheckInvalid(s, "task type must be whitelisted before use");
    }
  }
}

TEST_CASE("Container resources are checked against requests, limits and platform limits",
          "[unit]") {
  using flyteidl::core::Resources;
  struct Entry {
    Resources::ResourceName name;
    std::string value;
  };
  struct Case {
    std::vector<Entry> requests, limits;
    TaskResourceSet platform;
    std::string message;  // empty: valid
  };
  const auto q = [](const char* s) { return *Quantity::Parse(s); };
  TaskResourceSet mock;
  mock.memory = q("500Mi");
  mock.cpu = q("200m");
  mock.gpu = q("8");
  TaskResourceSet cpu_1gi;
  cpu_1gi.cpu = q("1Gi");
  TaskResourceSet gpu_1;
  gpu_1.gpu = q("1");
  const std::string kPlatformTail =
      ". Please contact Flyte Admins to change these limits or consult the configuration";
  const std::string kParseTail =
      ". Please follow K8s conventions for resources "
      "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/";
  const std::vector<Case> cases = {
      {{{Resources::CPU, "1.5Gi"}, {Resources::MEMORY, "200m"}},
       {},
       mock,
       "Requested CPU default [1536Mi] is greater than current limit set in the platform "
       "configuration [200m]" +
           kPlatformTail},
      {{{Resources::CPU, "1.5Gi"}},
       {{Resources::CPU, "1Gi"}},
       {},
       "Requested CPU default [1536Mi] is greater than the limit [1Gi]. Please fix your "
       "configuration"},
      {{{Resources::CPU, "1.5Gi"}},
       {{Resources::CPU, "1.5Gi"}},
       cpu_1gi,
       "Requested CPU limit [1536Mi] is greater than current limit set in the platform "
       "configuration [1Gi]" +
           kPlatformTail},
      {{{Resources::CPU, "1.5Gi"}},
       {},
       cpu_1gi,
       "Requested CPU default [1536Mi] is greater than current limit set in the platform "
       "configuration [1Gi]" +
           kPlatformTail},
      {{{Resources::GPU, "2"}},
       {{Resources::GPU, "1"}},
       {},
       "For extended resource 'gpu' the default value must equal the limit value for task "
       "[resource_type:TASK project:\"p\" domain:\"development\" name:\"t\" version:\"v1\"]"},
      {{{Resources::GPU, "2"}},
       {},
       gpu_1,
       "Requested GPU default [2] is greater than current limit set in the platform "
       "configuration [1]" +
           kPlatformTail},
      {{{Resources::GPU, "1.5"}},
       {},
       {},
       "gpu for [resource_type:TASK project:\"p\" domain:\"development\" name:\"t\" "
       "version:\"v1\"] must be a whole number, got: 1.5 instead"},
      {{{Resources::CPU, "200Q"}},
       {},
       {},
       "Parsing of CPU request failed for value 200Q - reason  quantities must match the regular "
       "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" +
           kParseTail},
      {{},
       {{Resources::MEMORY, "1Kb"}},
       {},
       "Parsing of MEMORY request failed for value 1Kb - reason  quantities must match the "
       "regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'" +
           kParseTail},
      {{{Resources::MEMORY, "1Gi"}, {Resources::MEMORY, "2Gi"}},
       {},
       {},
       "can't specify MEMORY limit for task [resource_type:TASK project:\"p\" "
       "domain:\"development\" name:\"t\" version:\"v1\"] multiple times"},
      {{{Resources::EPHEMERAL_STORAGE, "2Gi"}},
       {{Resources::EPHEMERAL_STORAGE, "1Gi"}},
       {},
       "Requested EPHEMERAL_STORAGE default [2Gi] is greater than the limit [1Gi]. Please fix "
       "your configuration"},
      // Value() rounds up, so 500m and 200m compare equal.
      {{{Resources::CPU, "500m"}}, {{Resources::CPU, "200m"}}, mock, ""},
      {{{Resources::CPU, "200m"}, {Resources::MEMORY, "500Mi"}, {Resources::GPU, "8"}},
       {{Resources::GPU, "8"}},
       mock,
       ""},
      // Limits without a request are not compared to the platform; unknown names are skipped.
      {{}, {{Resources::CPU, "64"}}, mock, ""},
      {{{Resources::STORAGE, "junk"}, {Resources::UNKNOWN, "junk"}}, {}, mock, ""},
      // A zero platform limit means "not set".
      {{{Resources::CPU, "64"}}, {}, {}, ""},
  };
  FakeProjectRepo repo;
  repo.Add("p");
  for (const auto& c : cases) {
    auto r = ValidTaskRequest();
    auto* res = r.mutable_spec()->mutable_template_()->mutable_container()->mutable_resources();
    for (const auto& e : c.requests) {
      auto* x = res->add_requests();
      x->set_name(e.name);
      x->set_value(e.value);
    }
    for (const auto& e : c.limits) {
      auto* x = res->add_limits();
      x->set_name(e.name);
      x->set_value(e.value);
    }
    TaskResources platform;
    platform.limits = c.platform;
    const auto s = ValidateTask(r, repo, DefaultDomains(), platform, {});
    if (c.message.empty()) {
      CHECK(s.ok());
    } else {
      CheckInvalid(s, c.message);
    }
  }
  // The template's own id is named, not the request's.
  auto r = ValidTaskRequest();
  r.mutable_spec()->mutable_template_()->clear_id();
  auto* gpu = r.mutable_spec()
                  ->mutable_template_()
                  ->mutable_container()
                  ->mutable_resources()
                  ->add_requests();
  gpu->set_name(Resources::GPU);
  gpu->set_value("0.5");
  CheckInvalid(ValidateTask(r, repo, DefaultDomains(), {}, {}),
               "gpu for [<nil>] must be a whole number, got: 0.5 instead");
}

TEST_CASE("Pod task containers are checked against the platform limits", "[unit]") {
  FakeProjectRepo repo;
  repo.Add("p");
  const auto platform = MockPlatform();
  struct Case {
    std::string pod_spec;
    StatusCode code;
    std::string message;  // empty: valid
  };
  const std::string kPlatformTail =
      ". Please contact Flyte Admins to change these limits or consult the configuration";
  const std::vector<Case> cases = {
      {R"({"containers":[{"resources":{"requests":{"cpu":"1536Mi"}}}]})",
       StatusCode::kInvalidArgument,
       "Requested CPU default [1536Mi] is greater than current limit set in the platform "
       "configuration [200m]" +
           kPlatformTail},
      {R"({"containers":[{"resources":{"requests":{"cpu":"200m"}}}]})", StatusCode::kOk, ""},
      {R"({"containers":[{"name":"a"},{"resources":{"requests":{"memory":"1Gi"}}}]})",
       StatusCode::kInvalidArgument,
       "Requested MEMORY default [1Gi] is greater than current limit set in the platform "
       "configuration [500Mi]" +
           kPlatformTail},
      {R"({"containers":[{"resources":{"requests":{"ephemeral-storage":"2Gi"},"limits":{"ephemeral-storage":"1Gi"}}}]})",
       StatusCode::kInvalidArgument,
       "Requested EPHEMERAL_STORAGE default [2Gi] is greater than the limit [1Gi]. Please fix "
       "your configuration"},
      {R"({"containers":[{"resources":{"requests":{"cpu":0.1,"nvidia.com/gpu":"99"}}}]})",
       StatusCode::kOk, ""},
      {R"({"containers":[{"resources":{"requests":{"cpu":2}}}]})", StatusCode::kInvalidArgument,
       "Requested CPU default [2] is greater than current limit set in the platform "
       "configuration [200m]" +
           kPlatformTail},
      {R"({"containers":[{"resources":{"requests":{"cpu":"lots"}}}]})", StatusCode::kInternal,
       "quantities must match the regular expression "
       "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"},
      {R"({"containers":"nope"})", StatusCode::kInternal,
       "json: cannot unmarshal string into Go struct field PodSpec.containers of type "
       "[]v1.Container"},
      {R"({"initContainers":[{"resources":{"requests":{"cpu":"64"}}}]})", StatusCode::kOk, ""},
      // Keys match as encoding/json matches them: but for case, when no key matches exactly.
      {R"({"Containers":[{"Resources":{"Requests":{"cpu":"2"}}}]})", StatusCode::kInvalidArgument,
       "Requested CPU default [2] is greater than current limit set in the platform "
       "configuration [200m]" +
           kPlatformTail},
      {R"({"containers":[{"resources":{"requests":{"memory":"100Mi"},"LIMITS":{"memory":"1Gi"}}}]})",
       StatusCode::kInvalidArgument,
       "Requested MEMORY limit [1Gi] is greater than current limit set in the platform "
       "configuration [500Mi]" +
           kPlatformTail},
  };
  for (const auto& c : cases) {
    INFO(c.pod_spec);
    auto r = ValidTaskRequest();
    *r.mutable_spec()->mutable_template_()->mutable_k8s_pod()->mutable_pod_spec() =
        PodSpec(c.pod_spec);
    const auto s = ValidateTask(r, repo, DefaultDomains(), platform, {});
    CHECK(s.code() == c.code);
    CHECK(s.message() == c.message);
  }
}

TEST_CASE("Platform task resources come from config defaults or a matchable attribute", "[unit]") {
  const auto defaults = DefaultTaskResources();
  CHECK(defaults.defaults.cpu.String() == "2");
  CHECK(defaults.defaults.memory.String() == "200Mi");
  CHECK(defaults.limits.memory.String() == "1Gi");
  CHECK(defaults.limits.gpu.Value() == 1);
  CHECK(defaults.limits.ephemeral_storage.IsZero());

  flyteidl::admin::TaskResourceAttributes attrs;
  attrs.mutable_limits()->set_cpu("4");
  attrs.mutable_limits()->set_memory("garbage");
  attrs.mutable_defaults()->set_ephemeral_storage("1Gi");
  const auto from = TaskResourcesFromAttributes(attrs);
  CHECK(from.limits.cpu.Value() == 4);
  CHECK(from.limits.memory.IsZero());
  CHECK(from.limits.gpu.IsZero());
  CHECK(from.defaults.ephemeral_storage.String() == "1Gi");
}

TEST_CASE("Workflow requests and compiled workflows are validated like upstream", "[unit]") {
  FakeProjectRepo repo;
  repo.Add("p");
  flyteidl::admin::WorkflowCreateRequest req;
  CheckInvalid(ValidateWorkflow(req, repo, DefaultDomains()), "missing id");
  *req.mutable_id() = Id(flyteidl::core::TASK, "p", "development", "wf", "v");
  CheckInvalid(ValidateWorkflow(req, repo, DefaultDomains()),
               "unexpected resource type task for identifier [resource_type:TASK project:\"p\" "
               "domain:\"development\" name:\"wf\" version:\"v\"], expected workflow instead");
  req.mutable_id()->set_resource_type(flyteidl::core::WORKFLOW);
  CheckInvalid(ValidateWorkflow(req, repo, DefaultDomains()), "missing spec");
  req.mutable_spec()->mutable_template_();
  CHECK(ValidateWorkflow(req, repo, DefaultDomains()).ok());

  flyteidl::admin::WorkflowClosure closure;
  auto* tmpl = closure.mutable_compiled_workflow()->mutable_primary()->mutable_template_();
  for (int i = 0; i < 5; ++i) tmpl->add_nodes()->set_id("n" + std::to_string(i));
  RegistrationValidationConfig config;
  config.max_workflow_nodes = 3;
  CHECK(ValidateCompiledWorkflow(req.id(), closure, config).ok());  // 5 - 2 = 3 user nodes
  config.max_workflow_nodes = 2;
  CheckInvalid(ValidateCompiledWorkflow(req.id(), closure, config),
               "number of nodes in workflow [resource_type:WORKFLOW project:\"p\" "
               "domain:\"development\" name:\"wf\" version:\"v\"] exceeds limit (3 > 2)");
  config.max_workflow_nodes = 0;
  CHECK(ValidateCompiledWorkflow(req.id(), closure, config).ok());
  config.workflow_size_limit = "10";
  CheckInvalid(ValidateCompiledWorkflow(req.id(), closure, config),
               "Workflow closure size exceeds max limit [10]");
  config.workflow_size_limit = "1Ki";
  CHECK(ValidateCompiledWorkflow(req.id(), closure, config).ok());
  config.workflow_size_limit = "lots";
  CHECK(ValidateCompiledWorkflow(req.id(), closure, config).code() == StatusCode::kInternal);
}

}  // namespace
}  // namespace flyte::plugins::manager
