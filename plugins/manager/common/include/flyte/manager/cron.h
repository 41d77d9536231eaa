// Cron schedule syntax as upstream accepts it: robfig/cron v3 ParseStandard (the unionai fork
// pinned by flyteadmin), with its error texts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace flyte::plugins::manager {

// nullopt when `spec` parses: five fields (minute hour day-of-month month day-of-week; numbers,
// `*`/`?`, ranges a-b, steps /n, lists a,b, month and weekday names), or a descriptor (@yearly,
// @annually, @monthly, @weekly, @daily, @midnight, @hourly, @every <Go duration>), optionally
// after "TZ=<zone> " or "CRON_TZ=<zone> " (zone checked against the system tz database).
// Otherwise the library's error text, e.g. "expected exactly 5 fields, found 1: [*]" or
// "end of range (60) above maximum (59): 60".
std::optional<std::string> CronParseError(std::string_view spec);

}  // namespace flyte::plugins::manager
