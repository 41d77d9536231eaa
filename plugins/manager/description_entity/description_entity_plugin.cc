// Registration of the description entity manager.
#include "description_entity.h"
#include "flyte/plugin/plugin.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  return host.Register(flyte::plugin::plugin_id::kDescriptionEntityManager,
                       std::make_shared<flyte::plugins::manager::DescriptionEntityManagerImpl>(host));
}

}  // namespace

FLYTE_PLUGIN("flyte_manager_description_entity", "0.1.0", "Description entities: Get, List", Register)
