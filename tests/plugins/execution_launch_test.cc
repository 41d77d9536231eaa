// Unit tests of the execution launcher's pure parts: input checking and merging with the real
// compiler's type rules, execution names, the stored row and tags, and task resource defaults.
#include <catch2/catch.hpp>
#include <set>

#include "flyte/core/compiler/compiler.h"
#include "launch_support.h"
#include "launcher.h"

namespace {

namespace admin = flyteidl::admin;
namespace core = flyteidl::core;
namespace m = flyte::plugins::manager;

core::Literal Int(int64_t v) {
  core::Literal l;
  l.mutable_scalar()->mutable_primitive()->set_integer(v);
  return l;
}

core::Literal Str(const std::string& v) {
  core::Literal l;
  l.mutable_scalar()->mutable_primitive()->set_string_value(v);
  return l;
}

core::Parameter Param(core::SimpleType type, bool required, const core::Literal* def = nullptr) {
  core::Parameter p;
  p.mutable_var()->mutable_type()->set_simple(type);
  p.set_required(required);
  if (def) *p.mutable_default_() = *def;
  return p;
}

core::LiteralMap Map(std::map<std::string, core::Literal> literals) {
  core::LiteralMap out;
  for (auto& [k, v] : literals) (*out.mutable_literals())[k] = v;
  return out;
}

std::string Resource(const core::Resources& r, bool limit, core::Resources::ResourceName name) {
  for (const auto& e : limit ? r.limits() : r.requests()) {
    if (e.name() == name) return e.value();
  }
  return "<none>";
}

}  // namespace

TEST_CASE("Execution inputs are checked and merged as upstream's CheckAndFetchInputsForExecution",
          "[unit]") {
  auto compiler = flyte::core::compiler::MakeWorkflowCompiler();
  core::ParameterMap expected;
  const core::Literal five = Int(5);
  (*expected.mutable_parameters())["a"] = Param(core::INTEGER, true);
  (*expected.mutable_parameters())["b"] = Param(core::STRING, false, nullptr);
  (*expected.mutable_parameters())["c"] = Param(core::INTEGER, false, &five);
  const core::LiteralMap fixed = Map({{"f", Str("fixed")}});

  SECTION("user inputs, defaults and fixed inputs are merged") {
    auto merged =
        m::CheckAndFetchInputsForExecution(Map({{"a", Int(1)}}), fixed, expected, *compiler);
    REQUIRE(merged.ok());
    const auto& l = merged->literals();
    CHECK(l.size() == 4);
    CHECK(l.at("a").scalar().primitive().integer() == 1);
    CHECK(l.at("b").value_case() == core::Literal::VALUE_NOT_SET);  // a nil default
    CHECK(l.at("c").scalar().primitive().integer() == 5);
    CHECK(l.at("f").scalar().primitive().string_value() == "fixed");
  }
  SECTION("an input that is not expected is refused first") {
    auto r = m::CheckAndFetchInputsForExecution(Map({{"zz", Int(1)}}), fixed, expected, *compiler);
    CHECK(r.status().message() == "invalid input zz");
    CHECK(r.status().code() == flyte::plugin::StatusCode::kInvalidArgument);
  }
  SECTION("a missing required input is refused") {
    auto r = m::CheckAndFetchInputsForExecution(Map({{"c", Int(1)}}), fixed, expected, *compiler);
    CHECK(r.status().message() == "expected_inputs a missing");
  }
  SECTION("a value of the wrong type is refused with both types") {
    auto r = m::CheckAndFetchInputsForExecution(Map({{"a", Str("x")}}), fixed, expected, *compiler);
    CHECK(r.status().message() ==
          "invalid a input wrong type. Expected simple:INTEGER, but got simple:STRING");
  }
  SECTION("a value whose type cannot be inferred is refused") {
    core::Literal empty;
    auto r = m::CheckAndFetchInputsForExecution(Map({{"a", empty}}), fixed, expected, *compiler);
    CHECK(r.status().message().rfind(
              "Failed to validate literal type for [a] with err: got unknown literal type", 0) ==
          0);
    // Further in, upstream's ValidateLiteralType lets the nil through and the cast fails.
    core::Literal list;
    list.mutable_collection()->add_literals();
    r = m::CheckAndFetchInputsForExecution(Map({{"a", list}}), fixed, expected, *compiler);
    CHECK(r.status().message() ==
          "invalid a input wrong type. Expected simple:INTEGER, but got collection_type:{}");
  }
  SECTION("a fixed input that is also expected cannot be overridden, even by its default") {
    core::ParameterMap with_fixed = expected;
    (*with_fixed.mutable_parameters())["f"] = Param(core::STRING, false, nullptr);
    auto r = m::CheckAndFetchInputsForExecution(Map({{"a", Int(1)}}), fixed, with_fixed, *compiler);
    CHECK(r.status().message() == "fixed_inputs f cannot be overridden");
  }
}

