// PluginID kHttpHandler: raw HTTP routes a plugin serves on the host's HTTP port (upstream's
// additionalHandlers), e.g. the data proxy's signed upload and download URLs.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
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
  // For a route with a spool directory, the file there that holds the body (`body` is then
  // empty); empty when there is no body. The route may move it away; the host removes it after
  // Handle() otherwise.
  std::string_view body_file;

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
  // Sent instead of `body` when not empty: a file the host streams after Handle() returns (a
  // file gone by then is answered 404).
  std::string body_file;
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

  // The largest request body the route accepts. Without a spool directory (below) the host
  // raises its in-memory HTTP body limit to at least this (bodies above the limit are refused
  // with 413 before any route runs); with one, it bounds the spooled body. 0: no bound of the
  // route's own.
  virtual std::size_t MaxBodyBytes() const { return 0; }

  // A directory where the host writes the bodies of this route's requests, streamed, instead of
  // holding them in memory (HttpRouteRequest::body_file); MaxBodyBytes() still bounds them, 0
  // meaning no bound. Empty (the default): bodies arrive in memory. Asked for every request.
  virtual std::string SpoolDirectory() const { return ""; }
  // For a route with a spool directory: called with the request's head (no body yet) before its
  // body is read; a response refuses the request at once (the body is never read, and the
  // connection is closed after the answer). Must be thread-safe and must not throw.
  virtual std::optional<HttpRouteResponse> Admit(const HttpRouteRequest& head) {
    (void)head;
    return std::nullopt;
  }

  virtual HttpRouteResponse Handle(const HttpRouteRequest& request) = 0;
};

}  // namespace flyte::plugin
