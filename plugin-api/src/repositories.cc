// The waiting form of Repositories::RunGroupedAsync.
#include "flyte/plugin/repositories.h"

namespace flyte::plugin::db {

Status Repositories::RunGrouped(const std::string& order_key, std::function<Status()> work, bool atomic) {
  return AwaitStatus([&](std::function<void(Status)> done) {
    RunGroupedAsync(order_key, std::move(work), std::move(done), atomic);
  });
}

}  // namespace flyte::plugin::db