TEST_CASE("Execution names are validated and generated as upstream", "[unit]") {
  CHECK(m::CheckValidExecutionId("good-name-1", "name").ok());
  CHECK(m::CheckValidExecutionId("bad_name", "name").message() ==
        "invalid name format: bad_name, does not match regex '^[a-z][a-z\\-0-9]*$'");
  CHECK(m::CheckValidExecutionId(std::string(64, 'a'), "name").message() ==
        "size of name exceeded length 63 : " + std::string(64, 'a'));
  CHECK(m::CheckValidExecutionId(std::string(63, 'a'), "name").ok());

  std::set<std::string> names;
  for (int i = 0; i < 1000; ++i) {
    auto name = m::GenerateExecutionName();
    REQUIRE(name.size() == 20);
    REQUIRE(name[0] == 'a');
    REQUIRE(name.find_first_not_of("abcdfghjklmnpqrstvwxz2456789") == std::string::npos);
    REQUIRE(m::CheckValidExecutionId(name, "name").ok());
    names.insert(name);
  }
  CHECK(names.size() == 1000);
}

TEST_CASE("The stored execution carries the executor's cluster or its error as upstream",
          "[unit]") {
  m::ExecutionModelInput input;
  input.id.set_project("p");
  input.id.set_domain("d");
  input.id.set_name("n");
  input.spec.mutable_metadata()->set_principal("alice");
  input.spec.mutable_metadata()->set_mode(admin::ExecutionMetadata::RELAUNCH);
  input.spec.mutable_metadata()->mutable_system_metadata()->set_execution_cluster("stale");
  (*input.spec.mutable_labels()->mutable_values())["k"] = "v";
  input.spec.add_tags("t");
  input.launch_plan_id = 7;
  input.workflow_id = 8;
  input.created_at = flyte::plugin::db::Now();
  input.workflow_identifier.set_name("wf");
  input.cluster = "c1";
  input.namespace_ = "p-d";
  input.launch_entity = "launch_plan";
  input.security_context.mutable_run_as()->set_k8s_service_account("sa");

  auto model = m::CreateExecutionModel(input);
  CHECK(model.phase == "UNDEFINED");
  CHECK(model.launch_plan_id == 7);
  CHECK(model.task_id == 0);
  CHECK(model.workflow_id == 8);
  CHECK(model.mode == admin::ExecutionMetadata::RELAUNCH);
  CHECK(model.user == "alice");
  CHECK(model.cluster == "c1");
  admin::ExecutionSpec spec;
  REQUIRE(spec.ParseFromString(model.spec));
  CHECK(spec.metadata().system_metadata().execution_cluster() == "c1");
  CHECK(spec.metadata().system_metadata().namespace_() == "p-d");
  CHECK(spec.security_context().run_as().k8s_service_account() == "sa");
  admin::ExecutionClosure closure;
  REQUIRE(closure.ParseFromString(model.closure));
  CHECK(closure.state_change_details().principal() == "alice");
  CHECK(closure.workflow_id().name() == "wf");
  CHECK(!closure.has_error());

  input.task_id = 9;
  input.error = flyte::plugin::InvalidArgument("bad config");
  auto failed = m::CreateExecutionModel(input);
  CHECK(failed.phase == "FAILED");
  CHECK(failed.task_id == 9);
  CHECK(failed.launch_plan_id == 0);
  REQUIRE(closure.ParseFromString(failed.closure));
  CHECK(closure.error().code() == "InvalidArgument");
  CHECK(closure.error().message() == "bad config");
  CHECK(closure.error().kind() == core::ExecutionError::USER);
  CHECK(m::GoCodeName(flyte::plugin::StatusCode::kInternal) == "Internal");
  CHECK(m::GoCodeName(flyte::plugin::StatusCode::kCancelled) == "Canceled");

  auto tags = m::CreateExecutionTags(input.spec);
  REQUIRE(tags.size() == 2);
  CHECK((tags[0].key == "k" && tags[0].value == "v"));
  CHECK((tags[1].key == "t" && tags[1].value.empty()));
}

