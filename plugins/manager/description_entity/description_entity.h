// Description entity manager: the long descriptions registered with tasks and workflows.
#pragma once

#include "flyte/manager/support.h"
#include "flyte/plugin/managers.h"

namespace flyte::plugins::manager {

class DescriptionEntityManagerImpl final : public plugin::DescriptionEntityManager {
 public:
  explicit DescriptionEntityManagerImpl(const plugin::HostContext& host) : services_(host) {}

#define FLYTE_DECLARE_(NAME, REQUEST, RESPONSE) \
  plugin::Status NAME(plugin::CallContext& call, const flyteidl::REQUEST& request, flyteidl::RESPONSE& response) override;
  FLYTE_DESCRIPTION_ENTITY_MANAGER_RPCS(FLYTE_DECLARE_)
#undef FLYTE_DECLARE_

 private:
  Services services_;
};

}  // namespace flyte::plugins::manager
