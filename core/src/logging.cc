// spdlog set-up: levels as upstream's logger.level numbers, text or JSON lines, request ids.
#include "flyte/core/logging.h"

#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "flyte/plugin/call_context.h"

namespace flyte::core {

namespace {

class RequestIdFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg&, const std::tm&, spdlog::memory_buf_t& dest) override {
    const std::string& id = plugin::CurrentRequestId();
    if (id.empty()) {
      dest.push_back('-');
    } else {
      AppendEscaped(id, dest);
    }
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<RequestIdFlag>();
  }
  static void AppendEscaped(std::string_view s, spdlog::memory_buf_t& dest) {
    for (char c : s) {
      switch (c) {
        case '"': dest.append(std::string_view("\\\"")); break;
        case '\\': dest.append(std::string_view("\\\\")); break;
        case '\n': dest.append(std::string_view("\\n")); break;
        case '\r': dest.append(std::string_view("\\r")); break;
        case '\t': dest.append(std::string_view("\\t")); break;
        default:
          if (static_cast<unsigned char>(c) < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            dest.append(std::string_view(buf));
          } else {
            dest.push_back(c);
          }
      }
    }
  }
};

// The message, escaped for a JSON string.
class JsonMessageFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    RequestIdFlag::AppendEscaped(std::string_view(msg.payload.data(), msg.payload.size()), dest);
  }
  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<JsonMessageFlag>();
  }
};

// Google Cloud Logging's severity of a level (upstream's GcpFormatter mapping).
class GcpSeverityFlag : public spdlog::custom_flag_formatter {
 public:
  void format(const spdlog::details::log_msg& msg, const std::tm&, spdlog::memory_buf_t& dest) override {
    std::string_view s = "DEBUG";
    switch (msg.level) {
      case spdlog::level::info: s = "INFO"; break;
      case spdlog::level::warn: s = "WARNING"; break;
      case spdlog::level::err: s = "ERROR"; break;
      case spdlog::level::critical: s = "CRITICAL"; break;
      default: break;
    }
    dest.append(s.data(), s.data() + s.size());
  }
  std::unique_ptr<custom_flag_formatter> clone() const override { return std::make_unique<GcpSeverityFlag>(); }
};

spdlog::level::level_enum LevelFrom(const nlohmann::json& level) {
  if (level.is_number_integer()) {
    switch (level.get<int>()) {
      case 0:
      case 1: return spdlog::level::critical;
      case 2: return spdlog::level::err;
      case 3: return spdlog::level::warn;
      case 4: return spdlog::level::info;
      case 5: return spdlog::level::debug;
      default: return level.get<int>() > 5 ? spdlog::level::trace : spdlog::level::info;
    }
  }
  if (level.is_string()) {
    auto l = spdlog::level::from_str(level.get<std::string>());
    if (level.get<std::string>() == "warning") return spdlog::level::warn;
    if (level.get<std::string>() == "error") return spdlog::level::err;
    return l;
  }
  return spdlog::level::info;
}

enum class Format { kText, kJson, kGcp };

std::unique_ptr<spdlog::formatter> MakeFormatter(Format format, bool show_source) {
  // GCP's timestamps are RFC 3339 in UTC, as upstream writes them ("...T10:04:05Z").
  auto f = std::make_unique<spdlog::pattern_formatter>(
      format == Format::kGcp ? spdlog::pattern_time_type::utc : spdlog::pattern_time_type::local);
  f->add_flag<RequestIdFlag>('*');
  f->add_flag<JsonMessageFlag>('~');
  f->add_flag<GcpSeverityFlag>('&');
  if (format == Format::kGcp) {
    f->set_pattern(std::string(R"({"data":{"logger":"%n","request_id":"%*")") +
                   (show_source ? R"(,"src":"%s:%#")" : "") +
                   R"(},"message":"%~","severity":"%&","timestamp":"%Y-%m-%dT%H:%M:%SZ"})");
  } else if (format == Format::kJson) {
    f->set_pattern(std::string(R"({"ts":"%Y-%m-%dT%H:%M:%S.%f%z","level":"%l","logger":"%n","request_id":"%*",)") +
                   (show_source ? R"("src":"%s:%#",)" : "") + R"("msg":"%~"})");
  } else {
    f->set_pattern(std::string("%Y-%m-%dT%H:%M:%S.%e%z %^%-5l%$ [%n] [%*] ") +
                   (show_source ? "%s:%# " : "") + "%v");
  }
  return f;
}

}  // namespace

std::shared_ptr<spdlog::logger> MakeLogger(const nlohmann::json& section, const std::string& name) {
  Format format = Format::kText;
  bool show_source = false;
  nlohmann::json level = 4;
  bool mute = false;
  if (section.is_object()) {
    if (auto it = section.find("formatter"); it != section.end() && it->is_object()) {
      const std::string type = it->value("type", std::string("text"));
      if (type == "json") format = Format::kJson;
      if (type == "gcp") format = Format::kGcp;
    }
    show_source = section.value("show-source", false);
    if (auto it = section.find("level"); it != section.end()) level = *it;
    mute = section.value("mute", false);
  }
  std::shared_ptr<spdlog::sinks::sink> sink;
  if (format != Format::kText) {
    sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  } else {
    sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  }
  auto logger = std::make_shared<spdlog::logger>(name, sink);
  logger->set_formatter(MakeFormatter(format, show_source));
  logger->set_level(mute ? spdlog::level::off : LevelFrom(level));
  logger->flush_on(spdlog::level::warn);
  return logger;
}

std::shared_ptr<spdlog::logger> ChildLogger(const std::shared_ptr<spdlog::logger>& base,
                                            const std::string& name) {
  auto child = base->clone(name);
  return child;
}

}  // namespace flyte::core