TEST_CASE("Compiled container tasks get platform resources as flytek8s AdjustOrDefaultResource",
          "[unit]") {
  const auto platform =
      m::DefaultTaskResources();  // defaults cpu 2, memory 200Mi; limits cpu 2, memory 1Gi, gpu 1
  core::CompiledTask task;
  auto* resources = task.mutable_template_()->mutable_container()->mutable_resources();
  auto add = [](google::protobuf::RepeatedPtrField<core::Resources::ResourceEntry>* list,
                core::Resources::ResourceName name, const std::string& value) {
    auto* e = list->Add();
    e->set_name(name);
    e->set_value(value);
  };
  add(resources->mutable_requests(), core::Resources::CPU, "500m");
  add(resources->mutable_limits(), core::Resources::MEMORY, "4Gi");
  add(resources->mutable_limits(), core::Resources::GPU, "1");
  m::SetCompiledTaskDefaults(task, platform);
  const auto& r = task.template_().container().resources();
  CHECK(Resource(r, false, core::Resources::CPU) == "500m");
  CHECK(Resource(r, true, core::Resources::CPU) == "500m");
  // The request follows the limit when unset; both are capped at the platform limit.
  CHECK(Resource(r, false, core::Resources::MEMORY) == "1Gi");
  CHECK(Resource(r, true, core::Resources::MEMORY) == "1Gi");
  CHECK(Resource(r, false, core::Resources::GPU) == "1");
  CHECK(Resource(r, true, core::Resources::GPU) == "1");
  CHECK(Resource(r, false, core::Resources::EPHEMERAL_STORAGE) == "<none>");

  core::CompiledTask bare;
  bare.mutable_template_()->mutable_container();
  m::SetCompiledTaskDefaults(bare, platform);
  const auto& b = bare.template_().container().resources();
  CHECK(Resource(b, false, core::Resources::CPU) == "2");
  CHECK(Resource(b, false, core::Resources::MEMORY) == "200Mi");
  CHECK(Resource(b, true, core::Resources::MEMORY) == "200Mi");
  CHECK(Resource(b, false, core::Resources::GPU) == "<none>");

  core::CompiledTask not_a_container;
  not_a_container.mutable_template_()->set_type("sidecar");
  m::SetCompiledTaskDefaults(not_a_container, platform);
  CHECK(!not_a_container.template_().has_container());
}

TEST_CASE("Execution queues are chosen by attribute tags, then the domain's workflow config tags",
          "[unit]") {
  const std::vector<m::ExecutionQueue> queues = {{"gpu-dyn", {"gpu"}},
                                                 {"cpu-dyn", {"cpu", "default"}}};
  const std::vector<m::WorkflowQueueConfig> configs = {{"", {"default"}}, {"production", {"gpu"}}};
  const std::vector<std::string> attribute_tags = {"unknown", "gpu"};
  CHECK(m::DynamicQueue(queues, configs, &attribute_tags, "development") == "gpu-dyn");
  CHECK(m::DynamicQueue(queues, configs, nullptr, "production") == "gpu-dyn");
  CHECK(m::DynamicQueue(queues, configs, nullptr, "development") == "cpu-dyn");
  const std::vector<std::string> none = {"unknown"};
  CHECK(m::DynamicQueue(queues, configs, &none, "development") == "cpu-dyn");
  CHECK(m::DynamicQueue(queues, {}, nullptr, "development").empty());

  core::CompiledWorkflowClosure closure;
  closure.add_tasks()->mutable_template_()->mutable_container();
  closure.add_tasks()->mutable_template_()->set_type("sidecar");
  m::AssignChildQueue(closure, "cpu-dyn");
  REQUIRE(closure.tasks(0).template_().container().config_size() == 1);
  CHECK(closure.tasks(0).template_().container().config(0).key() == "child_queue");
  CHECK(closure.tasks(0).template_().container().config(0).value() == "cpu-dyn");
  CHECK(!closure.tasks(1).template_().has_container());
  m::AssignChildQueue(closure, "");
  CHECK(closure.tasks(0).template_().container().config_size() == 1);
}

