// Registration of the named entity manager.
#include "flyte/plugin/plugin.h"
#include "named_entity.h"

namespace {

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  return host.Register(flyte::plugin::plugin_id::kNamedEntityManager,
                       std::make_shared<flyte::plugins::manager::NamedEntityManagerImpl>(host));
}

}  // namespace

FLYTE_PLUGIN("flyte_manager_named_entity", "0.1.0", "Named entities: Get, Update, List", Register)
