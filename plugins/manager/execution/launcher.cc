// PLACEHOLDER: replaced by the launcher's implementation.
#include "launcher.h"

namespace flyte::plugins::manager {

plugin::Status ExecutionLauncher::CreateExecution(plugin::CallContext&, const flyteidl::admin::ExecutionCreateRequest&,
                                                  flyteidl::admin::ExecutionCreateResponse&) {
  return plugin::Unimplemented("CreateExecution");
}
plugin::Status ExecutionLauncher::RelaunchExecution(plugin::CallContext&, const flyteidl::admin::ExecutionRelaunchRequest&,
                                                    flyteidl::admin::ExecutionCreateResponse&) {
  return plugin::Unimplemented("RelaunchExecution");
}
plugin::Status ExecutionLauncher::RecoverExecution(plugin::CallContext&, const flyteidl::admin::ExecutionRecoverRequest&,
                                                   flyteidl::admin::ExecutionCreateResponse&) {
  return plugin::Unimplemented("RecoverExecution");
}

}  // namespace flyte::plugins::manager
