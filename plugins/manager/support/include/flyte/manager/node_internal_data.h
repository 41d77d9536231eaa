// The internal_data column of node_executions: upstream's own NodeExecutionInternalData message
// (not part of flyteidl), which holds the event version the node's events were sent with.
#pragma once

#include <cstdint>
#include <string>

#include "flyte/plugin/status.h"

namespace flyte::plugins::manager {

// The column's bytes for `event_version` (empty for 0, as Go writes the zero message).
std::string EncodeInternalData(int32_t event_version);
// The event version the bytes hold (0 when absent); INTERNAL for bytes that are not the message.
plugin::StatusOr<int32_t> DecodeEventVersion(const std::string& bytes);

}  // namespace flyte::plugins::manager
