// The execution row -> admin.Execution transformer and its helpers (execution_model.h).
#include <catch2/catch.hpp>

#include "execution_model.h"

#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

namespace {

using flyte::plugins::manager::ExecutionTransformOptions;
using flyte::plugins::manager::FromExecutionModel;
using flyte::plugins::manager::TrimErrorMessage;
namespace admin = flyteidl::admin;
namespace core = flyteidl::core;

flyte::plugin::db::ExecutionModel Row(const admin::ExecutionClosure& closure, const std::string& phase = "RUNNING") {
  flyte::plugin::db::ExecutionModel m;
  m.key = {"p", "d", "n"};
  m.phase = phase;
  admin::ExecutionSpec spec;
  spec.mutable_launch_plan()->set_name("lp");
  (*spec.mutable_inputs()->mutable_literals())["x"].mutable_scalar()->mutable_primitive()->set_integer(1);
  m.spec = spec.SerializeAsString();
  m.closure = closure.SerializeAsString();
  m.user = "alice";
  m.abort_cause = "cause column";
  m.created_at = flyte::plugin::db::Time(std::chrono::seconds(1700000000));
  return m;
}

}  // namespace

TEST_CASE("TrimErrorMessage keeps short messages and cuts long ones at 100 valid UTF-8 bytes", "[unit]") {
  CHECK(TrimErrorMessage("short") == "short");
  CHECK(TrimErrorMessage(std::string(100, 'a')) == std::string(100, 'a'));
  CHECK(TrimErrorMessage(std::string(150, 'a')) == std::string(100, 'a'));
  // A two-byte character split by the cut loses its first byte.
  CHECK(TrimErrorMessage(std::string(99, 'a') + "\xc3\xa9tail") == std::string(99, 'a'));
  // A whole character before the cut stays.
  CHECK(TrimErrorMessage(std::string(98, 'a') + "\xc3\xa9tail") == std::string(98, 'a') + "\xc3\xa9");
  // Invalid bytes inside the first 100 are dropped too (Go strings.ToValidUTF8(s, "")).
  CHECK(TrimErrorMessage("a\xff" + std::string(120, 'b')) == "a" + std::string(98, 'b'));
  // A surrogate encoding is not valid UTF-8.
  CHECK(TrimErrorMessage("\xed\xa0\x80" + std::string(120, 'c')) == std::string(97, 'c'));
}

TEST_CASE("FromExecutionModel fills defaults for older rows and trims errors only when asked", "[unit]") {
  admin::ExecutionClosure closure;
  closure.mutable_error()->set_message(std::string(120, 'e'));
  auto full = FromExecutionModel(Row(closure));
  REQUIRE(full.ok());
  CHECK(full->id().name() == "n");
  CHECK(full->closure().error().message().size() == 120);
  CHECK(full->closure().state_change_details().state() == admin::EXECUTION_ACTIVE);
  CHECK(full->closure().state_change_details().principal() == "alice");
  CHECK(full->closure().state_change_details().occurred_at().seconds() == 1700000000);
  CHECK(full->spec().inputs().literals().count("x") == 1);
  CHECK_FALSE(full->spec().metadata().has_system_metadata());

  ExecutionTransformOptions options;
  options.trim_error_message = true;
  options.default_namespace = "p-d";
  auto trimmed = FromExecutionModel(Row(closure), options);
  REQUIRE(trimmed.ok());
  CHECK(trimmed->closure().error().message().size() == 100);
  CHECK(trimmed->spec().metadata().system_metadata().namespace_() == "p-d");

  // ABORTED rows from before abort metadata: the cause column.
  auto aborted = FromExecutionModel(Row(admin::ExecutionClosure(), "ABORTED"));
  REQUIRE(aborted.ok());
  CHECK(aborted->closure().abort_metadata().cause() == "cause column");
  admin::ExecutionClosure with_abort;
  with_abort.mutable_abort_metadata()->set_cause("recorded");
  CHECK(FromExecutionModel(Row(with_abort, "ABORTED"))->closure().abort_metadata().cause() == "recorded");

  auto broken = Row(closure);
  broken.closure = std::string("\xff\xff\xff", 3);
  CHECK(FromExecutionModel(broken).status().message() == "failed to unmarshal closure");
  broken = Row(closure);
  broken.spec = std::string("\xff\xff\xff", 3);
  CHECK(FromExecutionModel(broken).status().message() == "failed to unmarshal spec");
}

TEST_CASE("Phase helpers follow upstream's terminal set and Go's enum names", "[unit]") {
  using flyte::plugins::manager::IsExecutionTerminal;
  using flyte::plugins::manager::PhaseFromName;
  using flyte::plugins::manager::PhaseName;
  using P = core::WorkflowExecution;
  for (auto p : {P::SUCCEEDED, P::FAILED, P::TIMED_OUT, P::ABORTED}) CHECK(IsExecutionTerminal(p));
  for (auto p : {P::UNDEFINED, P::QUEUED, P::RUNNING, P::SUCCEEDING, P::FAILING, P::ABORTING}) {
    CHECK_FALSE(IsExecutionTerminal(p));
  }
  CHECK(PhaseFromName("ABORTING") == P::ABORTING);
  CHECK(PhaseFromName("bogus") == P::UNDEFINED);
  CHECK(PhaseName(P::TIMED_OUT) == "TIMED_OUT");
  CHECK(PhaseName(static_cast<P::Phase>(42)) == "42");
}
