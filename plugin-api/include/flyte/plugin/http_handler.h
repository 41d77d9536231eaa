// PluginID kHttpHandler: raw HTTP routes a plugin serves on the host's HTTP port (upstream's
// additionalHandlers), e.g. the data proxy's signed upload and download URLs.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flyte/plugin/registry.h"

namespace flyte::plugin {

// One request as the route sees it. Views into the host's request, valid only during Handle().
struct HttpRouteRequest {
  std::string_view method;  // "GET", "PUT", ...
  std::string_view path;    // without the query, still percent-encoded
  std::string_view query;   // after '?', empty when there is none
  const std::multimap<std::string, std::string>& headers;  // names lower-case
  std::string_view body;
  std::string_view peer;  // "ipv4:127.0.0.1:5555"

  // First value of a header (name lower-case), or empty.
  std::string_view Header(std::string_view name) const {
    auto it = headers.find(std::string(name));
    return it == headers.end() ? std::string_view() : std::string_view(it->second);
  }
};

struct HttpRouteResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
};

// A collection member of kHttpHandler (HostContext::Add). The host sends every request whose
// path equals PathPrefix() or continues it at a '/' boundary to the route with the longest such
// prefix, after CORS and before the REST gateway; /healthcheck and /metrics stay the host's.
// Handle() is called concurrently from the HTTP threads and must be thread-safe; it must not
// throw (the host answers 500 if it does). Two routes with the same prefix fail start-up.
class FLYTE_PLUGIN_API_EXPORT HttpRoute : public PluginBase {
 public:
  ~HttpRoute() override;

  // Starts with '/', e.g. "/dataproxy/v1/objects/". Read once, when the server is wired.
  virtual std::string PathPrefix() const = 0;

  // The largest request body the route accepts; the host raises its HTTP body limit to at least
  // this (bodies above the limit are refused with 413 before any route runs). 0: no need.
  virtual std::size_t MaxBodyBytes() const { return 0; }

  virtual HttpRouteResponse Handle(const HttpRouteRequest& request) = 0;
};

}  // namespace flyte::plugin
