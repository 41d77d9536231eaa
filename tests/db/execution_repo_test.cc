// The execution-side repositories (executions, node and task executions, their events, signals)
// against SQLite and a real PostgreSQL: every case runs on both backends.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <set>
#include <thread>

#include "db_test_util.h"

namespace flyte::test::db {
namespace {

using plugin::Status;
using plugin::StatusCode;
using namespace plugin::db;  // NOLINT: models and repositories

const std::string kBytes("\x0a\x00\xff\x12", 4);
const std::string kNasty = "it's \"quoted\"; DROP TABLE executions; -- 100% _x_ \\";

Filter Eq(const std::string& table, const std::string& column, const std::string& value) {
  return Filter{table, column, FilterOp::kEq, {value}};
}

ExecutionModel Execution(const std::string& name, int64_t launch_plan_id, int64_t workflow_id) {
  ExecutionModel e;
  e.key = ExecutionKey{"p", "development", name};
  e.launch_plan_id = launch_plan_id;
  e.workflow_id = workflow_id;
  e.phase = "UNDEFINED";
  e.spec = kBytes;
  e.closure = "closure-" + name;
  e.execution_created_at = flyte::plugin::db::Now();
  e.mode = 0;
  e.cluster = "c1";
  e.inputs_uri = "s3://in/" + name;
  e.user = "alice";
  e.launch_entity = "launch_plan";
  return e;
}

NodeExecutionModel Node(const std::string& execution, const std::string& node_id) {
  NodeExecutionModel n;
  n.key = NodeExecutionKey{ExecutionKey{"p", "development", execution}, node_id};
  n.phase = "QUEUED";
  n.input_uri = "s3://in/" + node_id;
  n.closure = kBytes;
  n.internal_data = "internal";
  n.node_execution_metadata = "meta";
  return n;
}

// `t` written as ISO 8601 with microseconds, at `offset_minutes` east of UTC.
std::string IsoTime(Time t, int offset_minutes) {
  using namespace std::chrono;
  const int64_t micros = duration_cast<microseconds>(t.time_since_epoch()).count() +
                         int64_t{offset_minutes} * 60 * 1000000;
  const std::time_t secs = static_cast<std::time_t>(micros / 1000000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char zone[16];
  const int off = offset_minutes < 0 ? -offset_minutes : offset_minutes;
  if (offset_minutes == 0) {
    std::snprintf(zone, sizeof zone, "Z");
  } else {
    std::snprintf(zone, sizeof zone, "%c%02d:%02d", offset_minutes < 0 ? '-' : '+', off / 60,
                  off % 60);
  }
  char out[64];
  std::snprintf(out, sizeof out, "%04d-%02d-%02dT%02d:%02d:%02d.%06lld%s", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros % 1000000), zone);
  return out;
}

std::set<std::string> Names(const std::vector<ExecutionModel>& rows) {
  std::set<std::string> out;
  for (const auto& r : rows) out.insert(r.key.name);
  return out;
}

ListInput Input(std::vector<Filter> filters, uint32_t limit = 100) {
  ListInput in;
  in.filters = std::move(filters);
  in.limit = limit;
  return in;
}

// A workflow and launch plan "lp-<name>" of it; returns {launch plan id, workflow id}.
std::pair<int64_t, int64_t> SeedLaunchPlan(Repositories& repos, const std::string& name) {
  WorkflowModel w;
  w.key = EntityKey{"p", "development", "wf-" + name, "v1"};
  w.typed_interface = "iface";
  w.remote_closure_identifier = "s3://wf";
  w.digest = "d";
  REQUIRE(repos.Workflows().Create(w, std::nullopt).ok());
  auto wf = repos.Workflows().Get(w.key);
  REQUIRE(wf.ok());
  LaunchPlanModel lp;
  lp.key = EntityKey{"p", "development", "lp-" + name, "v1"};
  lp.spec = "spec";
  lp.closure = "closure";
  lp.workflow_id = wf->id;
  lp.digest = "d";
  REQUIRE(repos.LaunchPlans().Create(lp).ok());
  auto got = repos.LaunchPlans().Get(lp.key);
  REQUIRE(got.ok());
  return {got->id, wf->id};
}

TEST_CASE("Executions are created with tags, read, listed with joins and counted",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repos = t.repos();
  auto& executions = repos.Executions();
  auto [lp_a, wf_a] = SeedLaunchPlan(repos, "a");
  auto [lp_b, wf_b] = SeedLaunchPlan(repos, "b");

  auto e1 = Execution("e1", lp_a, wf_a);
  e1.started_at = flyte::plugin::db::Now();
  e1.duration_ns = 1500000000;
  e1.error_kind = "USER";
  e1.error_code = "E42";
  REQUIRE(executions.Create(e1, {{"team", "ml"}, {"env", "prod"}}).ok());
  REQUIRE(executions.Create(Execution("e2", lp_a, wf_a), {{"team", "infra"}}).ok());
  auto e3 = Execution("e3", lp_b, wf_b);
  e3.state = 1;  // archived
  REQUIRE(executions.Create(e3, {}).ok());
  auto e4 = Execution(kNasty, lp_b, wf_b);
  e4.abort_cause = kNasty;
  REQUIRE(executions.Create(e4, {{"team", kNasty}}).ok());

  auto got = executions.Get(ExecutionKey{"p", "development", "e1"});
  REQUIRE(got.ok());
  CHECK(got->id > 0);
  CHECK(got->spec == kBytes);
  CHECK(got->closure == "closure-e1");
  CHECK(got->launch_plan_id == lp_a);
  CHECK(got->workflow_id == wf_a);
  CHECK(got->duration_ns == 1500000000);
  CHECK(got->error_kind == std::optional<std::string>("USER"));
  CHECK(got->error_code == std::optional<std::string>("E42"));
  REQUIRE(got->started_at.has_value());
  CHECK(std::chrono::abs(*got->started_at - *e1.started_at) < std::chrono::milliseconds(1));
  CHECK(got->execution_updated_at == std::nullopt);
  CHECK(got->user == "alice");
  CHECK(got->launch_entity == "launch_plan");
  CHECK(got->created_at != Time{});

  // The narrow read of the event handlers' cluster check.
  auto cluster = executions.GetCluster(ExecutionKey{"p", "development", "e1"});
  REQUIRE(cluster.ok());
  CHECK(cluster.value() == "c1");
  auto no_cluster = executions.GetCluster(ExecutionKey{"p", "development", "absent"});
  CHECK(no_cluster.status().code() == flyte::plugin::StatusCode::kNotFound);
  CHECK(no_cluster.status().message() == "entry not found");

  auto nasty = executions.Get(ExecutionKey{"p", "development", kNasty});
  REQUIRE(nasty.ok());
  CHECK(nasty->abort_cause == kNasty);
  CHECK(nasty->error_kind == std::nullopt);

  auto missing = executions.Get(ExecutionKey{"p", "development", "nope"});
  CHECK(missing.status().code() == StatusCode::kNotFound);

  const Filter project = Eq("executions", "execution_project", "p");
  const Filter active = Eq("executions", "state", "0");

  SECTION("archived executions are hidden by a state filter and listed without one") {
    CHECK(Names(*executions.List(Input({project, active}))) ==
          std::set<std::string>{"e1", "e2", kNasty});
    CHECK(Names(*executions.List(Input({project}))).size() == 4);
    CHECK(Names(*executions.List(Input({project, Eq("executions", "state", "1")}))) ==
          std::set<std::string>{"e3"});
    CHECK(*executions.Count(Input({project, active})) == 3);
    CHECK(*executions.Count(Input({})) == 4);
  }

  SECTION("filters on launch plans and workflows join them") {
    CHECK(Names(*executions.List(Input({project, Eq("launch_plans", "name", "lp-a")}))) ==
          std::set<std::string>{"e1", "e2"});
    CHECK(Names(*executions.List(Input({Eq("workflows", "name", "wf-b"), active}))) ==
          std::set<std::string>{kNasty});
    CHECK(*executions.Count(Input({Eq("workflows", "name", "wf-b")})) == 2);
    CHECK(*executions.Count(Input({Eq("launch_plans", "name", "lp-a"),
                                   Eq("workflows", "name", "wf-a")})) == 2);
    CHECK(executions.List(Input({Eq("tasks", "name", "t")}))->empty());
  }

  SECTION("a sorted page of one launch plan's or workflow's executions spans its versions") {
    LaunchPlanModel v2;
    v2.key = EntityKey{"p", "development", "lp-a", "v2"};
    v2.spec = "spec";
    v2.closure = "closure";
    v2.workflow_id = wf_a;
    v2.digest = "d2";
    REQUIRE(repos.LaunchPlans().Create(v2).ok());
    auto lp_a2 = repos.LaunchPlans().Get(v2.key);
    REQUIRE(lp_a2.ok());
    REQUIRE(executions.Create(Execution("e5", lp_a2->id, wf_a), {}).ok());
    REQUIRE(executions.Create(Execution("e6", lp_a2->id, wf_a), {}).ok());
    auto archived = Execution("e7", lp_a2->id, wf_a);
    archived.state = 1;
    REQUIRE(executions.Create(archived, {}).ok());

    auto page = [&](std::vector<Filter> filters, bool ascending, uint32_t limit,
                    uint64_t offset) {
      ListInput in = Input(std::move(filters), limit);
      in.sort = Sort{"execution_name", ascending};
      in.offset = offset;
      auto rows = executions.List(in);
      REQUIRE(rows.ok());
      std::vector<std::string> names;
      for (const auto& r : *rows) names.push_back(r.key.name);
      return names;
    };
    const Filter lp_name = Eq("launch_plans", "name", "lp-a");
    CHECK(page({project, active, lp_name}, true, 2, 1) == std::vector<std::string>{"e2", "e5"});
    CHECK(page({project, active, lp_name}, false, 3, 0) ==
          std::vector<std::string>{"e6", "e5", "e2"});
    CHECK(page({project, active, lp_name}, false, 3, 3) == std::vector<std::string>{"e1"});
    CHECK(page({project, lp_name}, false, 1, 0) == std::vector<std::string>{"e7"});
    CHECK(page({lp_name, Eq("launch_plans", "version", "v1")}, true, 10, 0) ==
          std::vector<std::string>{"e1", "e2"});
    CHECK(page({project, Eq("executions", "execution_name", "e3"), lp_name}, true, 10, 0).empty());
    CHECK(page({active, Eq("workflows", "name", "wf-a")}, false, 10, 0) ==
          std::vector<std::string>{"e6", "e5", "e2", "e1"});
    CHECK(page({active, Eq("workflows", "name", "wf-a"), lp_name}, true, 2, 0) ==
          std::vector<std::string>{"e1", "e2"});
    // Many versions, each with an execution: the same page however the rows are found (on
    // SQLite, past 16 versions, by the plain join).
    for (int v = 3; v <= 20; ++v) {
      LaunchPlanModel more = v2;
      more.key.version = "v" + std::to_string(v);
      REQUIRE(repos.LaunchPlans().Create(more).ok());
      auto stored = repos.LaunchPlans().Get(more.key);
      REQUIRE(stored.ok());
      const std::string name = (v < 10 ? "m0" : "m") + std::to_string(v);
      REQUIRE(executions.Create(Execution(name, stored->id, wf_a), {}).ok());
    }
    CHECK(page({project, active, lp_name}, false, 4, 1) == std::vector<std::string>{"m19", "m18", "m17", "m16"});
    CHECK(page({project, active, lp_name}, true, 3, 2) == std::vector<std::string>{"e5", "e6", "m03"});
    CHECK(page({project, active, lp_name, Eq("launch_plans", "version", "v14")}, true, 10, 0) ==
          std::vector<std::string>{"m14"});
    CHECK(page({project, active, lp_name, Filter{"launch_plans", "version", FilterOp::kValueIn, {"v1", "v3", "v20"}}},
               false, 10, 0) == std::vector<std::string>{"m20", "m03", "e2", "e1"});
    ListInput bad = Input({lp_name});
    bad.sort = Sort{"no_such_column", true};
    CHECK(executions.List(bad).status().code() == StatusCode::kInvalidArgument);
    CHECK(executions.List(Input({Eq("launch_plans", "no_such_column", "x")})).status().code() ==
          StatusCode::kInvalidArgument);
  }

  SECTION("filters on execution tags join them") {
    CHECK(Names(*executions.List(Input({Eq("execution_tags", "key", "team"),
                                        Eq("execution_tags", "value", "ml")}))) ==
          std::set<std::string>{"e1"});
    CHECK(Names(*executions.List(
              Input({Filter{"execution_tags", "value", FilterOp::kValueIn, {"ml", "infra"}}}))) ==
          std::set<std::string>{"e1", "e2"});
    CHECK(Names(*executions.List(Input({Eq("execution_tags", "value", kNasty)}))) ==
          std::set<std::string>{kNasty});
    CHECK(*executions.Count(Input({Eq("execution_tags", "key", "env")})) == 1);
  }

  SECTION("metacharacters in filter values are literal") {
    CHECK(Names(*executions.List(Input({Filter{
              "executions", "execution_name", FilterOp::kContains, {"100% _x_"}}}))) ==
          std::set<std::string>{kNasty});
    CHECK(executions.List(Input({Filter{"executions", "execution_name", FilterOp::kContains, {"%"}},
                                 Eq("executions", "execution_name", "e1")}))
              ->empty());
  }

  SECTION("time filters compare to the microsecond, in any ISO 8601 form") {
    REQUIRE(got->started_at.has_value());
    const Time at = *got->started_at;
    const Filter started = [&] {
      Filter f = Eq("executions", "started_at", "");
      f.op = FilterOp::kGte;
      return f;
    }();
    const auto with = [&](FilterOp op, const std::string& value) {
      Filter f = started;
      f.op = op;
      f.values = {value};
      return executions.List(Input({project, f}));
    };
    const auto is_e1 = [&](FilterOp op, const std::string& value) {
      auto rows = with(op, value);
      REQUIRE(rows.ok());
      return Names(*rows) == std::set<std::string>{"e1"};
    };
    const auto is_none = [&](FilterOp op, const std::string& value) {
      auto rows = with(op, value);
      REQUIRE(rows.ok());
      return rows->empty();
    };
    using std::chrono::microseconds;
    CHECK(is_e1(FilterOp::kEq, IsoTime(at, 0)));
    CHECK(is_e1(FilterOp::kEq, IsoTime(at, 330)));    // the same instant at +05:30
    CHECK(is_e1(FilterOp::kEq, IsoTime(at, -420)));   // and at -07:00
    CHECK(is_e1(FilterOp::kGte, IsoTime(at, 0)));
    CHECK(is_none(FilterOp::kGt, IsoTime(at, 0)));
    CHECK(is_e1(FilterOp::kGt, IsoTime(at - microseconds(1), 0)));
    CHECK(is_none(FilterOp::kLt, IsoTime(at, 0)));
    CHECK(is_e1(FilterOp::kLt, IsoTime(at + microseconds(1), 60)));
    CHECK(is_none(FilterOp::kEq, IsoTime(at + microseconds(1), 0)));
    // A date alone is its midnight, UTC.
    CHECK(is_none(FilterOp::kLt, "2001-02-03"));
    CHECK(is_e1(FilterOp::kGt, "2001-02-03"));
    CHECK(is_e1(FilterOp::kGt, "2001-02-03 04:05 UTC"));
    {
      auto rows = executions.List(
          Input({project, Filter{"executions", "started_at", FilterOp::kValueIn,
                                 {"2001-02-03T04:05:06Z", IsoTime(at, 0)}}}));
      REQUIRE(rows.ok());
      CHECK(Names(*rows) == std::set<std::string>{"e1"});
    }
    // Not a time: refused, never a silent empty page.
    for (const std::string bad : {"not a time", "2024-13-01", "2024-02-30T00:00:00Z",
                                  "2024-01-01T25:00:00Z", "2024-01-01T00:00:00Zjunk"}) {
      CAPTURE(bad);
      auto rows = with(FilterOp::kGt, bad);
      CHECK_FALSE(rows.ok());
      if (backend == "sqlite") {
        CHECK(rows.status().code() == StatusCode::kInvalidArgument);
        CHECK_THAT(rows.status().message(),
                   Catch::Contains("invalid value '" + bad + "' for filter on 'started_at'"));
      }
    }
  }

  SECTION("sort, limit and offset") {
    ListInput in = Input({project}, 2);
    in.sort = Sort{"execution_name", true};
    auto page1 = executions.List(in);
    REQUIRE(page1.ok());
    REQUIRE(page1->size() == 2);
    CHECK((*page1)[0].key.name == "e1");
    CHECK((*page1)[1].key.name == "e2");
    in.offset = 2;
    CHECK(executions.List(in)->size() == 2);
    in.sort = Sort{"no_such_column", true};
    CHECK(executions.List(in).status().code() == StatusCode::kInvalidArgument);
  }

  SECTION("invalid list input") {
    CHECK(executions.List(Input({}, 10)).status().code() == StatusCode::kInvalidArgument);
    CHECK(executions.List(Input({project}, 0)).status().code() == StatusCode::kInvalidArgument);
    CHECK(executions.List(Input({Eq("projects", "name", "x")})).status().code() ==
          StatusCode::kInvalidArgument);
    CHECK(executions.Count(Input({Eq("executions", "nope", "x")})).status().code() ==
          StatusCode::kInvalidArgument);
  }

  SECTION("a tag holds 255 characters, however many bytes they take") {
    std::string wide;
    for (int i = 0; i < 255; ++i) wide += "\xc3\xa9";  // é: 510 bytes
    REQUIRE(executions.Create(Execution("e6", lp_a, wf_a), {{wide, wide}}).ok());
    CHECK(Names(*executions.List(Input({Eq("execution_tags", "key", wide)}))) ==
          std::set<std::string>{"e6"});
  }

  SECTION("a duplicate key is ALREADY_EXISTS and writes nothing, not even its tags") {
    auto dup = Execution("e1", lp_b, wf_b);
    dup.spec = "other";
    Status s = executions.Create(dup, {{"fresh", "tag"}});
    CHECK(s.code() == StatusCode::kAlreadyExists);
    auto again = executions.Get(ExecutionKey{"p", "development", "e1"});
    REQUIRE(again.ok());
    CHECK(again->spec == kBytes);
    CHECK(again->launch_plan_id == lp_a);
    CHECK(*executions.Count(Input({Eq("execution_tags", "key", "fresh")})) == 0);
    auto raw = t.Raw();
    CHECK(Count(*raw, "SELECT COUNT(*) FROM execution_tags") == 4);
    CHECK(executions.Create(Execution("e5", lp_a, wf_a), {{"k", "v"}, {"k", "v"}}).code() ==
          StatusCode::kAlreadyExists);
    CHECK(executions.Get(ExecutionKey{"p", "development", "e5"}).status().code() ==
          StatusCode::kNotFound);
  }
}

TEST_CASE("Execution updates run the mutation on the locked row and write events",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& executions = t.repos().Executions();
  const ExecutionKey key{"p", "development", "run"};
  REQUIRE(executions.Create(Execution("run", 1, 2), {}).ok());
  auto before = executions.Get(key);
  REQUIRE(before.ok());

  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  auto updated = executions.Update(
      key,
      [](ExecutionModel& e) {
        e.phase = "RUNNING";
        e.closure = kBytes;
        e.error_kind = "SYSTEM";
        e.key.name = "ignored";
        e.id = 999999;
        return Status::Ok();
      },
      ExecutionEventModel{"req-1", flyte::plugin::db::Now(), "RUNNING"});
  REQUIRE(updated.ok());
  CHECK(updated->phase == "RUNNING");
  CHECK(updated->key.name == "run");
  CHECK(updated->id == before->id);
  auto got = executions.Get(key);
  REQUIRE(got.ok());
  CHECK(got->phase == "RUNNING");
  CHECK(got->closure == kBytes);
  CHECK(got->error_kind == std::optional<std::string>("SYSTEM"));
  CHECK(got->id == before->id);
  CHECK(got->created_at == before->created_at);
  CHECK(got->updated_at > before->updated_at);
  CHECK(got->spec == kBytes);
  CHECK(t.repos().Executions().Get(ExecutionKey{"p", "development", "ignored"}).status().code() ==
        StatusCode::kNotFound);

  SECTION("a duplicate event phase is ALREADY_EXISTS and changes nothing") {
    auto dup = executions.Update(
        key,
        [](ExecutionModel& e) {
          e.phase = "SUCCEEDED";
          return Status::Ok();
        },
        ExecutionEventModel{"req-2", flyte::plugin::db::Now(), "RUNNING"});
    CHECK(dup.status().code() == StatusCode::kAlreadyExists);
    CHECK(executions.Get(key)->phase == "RUNNING");
    auto raw = t.Raw();
    CHECK(Count(*raw, "SELECT COUNT(*) FROM execution_events") == 1);
    CHECK(Strings(*raw, "SELECT request_id FROM execution_events") ==
          std::vector<std::string>{"req-1"});
  }

  SECTION("a failing mutation rolls back its event") {
    auto failed = executions.Update(
        key,
        [](ExecutionModel& e) {
          e.phase = "FAILED";
          return plugin::FailedPrecondition("no");
        },
        ExecutionEventModel{"req-3", flyte::plugin::db::Now(), "FAILED"});
    CHECK(failed.status().code() == StatusCode::kFailedPrecondition);
    CHECK(executions.Get(key)->phase == "RUNNING");
    auto raw = t.Raw();
    CHECK(Count(*raw, "SELECT COUNT(*) FROM execution_events") == 1);
  }

  SECTION("the mutation judges first: its refusal wins over a duplicate event") {
    bool called = false;
    auto refused = executions.Update(
        key,
        [&](ExecutionModel&) {
          called = true;
          return plugin::FailedPrecondition("terminal");
        },
        ExecutionEventModel{"req-5", flyte::plugin::db::Now(), "RUNNING"});
    CHECK(called);
    CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
    CHECK(executions.Get(key)->updated_at == got->updated_at);
    auto raw = t.Raw();
    CHECK(Strings(*raw, "SELECT request_id FROM execution_events") ==
          std::vector<std::string>{"req-1"});
  }

  SECTION("a missing execution is NOT_FOUND and writes no event") {
    auto missing = executions.Update(
        ExecutionKey{"p", "development", "absent"}, [](ExecutionModel&) { return Status::Ok(); },
        ExecutionEventModel{"req-4", flyte::plugin::db::Now(), "QUEUED"});
    CHECK(missing.status().code() == StatusCode::kNotFound);
    auto raw = t.Raw();
    CHECK(Count(*raw, "SELECT COUNT(*) FROM execution_events") == 1);
  }
}

TEST_CASE("Concurrent updates of one execution and one node execution are never lost",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repos = t.repos();
  const ExecutionKey key{"p", "development", "hot"};
  REQUIRE(repos.Executions().Create(Execution("hot", 1, 2), {}).ok());
  const NodeExecutionKey node_key{key, "n0"};
  REQUIRE(repos.NodeExecutions().Create(Node("hot", "n0"), std::nullopt).ok());

  constexpr int kThreads = 8;
  constexpr int kUpdates = 50;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&] {
      for (int j = 0; j < kUpdates; ++j) {
        auto a = repos.Executions().Update(key, [](ExecutionModel& e) {
          e.duration_ns += 1;
          return Status::Ok();
        });
        auto b = repos.NodeExecutions().Update(node_key, [](NodeExecutionModel& n) {
          n.duration_ns += 1;
          return Status::Ok();
        });
        if (!a.ok() || !b.ok()) failures++;
      }
    });
  }
  for (auto& th : threads) th.join();
  CHECK(failures == 0);
  CHECK(repos.Executions().Get(key)->duration_ns == kThreads * kUpdates);
  CHECK(repos.NodeExecutions().Get(node_key)->duration_ns == kThreads * kUpdates);
}

