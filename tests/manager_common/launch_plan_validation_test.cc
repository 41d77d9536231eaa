// Launch plan validation: inputs, expected inputs, schedules, notifications, launch conditions.
#include <catch2/catch.hpp>
#include <functional>

// Schedule.cron_expression is deprecated in the IDL; upstream still honours it, so we test it.
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

#include "fakes.h"
#include "flyte/manager/validation.h"

namespace flyte::plugins::manager {
namespace {

using flyteidl::admin::LaunchPlanCreateRequest;
using flyteidl::core::LiteralType;
using plugin::Status;
using plugin::StatusCode;
using testing::FakeCompiler;
using testing::FakeProjectRepo;

LiteralType Simple(flyteidl::core::SimpleType t) {
  LiteralType lt;
  lt.set_simple(t);
  return lt;
}

flyteidl::core::Literal IntLiteral(int64_t v) {
  flyteidl::core::Literal l;
  l.mutable_scalar()->mutable_primitive()->set_integer(v);
  return l;
}

flyteidl::core::Literal DatetimeLiteral(int64_t seconds, int32_t nanos) {
  flyteidl::core::Literal l;
  auto* ts = l.mutable_scalar()->mutable_primitive()->mutable_datetime();
  ts->set_seconds(seconds);
  ts->set_nanos(nanos);
  return l;
}

flyteidl::core::TypedInterface WorkflowInterface() {
  flyteidl::core::TypedInterface ti;
  auto& vars = *ti.mutable_inputs()->mutable_variables();
  *vars["x"].mutable_type() = Simple(flyteidl::core::INTEGER);
  vars["x"].set_description("the x");
  *vars["y"].mutable_type() = Simple(flyteidl::core::STRING);
  *vars["t"].mutable_type() = Simple(flyteidl::core::DATETIME);
  return ti;
}

LaunchPlanCreateRequest ValidRequest() {
  LaunchPlanCreateRequest r;
  auto* id = r.mutable_id();
  id->set_resource_type(flyteidl::core::LAUNCH_PLAN);
  id->set_project("p");
  id->set_domain("development");
  id->set_name("lp");
  id->set_version("v");
  auto* wf = r.mutable_spec()->mutable_workflow_id();
  *wf = *id;
  wf->set_resource_type(flyteidl::core::WORKFLOW);
  return r;
}

struct Env {
  FakeProjectRepo repo;
  FakeCompiler compiler;
  Env() { repo.Add("p"); }
  Status Validate(LaunchPlanCreateRequest& r, bool artifacts = false,
                  const flyteidl::core::TypedInterface& wf = WorkflowInterface()) {
    return ValidateLaunchPlan(r, repo, DefaultDomains(), artifacts, wf, compiler);
  }
};

void CheckInvalid(const Status& status, const std::string& message) {
  INFO(status.message());
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(status.message() == message);
}

TEST_CASE("Launch plan requests fail in upstream's order with upstream's messages", "[unit]") {
  using Mut = std::function<void(LaunchPlanCreateRequest&)>;
  struct Case {
    Mut mutate;
    std::string message;
  };
  const auto add_default = [](LaunchPlanCreateRequest& r, const std::string& name) {
    return &(*r.mutable_spec()->mutable_default_inputs()->mutable_parameters())[name];
  };
  const auto add_fixed = [](LaunchPlanCreateRequest& r, const std::string& name) {
    return &(*r.mutable_spec()->mutable_fixed_inputs()->mutable_literals())[name];
  };
  const std::vector<Case> cases = {
      {[](auto& r) { r.clear_id(); }, "missing id"},
      {[](auto& r) { r.mutable_id()->set_resource_type(flyteidl::core::TASK); },
       "unexpected resource type task for identifier [resource_type:TASK project:\"p\" "
       "domain:\"development\" name:\"lp\" version:\"v\"], expected launch_plan instead"},
      {[](auto& r) { r.mutable_id()->set_project("q"); },
       "failed to validate that project [q] and domain [development] are registered, err: "
       "[project [q] not found]"},
      {[](auto& r) { r.clear_spec(); }, "missing spec"},
      {[](auto& r) { r.mutable_spec()->clear_workflow_id(); }, "missing id"},
      {[](auto& r) {
         r.mutable_spec()->mutable_workflow_id()->set_resource_type(flyteidl::core::LAUNCH_PLAN);
       },
       "unexpected resource type launch_plan for identifier [resource_type:LAUNCH_PLAN "
       "project:\"p\" domain:\"development\" name:\"lp\" version:\"v\"], expected workflow "
       "instead"},
      {[](auto& r) { (*r.mutable_spec()->mutable_labels()->mutable_values())["a b"] = "c"; },
       "invalid label key [a b]: [name part must consist of alphanumeric characters, '-', '_' or "
       "'.', and must start and end with an alphanumeric character (e.g. 'MyName',  or "
       "'my.name',  or '123-abc', regex used for validation is "
       "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')]"},
      {[&](auto& r) { *add_fixed(r, "") = IntLiteral(1); }, "missing key in fixed_inputs"},
      {[&](auto& r) { add_fixed(r, "x"); }, "missing valid literal in fixed_inputs x"},
      {[&](auto& r) { *add_fixed(r, "t") = DatetimeLiteral(-62135596801, 0); },
       "proto: timestamp (seconds:-62135596801) before 0001-01-01"},
      {[&](auto& r) { *add_fixed(r, "t") = DatetimeLiteral(253402300800, 0); },
       "proto: timestamp (seconds:253402300800) after 9999-12-31"},
      {[&](auto& r) { *add_fixed(r, "t") = DatetimeLiteral(0, -1); },
       "proto: timestamp (nanos:-1) has out-of-range nanos"},
      {[&](auto& r) { add_default(r, "x")->mutable_artifact_query(); },
       "artifact mode not enabled but query found default_inputs x"},
      {[&](auto& r) { add_default(r, "")->set_required(true); }, "missing key in default_inputs"},
      {[&](auto& r) { add_default(r, "x")->set_required(true); },
       "The Variable component of the Parameter x in default_inputs either is missing, or has a "
       "missing Type"},
      {[&](auto& r) { add_default(r, "x")->mutable_var(); },
       "The Variable component of the Parameter x in default_inputs either is missing, or has a "
       "missing Type"},
      {[&](auto& r) {
         *add_default(r, "x")->mutable_var()->mutable_type() = Simple(flyteidl::core::INTEGER);
       },
       "Invalid variable x in default_inputs - variable has neither default, nor is required. One "
       "must be specified"},
      {[&](auto& r) {
         auto* p = add_default(r, "x");
         *p->mutable_var()->mutable_type() = Simple(flyteidl::core::INTEGER);
         p->mutable_default_();
       },
       "Failed to validate literal type for [x] with err: got unknown literal type: [<nil>].\n"
       "Suggested solution: Please update all your Flyte deployment images to the latest version "
       "and try again"},
      {[&](auto& r) {
         auto* p = add_default(r, "x");
         *p->mutable_var()->mutable_type() = Simple(flyteidl::core::STRING);
         *p->mutable_default_() = IntLiteral(3);
       },
       "Type mismatch for Parameter x in default_inputs has type simple:STRING, expected "
       "simple:INTEGER"},
      {[&](auto& r) {
         auto* p = add_default(r, "t");
         *p->mutable_var()->mutable_type() = Simple(flyteidl::core::DATETIME);
         *p->mutable_default_() = DatetimeLiteral(0, 1000000000);
       },
       "proto: timestamp (nanos:1000000000) has out-of-range nanos"},
      {[&](auto& r) {
         auto* p = add_default(r, "z");
         *p->mutable_var()->mutable_type() = Simple(flyteidl::core::INTEGER);
         p->set_required(true);
       },
       "unexpected default_input z"},
      {[&](auto& r) {
         auto* p = add_default(r, "y");
         *p->mutable_var()->mutable_type() = Simple(flyteidl::core::INTEGER);
         p->set_required(true);
       },
       "invalid default_input wrong type y, expected simple:INTEGER, got simple:STRING instead"},
      {[&](auto& r) { *add_fixed(r, "z") = IntLiteral(1); }, "unexpected fixed_input z"},
      {[&](auto& r) { *add_fixed(r, "y") = IntLiteral(1); },
       "invalid fixed_input wrong type y, expected simple:STRING, got simple:INTEGER instead"},
      {[&](auto& r) {
         auto* l = add_fixed(r, "y");
         l->mutable_offloaded_metadata()->set_uri("s3://x");
       },
       "Failed to validate literal type for [y] with err: got unknown literal type: [<nil>].\n"
       "Suggested solution: Please update all your Flyte deployment images to the latest version "
       "and try again"},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    Env env;
    auto r = ValidRequest();
    cases[i].mutate(r);
    CheckInvalid(env.Validate(r), cases[i].message);
  }
}

TEST_CASE("Expected inputs combine defaults, fixed inputs and required workflow inputs", "[unit]") {
  Env env;
  auto r = ValidRequest();
  auto& defaults = *r.mutable_spec()->mutable_default_inputs()->mutable_parameters();
  *defaults["x"].mutable_var()->mutable_type() = Simple(flyteidl::core::INTEGER);
  *defaults["x"].mutable_default_() = IntLiteral(7);
  (*r.mutable_spec()->mutable_fixed_inputs()->mutable_literals())["t"] = DatetimeLiteral(10, 0);
  REQUIRE(env.Validate(r).ok());
  const auto& expected = r.spec().default_inputs().parameters();
  REQUIRE(expected.size() == 2);
  CHECK(expected.at("x").default_().scalar().primitive().integer() == 7);
  CHECK(expected.at("y").required());
  CHECK(expected.at("y").var().type().simple() == flyteidl::core::STRING);
  CHECK(expected.count("t") == 0);

  // With the artifacts gate on, a query counts as a source of the value.
  auto with_query = ValidRequest();
  auto& q = (*with_query.mutable_spec()->mutable_default_inputs()->mutable_parameters())["x"];
  *q.mutable_var()->mutable_type() = Simple(flyteidl::core::INTEGER);
  q.mutable_artifact_query();
  CHECK(env.Validate(with_query, true).ok());

  // A workflow without inputs takes none.
  flyteidl::core::TypedInterface none;
  auto d = ValidRequest();
  auto& p = (*d.mutable_spec()->mutable_default_inputs()->mutable_parameters())["x"];
  *p.mutable_var()->mutable_type() = Simple(flyteidl::core::INTEGER);
  p.set_required(true);
  CheckInvalid(env.Validate(d, false, none),
               "invalid launch plan default inputs, expected none but found 1");
  auto f = ValidRequest();
  (*f.mutable_spec()->mutable_fixed_inputs()->mutable_literals())["x"] = IntLiteral(1);
  (*f.mutable_spec()->mutable_fixed_inputs()->mutable_literals())["y"] = IntLiteral(1);
  CheckInvalid(env.Validate(f, false, none),
               "invalid launch plan fixed inputs, expected none but found 2");
  auto empty = ValidRequest();
  CHECK(env.Validate(empty, false, none).ok());
  CHECK(empty.spec().default_inputs().parameters().empty());
}

TEST_CASE("Schedules need bound inputs, a datetime kickoff argument and valid cron", "[unit]") {
  Env env;
  // x and y bound by defaults; t left free for the kickoff time.
  const auto base = [] {
    auto r = ValidRequest();
    auto& defaults = *r.mutable_spec()->mutable_default_inputs()->mutable_parameters();
    *defaults["x"].mutable_var()->mutable_type() = Simple(flyteidl::core::INTEGER);
    *defaults["x"].mutable_default_() = IntLiteral(1);
    (*r.mutable_spec()->mutable_fixed_inputs()->mutable_literals())["y"]
        .mutable_scalar()
        ->mutable_primitive()
        ->set_string_value("s");
    return r;
  };
  using Mut = std::function<void(flyteidl::admin::Schedule&)>;
  struct Case {
    Mut mutate;
    std::string message;  // empty: valid
  };
  const std::vector<Case> cases = {
      {[](auto& s) { s.mutable_cron_schedule()->set_schedule("0 * * * *"); },
       "Cannot create a launch plan with a schedule if there is an unbound required input. [t] is "
       "required"},
      {[](auto& s) {
         s.mutable_rate()->set_value(1);
         s.set_kickoff_time_input_arg("t");
       },
       ""},
      {[](auto& s) {
         s.mutable_rate()->set_value(1);
         s.set_kickoff_time_input_arg("t");
         s.set_kickoff_time_input_arg("nope");
       },
       "Cannot create a launch plan with a schedule if there is an unbound required input. [t] is "
       "required"},
      {[](auto& s) {
         s.mutable_cron_schedule()->set_schedule("0 * * * *");
         s.set_kickoff_time_input_arg("x");
       },
       "Cannot create a launch plan with a schedule if there is an unbound required input. [t] is "
       "required"},
      {[](auto& s) {
         s.mutable_cron_schedule()->set_schedule("0 61 * * *");
         s.set_kickoff_time_input_arg("t");
       },
       "Invalid cron expression: end of range (61) above maximum (23): 61"},
      {[](auto& s) {
         s.set_cron_expression("bad");
         s.set_kickoff_time_input_arg("t");
       },
       "Invalid cron expression: expected exactly 5 fields, found 1: [bad]"},
      {[](auto& s) {
         s.mutable_cron_schedule()->set_schedule("@daily");
         s.set_kickoff_time_input_arg("t");
       },
       ""},
      // An empty cron schedule is a schedule with nothing to parse.
      {[](auto& s) {
         s.mutable_cron_schedule();
         s.set_kickoff_time_input_arg("t");
       },
       ""},
      // Without any schedule expression nothing is checked.
      {[](auto& s) { s.set_kickoff_time_input_arg("nope"); }, ""},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    INFO("case " << i);
    auto r = base();
    cases[i].mutate(*r.mutable_spec()->mutable_entity_metadata()->mutable_schedule());
    const auto s = env.Validate(r);
    if (cases[i].message.empty()) {
      CHECK(s.ok());
    } else {
      CheckInvalid(s, cases[i].message);
    }
  }
  // Kickoff argument that is free but not a datetime; and one that is not free.
  flyteidl::core::ParameterMap expected;
  auto& free_int = (*expected.mutable_parameters())["n"];
  *free_int.mutable_var()->mutable_type() = Simple(flyteidl::core::INTEGER);
  free_int.set_required(true);
  flyteidl::admin::Schedule schedule;
  schedule.mutable_rate()->set_value(5);
  schedule.set_kickoff_time_input_arg("n");
  CheckInvalid(ValidateSchedule(schedule, expected),
               "KickoffTimeInputArg must reference a datetime input. [n] is a [simple:INTEGER]");
  schedule.set_kickoff_time_input_arg("m");
  free_int.set_required(false);
  CheckInvalid(ValidateSchedule(schedule, expected),
               "Cannot create a schedule with a KickoffTimeInputArg that does not point to a free "
               "input. [m] is not free or does not exist.");
}

TEST_CASE("Notifications and launch conditions are checked", "[unit]") {
  Env env;
  using Mut = std::function<void(flyteidl::admin::LaunchPlanMetadata&)>;
  struct Case {
    Mut mutate;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](auto& m) { m.add_notifications()->mutable_email(); }, "missing recipients"},
      {[](auto& m) { m.add_notifications()->mutable_slack()->add_recipients_email(""); },
       "missing recipient"},
      {[](auto& m) { m.add_notifications()->mutable_pager_duty(); }, "missing recipients"},
      {[](auto& m) { m.add_notifications(); }, "invalid value for notification type"},
      {[](auto& m) {
         auto* n = m.add_notifications();
         n->mutable_email()->add_recipients_email("a@b");
         n->add_phases(flyteidl::core::WorkflowExecution::RUNNING);
       },
       "invalid value for phase"},
      {[](auto& m) {
         flyteidl::core::Identifier inner;
         inner.set_name("n");
         m.mutable_launch_conditions()->PackFrom(inner);
       },
       "Launch condition must be empty, found [type.googleapis.com/flyteidl.core.Identifier]:{"
       "name:\"n\"}"},
  };
  for (const auto& c : cases) {
    auto r = ValidRequest();
    auto& defaults = *r.mutable_spec()->mutable_default_inputs()->mutable_parameters();
    *defaults["x"].mutable_var()->mutable_type() = Simple(flyteidl::core::INTEGER);
    defaults["x"].set_required(true);
    c.mutate(*r.mutable_spec()->mutable_entity_metadata());
    CheckInvalid(env.Validate(r), c.message);
  }
  auto ok = ValidRequest();
  auto* n = ok.mutable_spec()->mutable_entity_metadata()->add_notifications();
  n->mutable_email()->add_recipients_email("a@b");
  for (const auto phase :
       {flyteidl::core::WorkflowExecution::SUCCEEDED, flyteidl::core::WorkflowExecution::FAILED,
        flyteidl::core::WorkflowExecution::TIMED_OUT, flyteidl::core::WorkflowExecution::ABORTED}) {
    n->add_phases(phase);
  }
  CHECK(env.Validate(ok).ok());
}

