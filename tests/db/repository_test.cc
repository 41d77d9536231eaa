// Every repository method against SQLite and a real PostgreSQL.
#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "db_test_util.h"

namespace flyte::test::db {
namespace {

using plugin::StatusCode;
using namespace plugin::db;  // NOLINT: models and repositories

Filter F(std::string table, std::string column, FilterOp op, std::vector<std::string> values) {
  return Filter{std::move(table), std::move(column), op, std::move(values)};
}

ListInput Input(std::vector<Filter> filters, uint32_t limit = 100, uint64_t offset = 0,
                std::optional<Sort> sort = std::nullopt) {
  ListInput in;
  in.filters = std::move(filters);
  in.limit = limit;
  in.offset = offset;
  in.sort = std::move(sort);
  return in;
}

std::vector<Filter> InProject(const std::string& table, const std::string& project = "p",
                              const std::string& domain = "development") {
  return {F(table, "project", FilterOp::kEq, {project}),
          F(table, "domain", FilterOp::kEq, {domain})};
}

template <typename T>
std::vector<std::string> Names(const std::vector<T>& models) {
  std::vector<std::string> out;
  for (const auto& m : models) out.push_back(m.key.name);
  return out;
}

template <typename T>
std::vector<std::string> Versions(const std::vector<T>& models) {
  std::vector<std::string> out;
  for (const auto& m : models) out.push_back(m.key.version);
  return out;
}

TaskModel Task(const std::string& name, const std::string& version,
               const std::string& project = "p") {
  TaskModel t;
  t.key = EntityKey{project, "development", name, version};
  t.closure = std::string("closure-") + name + "-" + version;
  t.digest = "digest";
  t.type = "python-task";
  t.short_description = "short " + name;
  return t;
}

WorkflowModel Workflow(const std::string& name, const std::string& version) {
  WorkflowModel w;
  w.key = EntityKey{"p", "development", name, version};
  w.typed_interface = "iface";
  w.remote_closure_identifier = "s3://bucket/" + name + "/" + version;
  w.digest = "wd";
  return w;
}

LaunchPlanModel LaunchPlan(const std::string& name, const std::string& version,
                           int64_t workflow_id) {
  LaunchPlanModel lp;
  lp.key = EntityKey{"p", "development", name, version};
  lp.spec = "spec";
  lp.closure = "closure";
  lp.workflow_id = workflow_id;
  lp.digest = "lpd";
  return lp;
}

// Creates tasks t1..tN (name "task-<i>") with versions v1/v2, a little apart in time.
void SeedTasks(Repositories& repos, int n) {
  for (int i = 1; i <= n; ++i) {
    for (const char* v : {"v1", "v2"}) {
      REQUIRE(repos.Tasks().Create(Task("task-" + std::to_string(i), v), std::nullopt).ok());
    }
  }
}

TEST_CASE("Projects are created, read, listed and updated as upstream's project repository",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& projects = t.repos().Projects();

  auto before = std::chrono::system_clock::now() - std::chrono::seconds(2);
  for (const char* id : {"alpha", "beta", "gamma", "delta"}) {
    ProjectModel p;
    p.identifier = id;
    p.name = std::string("Name ") + id;
    p.description = std::string("about ") + id;
    if (std::string(id) == "beta") p.labels = std::string("\x0a\x00\xff\x10", 4);
    if (std::string(id) == "delta") p.state = 1;  // archived
    REQUIRE(projects.Create(p).ok());
  }

  auto beta = projects.Get("beta");
  REQUIRE(beta.ok());
  CHECK(beta->name == "Name beta");
  CHECK(beta->description == "about beta");
  REQUIRE(beta->labels.has_value());
  CHECK(*beta->labels == std::string("\x0a\x00\xff\x10", 4));
  CHECK(beta->created_at > before);
  CHECK(beta->created_at < std::chrono::system_clock::now() + std::chrono::seconds(2));
  CHECK(beta->updated_at == beta->created_at);
  CHECK_FALSE(projects.Get("alpha")->labels.has_value());

  SECTION("a missing project is NOT_FOUND") {
    auto missing = projects.Get("nope");
    CHECK(missing.status().code() == StatusCode::kNotFound);
    CHECK(missing.status().message() == "entry not found");
  }

  SECTION("a duplicate identifier is ALREADY_EXISTS and the existing row is unchanged") {
    ProjectModel dup;
    dup.identifier = "alpha";
    dup.name = "Other";
    auto status = projects.Create(dup);
    CHECK(status.code() == StatusCode::kAlreadyExists);
    CHECK_THAT(status.message(), Catch::StartsWith("value with matching already exists ("));
    if (t.pg()) {
      CHECK(status.message() ==
            "value with matching already exists (duplicate key value violates unique constraint "
            "\"projects_pkey\")");
    } else {
      CHECK(status.message() ==
            "value with matching already exists (UNIQUE constraint failed: projects.identifier)");
    }
    CHECK(projects.Get("alpha")->name == "Name alpha");
  }

  SECTION("the unfiltered list hides archived projects and any filter shows them") {
    ListInput in;
    in.sort = Sort{"identifier", true};
    auto all = projects.List(in);
    REQUIRE(all.ok());
    std::vector<std::string> ids;
    for (auto& p : *all) ids.push_back(p.identifier);
    CHECK(ids == std::vector<std::string>{"alpha", "beta", "gamma"});

    in.filters = {F("projects", "state", FilterOp::kEq, {"1"})};
    auto archived = projects.List(in);
    REQUIRE(archived.ok());
    REQUIRE(archived->size() == 1);
    CHECK((*archived)[0].identifier == "delta");
  }

  SECTION("limit 0 lists everything; limit and offset page; sort descends") {
    ListInput in;
    in.filters = {F("projects", "identifier", FilterOp::kNe, {"zzz"})};
    in.sort = Sort{"identifier", false};
    auto all = projects.List(in);
    REQUIRE(all.ok());
    CHECK(all->size() == 4);
    CHECK(all->front().identifier == "gamma");
    in.limit = 2;
    in.offset = 1;
    auto page = projects.List(in);
    REQUIRE(page.ok());
    REQUIRE(page->size() == 2);
    CHECK((*page)[0].identifier == "delta");
    CHECK((*page)[1].identifier == "beta");
  }

  SECTION("update writes non-empty fields and always the state") {
    ProjectModel update;
    update.identifier = "alpha";
    update.description = "new description";
    update.state = 1;
    REQUIRE(projects.Update(update).ok());
    auto alpha = projects.Get("alpha");
    REQUIRE(alpha.ok());
    CHECK(alpha->name == "Name alpha");
    CHECK(alpha->description == "new description");
    CHECK(alpha->state == 1);
    CHECK(alpha->updated_at >= alpha->created_at);
    update.state = 0;
    update.description.clear();
    update.labels = "L";
    REQUIRE(projects.Update(update).ok());
    alpha = projects.Get("alpha");
    CHECK(alpha->state == 0);
    CHECK(alpha->description == "new description");
    CHECK(alpha->labels == std::optional<std::string>("L"));
  }

  SECTION("updating a missing project is NOT_FOUND") {
    ProjectModel update;
    update.identifier = "nope";
    CHECK(projects.Update(update).code() == StatusCode::kNotFound);
  }

  SECTION("a filter on an unknown column or table is INVALID_ARGUMENT") {
    ListInput in;
    in.filters = {F("projects", "nope", FilterOp::kEq, {"x"})};
    CHECK(projects.List(in).status().code() == StatusCode::kInvalidArgument);
    in.filters = {F("pg_catalog.pg_user", "usename", FilterOp::kEq, {"x"})};
    CHECK(projects.List(in).status().code() == StatusCode::kInvalidArgument);
    in.filters = {F("projects", "name; DROP TABLE projects", FilterOp::kEq, {"x"})};
    CHECK(projects.List(in).status().code() == StatusCode::kInvalidArgument);
    in.filters = {};
    in.sort = Sort{"name desc, (SELECT 1)", true};
    CHECK(projects.List(in).status().code() == StatusCode::kInvalidArgument);
    CHECK(projects.Get("alpha").ok());
  }
}

TEST_CASE("Tasks are created with their description entity, read back byte for byte and listed",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& tasks = t.repos().Tasks();

  TaskModel binary = Task("bin", "v1");
  binary.closure = std::string("\x00\x01\xfe\xff'\";--%", 10);
  binary.digest = std::string("\x00\x00", 2);
  DescriptionEntityModel desc;
  desc.resource_type = 1;
  desc.key = binary.key;
  desc.short_description = "short";
  desc.long_description = std::string("\x08\x00\x12\x03", 4);
  desc.link = "https://example.com/src";
  REQUIRE(tasks.Create(binary, desc).ok());

  auto got = tasks.Get(binary.key);
  REQUIRE(got.ok());
  CHECK(got->id > 0);
  CHECK(got->closure == binary.closure);
  CHECK(got->digest == binary.digest);
  CHECK(got->type == "python-task");
  CHECK(got->short_description == "short bin");
  auto d = t.repos().DescriptionEntities().Get(binary.key);
  REQUIRE(d.ok());
  CHECK(d->resource_type == 1);
  CHECK(d->long_description == desc.long_description);
  CHECK(d->link == "https://example.com/src");
  CHECK(d->short_description == "short");

  SECTION("a missing task is NOT_FOUND") {
    auto missing = tasks.Get(EntityKey{"p", "development", "bin", "v9"});
    CHECK(missing.status().code() == StatusCode::kNotFound);
  }

  SECTION("a duplicate key is ALREADY_EXISTS, the row is unchanged and no description is added") {
    TaskModel dup = Task("bin", "v1");
    DescriptionEntityModel other = desc;
    other.key.version = "v1";
    other.short_description = "other";
    auto status = tasks.Create(dup, other);
    CHECK(status.code() == StatusCode::kAlreadyExists);
    CHECK(tasks.Get(binary.key)->closure == binary.closure);
    CHECK(t.repos().DescriptionEntities().Get(binary.key)->short_description == "short");
  }

  SECTION("a task whose description collides is not created either (one transaction)") {
    TaskModel fresh = Task("bin2", "v1");
    DescriptionEntityModel colliding = desc;  // same key as the existing description
    CHECK(tasks.Create(fresh, colliding).code() == StatusCode::kAlreadyExists);
    CHECK(tasks.Get(fresh.key).status().code() == StatusCode::kNotFound);
  }
}

TEST_CASE("Task lists apply every filter operator, sort both ways and page", "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& tasks = t.repos().Tasks();
  SeedTasks(t.repos(), 5);  // task-1..task-5, each v1 and v2
  REQUIRE(tasks.Create(Task("other-project-task", "v1", "q"), std::nullopt).ok());

  auto list = [&](std::vector<Filter> extra, std::optional<Sort> sort = Sort{"name", true},
                  uint32_t limit = 100, uint64_t offset = 0) {
    auto filters = InProject("tasks");
    filters.insert(filters.end(), extra.begin(), extra.end());
    auto out = tasks.List(Input(filters, limit, offset, sort));
    REQUIRE(out.ok());
    return *out;
  };
  auto v1 = [](std::vector<Filter> f) {
    f.push_back(F("tasks", "version", FilterOp::kEq, {"v1"}));
    return f;
  };

  CHECK(Names(list(v1({}))) ==
        std::vector<std::string>{"task-1", "task-2", "task-3", "task-4", "task-5"});
  CHECK(Names(list(v1({F("tasks", "name", FilterOp::kEq, {"task-3"})}))) ==
        std::vector<std::string>{"task-3"});
  CHECK(Names(list(v1({F("tasks", "name", FilterOp::kNe, {"task-3"})}))).size() == 4);
  CHECK(Names(list(v1({F("tasks", "name", FilterOp::kGt, {"task-3"})}))) ==
        std::vector<std::string>{"task-4", "task-5"});
  CHECK(Names(list(v1({F("tasks", "name", FilterOp::kGte, {"task-3"})}))) ==
        std::vector<std::string>{"task-3", "task-4", "task-5"});
  CHECK(Names(list(v1({F("tasks", "name", FilterOp::kLt, {"task-2"})}))) ==
        std::vector<std::string>{"task-1"});
  CHECK(Names(list(v1({F("tasks", "name", FilterOp::kLte, {"task-2"})}))) ==
        std::vector<std::string>{"task-1", "task-2"});
  CHECK(Names(list(v1({F("tasks", "name", FilterOp::kContains, {"sk-4"})}))) ==
        std::vector<std::string>{"task-4"});
  CHECK(Names(list(v1({F("tasks", "name", FilterOp::kContains, {"TASK"})}))).empty());
  CHECK(Names(list(v1({F("tasks", "name", FilterOp::kNotLike, {"task-%"})}))).empty());
  CHECK(Names(list(v1({F("tasks", "name", FilterOp::kNotLike, {"%-5"})}))).size() == 4);
  CHECK(Names(list(v1({F("tasks", "name", FilterOp::kValueIn, {"task-1", "task-5", "x"})}))) ==
        std::vector<std::string>{"task-1", "task-5"});
  CHECK(Names(list(v1({F("tasks", "name", FilterOp::kValueIn, {"task-2"})}))) ==
        std::vector<std::string>{"task-2"});
  CHECK(Names(list(v1({F("tasks", "name", FilterOp::kValueNotIn, {"task-1", "task-5"})}))) ==
        std::vector<std::string>{"task-2", "task-3", "task-4"});

  SECTION("numeric columns compare as numbers") {
    auto all = list({}, Sort{"id", true});
    REQUIRE(all.size() == 10);
    std::string third = std::to_string(all[2].id);
    auto after = list({F("tasks", "id", FilterOp::kGt, {third})}, Sort{"id", true});
    CHECK(after.size() == 7);
    CHECK(after.front().id > all[2].id);
    // 9 < 10 numerically although "9" > "10" as text.
    auto small = list({F("tasks", "id", FilterOp::kLt, {"10"})});
    CHECK(small.size() >= 8);
    auto in_ids = list({F("tasks", "id", FilterOp::kValueIn,
                          {std::to_string(all[0].id), std::to_string(all[1].id)})});
    CHECK(in_ids.size() == 2);
  }

  SECTION("timestamp columns compare as timestamps") {
    CHECK(list({F("tasks", "created_at", FilterOp::kGt, {"2000-01-01T00:00:00Z"})}).size() == 10);
    CHECK(list({F("tasks", "created_at", FilterOp::kGt, {"2999-01-01 00:00:00+00:00"})}).empty());
    CHECK(list({F("tasks", "created_at", FilterOp::kLte, {"2999-01-01"})}).size() == 10);
  }

  SECTION("sort ascending and descending, limit and offset page through") {
    auto desc = list({}, Sort{"name", false});
    REQUIRE(desc.size() == 10);
    CHECK(desc.front().key.name == "task-5");
    CHECK(desc.back().key.name == "task-1");
    auto asc = list({}, Sort{"version", true});
    CHECK(asc.front().key.version == "v1");
    CHECK(asc.back().key.version == "v2");
    std::vector<std::string> paged;
    for (uint64_t offset = 0; offset < 12; offset += 3) {
      for (auto& task : list({}, Sort{"id", true}, 3, offset)) {
        paged.push_back(task.key.name + "/" + task.key.version);
      }
    }
    std::vector<std::string> whole;
    for (auto& task : list({}, Sort{"id", true})) {
      whole.push_back(task.key.name + "/" + task.key.version);
    }
    CHECK(paged == whole);
    CHECK(list({}, Sort{"id", true}, 3, 9).size() == 1);
  }

  SECTION("identifiers are grouped by project, domain and name") {
    auto ids = tasks.ListIdentifiers(Input(InProject("tasks"), 100, 0, Sort{"name", false}));
    REQUIRE(ids.ok());
    REQUIRE(ids->size() == 5);
    CHECK((*ids)[0].name == "task-5");
    CHECK((*ids)[0].project == "p");
    CHECK((*ids)[0].domain == "development");
    auto page = tasks.ListIdentifiers(Input(InProject("tasks"), 2, 2, Sort{"name", true}));
    REQUIRE(page.ok());
    REQUIRE(page->size() == 2);
    CHECK((*page)[0].name == "task-3");
    CHECK((*page)[1].name == "task-4");
  }

  SECTION("lists refuse a zero limit, no filters and bad filters") {
    auto zero = tasks.List(Input(InProject("tasks"), 0));
    CHECK(zero.status().code() == StatusCode::kInvalidArgument);
    CHECK(zero.status().message() == "missing and/or invalid parameters: limit");
    auto none = tasks.List(Input({}, 10));
    CHECK(none.status().message() == "missing and/or invalid parameters: filters");
    CHECK(tasks.ListIdentifiers(Input({}, 10)).status().code() == StatusCode::kInvalidArgument);
    CHECK(tasks.List(Input({F("workflows", "name", FilterOp::kEq, {"x"})}, 10)).status().code() ==
          StatusCode::kInvalidArgument);
    CHECK(tasks.List(Input({F("tasks", "name", FilterOp::kEq, {"a", "b"})}, 10)).status().code() ==
          StatusCode::kInvalidArgument);
    CHECK(tasks.List(Input({F("tasks", "name", FilterOp::kValueIn, {})}, 10)).status().code() ==
          StatusCode::kInvalidArgument);
    CHECK(tasks.List(Input({F("tasks", "id", FilterOp::kContains, {"1"})}, 10)).status().code() ==
          StatusCode::kInvalidArgument);
    CHECK(tasks.List(Input(InProject("tasks"), 10, 0, Sort{"nope", true})).status().code() ==
          StatusCode::kInvalidArgument);
  }
}

TEST_CASE("SQL metacharacters in names and filter values are stored and matched literally",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& tasks = t.repos().Tasks();
  const std::vector<std::string> names = {"it's",       "a\"b",           "x; DROP TABLE tasks; --",
                                          "50%_off",    "50xyoff",        "back\\slash",
                                          "-- comment", "' OR '1'='1",    ":p1 named",
                                          "$1 dollar",  "unicode ✓ 名前", "%"};
  for (const auto& name : names) REQUIRE(tasks.Create(Task(name, "v1"), std::nullopt).ok());

  for (const auto& name : names) {
    auto got = tasks.Get(EntityKey{"p", "development", name, "v1"});
    REQUIRE(got.ok());
    CHECK(got->key.name == name);
    auto eq = tasks.List(Input(
        {F("tasks", "project", FilterOp::kEq, {"p"}), F("tasks", "name", FilterOp::kEq, {name})}));
    REQUIRE(eq.ok());
    CHECK(Names(*eq) == std::vector<std::string>{name});
  }
  // contains takes its value literally: % and _ are not wildcards.
  auto pct = tasks.List(Input({F("tasks", "name", FilterOp::kContains, {"%_"})}));
  REQUIRE(pct.ok());
  CHECK(Names(*pct) == std::vector<std::string>{"50%_off"});
  auto quote = tasks.List(Input({F("tasks", "name", FilterOp::kContains, {"'"})}));
  REQUIRE(quote.ok());
  CHECK(quote->size() == 2);
  auto nothing = tasks.List(Input({F("tasks", "name", FilterOp::kEq, {"' OR 1=1 --"})}));
  REQUIRE(nothing.ok());
  CHECK(nothing->empty());
  auto in = tasks.List(
      Input({F("tasks", "name", FilterOp::kValueIn, {"it's", "x; DROP TABLE tasks; --"})}));
  REQUIRE(in.ok());
  CHECK(in->size() == 2);
  // Nothing else was affected.
  auto raw = t.Raw();
  CHECK(Count(*raw, "SELECT count(*) FROM tasks") == static_cast<long long>(names.size()));
  CHECK(Count(*raw, "SELECT count(*) FROM projects") == 0);
}

TEST_CASE("Workflows are created, read and listed, with identifiers grouped", "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& workflows = t.repos().Workflows();
  DescriptionEntityModel desc;
  desc.resource_type = 2;
  desc.key = EntityKey{"p", "development", "wf", "v1"};
  desc.short_description = "a workflow";
  REQUIRE(workflows.Create(Workflow("wf", "v1"), desc).ok());
  REQUIRE(workflows.Create(Workflow("wf", "v2"), std::nullopt).ok());
  REQUIRE(workflows.Create(Workflow("other", "v1"), std::nullopt).ok());

  auto got = workflows.Get(EntityKey{"p", "development", "wf", "v2"});
  REQUIRE(got.ok());
  CHECK(got->remote_closure_identifier == "s3://bucket/wf/v2");
  CHECK(got->typed_interface == "iface");
  CHECK(got->id > 0);
  CHECK(workflows.Get(EntityKey{"p", "development", "wf", "v3"}).status().code() ==
        StatusCode::kNotFound);
  CHECK(workflows.Create(Workflow("wf", "v1"), std::nullopt).code() == StatusCode::kAlreadyExists);
  CHECK(t.repos().DescriptionEntities().Get(desc.key)->short_description == "a workflow");

  auto byname = workflows.List(Input({F("workflows", "project", FilterOp::kEq, {"p"}),
                                      F("workflows", "name", FilterOp::kEq, {"wf"})},
                                     10, 0, Sort{"version", false}));
  REQUIRE(byname.ok());
  CHECK(Versions(*byname) == std::vector<std::string>{"v2", "v1"});
  auto ids = workflows.ListIdentifiers(Input(InProject("workflows"), 10, 0, Sort{"name", true}));
  REQUIRE(ids.ok());
  REQUIRE(ids->size() == 2);
  CHECK((*ids)[0].name == "other");
  CHECK((*ids)[1].name == "wf");
}

TEST_CASE("Launch plans join workflows for filtering, update, and switch the active version",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repos = t.repos();
  REQUIRE(repos.Workflows().Create(Workflow("wf-a", "v1"), std::nullopt).ok());
  REQUIRE(repos.Workflows().Create(Workflow("wf-b", "v1"), std::nullopt).ok());
  int64_t wa = repos.Workflows().Get(EntityKey{"p", "development", "wf-a", "v1"})->id;
  int64_t wb = repos.Workflows().Get(EntityKey{"p", "development", "wf-b", "v1"})->id;
  REQUIRE(wa != wb);
  LaunchPlanModel sched = LaunchPlan("lp-a", "v1", wa);
  sched.schedule_type = "CRON";
  sched.launch_condition_type = "SCHED";
  REQUIRE(repos.LaunchPlans().Create(sched).ok());
  REQUIRE(repos.LaunchPlans().Create(LaunchPlan("lp-a", "v2", wa)).ok());
  REQUIRE(repos.LaunchPlans().Create(LaunchPlan("lp-b", "v1", wb)).ok());
  auto& lps = repos.LaunchPlans();

  auto got = lps.Get(sched.key);
  REQUIRE(got.ok());
  CHECK(got->schedule_type == "CRON");
  CHECK(got->launch_condition_type == std::optional<std::string>("SCHED"));
  CHECK(got->workflow_id == wa);
  CHECK(got->state == 0);
  CHECK_FALSE(lps.Get(EntityKey{"p", "development", "lp-a", "v2"})->launch_condition_type);
  CHECK(lps.Create(LaunchPlan("lp-a", "v1", wb)).code() == StatusCode::kAlreadyExists);
  CHECK(lps.Get(sched.key)->workflow_id == wa);

  SECTION("filters may name workflows columns through the join") {
    auto by_wf = lps.List(Input({F("launch_plans", "project", FilterOp::kEq, {"p"}),
                                 F("workflows", "name", FilterOp::kEq, {"wf-a"})},
                                10, 0, Sort{"version", true}));
    REQUIRE(by_wf.ok());
    CHECK(Versions(*by_wf) == std::vector<std::string>{"v1", "v2"});
    for (auto& lp : *by_wf) CHECK(lp.key.name == "lp-a");
    auto latest = lps.List(Input(InProject("launch_plans"), 1, 0, Sort{"created_at", false}));
    REQUIRE(latest.ok());
    REQUIRE(latest->size() == 1);
    CHECK(latest->front().key.name == "lp-b");
    auto by_wf_version = lps.List(Input({F("workflows", "version", FilterOp::kEq, {"v1"}),
                                         F("launch_plans", "name", FilterOp::kEq, {"lp-b"})}));
    REQUIRE(by_wf_version.ok());
    CHECK(by_wf_version->size() == 1);
    CHECK(lps.List(Input({F("tasks", "name", FilterOp::kEq, {"x"})})).status().code() ==
          StatusCode::kInvalidArgument);
  }

  SECTION("SetActive makes one version active and the former one inactive") {
    auto v1 = *lps.Get(sched.key);
    REQUIRE(lps.SetActive(v1, std::nullopt).ok());
    CHECK(lps.Get(sched.key)->state == 1);
    auto v2 = *lps.Get(EntityKey{"p", "development", "lp-a", "v2"});
    REQUIRE(lps.SetActive(v2, v1).ok());
    CHECK(lps.Get(sched.key)->state == 0);
    CHECK(lps.Get(v2.key)->state == 1);
    auto active = lps.List(Input({F("launch_plans", "name", FilterOp::kEq, {"lp-a"}),
                                  F("launch_plans", "state", FilterOp::kEq, {"1"})}));
    REQUIRE(active.ok());
    CHECK(Versions(*active) == std::vector<std::string>{"v2"});
    auto ghost = LaunchPlan("lp-zzz", "v1", wa);
    CHECK(lps.SetActive(ghost, std::nullopt).code() == StatusCode::kNotFound);
  }

  SECTION("Update writes every column; a missing launch plan is NOT_FOUND") {
    auto lp = *lps.Get(sched.key);
    lp.state = 1;
    lp.spec = std::string("\x00new", 4);
    lp.launch_condition_type.reset();
    lp.schedule_type = "NONE";
    REQUIRE(lps.Update(lp).ok());
    auto after = *lps.Get(sched.key);
    CHECK(after.state == 1);
    CHECK(after.spec == std::string("\x00new", 4));
    CHECK_FALSE(after.launch_condition_type);
    CHECK(after.schedule_type == "NONE");
    CHECK(after.updated_at >= after.created_at);
    CHECK(lps.Update(LaunchPlan("nope", "v1", wa)).code() == StatusCode::kNotFound);
  }

  SECTION("identifiers are grouped") {
    auto ids = lps.ListIdentifiers(Input(InProject("launch_plans"), 10, 0, Sort{"name", true}));
    REQUIRE(ids.ok());
    REQUIRE(ids->size() == 2);
    CHECK((*ids)[0].name == "lp-a");
  }
}

TEST_CASE(
    "Named entities follow upstream's subquery shape: paging before filters, COALESCE "
    "state",
    "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repos = t.repos();
  auto& ne = repos.NamedEntities();
  SeedTasks(repos, 5);  // task-1..task-5, two versions each
  REQUIRE(repos.Tasks().Create(Task(".flytegen.wrapped", "v1"), std::nullopt).ok());

  SECTION("Get reads the metadata, defaulting to state 0 and an empty description") {
    auto got = ne.Get(1, NamedEntityKey{"p", "development", "task-2"});
    REQUIRE(got.ok());
    CHECK(got->resource_type == 1);
    CHECK(got->key.name == "task-2");
    CHECK(got->description.empty());
    CHECK(got->state == 0);
    CHECK(ne.Get(1, NamedEntityKey{"p", "development", "nope"}).status().code() ==
          StatusCode::kNotFound);
    CHECK(ne.Get(2, NamedEntityKey{"p", "development", "task-2"}).status().code() ==
          StatusCode::kNotFound);
    auto dataset = ne.Get(4, NamedEntityKey{"p", "development", "task-2"});
    CHECK(dataset.status().code() == StatusCode::kInvalidArgument);
    CHECK(dataset.status().message() ==
          "Cannot get NamedEntityMetadata for resource type: DATASET");
  }

  SECTION("Update upserts; an empty description keeps the stored one; state is always written") {
    NamedEntityModel m;
    m.resource_type = 1;
    m.key = NamedEntityKey{"p", "development", "task-2"};
    m.description = "described";
    m.state = 1;
    REQUIRE(ne.Update(m).ok());
    auto got = ne.Get(1, m.key);
    CHECK(got->description == "described");
    CHECK(got->state == 1);
    m.description.clear();
    m.state = 0;
    REQUIRE(ne.Update(m).ok());
    got = ne.Get(1, m.key);
    CHECK(got->description == "described");
    CHECK(got->state == 0);
    auto raw = t.Raw();
    CHECK(Count(*raw, "SELECT count(*) FROM named_entity_metadata") == 1);
  }

  SECTION("List pages the distinct names first, then applies the filters") {
    NamedEntityModel archived;
    archived.resource_type = 1;
    archived.key = NamedEntityKey{"p", "development", "task-2"};
    archived.state = 1;
    archived.description = "old";
    REQUIRE(ne.Update(archived).ok());

    auto page = ne.List(1, "p", "development", Input({}, 3, 0, Sort{"name", true}));
    REQUIRE(page.ok());
    CHECK(Names(*page) == std::vector<std::string>{".flytegen.wrapped", "task-1", "task-2"});
    CHECK((*page)[2].state == 1);
    CHECK((*page)[2].description == "old");
    CHECK((*page)[1].state == 0);

    // ne(state,1): entities without metadata count as active (COALESCE); the page of 3 names is
    // cut before the filter, so it comes back shorter.
    auto active = ne.List(1, "p", "development",
                          Input({F("named_entity_metadata", "state", FilterOp::kNe, {"1"})}, 3, 0,
                                Sort{"name", true}));
    REQUIRE(active.ok());
    CHECK(Names(*active) == std::vector<std::string>{".flytegen.wrapped", "task-1"});
    auto zero = ne.List(1, "p", "development",
                        Input({F("named_entity_metadata", "state", FilterOp::kEq, {"0"})}, 100, 0,
                              Sort{"name", false}));
    REQUIRE(zero.ok());
    CHECK(Names(*zero) ==
          std::vector<std::string>{"task-5", "task-4", "task-3", "task-1", ".flytegen.wrapped"});
    auto not_gen = ne.List(1, "p", "development",
                           Input({F("entities", "name", FilterOp::kNotLike, {".flytegen%"})}, 100,
                                 0, Sort{"name", true}));
    REQUIRE(not_gen.ok());
    CHECK(not_gen->size() == 5);
    auto described = ne.List(1, "p", "development",
                             Input({F("entities", "description", FilterOp::kEq, {"old"})}, 100));
    REQUIRE(described.ok());
    CHECK(Names(*described) == std::vector<std::string>{"task-2"});
    auto second_page = ne.List(1, "p", "development", Input({}, 2, 4, Sort{"name", true}));
    REQUIRE(second_page.ok());
    CHECK(Names(*second_page) == std::vector<std::string>{"task-4", "task-5"});
    auto by_state = ne.List(1, "p", "development", Input({}, 100, 0, Sort{"state", false}));
    REQUIRE(by_state.ok());
    CHECK(by_state->front().key.name == "task-2");
  }

  SECTION("List validates its inputs") {
    CHECK(ne.List(1, "", "development", Input({}, 3)).status().code() ==
          StatusCode::kInvalidArgument);
    CHECK(ne.List(1, "p", "development", Input({}, 0)).status().code() ==
          StatusCode::kInvalidArgument);
    CHECK(ne.List(4, "p", "development", Input({}, 3)).status().message() ==
          "Cannot list entity names for resource type: DATASET");
    CHECK(ne.List(1, "p", "development", Input({F("tasks", "name", FilterOp::kEq, {"x"})}, 3))
              .status()
              .code() == StatusCode::kInvalidArgument);
    CHECK(ne.List(1, "p", "development", Input({}, 3, 0, Sort{"closure", true})).status().code() ==
          StatusCode::kInvalidArgument);
  }

  SECTION("other resource types read their own table") {
    REQUIRE(repos.Workflows().Create(Workflow("wf", "v1"), std::nullopt).ok());
    auto wfs = ne.List(2, "p", "development", Input({}, 10));
    REQUIRE(wfs.ok());
    CHECK(Names(*wfs) == std::vector<std::string>{"wf"});
    CHECK((*wfs)[0].resource_type == 2);
    auto lps = ne.List(3, "p", "development", Input({}, 10));
    REQUIRE(lps.ok());
    CHECK(lps->empty());
  }
}

TEST_CASE("Description entities are read by key whatever their type and listed", "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repos = t.repos();
  for (const char* v : {"v1", "v2", "v3"}) {
    DescriptionEntityModel d;
    d.resource_type = 2;
    d.key = EntityKey{"p", "development", "wf", v};
    d.short_description = std::string("desc ") + v;
    d.long_description = "long";
    REQUIRE(repos.Workflows().Create(Workflow("wf", v), d).ok());
  }
  auto& des = repos.DescriptionEntities();
  auto got = des.Get(EntityKey{"p", "development", "wf", "v2"});
  REQUIRE(got.ok());
  CHECK(got->resource_type == 2);
  CHECK(got->short_description == "desc v2");
  CHECK(got->long_description == "long");
  CHECK(des.Get(EntityKey{"p", "development", "wf", "v9"}).status().code() ==
        StatusCode::kNotFound);

  std::vector<Filter> filters = {F("description_entities", "project", FilterOp::kEq, {"p"}),
                                 F("description_entities", "name", FilterOp::kEq, {"wf"})};
  auto list = des.List(Input(filters, 2, 0, Sort{"version", false}));
  REQUIRE(list.ok());
  CHECK(Versions(*list) == std::vector<std::string>{"v3", "v2"});
  auto rest = des.List(Input(filters, 2, 2, Sort{"version", false}));
  REQUIRE(rest.ok());
  CHECK(Versions(*rest) == std::vector<std::string>{"v1"});
  // Upstream parses these filters against the workflow entity and applies them to
  // description_entities.
  auto folded = des.List(Input({F("workflows", "version", FilterOp::kEq, {"v1"})}, 10));
  REQUIRE(folded.ok());
  CHECK(Versions(*folded) == std::vector<std::string>{"v1"});
  CHECK(des.List(Input({F("workflows", "typed_interface", FilterOp::kEq, {"x"})}, 10))
            .status()
            .code() == StatusCode::kInvalidArgument);
  CHECK(des.List(Input(filters, 0)).status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("Concurrent inserts from several threads all land exactly once", "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto repos = t.shared()->Repositories();
  constexpr int kThreads = 6;
  constexpr int kPerThread = 20;
  std::atomic<int> created{0}, duplicates{0}, failures{0};
  std::vector<std::thread> threads;
  for (int th = 0; th < kThreads; ++th) {
    threads.emplace_back([&, th] {
      for (int i = 0; i < kPerThread; ++i) {
        // Every thread also races for the shared "contended-<i>" key.
        for (const std::string& name : {"t" + std::to_string(th) + "-" + std::to_string(i),
                                        "contended-" + std::to_string(i)}) {
          auto status = repos->Tasks().Create(Task(name, "v1"), std::nullopt);
          if (status.ok()) {
            ++created;
          } else if (status.code() == StatusCode::kAlreadyExists) {
            ++duplicates;
          } else {
            ++failures;
            UNSCOPED_INFO(status.ToString());
          }
        }
        auto listed = repos->Tasks().List(Input(InProject("tasks"), 5));
        if (!listed.ok()) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(created == kThreads * kPerThread + kPerThread);
  CHECK(duplicates == (kThreads - 1) * kPerThread);
  auto all = repos->Tasks().List(Input(InProject("tasks"), 10000, 0, Sort{"id", true}));
  REQUIRE(all.ok());
  CHECK(all->size() == static_cast<size_t>(kThreads * kPerThread + kPerThread));
  std::set<int64_t> ids;
  for (auto& task : *all) ids.insert(task.id);
  CHECK(ids.size() == all->size());
}

}  // namespace
}  // namespace flyte::test::db
