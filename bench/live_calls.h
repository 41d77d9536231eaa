// What the benchmarks' asynchronous gRPC clients share: waiting for their calls to end.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>

namespace flyte::bench {

// The calls of an asynchronous gRPC client whose objects are still alive. gRPC destroys a
// callback (and what it captured: the call's ClientContext, say) on its own thread after the
// callback returns, so a load generator waits for none to be left before it destroys its channel
// and the state its callbacks use.
class LiveCalls {
 public:
  // Held by each call's object, declared first (destroyed last): its end is the call's.
  class Token {
   public:
    explicit Token(std::shared_ptr<LiveCalls> calls) : calls_(std::move(calls)) {
      std::lock_guard lock(calls_->mu_);
      ++calls_->live_;
    }
    ~Token() {
      auto calls = calls_;  // keeps the counter alive until its lock is released
      std::lock_guard lock(calls->mu_);
      if (--calls->live_ == 0) calls->cv_.notify_all();
    }
    Token(const Token&) = delete;
    Token& operator=(const Token&) = delete;

   private:
    std::shared_ptr<LiveCalls> calls_;
  };

  void WaitForNone() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return live_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  long live_ = 0;
};

}  // namespace flyte::bench
