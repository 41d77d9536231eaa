// The merge rules task events apply to a stored task execution closure (upstream
// transformers/task_execution.go): logs, custom info, metadata and external resources.
#include "task_execution_model.h"

#include <catch2/catch.hpp>
#include <limits>

#include "flyte/manager/stored_time.h"

using namespace flyte::plugins::manager;
namespace core = flyteidl::core;
namespace event = flyteidl::event;
using Logs = google::protobuf::RepeatedPtrField<core::TaskLog>;

namespace {

core::TaskLog Log(const std::string& name, const std::string& uri, bool pending = false,
                  bool hide = false) {
  core::TaskLog log;
  log.set_name(name);
  log.set_uri(uri);
  log.set_showwhilepending(pending);
  log.set_hideoncefinished(hide);
  return log;
}

Logs LogsOf(std::initializer_list<core::TaskLog> logs) {
  Logs out;
  for (const auto& l : logs) *out.Add() = l;
  return out;
}

std::vector<std::string> Names(const Logs& logs) {
  std::vector<std::string> out;
  for (const auto& l : logs) out.push_back(l.name() + "@" + l.uri());
  return out;
}

event::ExternalResourceInfo Resource(uint32_t index, uint32_t retry, const std::string& id = "") {
  event::ExternalResourceInfo r;
  r.set_index(index);
  r.set_retry_attempt(retry);
  r.set_external_id(id);
  return r;
}

}  // namespace

TEST_CASE("Merged logs put the latest first and keep stored logs no latest log replaces",
          "[unit]") {
  auto existing = LogsOf({Log("a", "u1"), Log("b", "u2"), Log("", "u3")});
  auto latest = LogsOf({Log("a", "u9"), Log("c", "u2")});
  CHECK(Names(MergeLogs(existing, latest)) == std::vector<std::string>{"a@u9", "c@u2", "@u3"});
  CHECK(Names(MergeLogs(existing, {})) == Names(existing));
  CHECK(Names(MergeLogs({}, latest)) == Names(latest));
}

TEST_CASE(
    "Logs are filtered by phase: pending phases show only pending logs, terminal ones hide "
    "finished logs",
    "[unit]") {
  auto logs = LogsOf({Log("p", "1", true), Log("h", "2", false, true), Log("n", "3")});
  CHECK(Names(FilterLogsByPhase(logs, core::TaskExecution::QUEUED)) ==
        std::vector<std::string>{"p@1"});
  CHECK(Names(FilterLogsByPhase(logs, core::TaskExecution::INITIALIZING)) ==
        std::vector<std::string>{"p@1"});
  CHECK(Names(FilterLogsByPhase(logs, core::TaskExecution::RUNNING)).size() == 3);
  CHECK(Names(FilterLogsByPhase(logs, core::TaskExecution::SUCCEEDED)) ==
        std::vector<std::string>{"p@1", "n@3"});
  CHECK(Names(FilterLogsByPhase(logs, core::TaskExecution::RETRYABLE_FAILED)).size() == 3);
}

