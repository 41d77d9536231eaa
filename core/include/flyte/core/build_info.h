// This build's version, commit and time, as GetVersion reports them.
#pragma once

#include "flyte/plugin/host_context.h"

namespace flyte::core {

const plugin::BuildInfo& ThisBuild();

}  // namespace flyte::core
