// Export macro and version of the plugin API: the one place that decides what crosses a .so.
#pragma once

#define FLYTE_PLUGIN_API_EXPORT __attribute__((visibility("default")))

namespace flyte::plugin {

// Bumped on every change to a plugin-API class layout or virtual table. A plugin built against
// another version is refused by the loader before any of its code runs.
inline constexpr unsigned kPluginApiVersion = 4;

}  // namespace flyte::plugin