TEST_CASE("Custom info merges as a JSON merge patch", "[unit]") {
  google::protobuf::Struct existing, latest;
  auto& e = *existing.mutable_fields();
  e["keep"].set_string_value("k");
  e["gone"].set_number_value(1);
  e["list"].mutable_list_value()->add_values()->set_number_value(1);
  (*e["obj"].mutable_struct_value()->mutable_fields())["a"].set_number_value(1);
  (*e["obj"].mutable_struct_value()->mutable_fields())["b"].set_number_value(2);
  auto& l = *latest.mutable_fields();
  l["gone"].set_null_value(google::protobuf::NULL_VALUE);
  l["list"].mutable_list_value()->add_values()->set_number_value(2);
  (*l["obj"].mutable_struct_value()->mutable_fields())["b"].set_null_value(
      google::protobuf::NULL_VALUE);
  (*l["obj"].mutable_struct_value()->mutable_fields())["c"].set_number_value(3);
  (*l["fresh"].mutable_struct_value()->mutable_fields())["x"].set_null_value(
      google::protobuf::NULL_VALUE);
  MergeCustomInfo(existing, latest);
  const auto& f = existing.fields();
  CHECK(f.at("keep").string_value() == "k");
  CHECK(f.count("gone") == 0);
  REQUIRE(f.at("list").list_value().values_size() == 1);
  CHECK(f.at("list").list_value().values(0).number_value() == 2);
  const auto& obj = f.at("obj").struct_value().fields();
  CHECK(obj.at("a").number_value() == 1);
  CHECK(obj.count("b") == 0);
  CHECK(obj.at("c").number_value() == 3);
  CHECK(f.at("fresh").struct_value().fields().empty());

  // As json-patch's merge: over a non-object the new value is pruned of null members (inside
  // lists too, where null elements stay); a non-object replacing an object is taken as it is.
  google::protobuf::Struct before, patch;
  (*before.mutable_fields())["scalar"].set_number_value(1);
  (*(*before.mutable_fields())["obj"].mutable_struct_value()->mutable_fields())["a"].set_number_value(1);
  auto& into_scalar = *(*patch.mutable_fields())["scalar"].mutable_struct_value()->mutable_fields();
  into_scalar["b"].set_null_value(google::protobuf::NULL_VALUE);
  into_scalar["c"].set_number_value(2);
  auto* list = (*patch.mutable_fields())["list"].mutable_list_value();
  list->add_values()->set_number_value(1);
  list->add_values()->set_null_value(google::protobuf::NULL_VALUE);
  (*list->add_values()->mutable_struct_value()->mutable_fields())["x"].set_null_value(google::protobuf::NULL_VALUE);
  auto* over_obj = (*patch.mutable_fields())["obj"].mutable_list_value();
  (*over_obj->add_values()->mutable_struct_value()->mutable_fields())["y"].set_null_value(
      google::protobuf::NULL_VALUE);
  MergeCustomInfo(before, patch);
  const auto& m = before.fields();
  REQUIRE(m.at("scalar").has_struct_value());
  CHECK(m.at("scalar").struct_value().fields().size() == 1);
  CHECK(m.at("scalar").struct_value().fields().at("c").number_value() == 2);
  const auto& merged_list = m.at("list").list_value();
  REQUIRE(merged_list.values_size() == 3);
  CHECK(merged_list.values(1).has_null_value());
  CHECK(merged_list.values(2).struct_value().fields().empty());
  REQUIRE(m.at("obj").list_value().values_size() == 1);
  CHECK(m.at("obj").list_value().values(0).struct_value().fields().count("y") == 1);
}

TEST_CASE("Metadata merges external resources by index and retry attempt, in sorted position",
          "[unit]") {
  event::TaskExecutionMetadata existing;
  existing.set_generated_name("g");
  existing.set_plugin_identifier("k8s");
  *existing.add_external_resources() = Resource(0, 0, "a");
  auto stored = Resource(2, 0, "c");
  stored.set_cache_status(core::CACHE_HIT);
  *stored.add_logs() = Log("l", "u1");
  *existing.add_external_resources() = stored;

  event::TaskExecutionMetadata latest;
  latest.set_instance_class(event::TaskExecutionMetadata::INTERRUPTIBLE);
  auto update = Resource(2, 0);
  update.set_phase(core::TaskExecution::SUCCEEDED);
  *update.add_logs() = Log("m", "u2");
  (*update.mutable_custom_info()->mutable_fields())["x"].set_number_value(1);
  *latest.add_external_resources() = update;
  *latest.add_external_resources() = Resource(1, 0, "b");
  *latest.add_external_resources() = Resource(2, 1, "c2");
  *latest.add_external_resources() = Resource(5, 0, "f");

  MergeMetadata(existing, latest);
  CHECK(existing.generated_name() == "g");
  CHECK(existing.plugin_identifier() == "k8s");
  CHECK(existing.instance_class() == event::TaskExecutionMetadata::INTERRUPTIBLE);
  const auto external_ids = [](const event::TaskExecutionMetadata& m) {
    std::vector<std::string> ids;
    for (const auto& r : m.external_resources()) ids.push_back(r.external_id());
    return ids;
  };
  CHECK(external_ids(existing) == std::vector<std::string>{"a", "b", "c", "c2", "f"});
  const auto& merged = existing.external_resources(2);
  CHECK(merged.external_id() == "c");  // an empty id does not overwrite
  CHECK(merged.phase() == core::TaskExecution::SUCCEEDED);
  CHECK(merged.cache_status() == core::CACHE_HIT);  // CACHE_DISABLED (0) does not overwrite
  CHECK(Names(merged.logs()) == std::vector<std::string>{"m@u2", "l@u1"});
  CHECK(merged.custom_info().fields().at("x").number_value() == 1);

  // Equal keys: the first stored one takes a report, as upstream's search finds it; a resource
  // reported twice in one event is inserted once and then merged.
  event::TaskExecutionMetadata dup;
  *dup.add_external_resources() = Resource(3, 0, "first");
  *dup.add_external_resources() = Resource(3, 0, "second");
  event::TaskExecutionMetadata twice;
  *twice.add_external_resources() = Resource(3, 0, "first-updated");
  *twice.add_external_resources() = Resource(4, 0, "new");
  *twice.add_external_resources() = Resource(4, 0, "new-again");
  MergeMetadata(dup, twice);
  CHECK(external_ids(dup) == std::vector<std::string>{"first-updated", "second", "new-again"});

  // A stored list out of order (never written so here) is searched and shifted as upstream does.
  event::TaskExecutionMetadata unsorted;
  *unsorted.add_external_resources() = Resource(5, 0, "five");
  *unsorted.add_external_resources() = Resource(1, 0, "one");
  event::TaskExecutionMetadata report;
  *report.add_external_resources() = Resource(3, 0, "three");
  MergeMetadata(unsorted, report);
  CHECK(external_ids(unsorted) == std::vector<std::string>{"five", "one", "three"});
}

