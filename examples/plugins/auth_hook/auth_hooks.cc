// Login and logout hooks (upstream's PreRedirectHook and LogoutHook): only users of the
// configured e-mail domains (config `allowedEmailDomains`) may finish a login, and a logout is
// logged and tells the browser to drop what it cached for the site. See examples/README.md for
// where the host runs these hooks.
#include <algorithm>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "flyte/plugin/http_hooks.h"
#include "flyte/plugin/plugin.h"

namespace {

using flyte::plugin::AuthenticationContextView;
using flyte::plugin::HttpRequestView;
using flyte::plugin::HttpResponseHeaders;

class DomainAllowList final : public flyte::plugin::PreRedirectHook {
 public:
  explicit DomainAllowList(std::vector<std::string> domains) : domains_(std::move(domains)) {}

  std::optional<flyte::plugin::PreRedirectHookError> BeforeRedirect(const AuthenticationContextView& auth,
                                                                    const HttpRequestView&,
                                                                    HttpResponseHeaders&) override {
    auto at = auth.email.rfind('@');
    std::string domain = at == std::string::npos ? "" : auth.email.substr(at + 1);
    if (std::find(domains_.begin(), domains_.end(), domain) != domains_.end()) return std::nullopt;
    return flyte::plugin::PreRedirectHookError{"user " + auth.email + " is not allowed to log in", 403};
  }

 private:
  std::vector<std::string> domains_;
};

class AuditLogout final : public flyte::plugin::LogoutHook {
 public:
  explicit AuditLogout(std::shared_ptr<spdlog::logger> logger) : logger_(std::move(logger)) {}

  flyte::plugin::Status OnLogout(const AuthenticationContextView& auth, const HttpRequestView& request,
                                 HttpResponseHeaders& response) override {
    logger_->info("logout: user {} ({}) from {}", auth.user_id, auth.email, request.target);
    response.headers.emplace("clear-site-data", "\"cache\", \"storage\"");
    return flyte::plugin::Status::Ok();
  }

 private:
  std::shared_ptr<spdlog::logger> logger_;
};

flyte::plugin::Status Register(flyte::plugin::HostContext& host) {
  const auto& domains = host.PluginConfig().value("allowedEmailDomains", nlohmann::json::array());
  if (!domains.is_array() || domains.empty() ||
      !std::all_of(domains.begin(), domains.end(), [](const auto& d) { return d.is_string(); })) {
    return flyte::plugin::InvalidArgument("allowedEmailDomains: a non-empty list of domains is required");
  }
  auto allow = std::make_shared<DomainAllowList>(domains.get<std::vector<std::string>>());
  if (auto s = host.Register(flyte::plugin::plugin_id::kPreRedirectHook, allow); !s.ok()) return s;
  return host.Register(flyte::plugin::plugin_id::kLogoutHook, std::make_shared<AuditLogout>(host.Logger()));
}

}  // namespace

FLYTE_PLUGIN("example_auth_hooks", "0.1.0",
             "Example PreRedirectHook (e-mail domain allow-list) and LogoutHook (audit log)", Register)