TEST_CASE("A launch plan schedule is empty unless it has an expression or a rate", "[unit]") {
  flyteidl::admin::LaunchPlanSpec spec;
  CHECK(IsScheduleEmpty(spec));
  auto* s = spec.mutable_entity_metadata()->mutable_schedule();
  CHECK(IsScheduleEmpty(spec));
  s->mutable_cron_schedule();
  CHECK(IsScheduleEmpty(spec));
  s->mutable_cron_schedule()->set_schedule("@daily");
  CHECK_FALSE(IsScheduleEmpty(spec));
  s->mutable_rate()->set_value(0);
  CHECK(IsScheduleEmpty(spec));
  s->mutable_rate()->set_value(3);
  CHECK_FALSE(IsScheduleEmpty(spec));
}

TEST_CASE("InfersUncastableType finds the literals upstream types with a nil inner message", "[unit]") {
  using flyteidl::core::Literal;
  Literal sd;
  sd.mutable_scalar()->mutable_structured_dataset()->set_uri("s3://b/x");
  CHECK(InfersUncastableType(sd));
  sd.mutable_scalar()->mutable_structured_dataset()->mutable_metadata();
  CHECK(InfersUncastableType(sd));
  sd.mutable_scalar()->mutable_structured_dataset()->mutable_metadata()->mutable_structured_dataset_type();
  CHECK_FALSE(InfersUncastableType(sd));

  Literal schema;
  schema.mutable_scalar()->mutable_schema()->set_uri("s3://b/s");
  CHECK(InfersUncastableType(schema));
  schema.mutable_scalar()->mutable_schema()->mutable_type();
  CHECK_FALSE(InfersUncastableType(schema));

  Literal blob;
  blob.mutable_scalar()->mutable_blob()->set_uri("s3://b/f");
  // No metadata at all: a nil type, which ValidateLiteralType reports at the top level.
  CHECK_FALSE(InfersUncastableType(blob));
  Literal list;
  *list.mutable_collection()->add_literals() = blob;
  CHECK(InfersUncastableType(list));
  blob.mutable_scalar()->mutable_blob()->mutable_metadata();
  CHECK(InfersUncastableType(blob));
  blob.mutable_scalar()->mutable_blob()->mutable_metadata()->mutable_type();
  CHECK_FALSE(InfersUncastableType(blob));

  Literal map;
  (*map.mutable_map()->mutable_literals())["ok"] = blob;
  CHECK_FALSE(InfersUncastableType(map));
  (*map.mutable_map()->mutable_literals())["empty"] = Literal();
  CHECK(InfersUncastableType(map));
  CHECK_FALSE(InfersUncastableType(Literal()));
  CHECK_FALSE(InfersUncastableType(IntLiteral(3)));
}

}  // namespace
}  // namespace flyte::plugins::manager
