// Digests, structure diffs and the shared error statuses with their details.
#include <algorithm>
#include <catch2/catch.hpp>

#include "flyte/manager/digest.h"
#include "flyte/manager/errors.h"
#include "flyteidl/admin/workflow.pb.h"

namespace flyte::plugins::manager {
namespace {

using plugin::StatusCode;

flyteidl::core::CompiledTask Task(const std::string& image, const std::string& type) {
  flyteidl::core::CompiledTask t;
  auto* tmpl = t.mutable_template_();
  tmpl->set_type(type);
  tmpl->mutable_container()->set_image(image);
  tmpl->mutable_container()->add_args("a");
  tmpl->mutable_id()->set_name("t");
  return t;
}

flyteidl::core::Identifier RequestId() {
  flyteidl::core::Identifier id;
  id.set_resource_type(flyteidl::core::WORKFLOW);
  id.set_project("p");
  id.set_domain("d");
  id.set_name("my_wf");
  id.set_version("v1");
  return id;
}

TEST_CASE("Digests are SHA-256 of the deterministic serialization", "[unit]") {
  const auto a = Task("img:1", "python-task");
  const auto b = Task("img:1", "python-task");
  const auto c = Task("img:2", "python-task");
  CHECK(Digest(a).size() == 32);
  CHECK(Digest(a) == Digest(b));
  CHECK(Digest(a) != Digest(c));
  CHECK(DigestHex(a).size() == 64);
  // The empty message hashes to SHA-256 of nothing.
  CHECK(DigestHex(flyteidl::core::CompiledTask()) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");

  // Map insertion order does not matter.
  flyteidl::admin::Labels x;
  flyteidl::admin::Labels y;
  for (int i = 0; i < 20; ++i) (*x.mutable_values())["k" + std::to_string(i)] = "v";
  for (int i = 19; i >= 0; --i) (*y.mutable_values())["k" + std::to_string(i)] = "v";
  CHECK(Digest(x) == Digest(y));
}

TEST_CASE("Structure diffs list the changed paths with old and new values", "[unit]") {
  const auto old_task = Task("img:1", "python-task");
  const auto new_task = Task("img:2", "python-task");
  auto lines = StructureDiff(old_task, new_task);
  REQUIRE(lines.size() == 1);
  CHECK(lines[0] == "/template/Target/Container/image:\n\t- img:1 \n\t+ img:2");

  auto added = Task("img:1", "python-task");
  added.mutable_template_()->mutable_metadata()->set_discoverable(true);
  lines = StructureDiff(old_task, added);
  REQUIRE(lines.size() == 1);
  // Go's encoding/json of the generated struct: an unset oneof is a null under its Go name.
  CHECK(lines[0] == "/template/metadata:\n\t- <nil> \n\t+ map[InterruptibleValue:<nil> discoverable:true]");
  CHECK(StructureDiff(old_task, old_task).empty());

  // Oneof members under protoc-gen-go's names, zero scalars omitted, numbers as float64.
  flyteidl::core::CompiledTask pod_old;
  auto* pod = pod_old.mutable_template_()->mutable_k8s_pod();
  (*pod->mutable_metadata()->mutable_labels())["team"] = "a";
  pod_old.mutable_template_()->mutable_metadata()->mutable_retries()->set_retries(3);
  flyteidl::core::CompiledTask pod_new = pod_old;
  (*pod_new.mutable_template_()->mutable_k8s_pod()->mutable_metadata()->mutable_labels())["team"] = "b";
  pod_new.mutable_template_()->mutable_metadata()->mutable_retries()->set_retries(0);
  lines = StructureDiff(pod_old, pod_new);
  std::sort(lines.begin(), lines.end());
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "/template/Target/K8SPod/metadata/labels/team:\n\t- a \n\t+ b");
  CHECK(lines[1] == "/template/metadata/retries/retries:\n\t- 3 \n\t+ <nil>");

  const auto status = TaskExistsDifferentStructureError(RequestId(), old_task, new_task);
  CHECK(status.code() == StatusCode::kInvalidArgument);
  CHECK(status.message() ==
        "my_wf task with different structure already exists. (Please register a new version of "
        "the task):\n/template/Target/Container/image:\n\t- img:1 \n\t+ img:2");

  flyteidl::admin::LaunchPlanSpec lp_old;
  lp_old.mutable_workflow_id()->set_version("1");
  flyteidl::admin::LaunchPlanSpec lp_new = lp_old;
  lp_new.mutable_workflow_id()->set_version("2");
  lp_new.set_max_parallelism(5);
  const auto lp = LaunchPlanExistsDifferentStructureError(RequestId(), lp_old, lp_new);
  CHECK(lp.code() == StatusCode::kInvalidArgument);
  CHECK(lp.message().rfind(
            "my_wf launch plan with different structure already exists. (Please register a new "
            "version of the launch plan):\n",
            0) == 0);
  CHECK(lp.message().find("/workflow_id/version:\n\t- 1 \n\t+ 2") != std::string::npos);
  CHECK(lp.message().find("/max_parallelism:\n\t- <nil> \n\t+ 5") != std::string::npos);
}

TEST_CASE("Duplicate-registration errors carry upstream's codes and details", "[unit]") {
  CHECK(TaskExistsIdenticalStructureError().code() == StatusCode::kAlreadyExists);
  CHECK(TaskExistsIdenticalStructureError().message() ==
        "task with identical structure already exists");
  CHECK(LaunchPlanExistsIdenticalStructureError().code() == StatusCode::kAlreadyExists);
  CHECK(LaunchPlanExistsIdenticalStructureError().message() ==
        "launch plan with identical structure already exists");

  const auto same = WorkflowExistsIdenticalStructureError(RequestId());
  CHECK(same.code() == StatusCode::kAlreadyExists);
  CHECK(same.message() == "workflow with identical structure already exists");
  REQUIRE(same.details().size() == 1);
  CHECK(same.details()[0].type_url ==
        "type.googleapis.com/flyteidl.admin.CreateWorkflowFailureReason");
  flyteidl::admin::CreateWorkflowFailureReason reason;
  REQUIRE(reason.ParseFromString(same.details()[0].value));
  CHECK(reason.has_exists_identical_structure());
  CHECK(reason.exists_identical_structure().id().name() == "my_wf");

  flyteidl::core::CompiledWorkflowClosure a;
  a.mutable_primary()->mutable_template_()->mutable_id()->set_version("1");
  flyteidl::core::CompiledWorkflowClosure b = a;
  b.mutable_primary()->mutable_template_()->mutable_id()->set_version("2");
  const auto diff = WorkflowExistsDifferentStructureError(RequestId(), a, b);
  CHECK(diff.code() == StatusCode::kInvalidArgument);
  CHECK(diff.message() ==
        "my_wf workflow with different structure already exists. (Please register a new version "
        "of the workflow):\n/primary/template/id/version:\n\t- 1 \n\t+ 2");
  REQUIRE(diff.details().size() == 1);
  reason.Clear();
  REQUIRE(reason.ParseFromString(diff.details()[0].value));
  CHECK(reason.has_exists_different_structure());
  CHECK(reason.exists_different_structure().id().version() == "v1");
}

TEST_CASE("Shared error helpers word their messages like upstream", "[unit]") {
  CHECK(MissingArgumentError("foo").message() == "missing foo");
  CHECK(MissingArgumentError("foo").code() == StatusCode::kInvalidArgument);
  CHECK(InvalidArgumentError(kFieldLimit).message() == "invalid value for limit");
  const auto collected = CollectedError(
      StatusCode::kInvalidArgument, {plugin::InvalidArgument("a"), plugin::InvalidArgument("b")});
  CHECK(collected.message() == "a, b");
  CHECK(InvalidLiteralTypeError("x", "boom").message() ==
        "Failed to validate literal type for [x] with err: boom");

  auto id = RequestId();
  id.set_resource_type(flyteidl::core::LAUNCH_PLAN);
  const auto state = UnrecognizedLaunchPlanStateError(7, id);
  CHECK(state.message() ==
        "Unrecognized launch plan state 7 for update for launch plan [resource_type:LAUNCH_PLAN "
        "project:\"p\" domain:\"d\" name:\"my_wf\" version:\"v1\"]");
  id.set_org("o");
  const auto missing = MissingEntityError("LAUNCH_PLAN", id);
  CHECK(missing.code() == StatusCode::kNotFound);
  CHECK(missing.message() ==
        "missing entity of type LAUNCH_PLAN with identifier project:\"p\" domain:\"d\" "
        "name:\"my_wf\" version:\"v1\"");
  CHECK(IdentifierText(id) ==
        "resource_type:LAUNCH_PLAN project:\"p\" domain:\"d\" name:\"my_wf\" version:\"v1\" "
        "org:\"o\"");

  const auto inactive = InactiveProjectError("p");
  CHECK(inactive.message() == "project [p] is not active");
  REQUIRE(inactive.details().size() == 1);
  CHECK(inactive.details()[0].type_url == "type.googleapis.com/flyteidl.admin.InactiveProject");
}

}  // namespace
}  // namespace flyte::plugins::manager