TEST_CASE("Task phases print as Go does and only SUCCEEDED, FAILED and ABORTED are terminal",
          "[unit]") {
  CHECK(TaskPhaseName(core::TaskExecution::WAITING_FOR_RESOURCES) == "WAITING_FOR_RESOURCES");
  CHECK(TaskPhaseName(42) == "42");
  CHECK(IsTaskPhaseTerminal(core::TaskExecution::ABORTED));
  CHECK_FALSE(IsTaskPhaseTerminal(core::TaskExecution::RETRYABLE_FAILED));
}

namespace {
// A RUNNING event of task "t" on node "n", for the tests below to change.
flyteidl::admin::TaskExecutionEventRequest RunningEvent() {
  flyteidl::admin::TaskExecutionEventRequest request;
  auto* e = request.mutable_event();
  e->mutable_task_id()->set_resource_type(core::TASK);
  e->mutable_task_id()->set_name("t");
  e->mutable_parent_node_execution_id()->set_node_id("n");
  e->set_phase(core::TaskExecution::RUNNING);
  return request;
}
}  // namespace

TEST_CASE("A terminal task event whose output_uri is empty records no result, as upstream tests the "
          "string",
          "[unit]") {
  auto request = RunningEvent();
  auto* e = request.mutable_event();
  e->mutable_occurred_at()->set_seconds(1700000000);
  EventDataPolicy policy;  // no store: nothing here offloads
  auto model = CreateTaskExecutionModel(request, policy);
  REQUIRE(model.ok());

  const auto closure_of = [&] {
    flyteidl::admin::TaskExecutionClosure closure;
    REQUIRE(closure.ParseFromString(model->closure));
    return closure;
  };
  e->set_phase(core::TaskExecution::SUCCEEDED);
  e->mutable_occurred_at()->set_seconds(1700000010);
  e->set_output_uri("");  // the oneof is set, to an empty string
  REQUIRE(e->output_result_case() == event::TaskExecutionEvent::kOutputUri);
  REQUIRE(UpdateTaskExecutionModel(request, *model, policy).ok());
  CHECK(closure_of().output_result_case() == flyteidl::admin::TaskExecutionClosure::OUTPUT_RESULT_NOT_SET);

  // A failure's error, then (a replayed event) an empty output_uri: the error stays.
  e->set_phase(core::TaskExecution::FAILED);
  e->mutable_error()->set_code("boom");
  REQUIRE(UpdateTaskExecutionModel(request, *model, policy).ok());
  REQUIRE(closure_of().error().code() == "boom");
  e->set_output_uri("");
  REQUIRE(UpdateTaskExecutionModel(request, *model, policy).ok());
  CHECK(closure_of().error().code() == "boom");
  CHECK(closure_of().output_uri().empty());
}