TEST_CASE("Untyped blob, schema and structured dataset values cast to nothing, as upstream",
          "[unit]") {
  // Upstream infers a type whose inner message is nil for them, and every checker needs it;
  // an empty inner type would otherwise match a generic declared type.
  auto compiler = flyte::core::compiler::MakeWorkflowCompiler();
  core::ParameterMap expected;
  core::Parameter sd;
  sd.mutable_var()->mutable_type()->mutable_structured_dataset_type()->set_format("parquet");
  sd.set_required(true);
  (*expected.mutable_parameters())["df"] = sd;
  core::Parameter blob;
  blob.mutable_var()->mutable_type()->mutable_blob();
  blob.set_required(true);
  (*expected.mutable_parameters())["f"] = blob;
  core::Parameter files;
  files.mutable_var()->mutable_type()->mutable_collection_type()->mutable_blob();
  files.set_required(true);
  (*expected.mutable_parameters())["fs"] = files;

  core::Literal typed_df;
  typed_df.mutable_scalar()->mutable_structured_dataset()->set_uri("s3://b/x");
  typed_df.mutable_scalar()->mutable_structured_dataset()->mutable_metadata()->mutable_structured_dataset_type()->set_format(
      "parquet");
  core::Literal typed_blob;
  typed_blob.mutable_scalar()->mutable_blob()->set_uri("s3://b/f");
  typed_blob.mutable_scalar()->mutable_blob()->mutable_metadata()->mutable_type();
  core::Literal typed_files;
  *typed_files.mutable_collection()->add_literals() = typed_blob;
  auto ok = m::CheckAndFetchInputsForExecution(
      Map({{"df", typed_df}, {"f", typed_blob}, {"fs", typed_files}}), core::LiteralMap(), expected, *compiler);
  REQUIRE(ok.ok());

  SECTION("a structured dataset without metadata") {
    core::Literal df;
    df.mutable_scalar()->mutable_structured_dataset()->set_uri("s3://b/x");
    auto r = m::CheckAndFetchInputsForExecution(Map({{"df", df}, {"f", typed_blob}, {"fs", typed_files}}),
                                                core::LiteralMap(), expected, *compiler);
    CHECK(r.status().message() ==
          "invalid df input wrong type. Expected structured_dataset_type:{format:\"parquet\"}, but got "
          "structured_dataset_type:{}");
    df.mutable_scalar()->mutable_structured_dataset()->mutable_metadata();
    r = m::CheckAndFetchInputsForExecution(Map({{"df", df}, {"f", typed_blob}, {"fs", typed_files}}),
                                           core::LiteralMap(), expected, *compiler);
    CHECK(r.status().code() == flyte::plugin::StatusCode::kInvalidArgument);
    CHECK(r.status().message().rfind("invalid df input wrong type.", 0) == 0);
  }
  SECTION("a blob whose metadata has no type, alone or in a list") {
    core::Literal f;
    f.mutable_scalar()->mutable_blob()->set_uri("s3://b/f");
    f.mutable_scalar()->mutable_blob()->mutable_metadata();
    auto r = m::CheckAndFetchInputsForExecution(Map({{"df", typed_df}, {"f", f}, {"fs", typed_files}}),
                                                core::LiteralMap(), expected, *compiler);
    CHECK(r.status().message().rfind("invalid f input wrong type.", 0) == 0);
    core::Literal fs;
    *fs.mutable_collection()->add_literals() = typed_blob;
    *fs.mutable_collection()->add_literals() = f;
    r = m::CheckAndFetchInputsForExecution(Map({{"df", typed_df}, {"f", typed_blob}, {"fs", fs}}),
                                           core::LiteralMap(), expected, *compiler);
    CHECK(r.status().message().rfind("invalid fs input wrong type.", 0) == 0);
  }
}

TEST_CASE("Single-task node ids keep Unicode letters and numbers, as upstream's generateNodeNameFromTask",
          "[unit]") {
  CHECK(m::NodeNameFromTask("core.flyte_basics.hello_world.say_hello") == "coreflytebasicshelloworldsayhello");
  CHECK(m::NodeNameFromTask("my-task_2") == "my-task2");
  // Letters of any script (Lo, Ll with diacritics) and numbers beyond ASCII digits (Nd, Nl, No).
  CHECK(m::NodeNameFromTask("wf.t\u00e2che_\u6570\u636e") == "wft\u00e2che\u6570\u636e");
  CHECK(m::NodeNameFromTask("n\u0663.\u2167.\u00bd") == "n\u0663\u2167\u00bd");
  // Symbols, punctuation and marks go, as do bytes that are not UTF-8.
  CHECK(m::NodeNameFromTask("a\u00b7b\u2013c\u0301d\xff\xfe" "e") == "abcde");
  // The last 63 bytes of a longer name: a character the cut splits is dropped whole.
  const std::string tail(62, 'x');
  CHECK(m::NodeNameFromTask("pre\u00e9" + tail) == tail);
  CHECK(m::NodeNameFromTask("pre\u00e9" + std::string(61, 'x')) == "\u00e9" + std::string(61, 'x'));
}