TEST_CASE("Node executions are created with events, read, listed, counted and updated",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repos = t.repos();
  auto& nodes = repos.NodeExecutions();
  auto ex1 = Execution("ex1", 1, 2);
  auto ex2 = Execution("ex2", 1, 2);
  ex2.user = "bob";
  REQUIRE(repos.Executions().Create(ex1, {}).ok());
  REQUIRE(repos.Executions().Create(ex2, {}).ok());

  const auto now = flyte::plugin::db::Now();
  REQUIRE(nodes.Create(Node("ex1", "start-node"), NodeExecutionEventModel{"r0", now, "QUEUED"})
              .ok());
  auto parent = nodes.Get(NodeExecutionKey{{"p", "development", "ex1"}, "start-node"});
  REQUIRE(parent.ok());
  auto child = Node("ex1", kNasty);
  child.parent_id = parent->id;
  child.cache_status = "CACHE_HIT";
  child.error_code = "E1";
  REQUIRE(nodes.Create(child, std::nullopt).ok());
  REQUIRE(nodes.Create(Node("ex2", "n1"), std::nullopt).ok());

  auto got = nodes.Get(child.key);
  REQUIRE(got.ok());
  CHECK(got->key.node_id == kNasty);
  CHECK(got->parent_id == std::optional<int64_t>(parent->id));
  CHECK(got->parent_task_execution_id == std::nullopt);
  CHECK(got->cache_status == std::optional<std::string>("CACHE_HIT"));
  CHECK(got->error_code == std::optional<std::string>("E1"));
  CHECK(got->error_kind == std::nullopt);
  CHECK(got->closure == kBytes);
  CHECK(got->internal_data == "internal");
  CHECK(got->node_execution_metadata == "meta");
  CHECK(parent->parent_id == std::nullopt);

  CHECK(*nodes.Exists(child.key));
  CHECK_FALSE(*nodes.Exists(NodeExecutionKey{{"p", "development", "ex1"}, "nope"}));
  CHECK(nodes.Get(NodeExecutionKey{{"p", "development", "ex1"}, "nope"}).status().code() ==
        StatusCode::kNotFound);

  auto by_exec = nodes.List(Input({Eq("node_executions", "execution_name", "ex1")}));
  REQUIRE(by_exec.ok());
  CHECK(by_exec->size() == 2);
  auto joined = nodes.List(Input({Eq("executions", "user", "bob")}));
  REQUIRE(joined.ok());
  REQUIRE(joined->size() == 1);
  CHECK((*joined)[0].key.node_id == "n1");
  CHECK(*nodes.Count(Input({Eq("executions", "user", "alice")})) == 2);
  CHECK(*nodes.Count(Input({Eq("node_executions", "parent_id", std::to_string(parent->id))})) ==
        1);
  // IS NULL: the top-level nodes of ListNodeExecutions.
  auto top = nodes.List(Input({Eq("node_executions", "execution_name", "ex1"),
                               Filter{"node_executions", "parent_id", FilterOp::kIsNull, {}},
                               Filter{"node_executions", "parent_task_execution_id", FilterOp::kIsNull, {}}}));
  REQUIRE(top.ok());
  REQUIRE(top->size() == 1);
  CHECK((*top)[0].key.node_id == "start-node");
  CHECK(nodes.List(Input({Filter{"node_executions", "parent_id", FilterOp::kIsNull, {"1"}}})).status().code() ==
        StatusCode::kInvalidArgument);

  // Duplicates: the node execution, or its event, collide and nothing is written.
  auto dup = Node("ex2", "n1");
  dup.phase = "CHANGED";
  CHECK(nodes.Create(dup, std::nullopt).code() == StatusCode::kAlreadyExists);
  CHECK(nodes.Get(dup.key)->phase == "QUEUED");
  auto raw = t.Raw();
  CHECK(Count(*raw, "SELECT COUNT(*) FROM node_execution_events") == 1);
  // With an event: a taken row writes neither (not even an event of a new phase) ...
  CHECK(nodes.Create(Node("ex1", "start-node"), NodeExecutionEventModel{"r9", now, "RUNNING"}).code() ==
        StatusCode::kAlreadyExists);
  CHECK(Count(*raw, "SELECT COUNT(*) FROM node_execution_events") == 1);
  // ... and a taken event (left by a row removed behind the repository's back) writes no row.
  REQUIRE(nodes.Create(Node("ex2", "orphan"), NodeExecutionEventModel{"r0", now, "QUEUED"}).ok());
  *raw << "DELETE FROM node_executions WHERE node_id = 'orphan'";
  auto orphan = nodes.Create(Node("ex2", "orphan"), NodeExecutionEventModel{"r1", now, "QUEUED"});
  CHECK(orphan.code() == StatusCode::kAlreadyExists);
  CHECK(orphan.message().find("event") != std::string::npos);
  CHECK_FALSE(*nodes.Exists(Node("ex2", "orphan").key));
  *raw << "DELETE FROM node_execution_events WHERE node_id = 'orphan'";
  CHECK(Count(*raw, "SELECT COUNT(*) FROM node_execution_events") == 1);

  auto updated = nodes.Update(
      child.key,
      [](NodeExecutionModel& n) {
        n.phase = "RUNNING";
        n.parent_task_execution_id = 7;
        return Status::Ok();
      },
      NodeExecutionEventModel{"r1", now, "RUNNING"});
  REQUIRE(updated.ok());
  CHECK(nodes.Get(child.key)->phase == "RUNNING");
  CHECK(nodes.Get(child.key)->parent_task_execution_id == std::optional<int64_t>(7));
  auto dup_event = nodes.Update(
      child.key,
      [](NodeExecutionModel& n) {
        n.phase = "FAILED";
        return Status::Ok();
      },
      NodeExecutionEventModel{"r2", now, "RUNNING"});
  CHECK(dup_event.status().code() == StatusCode::kAlreadyExists);
  CHECK(nodes.Get(child.key)->phase == "RUNNING");
  CHECK(Count(*raw, "SELECT COUNT(*) FROM node_execution_events") == 2);
  CHECK(nodes
            .Update(NodeExecutionKey{{"p", "development", "ex1"}, "nope"},
                    [](NodeExecutionModel&) { return Status::Ok(); })
            .status()
            .code() == StatusCode::kNotFound);
}

