// The waiting form of Repositories::RunGroupedAsync.
#include <condition_variable>
#include <mutex>

#include "flyte/plugin/repositories.h"

namespace flyte::plugin::db {

Status Repositories::RunGrouped(const std::string& order_key, std::function<Status()> work, bool atomic) {
  struct Waiter {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Status status;
  };
  auto waiter = std::make_shared<Waiter>();
  RunGroupedAsync(order_key, std::move(work), [waiter](Status s) {
    std::lock_guard lock(waiter->mu);
    waiter->status = std::move(s);
    waiter->done = true;
    waiter->cv.notify_one();
  }, atomic);
  std::unique_lock lock(waiter->mu);
  waiter->cv.wait(lock, [&] { return waiter->done; });
  return waiter->status;
}

}  // namespace flyte::plugin::db
