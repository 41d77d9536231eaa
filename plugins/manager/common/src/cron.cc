// A validating port of robfig/cron v3's standard parser (no schedule evaluation is needed here).
#include "flyte/manager/cron.h"

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <vector>

#include "flyte/plugin/go_compat.h"

namespace flyte::plugins::manager {
namespace {

struct Bounds {
  int64_t min, max;
  const std::map<std::string, int64_t>* names;
};

const std::map<std::string, int64_t> kMonthNames = {
    {"jan", 1}, {"feb", 2}, {"mar", 3}, {"apr", 4},  {"may", 5},  {"jun", 6},
    {"jul", 7}, {"aug", 8}, {"sep", 9}, {"oct", 10}, {"nov", 11}, {"dec", 12}};
const std::map<std::string, int64_t> kDowNames = {{"sun", 0}, {"mon", 1}, {"tue", 2}, {"wed", 3},
                                                  {"thu", 4}, {"fri", 5}, {"sat", 6}};

const Bounds kSeconds{0, 59, nullptr};
const Bounds kMinutes{0, 59, nullptr};
const Bounds kHours{0, 23, nullptr};
const Bounds kDom{1, 31, nullptr};
const Bounds kMonths{1, 12, &kMonthNames};
const Bounds kDow{0, 6, &kDowNames};

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    const size_t pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos == std::string_view::npos ? pos : pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

std::optional<std::string> MustParseInt(const std::string& expr, int64_t* out) {
  std::string atoi_error;
  const auto num = plugin::GoAtoi(expr, &atoi_error);
  if (!num) return "failed to parse int from " + expr + ": " + atoi_error;
  if (*num < 0) {
    return "negative number (" + std::to_string(*num) + ") not allowed: " + expr;
  }
  *out = *num;
  return std::nullopt;
}

std::optional<std::string> ParseIntOrName(const std::string& expr, const Bounds& r, int64_t* out) {
  if (r.names != nullptr) {
    std::string lower = expr;
    std::transform(lower.begin(), lower.end(), lower.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const auto it = r.names->find(lower);
    if (it != r.names->end()) {
      *out = it->second;
      return std::nullopt;
    }
  }
  return MustParseInt(expr, out);
}

std::optional<std::string> CheckRange(const std::string& expr, const Bounds& r) {
  const auto range_and_step = Split(expr, '/');
  const auto low_and_high = Split(range_and_step[0], '-');
  const bool single = low_and_high.size() == 1;
  int64_t start = 0;
  int64_t end = 0;
  int64_t step = 1;
  if (low_and_high[0] == "*" || low_and_high[0] == "?") {
    start = r.min;
    end = r.max;
  } else {
    if (auto err = ParseIntOrName(low_and_high[0], r, &start)) return err;
    if (low_and_high.size() == 1) {
      end = start;
    } else if (low_and_high.size() == 2) {
      if (auto err = ParseIntOrName(low_and_high[1], r, &end)) return err;
    } else {
      return "too many hyphens: " + expr;
    }
  }
  if (range_and_step.size() == 2) {
    if (auto err = MustParseInt(range_and_step[1], &step)) return err;
    if (single) end = r.max;
  } else if (range_and_step.size() > 2) {
    return "too many slashes: " + expr;
  }
  // robfig compares as unsigned; the values here are never negative.
  if (start < r.min) {
    return "beginning of range (" + std::to_string(start) + ") below minimum (" +
           std::to_string(r.min) + "): " + expr;
  }
  if (end > r.max) {
    return "end of range (" + std::to_string(end) + ") above maximum (" + std::to_string(r.max) +
           "): " + expr;
  }
  if (start > end) {
    return "beginning of range (" + std::to_string(start) + ") beyond end of range (" +
           std::to_string(end) + "): " + expr;
  }
  if (step == 0) return "step of range should be a positive number: " + expr;
  return std::nullopt;
}

std::optional<std::string> CheckField(const std::string& field, const Bounds& r) {
  // strings.FieldsFunc on ',': empty pieces are dropped.
  for (const auto& part : Split(field, ',')) {
    if (part.empty()) continue;
    if (auto err = CheckRange(part, r)) return err;
  }
  return std::nullopt;
}

// time.LoadLocation against the system tz database.
std::optional<std::string> LoadLocationError(const std::string& name) {
  if (name.empty() || name == "UTC" || name == "Local") return std::nullopt;
  if (name.find("..") != std::string::npos || name[0] == '/' || name[0] == '\\') {
    return "time: invalid location name";
  }
  for (const char* dir : {"/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/",
                          "/etc/zoneinfo/"}) {
    std::ifstream in(std::string(dir) + name, std::ios::binary);
    char magic[4] = {};
    if (in && in.read(magic, 4) && std::string_view(magic, 4) == "TZif") return std::nullopt;
  }
  return "unknown time zone " + name;
}

std::optional<std::string> DescriptorError(std::string_view descriptor) {
  static constexpr std::string_view kNamed[] = {"@yearly", "@annually", "@monthly", "@weekly",
                                                "@daily",  "@midnight", "@hourly"};
  for (const auto named : kNamed) {
    if (descriptor == named) return std::nullopt;
  }
  constexpr std::string_view kEvery = "@every ";
  if (descriptor.substr(0, kEvery.size()) == kEvery) {
    std::string error;
    if (!plugin::GoParseDuration(descriptor.substr(kEvery.size()), &error)) {
      return "failed to parse duration " + std::string(descriptor) + ": " + error;
    }
    return std::nullopt;
  }
  return "unrecognized descriptor: " + std::string(descriptor);
}

}  // namespace

std::optional<std::string> CronParseError(std::string_view spec) {
  if (spec.empty()) return std::string("empty spec string");
  if (spec.substr(0, 3) == "TZ=" || spec.substr(0, 8) == "CRON_TZ=") {
    const size_t space = spec.find(' ');
    const size_t eq = spec.find('=');
    if (space == std::string_view::npos) {
      // robfig slices past the end here and panics; report it as a bad location instead.
      const std::string name(spec.substr(eq + 1));
      return "provided bad location " + name + ": missing schedule after the time zone";
    }
    const std::string name(spec.substr(eq + 1, space - eq - 1));
    if (auto err = LoadLocationError(name)) {
      return "provided bad location " + name + ": " + *err;
    }
    spec = plugin::GoTrimSpace(spec.substr(space));
  }
  if (!spec.empty() && spec[0] == '@') return DescriptorError(spec);

  const std::vector<std::string> fields = plugin::GoFields(spec);
  if (fields.size() != 5) {
    return "expected exactly 5 fields, found " + std::to_string(fields.size()) + ": " +
           plugin::GoStringSlice(fields);
  }
  if (auto err = CheckField("0", kSeconds)) return err;
  if (auto err = CheckField(fields[0], kMinutes)) return err;
  if (auto err = CheckField(fields[1], kHours)) return err;
  if (auto err = CheckField(fields[2], kDom)) return err;
  if (auto err = CheckField(fields[3], kMonths)) return err;
  if (auto err = CheckField(fields[4], kDow)) return err;
  return std::nullopt;
}

}  // namespace flyte::plugins::manager
