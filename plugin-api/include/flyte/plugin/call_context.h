// What a handler and each interceptor know about the call in progress, for gRPC and REST alike.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "flyte/plugin/export.h"

namespace flyte::plugin {

class FLYTE_PLUGIN_API_EXPORT CallContext {
 public:
  using Metadata = std::multimap<std::string, std::string>;  // keys lower-case

  CallContext(std::string full_method, Metadata incoming, std::string peer, bool from_http);

  // "/flyteidl.service.AdminService/GetVersion".
  const std::string& full_method() const { return full_method_; }
  // "GetVersion".
  std::string_view method_name() const;
  // "flyteidl.service.AdminService".
  std::string_view service_name() const;

  const Metadata& incoming() const { return incoming_; }
  // First value of an incoming metadata key (lower-case), or empty.
  std::string_view Header(std::string_view key) const;

  // Metadata sent back to the caller (gRPC initial metadata; HTTP response headers).
  void AddResponseHeader(std::string key, std::string value) {
    outgoing_.emplace_back(std::move(key), std::move(value));
  }
  const std::vector<std::pair<std::string, std::string>>& outgoing() const { return outgoing_; }

  const std::string& peer() const { return peer_; }
  bool from_http() const { return from_http_; }

  // Set by the request-id interceptor; read by logging.
  const std::string& request_id() const { return request_id_; }
  void set_request_id(std::string id) { request_id_ = std::move(id); }

  // Values interceptors pass inward. An authentication interceptor reports the caller as
  // "principal" (the user id, a token's subject), "app_id" (the OAuth client of an
  // application's token), "user_email" and "user_subject" (the user's claims); the execution
  // manager stores the principal and derives run-as identities and identity annotations from
  // these.
  void SetAttribute(std::string key, std::string value) { attributes_[std::move(key)] = std::move(value); }
  std::string_view Attribute(std::string_view key) const;

 private:
  std::string full_method_;
  Metadata incoming_;
  std::vector<std::pair<std::string, std::string>> outgoing_;
  std::string peer_;
  bool from_http_ = false;
  std::string request_id_;
  std::map<std::string, std::string, std::less<>> attributes_;
};

// The request id of the call running on this thread (empty outside a call); log lines carry it.
FLYTE_PLUGIN_API_EXPORT const std::string& CurrentRequestId();

// Makes `id` the current thread's request id until destroyed.
class FLYTE_PLUGIN_API_EXPORT ScopedRequestId {
 public:
  explicit ScopedRequestId(const std::string& id);
  ~ScopedRequestId();
  ScopedRequestId(const ScopedRequestId&) = delete;
  ScopedRequestId& operator=(const ScopedRequestId&) = delete;

 private:
  const std::string* previous_;
};

}  // namespace flyte::plugin
