// The PluginIDs: upstream FlyteAdmin's seven extension points plus the kinds this design adds.
#pragma once

#include <string_view>

namespace flyte::plugin {

using PluginId = std::string_view;

namespace plugin_id {
// Upstream's IDs, spelled exactly as flyteadmin/plugins/registry.go spells them.
inline constexpr PluginId kAdditionalGrpcService = "AdditionalGRPCService";
inline constexpr PluginId kCustomerHeaderMatcher = "CustomerHeaderMatcher";
inline constexpr PluginId kDataProxy = "DataProxy";
inline constexpr PluginId kLogoutHook = "LogoutHook";
inline constexpr PluginId kPreRedirectHook = "PreRedirectHook";
inline constexpr PluginId kUnaryServiceMiddleware = "UnaryServiceMiddleware";
inline constexpr PluginId kWorkflowExecutor = "WorkflowExecutor";

// This design's kinds. Interceptors and HTTP handlers are collections; the rest are slots.
inline constexpr PluginId kInterceptor = "Interceptor";
inline constexpr PluginId kVersionManager = "VersionManager";
inline constexpr PluginId kProjectManager = "ProjectManager";
inline constexpr PluginId kTaskManager = "TaskManager";
inline constexpr PluginId kWorkflowManager = "WorkflowManager";
inline constexpr PluginId kLaunchPlanManager = "LaunchPlanManager";
inline constexpr PluginId kNamedEntityManager = "NamedEntityManager";
inline constexpr PluginId kDescriptionEntityManager = "DescriptionEntityManager";
inline constexpr PluginId kExecutionManager = "ExecutionManager";
inline constexpr PluginId kNodeExecutionManager = "NodeExecutionManager";
inline constexpr PluginId kTaskExecutionManager = "TaskExecutionManager";
inline constexpr PluginId kResourceManager = "ResourceManager";
inline constexpr PluginId kMetricsManager = "MetricsManager";
inline constexpr PluginId kSignalManager = "SignalManager";
inline constexpr PluginId kStorage = "Storage";
inline constexpr PluginId kDatabase = "Database";
inline constexpr PluginId kCompiler = "Compiler";
// A collection: raw HTTP routes on the host's HTTP port (http_handler.h).
inline constexpr PluginId kHttpHandler = "HttpHandler";
}  // namespace plugin_id

}  // namespace flyte::plugin