TEST_CASE("UpdateChecked judges the execution's cluster read with the locked row",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repos = t.repos();
  auto& nodes = repos.NodeExecutions();
  auto& tasks = repos.TaskExecutions();
  REQUIRE(repos.Executions().Create(Execution("ex", 1, 2), {}).ok());  // cluster c1
  auto other = Execution("blank", 1, 2);
  other.cluster = "";
  REQUIRE(repos.Executions().Create(other, {}).ok());
  REQUIRE(nodes.Create(Node("ex", "n1"), std::nullopt).ok());
  REQUIRE(nodes.Create(Node("blank", "n1"), std::nullopt).ok());
  REQUIRE(nodes.Create(Node("gone", "n1"), std::nullopt).ok());  // no execution row
  const auto now = flyte::plugin::db::Now();

  std::vector<std::string> seen;
  auto accept = [&](const std::string& cluster) {
    seen.push_back(cluster);
    return Status::Ok();
  };
  bool mutated = false;
  auto to_running = [&](NodeExecutionModel& n) {
    mutated = true;
    n.phase = "RUNNING";
    return Status::Ok();
  };

  SECTION("the check sees the cluster, then the update and its event are written") {
    auto updated = nodes.UpdateChecked(Node("ex", "n1").key, accept, to_running,
                                       NodeExecutionEventModel{"r1", now, "RUNNING"});
    REQUIRE(updated.ok());
    CHECK(seen == std::vector<std::string>{"c1"});
    CHECK(nodes.Get(Node("ex", "n1").key)->phase == "RUNNING");
    CHECK(Count(*t.Raw(), "SELECT COUNT(*) FROM node_execution_events") == 1);
    REQUIRE(nodes.UpdateChecked(Node("blank", "n1").key, accept, to_running).ok());
    CHECK(seen == std::vector<std::string>{"c1", ""});
  }

  SECTION("a refusing check returns its status and writes nothing") {
    auto refused = nodes.UpdateChecked(
        Node("ex", "n1").key, [](const std::string&) { return plugin::FailedPrecondition("other cluster"); },
        to_running, NodeExecutionEventModel{"r1", now, "RUNNING"});
    CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
    CHECK_FALSE(mutated);
    CHECK(nodes.Get(Node("ex", "n1").key)->phase == "QUEUED");
    CHECK(Count(*t.Raw(), "SELECT COUNT(*) FROM node_execution_events") == 0);
  }

  SECTION("a missing row is NOT_FOUND after the check, which may refuse; a missing execution "
          "is NOT_FOUND without calling either function") {
    CHECK(nodes.UpdateChecked(Node("gone", "n1").key, accept, to_running).status().code() ==
          StatusCode::kNotFound);
    CHECK(seen.empty());
    CHECK(nodes.UpdateChecked(Node("ex", "absent").key, accept, to_running).status().code() ==
          StatusCode::kNotFound);
    CHECK(seen == std::vector<std::string>{"c1"});  // a first event's cluster, without its row
    auto refused = nodes.UpdateChecked(
        Node("ex", "absent").key, [](const std::string&) { return plugin::FailedPrecondition("other cluster"); },
        to_running);
    CHECK(refused.status().code() == StatusCode::kFailedPrecondition);
    CHECK_FALSE(mutated);
    CHECK(nodes.Get(Node("gone", "n1").key)->phase == "QUEUED");
    CHECK(Count(*t.Raw(), "SELECT COUNT(*) FROM node_executions") == 3);
  }

  SECTION("task executions: the cluster of the node execution's execution") {
    TaskModel task;
    task.key = EntityKey{"p", "development", "my-task", "v1"};
    task.closure = "c";
    task.digest = "d";
    task.type = "python-task";
    REQUIRE(repos.Tasks().Create(task, std::nullopt).ok());
    TaskExecutionModel te;
    te.key.task = task.key;
    te.key.node_execution = Node("ex", "n1").key;
    te.phase = "QUEUED";
    te.closure = kBytes;
    REQUIRE(tasks.Create(te).ok());
    auto task_running = [](TaskExecutionModel& row) {
      row.phase = "RUNNING";
      return Status::Ok();
    };
    REQUIRE(tasks.UpdateChecked(te.key, accept, task_running).ok());
    CHECK(seen == std::vector<std::string>{"c1"});
    CHECK(tasks.Get(te.key)->phase == "RUNNING");
    CHECK(tasks
              .UpdateChecked(te.key, [](const std::string&) { return plugin::FailedPrecondition("no"); },
                             [](TaskExecutionModel& row) {
                               row.phase = "FAILED";
                               return Status::Ok();
                             })
              .status()
              .code() == StatusCode::kFailedPrecondition);
    CHECK(tasks.Get(te.key)->phase == "RUNNING");
    auto absent = te.key;
    absent.retry_attempt = 5;
    CHECK(tasks.UpdateChecked(absent, accept, task_running).status().code() == StatusCode::kNotFound);
    CHECK(seen == std::vector<std::string>{"c1", "c1"});

    // The node execution is looked up in the same read, whether the row is there or not.
    bool node_exists = false;
    CHECK(tasks.UpdateChecked(absent, accept, task_running, &node_exists).status().code() ==
          StatusCode::kNotFound);
    CHECK(node_exists);
    auto orphan = absent;
    orphan.node_execution = Node("ex", "n9").key;
    node_exists = true;
    CHECK(tasks.UpdateChecked(orphan, accept, task_running, &node_exists).status().code() ==
          StatusCode::kNotFound);
    CHECK_FALSE(node_exists);
    CHECK(seen == std::vector<std::string>{"c1", "c1", "c1", "c1"});
    node_exists = false;
    REQUIRE(tasks.UpdateChecked(te.key, accept, task_running, &node_exists).ok());
    CHECK(node_exists);
  }
}

