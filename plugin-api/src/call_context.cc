// CallContext accessors and the per-thread request id used by logging.
#include "flyte/plugin/call_context.h"

namespace flyte::plugin {

namespace {
thread_local const std::string* current_request_id = nullptr;
const std::string kEmpty;
}  // namespace

CallContext::CallContext(std::string full_method, Metadata incoming, std::string peer,
                         bool from_http)
    : full_method_(std::move(full_method)),
      incoming_(std::move(incoming)),
      peer_(std::move(peer)),
      from_http_(from_http) {}

std::string_view CallContext::method_name() const {
  std::string_view m = full_method_;
  auto slash = m.rfind('/');
  return slash == std::string_view::npos ? m : m.substr(slash + 1);
}

std::string_view CallContext::service_name() const {
  std::string_view m = full_method_;
  if (!m.empty() && m.front() == '/') m.remove_prefix(1);
  auto slash = m.find('/');
  return slash == std::string_view::npos ? m : m.substr(0, slash);
}

std::string_view CallContext::Header(std::string_view key) const {
  auto it = incoming_.find(std::string(key));
  return it == incoming_.end() ? std::string_view() : std::string_view(it->second);
}

std::string_view CallContext::Attribute(std::string_view key) const {
  auto it = attributes_.find(key);
  return it == attributes_.end() ? std::string_view() : std::string_view(it->second);
}

const std::string& CurrentRequestId() {
  return current_request_id ? *current_request_id : kEmpty;
}

ScopedRequestId::ScopedRequestId(const std::string& id) : previous_(current_request_id) {
  current_request_id = &id;
}

ScopedRequestId::~ScopedRequestId() { current_request_id = previous_; }

}  // namespace flyte::plugin
