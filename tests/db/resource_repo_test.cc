// The matchable-attribute repository (table `resources`) against SQLite and a real PostgreSQL.
#include <thread>

#include "db_test_util.h"

namespace flyte::test::db {
namespace {

using plugin::StatusCode;
using namespace plugin::db;  // NOLINT: models and repositories

ResourceModel Row(const std::string& project, const std::string& domain,
                  const std::string& workflow, const std::string& launch_plan, int32_t priority,
                  const std::string& attributes, const std::string& type = "TASK_RESOURCE") {
  ResourceModel r;
  r.key = ResourceKey{project, domain, workflow, launch_plan, type};
  r.priority = priority;
  r.attributes = attributes;
  return r;
}

std::vector<std::string> AttributesOf(const std::vector<ResourceModel>& rows) {
  std::vector<std::string> out;
  for (const auto& r : rows) out.push_back(r.attributes);
  return out;
}

TEST_CASE("Resource rows are upserted by key and read back byte for byte", "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repo = t.repos().Resources();

  const std::string bytes("\x0a\x00\xff\x12", 4);
  REQUIRE(
      repo.CreateOrUpdate(Row("p", "development", "", "", kResourcePriorityProjectDomain, bytes))
          .ok());
  auto got = repo.Get(ResourceKey{"p", "development", "", "", "TASK_RESOURCE"});
  REQUIRE(got.ok());
  CHECK(got->attributes == bytes);
  CHECK(got->priority == kResourcePriorityProjectDomain);
  CHECK(got->key.project == "p");
  CHECK(got->key.domain == "development");
  CHECK(got->created_at == got->updated_at);
  const int64_t id = got->id;

  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  REQUIRE(
      repo.CreateOrUpdate(Row("p", "development", "", "", kResourcePriorityProjectDomain, "second"))
          .ok());
  auto again = repo.Get(ResourceKey{"p", "development", "", "", "TASK_RESOURCE"});
  REQUIRE(again.ok());
  CHECK(again->attributes == "second");
  CHECK(again->id == id);
  CHECK(again->created_at == got->created_at);
  CHECK(again->updated_at > got->updated_at);
  CHECK(t.repos().Resources().ListAll("TASK_RESOURCE")->size() == 1);

  SECTION("an exact-key lookup does not fall back to a less specific row") {
    auto missing = repo.Get(ResourceKey{"p", "development", "wf", "", "TASK_RESOURCE"});
    CHECK(missing.status().code() == StatusCode::kNotFound);
    CHECK(missing.status().message() == "{p development wf  TASK_RESOURCE}");
  }

  SECTION("keys that are not a level and a zero priority are refused") {
    for (const auto& key : {ResourceKey{"", "", "", "", "TASK_RESOURCE"},
                            ResourceKey{"", "development", "wf", "", "TASK_RESOURCE"},
                            ResourceKey{"p", "development", "", "lp", "TASK_RESOURCE"},
                            ResourceKey{"p", "development", "", "", ""}}) {
      ResourceModel r;
      r.key = key;
      r.priority = 10;
      auto s = repo.CreateOrUpdate(r);
      CHECK(s.code() == StatusCode::kInvalidArgument);
      CHECK(s.message().rfind("missing and/or invalid parameters: ", 0) == 0);
    }
    auto zero = repo.CreateOrUpdate(Row("p", "staging", "", "", 0, "x"));
    CHECK(zero.code() == StatusCode::kInvalidArgument);
    CHECK(zero.message() ==
          "missing and/or invalid parameters: invalid priority {p staging   TASK_RESOURCE}");
  }
}

TEST_CASE("The most specific resource wins by priority, and the project level is read on its own",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repo = t.repos().Resources();

  REQUIRE(repo.CreateOrUpdate(Row("p", "", "", "", kResourcePriorityProject, "project")).ok());
  REQUIRE(
      repo.CreateOrUpdate(Row("p", "development", "wf", "", kResourcePriorityWorkflow, "workflow"))
          .ok());
  REQUIRE(
      repo.CreateOrUpdate(Row("p", "development", "", "", kResourcePriorityProjectDomain, "domain"))
          .ok());
  REQUIRE(
      repo.CreateOrUpdate(Row("p", "development", "wf", "lp", kResourcePriorityLaunchPlan, "lp"))
          .ok());
  REQUIRE(repo.CreateOrUpdate(
                  Row("other", "development", "", "", kResourcePriorityProjectDomain, "other"))
              .ok());
  REQUIRE(repo.CreateOrUpdate(Row("p", "development", "", "", kResourcePriorityProjectDomain,
                                  "queue", "EXECUTION_QUEUE"))
              .ok());

  auto most = [&](ResourceKey key) {
    auto r = repo.GetMostSpecific(key);
    REQUIRE(r.ok());
    return r->attributes;
  };
  CHECK(most({"p", "development", "wf", "lp", "TASK_RESOURCE"}) == "lp");
  CHECK(most({"p", "development", "wf", "", "TASK_RESOURCE"}) == "workflow");
  CHECK(most({"p", "development", "other-wf", "", "TASK_RESOURCE"}) == "domain");
  CHECK(most({"p", "development", "", "", "TASK_RESOURCE"}) == "domain");
  CHECK(most({"p", "staging", "", "", "TASK_RESOURCE"}) == "project");
  CHECK(most({"p", "staging", "wf", "", "TASK_RESOURCE"}) == "project");
  CHECK(most({"p", "development", "", "", "EXECUTION_QUEUE"}) == "queue");

  auto project = repo.GetProjectLevel("p", "TASK_RESOURCE");
  REQUIRE(project.ok());
  CHECK(project->attributes == "project");
  CHECK(project->priority == kResourcePriorityProject);

  SECTION("no match is upstream's NOT_FOUND") {
    auto none = repo.GetMostSpecific({"nobody", "production", "", "", "TASK_RESOURCE"});
    CHECK(none.status().code() == StatusCode::kNotFound);
    CHECK(none.status().message() ==
          "Resource [{Project:nobody Domain:production Workflow: LaunchPlan: "
          "ResourceType:TASK_RESOURCE}] not found");
    auto no_project = repo.GetProjectLevel("other", "TASK_RESOURCE");
    CHECK(no_project.status().code() == StatusCode::kNotFound);
    CHECK(no_project.status().message() ==
          "Resource [{Project:other Domain: Workflow: LaunchPlan: ResourceType:TASK_RESOURCE}] "
          "not found");
    auto other_type = repo.GetMostSpecific({"p", "development", "", "", "PLUGIN_OVERRIDE"});
    CHECK(other_type.status().code() == StatusCode::kNotFound);
  }

  SECTION("a lookup without project and domain is refused") {
    auto bad = repo.GetMostSpecific({"", "", "", "", "TASK_RESOURCE"});
    CHECK(bad.status().code() == StatusCode::kInternal);
    CHECK(bad.status().message() ==
          "unexpected error type for: missing and/or invalid parameters: {    TASK_RESOURCE}");
  }

  SECTION("ListAll returns one type by priority descending") {
    auto all = repo.ListAll("TASK_RESOURCE");
    REQUIRE(all.ok());
    CHECK(AttributesOf(*all) ==
          std::vector<std::string>{"lp", "workflow", "domain", "other", "project"});
    CHECK(repo.ListAll("CLUSTER_ASSIGNMENT")->empty());
  }

  SECTION("Delete removes the rows equal on the key's non-empty fields, as upstream") {
    REQUIRE(repo.Delete({"p", "development", "", "", "TASK_RESOURCE"}).ok());
    CHECK(AttributesOf(*repo.ListAll("TASK_RESOURCE")) ==
          std::vector<std::string>{"other", "project"});
    CHECK(repo.ListAll("EXECUTION_QUEUE")->size() == 1);
    REQUIRE(repo.Delete({"p", "", "", "", "TASK_RESOURCE"}).ok());
    CHECK(AttributesOf(*repo.ListAll("TASK_RESOURCE")) == std::vector<std::string>{"other"});
    CHECK(repo.Delete({"p", "", "", "", "TASK_RESOURCE"}).ok());  // nothing left: still OK
  }

  SECTION("a workflow-level delete leaves the project-domain row") {
    REQUIRE(repo.Delete({"p", "development", "wf", "", "TASK_RESOURCE"}).ok());
    CHECK(most({"p", "development", "wf", "", "TASK_RESOURCE"}) == "domain");
    CHECK(repo.ListAll("TASK_RESOURCE")->size() == 3);
  }
}

}  // namespace
}  // namespace flyte::test::db
