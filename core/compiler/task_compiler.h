// Task validation (upstream task_compiler.go).
#pragma once

#include <string_view>

#include "flyte/core/compiler/errors.h"
#include "flyteidl/core/tasks.pb.h"

namespace flyte::core::compiler::internal {

// Whether k8s.io/apimachinery's resource.ParseQuantity accepts the text.
bool IsValidQuantity(std::string_view text);

// Collects the task's errors into `errs`.
void CompileTaskInternal(const flyteidl::core::TaskTemplate& task, const CompileErrors& errs);

}  // namespace flyte::core::compiler::internal
