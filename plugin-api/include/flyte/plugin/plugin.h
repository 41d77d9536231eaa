// The entry point every plugin .so exports, and the macro that defines it.
#pragma once

#include <google/protobuf/stubs/common.h>
#include <grpcpp/grpcpp.h>

#include "flyte/plugin/export.h"
#include "flyte/plugin/host_context.h"
#include "flyte/plugin/status.h"

#define FLYTE_PLUGIN_STR_(x) #x
#define FLYTE_PLUGIN_STR(x) FLYTE_PLUGIN_STR_(x)

// What must be equal between host and plugin for their C++ objects to be interchangeable:
// compiler, C++ library ABI, protobuf, gRPC and the plugin-API version.
#define FLYTE_PLUGIN_BUILD_FINGERPRINT                                             \
  "api=" FLYTE_PLUGIN_STR(FLYTE_PLUGIN_API_VERSION_NUMBER) ";cxx=" __VERSION__    \
  ";cxxabi=" FLYTE_PLUGIN_STR(_GLIBCXX_USE_CXX11_ABI) ";protobuf=" FLYTE_PLUGIN_STR( \
      GOOGLE_PROTOBUF_VERSION) ";grpc=" GRPC_CPP_VERSION_STRING

// Must equal flyte::plugin::kPluginApiVersion (checked below).
#define FLYTE_PLUGIN_API_VERSION_NUMBER 4

namespace flyte::plugin {

static_assert(FLYTE_PLUGIN_API_VERSION_NUMBER == kPluginApiVersion);

using RegisterFunction = Status (*)(HostContext& host);

// Layout rule: api_version stays the first member forever, so any host can read it.
struct PluginInfo {
  unsigned api_version;
  const char* fingerprint;
  const char* name;         // unique, e.g. "manager-version"
  const char* version;      // the plugin's own version
  const char* description;  // one line
  RegisterFunction register_fn;
};

inline constexpr const char* kEntryPointSymbol = "flyte_plugin_info";

}  // namespace flyte::plugin

// Defines the plugin's single exported entry point. REGISTER_FN is
// `flyte::plugin::Status Fn(flyte::plugin::HostContext&)`: it creates the plugin's objects and
// registers them; it must not throw (the host refuses the plugin if it does).
#define FLYTE_PLUGIN(NAME, VERSION, DESCRIPTION, REGISTER_FN)                              \
  extern "C" FLYTE_PLUGIN_API_EXPORT const ::flyte::plugin::PluginInfo* flyte_plugin_info() { \
    static constexpr ::flyte::plugin::PluginInfo kInfo{                                      \
        ::flyte::plugin::kPluginApiVersion, FLYTE_PLUGIN_BUILD_FINGERPRINT, NAME, VERSION,   \
        DESCRIPTION, &REGISTER_FN};                                                          \
    return &kInfo;                                                                           \
  }