TEST_CASE("Event times anywhere in a Timestamp's years are stored as they are", "[unit]") {
  auto request = RunningEvent();
  auto* e = request.mutable_event();
  e->mutable_occurred_at()->set_seconds(-62135596800);  // 0001-01-01, Go's zero time
  e->mutable_occurred_at()->set_nanos(1500);
  EventDataPolicy policy;
  auto model = CreateTaskExecutionModel(request, policy);
  REQUIRE(model.ok());
  REQUIRE(model->started_at);
  CHECK(model->started_at->time_since_epoch().count() == -62135596800000000 + 1);

  e->set_phase(core::TaskExecution::SUCCEEDED);
  e->mutable_occurred_at()->set_seconds(253402300799);  // 9999-12-31T23:59:59
  e->mutable_occurred_at()->set_nanos(999999999);
  REQUIRE(UpdateTaskExecutionModel(request, *model, policy).ok());
  CHECK(model->task_execution_updated_at->time_since_epoch().count() == 253402300799999999);
  // The closure's start is the stored one; the duration is Go's Time.Sub: int64 nanoseconds,
  // saturated beyond about 292 years.
  flyteidl::admin::TaskExecutionClosure closure;
  REQUIRE(closure.ParseFromString(model->closure));
  CHECK(closure.started_at().seconds() == -62135596800);
  CHECK(closure.started_at().nanos() == 1000);
  CHECK(model->duration_ns == std::numeric_limits<int64_t>::max());

  // Within the range, to the nanosecond of the event (the start as stored, to the microsecond).
  e->set_phase(core::TaskExecution::RUNNING);
  e->mutable_occurred_at()->set_seconds(32503680000);  // 3000-01-01, past int64 nanoseconds
  e->mutable_occurred_at()->set_nanos(2500);
  auto later = CreateTaskExecutionModel(request, policy);
  REQUIRE(later.ok());
  CHECK(later->started_at->time_since_epoch().count() == 32503680000000002);
  e->set_phase(core::TaskExecution::SUCCEEDED);
  e->mutable_occurred_at()->set_seconds(32503680007);
  e->mutable_occurred_at()->set_nanos(5);
  REQUIRE(UpdateTaskExecutionModel(request, *later, policy).ok());
  CHECK(later->duration_ns == 7000000005 - 2000);

  using flyte::plugins::manager::NanosBetween;
  using flyte::plugins::manager::StoredTime;
  CHECK(StoredTime(1700000000, 5).time_since_epoch().count() == 1700000000000000);
  CHECK(StoredTime(1700000000, 5999).time_since_epoch().count() == 1700000000000005);
  CHECK(StoredTime(-1, 999999999).time_since_epoch().count() == -1);
  CHECK(StoredTime(9223372036853, 999999999).time_since_epoch().count() == 9223372036853999999);
  CHECK(StoredTime(9223372036854, 0) == flyte::plugin::db::Time::max());
  CHECK(StoredTime(-9223372036854, 0) == flyte::plugin::db::Time::min());
  CHECK(NanosBetween(StoredTime(10, 0), StoredTime(12, 5000)) == 2000005000);
  CHECK(NanosBetween(StoredTime(12, 5000), StoredTime(10, 0)) == -2000005000);
  CHECK(NanosBetween(flyte::plugin::db::Time::max(), flyte::plugin::db::Time::min()) ==
        std::numeric_limits<int64_t>::min());
}

TEST_CASE("A task event time outside Go's range fails with ptypes' text, as upstream's does",
          "[unit]") {
  EventDataPolicy policy;
  auto request = RunningEvent();
  auto* e = request.mutable_event();
  e->mutable_occurred_at()->set_seconds(-62135596801);
  auto refused = CreateTaskExecutionModel(request, policy);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == flyte::plugin::StatusCode::kInternal);
  CHECK(refused.status().message() ==
        "failed to unmarshal occurredAt with error: timestamp: seconds:-62135596801 before "
        "0001-01-01");

  e->mutable_occurred_at()->set_seconds(1700000000);
  auto model = CreateTaskExecutionModel(request, policy);
  REQUIRE(model.ok());
  e->set_phase(flyteidl::core::TaskExecution::SUCCEEDED);
  e->mutable_occurred_at()->set_nanos(-1);
  auto s = UpdateTaskExecutionModel(request, *model, policy);
  CHECK(s.code() == flyte::plugin::StatusCode::kInternal);
  CHECK(s.message() ==
        "Failed to parse task execution occurredAt timestamp: timestamp: seconds:1700000000 "
        "nanos:-1: nanos not in range [0, 1e9)");
  e->mutable_occurred_at()->set_nanos(0);
  e->mutable_occurred_at()->set_seconds(253402300800);
  s = UpdateTaskExecutionModel(request, *model, policy);
  CHECK(s.message() ==
        "Failed to parse task execution occurredAt timestamp: timestamp: seconds:253402300800 "
        "after 10000-01-01");
}
