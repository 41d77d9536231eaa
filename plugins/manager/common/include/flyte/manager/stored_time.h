// Times as the repositories store them. A protobuf Timestamp (like Go's time.Time) spans years
// 1 to 9999; a plugin::db::Time counts int64 nanoseconds, about 1677 to 2262. A time beyond that
// range is stored as the nearest time the column holds, which keeps the order of times, instead
// of overflowing.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <ratio>
#include <type_traits>

#include "flyte/plugin/repositories.h"

namespace flyte::plugins::manager {

inline plugin::db::Time StoredTime(int64_t seconds, int32_t nanos) {
  using Time = plugin::db::Time;
  static_assert(std::is_same_v<Time::duration::period, std::nano>,
                "plugin::db::Time counts nanoseconds");
  constexpr int64_t kBillion = 1000000000;
  // Whole seconds whose nanoseconds (plus any valid nanos) fit in int64.
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / kBillion - 1;
  constexpr int64_t kMinSeconds = std::numeric_limits<int64_t>::min() / kBillion + 1;
  if (seconds > kMaxSeconds) return Time::max();
  if (seconds < kMinSeconds) return Time::min();
  return Time(Time::duration(seconds * kBillion + nanos));
}

// `to - from` in nanoseconds, saturated at the int64 range (two stored times 1677 and 2262 lie
// further apart than int64 nanoseconds reach).
inline int64_t NanosBetween(plugin::db::Time from, plugin::db::Time to) {
  int64_t out = 0;
  if (__builtin_sub_overflow(to.time_since_epoch().count(), from.time_since_epoch().count(), &out)) {
    return to > from ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return out;
}

}  // namespace flyte::plugins::manager
