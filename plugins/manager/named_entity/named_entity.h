// Named entity manager: the distinct names of tasks, workflows and launch plans with their
// metadata (description, archived state): Get, Update, List.
#pragma once

#include "flyte/manager/support.h"
#include "flyte/plugin/managers.h"

namespace flyte::plugins::manager {

class NamedEntityManagerImpl final : public plugin::NamedEntityManager {
 public:
  explicit NamedEntityManagerImpl(const plugin::HostContext& host) : services_(host) {}

#define FLYTE_DECLARE_(NAME, REQUEST, RESPONSE) \
  plugin::Status NAME(plugin::CallContext& call, const flyteidl::REQUEST& request, flyteidl::RESPONSE& response) override;
  FLYTE_NAMED_ENTITY_MANAGER_RPCS(FLYTE_DECLARE_)
#undef FLYTE_DECLARE_

 private:
  Services services_;
};

}  // namespace flyte::plugins::manager
