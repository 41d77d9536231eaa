// Times as the repositories store them. A plugin::db::Time counts microseconds, as both
// databases do, which spans the years 1 to 9999 of a protobuf Timestamp (and of Go's time.Time).
// Durations count int64 nanoseconds, as Go's time.Duration and upstream's duration columns do:
// measured from an event's time to the nanosecond, and saturated as Go's Time.Sub saturates.
#pragma once

#include <chrono>
#include <cstdint>
#include <limits>
#include <ratio>
#include <type_traits>

#include "flyte/plugin/repositories.h"

namespace flyte::plugins::manager {

// A time to the nanosecond since 1970, in 128 bits: years 1 to 9999 are more than int64
// nanoseconds reach.
using ExactNanos = __int128;

inline ExactNanos ExactTime(int64_t seconds, int32_t nanos) {
  return static_cast<ExactNanos>(seconds) * 1000000000 + nanos;
}
inline ExactNanos ExactTime(plugin::db::Time t) {
  static_assert(std::is_same_v<plugin::db::Time::duration::period, std::micro>,
                "plugin::db::Time counts microseconds");
  return static_cast<ExactNanos>(t.time_since_epoch().count()) * 1000;
}

// A Timestamp's seconds and nanos as stored: truncated to the microsecond (toward the past),
// and saturated at the column's range for seconds no valid Timestamp has.
inline plugin::db::Time StoredTime(int64_t seconds, int32_t nanos) {
  using Time = plugin::db::Time;
  constexpr int64_t kMillion = 1000000;
  constexpr int64_t kMaxSeconds = std::numeric_limits<int64_t>::max() / kMillion - 1;
  constexpr int64_t kMinSeconds = std::numeric_limits<int64_t>::min() / kMillion + 1;
  if (seconds > kMaxSeconds) return Time::max();
  if (seconds < kMinSeconds) return Time::min();
  int64_t micros = nanos / 1000;
  if (nanos < 0 && nanos % 1000 != 0) --micros;
  return Time(Time::duration(seconds * kMillion + micros));
}

// `to - from` in nanoseconds, saturated at the int64 range as Go's Time.Sub is (two times more
// than about 292 years apart).
inline int64_t NanosBetween(ExactNanos from, ExactNanos to) {
  const ExactNanos d = to - from;
  if (d > std::numeric_limits<int64_t>::max()) return std::numeric_limits<int64_t>::max();
  if (d < std::numeric_limits<int64_t>::min()) return std::numeric_limits<int64_t>::min();
  return static_cast<int64_t>(d);
}
inline int64_t NanosBetween(plugin::db::Time from, plugin::db::Time to) {
  return NanosBetween(ExactTime(from), ExactTime(to));
}

}  // namespace flyte::plugins::manager
