// Filter, sort and page-token parsing against upstream FlyteAdmin's grammar and messages.
#include "flyte/manager/filters.h"

#include <catch2/catch.hpp>

namespace flyte::plugins::manager {
namespace {

using plugin::StatusCode;
using plugin::db::Filter;
using plugin::db::FilterOp;

struct Expected {
  std::string table;
  std::string column;
  FilterOp op;
  std::vector<std::string> values;
};

void CheckFilters(std::string_view text, Entity primary, const std::vector<Expected>& expected) {
  INFO("filters: " << text);
  const auto parsed = ParseFilters(text, primary);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    const Filter& f = (*parsed)[i];
    CHECK(f.table == expected[i].table);
    CHECK(f.column == expected[i].column);
    CHECK(f.op == expected[i].op);
    CHECK(f.values == expected[i].values);
  }
}

void CheckError(std::string_view text, Entity primary, StatusCode code,
                const std::string& message) {
  INFO("filters: " << text);
  const auto parsed = ParseFilters(text, primary);
  REQUIRE_FALSE(parsed.ok());
  CHECK(parsed.status().code() == code);
  CHECK(parsed.status().message() == message);
}

TEST_CASE("Well-formed filters parse into table-qualified filters", "[unit]") {
  struct Case {
    std::string text;
    Entity primary;
    std::vector<Expected> expected;
  };
  const std::vector<Case> cases = {
      {"eq(name,my_wf)", Entity::kTask, {{"tasks", "name", FilterOp::kEq, {"my_wf"}}}},
      {"eq(name, my_wf)", Entity::kTask, {{"tasks", "name", FilterOp::kEq, {"my_wf"}}}},
      // Only one white-space character after the comma is eaten.
      {"eq(name,  my_wf)", Entity::kTask, {{"tasks", "name", FilterOp::kEq, {" my_wf"}}}},
      {"ne(version,v1)+gt(created_at,2021-01-01T00:00:00Z)",
       Entity::kWorkflow,
       {{"workflows", "version", FilterOp::kNe, {"v1"}},
        {"workflows", "created_at", FilterOp::kGt, {"2021-01-01T00:00:00Z"}}}},
      {"gte(id,3)+lt(id,9)+lte(id,8)",
       Entity::kLaunchPlan,
       {{"launch_plans", "id", FilterOp::kGte, {"3"}},
        {"launch_plans", "id", FilterOp::kLt, {"9"}},
        {"launch_plans", "id", FilterOp::kLte, {"8"}}}},
      {"contains(name,flyte)", Entity::kTask, {{"tasks", "name", FilterOp::kContains, {"flyte"}}}},
      {"not_like(name,.flytegen%)",
       Entity::kNamedEntity,
       {{"entities", "name", FilterOp::kNotLike, {".flytegen%"}}}},
      {"value_in(version,a;b;c)",
       Entity::kTask,
       {{"tasks", "version", FilterOp::kValueIn, {"a", "b", "c"}}}},
      {"value_not_in(version,a)",
       Entity::kTask,
       {{"tasks", "version", FilterOp::kValueNotIn, {"a"}}}},
      // A single-value function keeps every ';' part (upstream lets the database refuse it).
      {"eq(name,a;b)", Entity::kTask, {{"tasks", "name", FilterOp::kEq, {"a", "b"}}}},
      // Launch plans may filter on their workflow.
      {"eq(workflow.name,wf)+eq(state,1)",
       Entity::kLaunchPlan,
       {{"workflows", "name", FilterOp::kEq, {"wf"}},
        {"launch_plans", "state", FilterOp::kEq, {"1"}}}},
      {"eq(state,1)", Entity::kProject, {{"projects", "state", FilterOp::kEq, {"1"}}}},
      {"eq(project.name,x)", Entity::kProject, {{"projects", "name", FilterOp::kEq, {"x"}}}},
      // Named entities: description and state live in the metadata table.
      {"ne(state,1)+eq(name,n)+contains(description,d)",
       Entity::kNamedEntity,
       {{"named_entity_metadata", "state", FilterOp::kNe, {"1"}},
        {"entities", "name", FilterOp::kEq, {"n"}},
        {"named_entity_metadata", "description", FilterOp::kContains, {"d"}}}},
      {"eq(named_entity_metadata.state,0)",
       Entity::kNamedEntity,
       {{"named_entity_metadata", "state", FilterOp::kEq, {"0"}}}},
      // Executions: joined entities and the admin tag rewrite.
      {"eq(execution_project,p)+eq(launch_plan.name,lp)+eq(admin_tag.name,t)+eq(execution_tag.key,"
       "k)",
       Entity::kExecution,
       {{"executions", "execution_project", FilterOp::kEq, {"p"}},
        {"launch_plans", "name", FilterOp::kEq, {"lp"}},
        {"execution_tags", "key", FilterOp::kEq, {"t"}},
        {"execution_tags", "key", FilterOp::kEq, {"k"}}}},
      {"eq(execution.phase,FAILED)+eq(node_id,n0)",
       Entity::kNodeExecution,
       {{"executions", "phase", FilterOp::kEq, {"FAILED"}},
        {"node_executions", "node_id", FilterOp::kEq, {"n0"}}}},
      // Task executions have a task `project` column, which upstream still renames.
      {"eq(project,p)+eq(task.version,v)",
       Entity::kTaskExecution,
       {{"task_executions", "execution_project", FilterOp::kEq, {"p"}},
        {"tasks", "version", FilterOp::kEq, {"v"}}}},
      {"eq(signal_id,s)", Entity::kSignal, {{"signals", "signal_id", FilterOp::kEq, {"s"}}}},
      // Durations become nanoseconds: a float is seconds, otherwise a Go duration.
      {"gt(duration,1.5)+lt(duration,1m30s)",
       Entity::kExecution,
       {{"executions", "duration", FilterOp::kGt, {"1500000000"}},
        {"executions", "duration", FilterOp::kLt, {"90000000000"}}}},
      {"value_in(duration,2;3h)",
       Entity::kTaskExecution,
       {{"task_executions", "duration", FilterOp::kValueIn, {"2000000000", "10800000000000"}}}},
      // Timestamps are never parsed: they reach the repository as text.
      {"gt(started_at,not-a-time)",
       Entity::kExecution,
       {{"executions", "started_at", FilterOp::kGt, {"not-a-time"}}}},
      // The regex is unanchored: text after the closing parenthesis is ignored.
      {"eq(name,foo)bar", Entity::kTask, {{"tasks", "name", FilterOp::kEq, {"foo"}}}},
  };
  for (const auto& c : cases) CheckFilters(c.text, c.primary, c.expected);
}

TEST_CASE("SQL metacharacters in filter values pass through as plain values", "[unit]") {
  CheckFilters("eq(name,x' OR '1'='1)", Entity::kTask,
               {{"tasks", "name", FilterOp::kEq, {"x' OR '1'='1"}}});
  CheckFilters("contains(name,50%_off\\)", Entity::kWorkflow,
               {{"workflows", "name", FilterOp::kContains, {"50%_off\\"}}});
  CheckFilters("value_in(version,a';\"b\" --;)", Entity::kTask,
               {{"tasks", "version", FilterOp::kValueIn, {"a'", "\"b\" --", ""}}});
  CheckFilters("eq(name,Robert'); DROP TABLE tasks; --)", Entity::kTask,
               {{"tasks", "name", FilterOp::kEq, {"Robert')", " DROP TABLE tasks", " --"}}});
}

TEST_CASE("Malformed filters fail with upstream's messages", "[unit]") {
  struct Case {
    std::string text;
    Entity primary;
    StatusCode code;
    std::string message;
  };
  const auto kInvalid = StatusCode::kInvalidArgument;
  const std::vector<Case> cases = {
      {"", Entity::kTask, kInvalid, "invalid value for filters"},
      {"eq", Entity::kTask, kInvalid, "invalid value for filters"},
      {"eq(name)", Entity::kTask, kInvalid, "invalid value for filters"},
      {"eq(name,)", Entity::kTask, kInvalid, "invalid value for filters"},
      {"eq(,x)", Entity::kTask, kInvalid, "invalid value for filters"},
      {"(name,x)", Entity::kTask, kInvalid, "invalid value for filters"},
      {"eq(name,foo", Entity::kTask, kInvalid, "invalid value for filters"},
      {"eq name,x", Entity::kTask, kInvalid, "invalid value for filters"},
      {"eq(name,x)+", Entity::kTask, kInvalid, "invalid value for filters"},
      {"eq(name,x)++eq(name,y)", Entity::kTask, kInvalid, "invalid value for filters"},
      // '+' always separates expressions, even inside a value.
      {"eq(name,a+b)", Entity::kTask, kInvalid, "invalid value for filters"},
      {"eq(foo,bar)", Entity::kTask, kInvalid, "'t.foo' is invalid filter"},
      {"eq(Name,bar)", Entity::kTask, kInvalid, "'t.Name' is invalid filter"},
      {"eq( name,bar)", Entity::kTask, kInvalid, "'t. name' is invalid filter"},
      // Greedy matching: the last comma splits field from value.
      {"eq(name,a,b)", Entity::kTask, kInvalid, "'t.name,a' is invalid filter"},
      {"eq(workflow.name,x)", Entity::kTask, kInvalid, "'w' entity is not allowed in filters"},
      {"eq(task.name,x)", Entity::kLaunchPlan, kInvalid, "'t' entity is not allowed in filters"},
      {"eq(workflow.foo,x)", Entity::kLaunchPlan, kInvalid, "'w.foo' is invalid filter"},
      {"eq(execution_admin_tag.name,x)", Entity::kExecution, kInvalid,
       "'eat' entity is not allowed in filters"},
      {"eq(project,p)", Entity::kExecution, kInvalid, "'e.project' is invalid filter"},
      {"eq(created_at,x)", Entity::kNamedEntity, kInvalid, "'nen.created_at' is invalid filter"},
      {"foo(name,x)", Entity::kTask, kInvalid, "unrecognized filter function: foo"},
      {"EQ(name,x)", Entity::kTask, kInvalid, "unrecognized filter function: EQ"},
      {" eq(name,x)", Entity::kTask, kInvalid, "unrecognized filter function:  eq"},
      // The field is checked before the function.
      {"foo(bar,x)", Entity::kTask, kInvalid, "'t.bar' is invalid filter"},
      {"eq(name,ok)+bad(name,x)", Entity::kTask, kInvalid, "unrecognized filter function: bad"},
      {"gt(duration,1000000)", Entity::kExecution, kInvalid, "Failed to parse duration [1e+06s]"},
      {"gt(duration,abc)", Entity::kExecution, kInvalid, "Failed to parse duration [abc]"},
      {"gt(duration,5d)", Entity::kNodeExecution, kInvalid, "Failed to parse duration [5d]"},
      {"eq(name,x)", Entity::kDescriptionEntity, StatusCode::kInternal, "unsupported entity 'de'"},
  };
  for (const auto& c : cases) CheckError(c.text, c.primary, c.code, c.message);
}

TEST_CASE("The filter regex captures what Go's greedy unanchored match captures", "[unit]") {
  struct Case {
    std::string text;
    std::string function, field, value;
  };
  const std::vector<Case> cases = {
      {"eq(a,b)", "eq", "a", "b"},    {"eq(a, b)", "eq", "a", "b"},
      {"eq(a,\tb)", "eq", "a", "b"},  {"f(a(b,c),d)", "f(a", "b,c)", "d"},
      {"eq(a,b))", "eq", "a", "b)"},  {"eq(a,b)c)", "eq", "a", "b)c"},
      {"x\neq(a,b)", "eq", "a", "b"}, {"eq(a,\nb)", "eq", "a", "b"},
  };
  for (const auto& c : cases) {
    INFO(c.text);
    const auto m = MatchFilterExpression(c.text);
    REQUIRE(m.has_value());
    CHECK(m->function == c.function);
    CHECK(m->field == c.field);
    CHECK(m->value == c.value);
  }
  CHECK_FALSE(MatchFilterExpression("eq(a\n,b)").has_value());
  CHECK_FALSE(MatchFilterExpression("eq(a,b\n)").has_value());
}

TEST_CASE("Identifier filters are prepended and empty ones skipped", "[unit]") {
  FilterSpec spec;
  spec.project = "p";
  spec.domain = "d";
  spec.request_filters = "eq(version,v1)";
  auto filters = GetDbFilters(spec, Entity::kTask);
  REQUIRE(filters.ok());
  REQUIRE(filters->size() == 3);
  CHECK((*filters)[0].column == "project");
  CHECK((*filters)[0].values == std::vector<std::string>{"p"});
  CHECK((*filters)[1].column == "domain");
  CHECK((*filters)[2].column == "version");

  spec.name = "n";
  spec.request_filters.clear();
  filters = GetDbFilters(spec, Entity::kExecution);
  REQUIRE(filters.ok());
  REQUIRE(filters->size() == 3);
  CHECK((*filters)[0].table == "executions");
  CHECK((*filters)[0].column == "execution_project");
  CHECK((*filters)[2].column == "execution_name");

  spec.request_filters = "eq(nope,1)";
  filters = GetDbFilters(spec, Entity::kWorkflow);
  REQUIRE_FALSE(filters.ok());
  CHECK(filters.status().message() == "'w.nope' is invalid filter");

  const auto eq = EqualityFilter(Entity::kNodeExecution, "domain", "dev");
  CHECK(eq.table == "node_executions");
  CHECK(eq.column == "execution_domain");
  CHECK(eq.op == FilterOp::kEq);
}

TEST_CASE("Description entity filters use the resource type's columns on their own table",
          "[unit]") {
  FilterSpec spec{"p", "d", "n", "eq(type,python-task)"};
  auto filters = GetDescriptionEntityFilters(flyteidl::core::TASK, spec);
  REQUIRE(filters.ok());
  REQUIRE(filters->size() == 4);
  for (const auto& f : *filters) CHECK(f.table == "description_entities");
  CHECK((*filters)[3].column == "type");

  spec.request_filters = "eq(typed_interface,x)";
  filters = GetDescriptionEntityFilters(flyteidl::core::TASK, spec);
  REQUIRE_FALSE(filters.ok());
  CHECK(filters.status().message() == "'t.typed_interface' is invalid filter");
  CHECK(GetDescriptionEntityFilters(flyteidl::core::WORKFLOW, spec).ok());

  filters = GetDescriptionEntityFilters(flyteidl::core::DATASET, spec);
  REQUIRE_FALSE(filters.ok());
  CHECK(filters.status().code() == StatusCode::kInternal);
  CHECK(filters.status().message() == "unsupported entity ''");

  spec.request_filters.clear();
  filters = GetDescriptionEntityFilters(flyteidl::core::UNSPECIFIED, spec);
  REQUIRE(filters.ok());
  CHECK(filters->size() == 3);
}

TEST_CASE("Sort keys are validated against the entity's columns, descending by default", "[unit]") {
  auto none = ParseSort(nullptr, Entity::kTask);
  REQUIRE(none.ok());
  CHECK_FALSE(none->has_value());

  flyteidl::admin::Sort sort;
  sort.set_key("created_at");
  auto parsed = ParseSort(&sort, Entity::kTask);
  REQUIRE(parsed.ok());
  REQUIRE(parsed->has_value());
  CHECK((*parsed)->column == "created_at");
  CHECK_FALSE((*parsed)->ascending);

  sort.set_direction(flyteidl::admin::Sort::ASCENDING);
  parsed = ParseSort(&sort, Entity::kProject);
  REQUIRE(parsed.ok());
  CHECK((*parsed)->ascending);

  struct Bad {
    std::string key;
    int direction;
    Entity entity;
    std::string message;
  };
  const std::vector<Bad> bad = {
      {"foo", 0, Entity::kTask, "invalid sort key 'foo'"},
      {"", 0, Entity::kTask, "invalid sort key ''"},
      {"created_at", 0, Entity::kNamedEntity, "invalid sort key 'created_at'"},
      {"name desc; DROP TABLE x", 0, Entity::kWorkflow,
       "invalid sort key 'name desc; DROP TABLE x'"},
      {"created_at", 5, Entity::kTask,
       "invalid sort order specified: key:\"created_at\" direction:5"},
  };
  for (const auto& b : bad) {
    INFO(b.key);
    flyteidl::admin::Sort s;
    s.set_key(b.key);
    s.set_direction(static_cast<flyteidl::admin::Sort::Direction>(b.direction));
    const auto result = ParseSort(&s, b.entity);
    REQUIRE_FALSE(result.ok());
    CHECK(result.status().code() == StatusCode::kInvalidArgument);
    CHECK(result.status().message() == b.message);
  }
  flyteidl::admin::Sort by_state;
  by_state.set_key("state");
  CHECK(ParseSort(&by_state, Entity::kNamedEntity).ok());
  by_state.set_key("link");
  CHECK(ParseSort(&by_state, Entity::kDescriptionEntity).ok());
}

TEST_CASE("Page tokens are non-negative decimal offsets", "[unit]") {
  struct Good {
    std::string token;
    uint64_t offset;
  };
  for (const auto& g : std::vector<Good>{{"", 0}, {"0", 0}, {"25", 25}, {"+7", 7}, {"007", 7}}) {
    INFO(g.token);
    const auto offset = ParseToken(g.token, "ListTasks");
    REQUIRE(offset.ok());
    CHECK(*offset == g.offset);
  }
  for (const std::string bad : {"-1", "abc", "1.5", " 1", "1 ", "99999999999999999999", "0x10"}) {
    INFO(bad);
    const auto offset = ParseToken(bad, "ListWorkflows");
    REQUIRE_FALSE(offset.ok());
    CHECK(offset.status().code() == StatusCode::kInvalidArgument);
    CHECK(offset.status().message() == "invalid pagination token " + bad + " for ListWorkflows");
  }
}

TEST_CASE("The next token is set only when a full page came back", "[unit]") {
  CHECK(NextToken(0, 10, 10) == "10");
  CHECK(NextToken(20, 10, 10) == "30");
  CHECK(NextToken(5, 3, 10).empty());
  CHECK(NextToken(0, 0, 0) == "0");
}

}  // namespace
}  // namespace flyte::plugins::manager
