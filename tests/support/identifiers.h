// Identifier builders shared by the end-to-end tests.
#pragma once

#include <string>

#include "flyteidl/core/identifier.pb.h"

namespace flyte::test {

inline flyteidl::core::NodeExecutionIdentifier NodeExecutionId(const std::string& project,
                                                               const std::string& domain,
                                                               const std::string& execution,
                                                               const std::string& node) {
  flyteidl::core::NodeExecutionIdentifier id;
  id.set_node_id(node);
  id.mutable_execution_id()->set_project(project);
  id.mutable_execution_id()->set_domain(domain);
  id.mutable_execution_id()->set_name(execution);
  return id;
}

}  // namespace flyte::test
