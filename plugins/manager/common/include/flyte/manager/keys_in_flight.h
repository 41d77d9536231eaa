// Keys (entity ids) a manager is creating in this process, held from its duplicate check until
// its row is stored: two concurrent creates of one key would otherwise both pass the check and
// the later one would overwrite what the first stored beside its row (inputs, a closure)
// before its own insert failed. The later create waits, then finds the key taken.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>

namespace flyte::plugins::manager {

class KeysInFlight {
 public:
  // Waits while another create holds `key`, then holds it until the returned handle is gone.
  // The handles must not outlive this object.
  std::shared_ptr<void> Hold(const std::string& key) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return held_.count(key) == 0; });
    held_.insert(key);
    return std::shared_ptr<void>(static_cast<void*>(this), [this, key](void*) {
      {
        std::lock_guard release(mu_);
        held_.erase(key);
      }
      cv_.notify_all();
    });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::set<std::string> held_;
};

}  // namespace flyte::plugins::manager
