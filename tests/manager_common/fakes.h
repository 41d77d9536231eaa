// Hand-written fakes for the manager-common unit tests: a project repository in memory and a
// compiler that knows the type rules of simple and collection types only.
#pragma once

#include <google/protobuf/util/message_differencer.h>

#include <map>
#include <string>

#include "flyte/plugin/compiler.h"
#include "flyte/plugin/repositories.h"

namespace flyte::plugins::manager::testing {

class FakeProjectRepo : public plugin::db::ProjectRepo {
 public:
  std::map<std::string, plugin::db::ProjectModel> rows;
  plugin::Status get_error;  // returned by Get when not OK

  void Add(const std::string& id, int32_t state = 0) {
    plugin::db::ProjectModel m;
    m.identifier = id;
    m.name = id;
    m.state = state;
    rows[id] = m;
  }

  plugin::Status Create(const plugin::db::ProjectModel& project) override {
    rows[project.identifier] = project;
    return plugin::Status::Ok();
  }
  plugin::StatusOr<plugin::db::ProjectModel> Get(const std::string& identifier) override {
    if (!get_error.ok()) return get_error;
    const auto it = rows.find(identifier);
    if (it == rows.end()) return plugin::NotFound("entry not found");
    return it->second;
  }
  plugin::StatusOr<std::vector<plugin::db::ProjectModel>> List(
      const plugin::db::ListInput&) override {
    return std::vector<plugin::db::ProjectModel>();
  }
  plugin::Status Update(const plugin::db::ProjectModel& project) override {
    rows[project.identifier] = project;
    return plugin::Status::Ok();
  }
};

// Literal types: primitives map to their simple type, collections to a collection of the first
// element's type (NONE when empty); a literal without a value has no type (an error). Castable
// means identical, which is enough to tell a match from a mismatch in these tests.
class FakeCompiler : public plugin::WorkflowCompiler {
 public:
  plugin::StatusOr<flyteidl::core::CompiledTask> CompileTask(
      const flyteidl::core::TaskTemplate&) override {
    return plugin::Unimplemented("fake");
  }
  plugin::StatusOr<plugin::WorkflowRequirements> GetRequirements(
      const flyteidl::core::WorkflowTemplate&,
      const std::vector<flyteidl::core::WorkflowTemplate>&) override {
    return plugin::Unimplemented("fake");
  }
  plugin::StatusOr<flyteidl::core::CompiledWorkflowClosure> CompileWorkflow(
      const flyteidl::core::WorkflowTemplate&, const std::vector<flyteidl::core::WorkflowTemplate>&,
      const std::vector<flyteidl::core::CompiledTask>&,
      const std::vector<plugin::LaunchPlanInterface>&) override {
    return plugin::Unimplemented("fake");
  }

  bool AreTypesCastable(const flyteidl::core::LiteralType& upstream,
                        const flyteidl::core::LiteralType& downstream) override {
    return google::protobuf::util::MessageDifferencer::Equals(upstream, downstream);
  }

  plugin::StatusOr<flyteidl::core::LiteralType> LiteralTypeForLiteral(
      const flyteidl::core::Literal& literal) override {
    flyteidl::core::LiteralType t;
    if (literal.has_scalar() && literal.scalar().has_primitive()) {
      const auto& p = literal.scalar().primitive();
      switch (p.value_case()) {
        case flyteidl::core::Primitive::kInteger:
          t.set_simple(flyteidl::core::INTEGER);
          break;
        case flyteidl::core::Primitive::kFloatValue:
          t.set_simple(flyteidl::core::FLOAT);
          break;
        case flyteidl::core::Primitive::kStringValue:
          t.set_simple(flyteidl::core::STRING);
          break;
        case flyteidl::core::Primitive::kBoolean:
          t.set_simple(flyteidl::core::BOOLEAN);
          break;
        case flyteidl::core::Primitive::kDatetime:
          t.set_simple(flyteidl::core::DATETIME);
          break;
        case flyteidl::core::Primitive::kDuration:
          t.set_simple(flyteidl::core::DURATION);
          break;
        default:
          t.set_simple(flyteidl::core::NONE);
      }
      return t;
    }
    if (literal.has_collection()) {
      if (literal.collection().literals().empty()) {
        t.mutable_collection_type()->set_simple(flyteidl::core::NONE);
        return t;
      }
      auto inner = LiteralTypeForLiteral(literal.collection().literals(0));
      if (!inner.ok()) return inner.status();
      *t.mutable_collection_type() = *inner;
      return t;
    }
    return plugin::InvalidArgument("unknown literal");
  }
};

}  // namespace flyte::plugins::manager::testing
