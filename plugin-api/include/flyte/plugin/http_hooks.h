// PluginIDs kPreRedirectHook, kLogoutHook and kCustomerHeaderMatcher: the HTTP-side hooks.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "flyte/plugin/registry.h"
#include "flyte/plugin/status.h"

namespace flyte::plugin {

// The browser request a hook sees (header names lower-case).
struct HttpRequestView {
  std::string method;
  std::string target;  // path and query
  std::multimap<std::string, std::string> headers;
};

// What a hook may add to the response before the host writes it.
struct HttpResponseHeaders {
  std::multimap<std::string, std::string> headers;
};

// The identity the login established.
struct AuthenticationContextView {
  std::string user_id;
  std::string email;
  std::string issuer;
};

// Error a pre-redirect hook returns to deny a login: `http_status` is written if it is a known
// HTTP status, else 500.
struct PreRedirectHookError {
  std::string message;
  int http_status = 500;
};

// Runs on /callback after the tokens are set and before the final redirect.
class FLYTE_PLUGIN_API_EXPORT PreRedirectHook : public PluginBase {
 public:
  ~PreRedirectHook() override;
  virtual std::optional<PreRedirectHookError> BeforeRedirect(const AuthenticationContextView& auth,
                                                             const HttpRequestView& request,
                                                             HttpResponseHeaders& response) = 0;
};

// Runs on /logout before the cookies are deleted; an error answers 500 and keeps them.
class FLYTE_PLUGIN_API_EXPORT LogoutHook : public PluginBase {
 public:
  ~LogoutHook() override;
  virtual Status OnLogout(const AuthenticationContextView& auth, const HttpRequestView& request,
                          HttpResponseHeaders& response) = 0;
};

// Decides which incoming HTTP headers become call metadata for gateway calls, and under which
// key. Replaces the default rule entirely (x-request-id included), as upstream.
class FLYTE_PLUGIN_API_EXPORT CustomerHeaderMatcher : public PluginBase {
 public:
  ~CustomerHeaderMatcher() override;
  virtual std::optional<std::string> Match(std::string_view header_name) const = 0;
};

}  // namespace flyte::plugin