TEST_CASE("Task executions are created, read, listed with joins, counted and updated",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repos = t.repos();
  auto& tasks = repos.TaskExecutions();
  auto ex = Execution("ex", 1, 2);
  ex.user = "carol";
  REQUIRE(repos.Executions().Create(ex, {}).ok());
  auto node = Node("ex", "n1");
  node.phase = "RUNNING";
  REQUIRE(repos.NodeExecutions().Create(node, std::nullopt).ok());
  TaskModel task;
  task.key = EntityKey{"p", "development", "my-task", "v1"};
  task.closure = "c";
  task.digest = "d";
  task.type = "python-task";
  REQUIRE(repos.Tasks().Create(task, std::nullopt).ok());

  auto make = [&](uint32_t attempt, const std::string& node_id) {
    TaskExecutionModel te;
    te.key.task = task.key;
    te.key.node_execution = NodeExecutionKey{{"p", "development", "ex"}, node_id};
    te.key.retry_attempt = attempt;
    te.phase = "QUEUED";
    te.phase_version = 0;
    te.closure = kBytes;
    te.input_uri = "s3://in";
    te.started_at = flyte::plugin::db::Now();
    return te;
  };
  REQUIRE(tasks.Create(make(0, "n1")).ok());
  REQUIRE(tasks.Create(make(1, "n1")).ok());
  REQUIRE(tasks.Create(make(0, "orphan")).ok());  // no node execution row

  auto got = tasks.Get(make(1, "n1").key);
  REQUIRE(got.ok());
  CHECK(got->key.retry_attempt == 1);
  CHECK(got->key.task.name == "my-task");
  CHECK(got->closure == kBytes);
  CHECK(got->started_at.has_value());
  CHECK(got->task_execution_created_at == std::nullopt);
  CHECK(tasks.Get(make(2, "n1").key).status().code() == StatusCode::kNotFound);

  CHECK(tasks.List(Input({Eq("task_executions", "execution_name", "ex")}))->size() == 3);
  CHECK(tasks.List(Input({Eq("node_executions", "phase", "RUNNING")}))->size() == 2);
  CHECK(tasks.List(Input({Eq("tasks", "type", "python-task")}))->size() == 3);
  CHECK(*tasks.Count(Input({Eq("executions", "user", "carol"),
                            Eq("task_executions", "retry_attempt", "0")})) == 2);
  CHECK(*tasks.Count(Input({Eq("executions", "user", "nobody")})) == 0);

  auto dup = make(1, "n1");
  dup.phase = "CHANGED";
  CHECK(tasks.Create(dup).code() == StatusCode::kAlreadyExists);
  CHECK(tasks.Get(dup.key)->phase == "QUEUED");

  auto updated = tasks.Update(dup.key, [](TaskExecutionModel& te) {
    te.phase = "RUNNING";
    te.phase_version += 3;
    te.duration_ns = 42;
    return Status::Ok();
  });
  REQUIRE(updated.ok());
  auto after = tasks.Get(dup.key);
  REQUIRE(after.ok());
  CHECK(after->phase == "RUNNING");
  CHECK(after->phase_version == 3);
  CHECK(after->duration_ns == 42);
  CHECK(tasks.Update(make(9, "n1").key, [](TaskExecutionModel&) { return Status::Ok(); })
            .status()
            .code() == StatusCode::kNotFound);
}

