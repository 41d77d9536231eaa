// Helpers for the compiler's unit tests: small workflows and tasks written as proto text.
#pragma once

#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/text_format.h>

#include <catch2/catch.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "flyte/core/compiler/compiler.h"

namespace compiler_test {

// Parses proto text, without protobuf's log line for the deprecated Operand.primitive field
// (which upstream still reads).
template <typename T>
T Parse(const std::string& text) {
  T message;
  INFO(text);
  auto previous = google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  bool ok = google::protobuf::TextFormat::ParseFromString(text, &message);
  google::protobuf::SetLogHandler(previous);
  REQUIRE(ok);
  return message;
}

using Vars = std::vector<std::pair<std::string, std::string>>;  // name -> LiteralType text

inline std::string VarMap(const Vars& vars) {
  std::string out;
  for (const auto& [name, type] : vars) {
    out += "variables { key: \"" + name + "\" value { type { " + type + " } } } ";
  }
  return out;
}

inline std::string Iface(const Vars& inputs, const Vars& outputs) {
  return "interface { inputs { " + VarMap(inputs) + "} outputs { " + VarMap(outputs) + "} } ";
}

inline std::string TaskRef(const std::string& name) {
  return "reference_id { resource_type: TASK project: \"p\" domain: \"d\" name: \"" + name +
         "\" version: \"v\" }";
}

inline flyteidl::core::CompiledTask Task(const std::string& name, const Vars& inputs,
                                         const Vars& outputs) {
  return Parse<flyteidl::core::CompiledTask>(
      "template { id { resource_type: TASK project: \"p\" domain: \"d\" name: \"" + name +
      "\" version: \"v\" } type: \"python-task\" " + Iface(inputs, outputs) +
      " container { image: \"img\" args: \"run\" } }");
}

// A workflow "wf" with the given interface and body (nodes, outputs, failure node...).
inline flyteidl::core::WorkflowTemplate Workflow(const Vars& inputs, const Vars& outputs,
                                                 const std::string& body,
                                                 const std::string& name = "wf") {
  return Parse<flyteidl::core::WorkflowTemplate>(
      "id { resource_type: WORKFLOW project: \"p\" domain: \"d\" name: \"" + name +
      "\" version: \"v\" } " + Iface(inputs, outputs) + body);
}

struct Result {
  std::optional<flyteidl::core::CompiledWorkflowClosure> closure;
  std::vector<flyte::core::compiler::CompileError> errors;
  std::string text;

  bool Has(const std::string& code, const std::string& node, const std::string& description) const {
    for (const auto& e : errors) {
      if (e.code == code && e.node_id == node && e.description == description) return true;
    }
    return false;
  }
  bool HasCode(const std::string& code) const {
    for (const auto& e : errors) {
      if (e.code == code) return true;
    }
    return false;
  }
};

inline Result Compile(const flyteidl::core::WorkflowTemplate& wf,
                      const std::vector<flyteidl::core::CompiledTask>& tasks,
                      const std::vector<flyteidl::core::WorkflowTemplate>& subs = {},
                      const std::vector<flyte::plugin::LaunchPlanInterface>& lps = {}) {
  flyte::core::compiler::CompileErrors errors;
  Result r;
  r.closure = flyte::core::compiler::CompileWorkflow(wf, subs, tasks, lps, errors);
  r.errors = errors.List();
  r.text = errors.Error();
  return r;
}

}  // namespace compiler_test