TEST_CASE("Times anywhere in a Timestamp's years (1 to 9999) are stored to the microsecond",
          "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& repos = t.repos();
  auto ex = Execution("far", 1, 2);
  // Beyond int64 nanoseconds (1677 to 2262), which a stored time once was.
  const Time year_one(std::chrono::microseconds(-62135596800000000LL + 7));  // 0001-01-01
  const Time year_3000(std::chrono::microseconds(32503680000000000LL + 42));
  const Time last(std::chrono::microseconds(253402300799999999LL));  // 9999-12-31 23:59:59.999999
  ex.started_at = year_one;
  ex.execution_created_at = year_3000;
  ex.execution_updated_at = last;
  REQUIRE(repos.Executions().Create(ex, {}).ok());
  auto got = repos.Executions().Get(ex.key);
  REQUIRE(got.ok());
  CHECK(got->started_at == year_one);
  CHECK(got->execution_created_at == year_3000);
  CHECK(got->execution_updated_at == last);

  auto node = Node("far", "n1");
  node.started_at = year_3000;
  REQUIRE(repos.NodeExecutions().Create(node, NodeExecutionEventModel{"r", year_3000, "QUEUED"}).ok());
  auto updated = repos.NodeExecutions().Update(
      node.key,
      [&](NodeExecutionModel& m) {
        m.phase = "RUNNING";
        m.node_execution_updated_at = last;
        return Status::Ok();
      },
      NodeExecutionEventModel{"r", last, "RUNNING"});
  REQUIRE(updated.ok());
  auto got_node = repos.NodeExecutions().Get(node.key);
  REQUIRE(got_node.ok());
  CHECK(got_node->started_at == year_3000);
  CHECK(got_node->node_execution_updated_at == last);

  // Filters compare them as times, past 2262 too.
  Filter after;
  after.table = "node_executions";
  after.column = "started_at";
  after.op = FilterOp::kGt;
  after.values = {"2999-12-31T23:59:59Z"};
  CHECK(repos.NodeExecutions().List(Input({after}))->size() == 1);
  after.values = {"3000-01-01T00:00:00.000043Z"};
  CHECK(repos.NodeExecutions().List(Input({after}))->empty());
}

TEST_CASE("Signals are created once, read, listed and given a value", "[integration]") {
  FLYTE_EACH_BACKEND(backend);
  TestDb t(backend, TestDb::kMigrated);
  auto& signals = t.repos().Signals();

  SignalModel s;
  s.key = SignalKey{{"p", "development", "ex"}, kNasty};
  s.type = kBytes;
  auto created = signals.GetOrCreate(s);
  REQUIRE(created.ok());
  CHECK(created->id > 0);
  CHECK(created->value == std::nullopt);
  auto again = signals.GetOrCreate(s);
  REQUIRE(again.ok());
  CHECK(again->id == created->id);
  SignalModel other_type = s;
  other_type.type = "other";
  CHECK(signals.GetOrCreate(other_type).status().code() == StatusCode::kAlreadyExists);

  SignalModel s2;
  s2.key = SignalKey{{"p", "development", "ex"}, "approve"};
  s2.type = "bool";
  REQUIRE(signals.GetOrCreate(s2).ok());

  auto missing = signals.Get(SignalKey{{"p", "development", "ex"}, "nope"});
  CHECK(missing.status().code() == StatusCode::kNotFound);
  CHECK(missing.status().message() == "signal does not exist");
  CHECK(signals.Update(SignalKey{{"p", "development", "ex"}, "nope"}, "v").code() ==
        StatusCode::kNotFound);

  REQUIRE(signals.Update(s.key, kBytes + "value").ok());
  auto got = signals.Get(s.key);
  REQUIRE(got.ok());
  CHECK(got->value == std::optional<std::string>(kBytes + "value"));
  CHECK(got->type == kBytes);

  ListInput in = Input({Eq("signals", "execution_name", "ex")});
  in.sort = Sort{"signal_id", true};
  auto listed = signals.List(in);
  REQUIRE(listed.ok());
  REQUIRE(listed->size() == 2);
  CHECK((*listed)[0].key.signal_id == "approve");
  CHECK(signals.List(Input({Eq("executions", "user", "x")})).status().code() ==
        StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace flyte::test::db
