// Kubernetes API access over HTTPS: kubeconfig/in-cluster credentials and a deadline-bound
// request on Boost.Beast + OpenSSL.
#include "kube_client.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/ssl.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/version.hpp>
#include <nlohmann/json.hpp>
#include <yaml-cpp/yaml.h>

#include "flyte/manager/encoding.h"
#include "flyte/plugin/go_compat.h"

namespace flyte::plugins::executor {

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

plugin::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return plugin::FailedPrecondition("cannot read " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

plugin::StatusOr<std::string> Base64Decode(const std::string& text) {
  // Whitespace (a YAML block scalar's line breaks) is no part of the data.
  std::string clean;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) clean.push_back(c);
  }
  auto bytes = manager::Base64Decode(clean);
  if (!bytes) return plugin::InvalidArgument("invalid base64 data");
  return *std::move(bytes);
}

std::string Trim(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  size_t i = 0;
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
  return s.substr(i);
}

// "<key>-data" inline base64, else "<key>" as a file relative to `dir`.
plugin::StatusOr<std::string> DataOrFile(const YAML::Node& node, const std::string& key,
                                         const std::filesystem::path& dir) {
  if (node[key + "-data"] && !node[key + "-data"].as<std::string>().empty())
    return Base64Decode(node[key + "-data"].as<std::string>());
  if (node[key] && !node[key].as<std::string>().empty()) {
    std::filesystem::path p = node[key].as<std::string>();
    if (p.is_relative()) p = dir / p;
    return ReadFile(p.string());
  }
  return std::string();
}

YAML::Node Named(const YAML::Node& list, const std::string& name, const char* field) {
  if (!list || !list.IsSequence()) return YAML::Node();
  for (const auto& item : list) {
    if (item["name"] && item["name"].as<std::string>() == name) return item[field];
  }
  return YAML::Node();
}

}  // namespace

plugin::Status ParseServerUrl(const std::string& url, KubeCredentials& out) {
  const std::string scheme = "https://";
  if (url.rfind(scheme, 0) != 0)
    return plugin::InvalidArgument("kubernetes server URL must be https://...: \"" + url + "\"");
  std::string rest = url.substr(scheme.size());
  const auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  out.path_prefix = slash == std::string::npos ? "" : rest.substr(slash);
  while (!out.path_prefix.empty() && out.path_prefix.back() == '/') out.path_prefix.pop_back();
  out.port = "443";
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string::npos) return plugin::InvalidArgument("invalid server URL " + url);
    out.host = authority.substr(1, close - 1);
    if (close + 1 < authority.size() && authority[close + 1] == ':')
      out.port = authority.substr(close + 2);
  } else {
    const auto colon = authority.rfind(':');
    out.host = authority.substr(0, colon);
    if (colon != std::string::npos) out.port = authority.substr(colon + 1);
  }
  if (out.host.empty() || out.port.empty())
    return plugin::InvalidArgument("invalid server URL " + url);
  return plugin::Status::Ok();
}

plugin::StatusOr<KubeCredentials> LoadKubeconfig(const std::string& path,
                                                 const std::string& context) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    return plugin::InvalidArgument("cannot load kubeconfig " + path + ": " + e.what());
  }
  try {
    const std::filesystem::path dir = std::filesystem::path(path).parent_path();
    std::string ctx_name = context;
    if (ctx_name.empty() && root["current-context"])
      ctx_name = root["current-context"].as<std::string>();
    YAML::Node ctx = Named(root["contexts"], ctx_name, "context");
    if (!ctx) {
      return plugin::InvalidArgument("kubeconfig " + path + ": context \"" + ctx_name +
                                     "\" not found");
    }
    const std::string cluster_name = ctx["cluster"] ? ctx["cluster"].as<std::string>() : "";
    const std::string user_name = ctx["user"] ? ctx["user"].as<std::string>() : "";
    YAML::Node cluster = Named(root["clusters"], cluster_name, "cluster");
    if (!cluster || !cluster["server"]) {
      return plugin::InvalidArgument("kubeconfig " + path + ": cluster \"" + cluster_name +
                                     "\" has no server");
    }
    KubeCredentials out;
    if (auto s = ParseServerUrl(cluster["server"].as<std::string>(), out); !s.ok()) return s;
    auto ca = DataOrFile(cluster, "certificate-authority", dir);
    if (!ca.ok()) return ca.status();
    out.ca_pem = ca.value();
    if (cluster["insecure-skip-tls-verify"])
      out.insecure_skip_verify = cluster["insecure-skip-tls-verify"].as<bool>();
    YAML::Node user = Named(root["users"], user_name, "user");
    if (user) {
      auto cert = DataOrFile(user, "client-certificate", dir);
      if (!cert.ok()) return cert.status();
      auto key = DataOrFile(user, "client-key", dir);
      if (!key.ok()) return key.status();
      out.client_cert_pem = cert.value();
      out.client_key_pem = key.value();
      if (user["token"]) {
        out.token = user["token"].as<std::string>();
      } else if (user["tokenFile"]) {
        std::filesystem::path p = user["tokenFile"].as<std::string>();
        if (p.is_relative()) p = dir / p;
        auto token = ReadFile(p.string());
        if (!token.ok()) return token.status();
        out.token = Trim(token.value());
        out.token_file = p.string();
      }
    }
    return out;
  } catch (const std::exception& e) {
    return plugin::InvalidArgument("invalid kubeconfig " + path + ": " + e.what());
  }
}

plugin::StatusOr<KubeCredentials> LoadInCluster(const InClusterPaths& paths) {
  std::string host = paths.host, port = paths.port;
  if (host.empty()) {
    const char* h = std::getenv("KUBERNETES_SERVICE_HOST");
    host = h ? h : "";
  }
  if (port.empty()) {
    const char* p = std::getenv("KUBERNETES_SERVICE_PORT");
    port = p ? p : "";
  }
  if (host.empty() || port.empty()) {
    // client-go's rest.ErrNotInCluster
    return plugin::FailedPrecondition(
        "unable to load in-cluster configuration, KUBERNETES_SERVICE_HOST and "
        "KUBERNETES_SERVICE_PORT must be defined");
  }
  KubeCredentials out;
  out.host = host;
  out.port = port;
  auto token = ReadFile(paths.token_path);
  if (!token.ok()) return token.status();
  out.token = Trim(token.value());
  out.token_file = paths.token_path;
  auto ca = ReadFile(paths.ca_path);
  if (!ca.ok()) return ca.status();
  out.ca_pem = ca.value();
  return out;
}

plugin::StatusOr<KubeCredentials> CredentialsForEndpoint(const std::string& endpoint,
                                                         const std::string& ca_path,
                                                         const std::string& token_path) {
  KubeCredentials out;
  std::string url = endpoint;
  if (url.find("://") == std::string::npos) url = "https://" + url;
  if (auto s = ParseServerUrl(url, out); !s.ok()) return s;
  if (!ca_path.empty()) {
    auto ca = ReadFile(ca_path);
    if (!ca.ok()) return ca.status();
    out.ca_pem = ca.value();
  }
  if (!token_path.empty()) {
    auto token = ReadFile(token_path);
    if (!token.ok()) return token.status();
    out.token = Trim(token.value());
    out.token_file = token_path;
  }
  return out;
}

plugin::StatusOr<KubeResponse> KubeRequest(const KubeCredentials& cred, const std::string& method,
                                           const std::string& target, const std::string& body,
                                           std::chrono::milliseconds timeout) {
  const std::string url = "https://" + cred.host + ":" + cred.port + cred.path_prefix + target;
  const std::string go_method =
      method.empty() ? "" : std::string(1, method[0]) + [&] {
        std::string rest = method.substr(1);
        for (auto& c : rest) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return rest;
      }();
  auto fail = [&](plugin::StatusCode code, const std::string& what) {
    return plugin::Status(code, go_method + " \"" + url + "\": " + what);
  };
  try {
    ssl::context ctx(ssl::context::tls_client);
    ctx.set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                    ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    if (cred.insecure_skip_verify) {
      ctx.set_verify_mode(ssl::verify_none);
    } else {
      ctx.set_verify_mode(ssl::verify_peer);
      if (cred.ca_pem.empty()) {
        ctx.set_default_verify_paths(ec);
      } else {
        ctx.add_certificate_authority(net::buffer(cred.ca_pem), ec);
      }
      if (ec) return plugin::InvalidArgument("invalid certificate authority: " + ec.message());
    }
    if (!cred.client_cert_pem.empty()) {
      ctx.use_certificate_chain(net::buffer(cred.client_cert_pem), ec);
      if (!ec) ctx.use_private_key(net::buffer(cred.client_key_pem), ssl::context::pem, ec);
      if (ec) return plugin::InvalidArgument("invalid client certificate or key: " + ec.message());
    }

    net::io_context ioc;
    beast::ssl_stream<beast::tcp_stream> stream(ioc, ctx);
    if (!cred.insecure_skip_verify) stream.set_verify_callback(ssl::host_name_verification(cred.host));
    SSL_set_tlsext_host_name(stream.native_handle(), cred.host.c_str());
    // A timeout of 0 bounds nothing, as http.Client's.
    const bool bounded = timeout.count() > 0;
    const auto deadline = bounded ? std::chrono::steady_clock::now() + timeout
                                  : std::chrono::steady_clock::time_point::max();
    auto timed_out = [&] { return bounded && std::chrono::steady_clock::now() >= deadline; };

    auto run = [&]() {
      ioc.restart();
      if (!bounded) {
        ioc.run();
        return;
      }
      ioc.run_until(deadline);
      if (!ioc.stopped()) {
        beast::get_lowest_layer(stream).cancel();
        ioc.restart();
        ioc.run();
      }
    };
    auto deadline_error = [&] {
      return fail(plugin::StatusCode::kDeadlineExceeded,
                  "context deadline exceeded (Client.Timeout exceeded while awaiting headers)");
    };

    tcp::resolver resolver(ioc);
    tcp::resolver::results_type endpoints;
    resolver.async_resolve(cred.host, cred.port,
                           [&](boost::system::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             endpoints = std::move(r);
                           });
    run();
    if (ec) return ec == net::error::operation_aborted && timed_out()
                        ? deadline_error()
                        : fail(plugin::StatusCode::kUnavailable, "dial tcp: " + ec.message());

    // Without a timeout, client-go's transport still bounds the dial (30 s) and the TLS
    // handshake (10 s) and keeps the connection alive (every 30 s); so do we.
    auto& socket_layer = beast::get_lowest_layer(stream);
    if (bounded) {
      socket_layer.expires_at(deadline);
    } else {
      socket_layer.expires_after(std::chrono::seconds(30));
    }
    socket_layer.async_connect(endpoints, [&](boost::system::error_code e, const tcp::endpoint&) { ec = e; });
    run();
    if (ec == beast::error::timeout) {
      return bounded ? deadline_error() : fail(plugin::StatusCode::kUnavailable, "dial tcp: i/o timeout");
    }
    if (ec) return fail(plugin::StatusCode::kUnavailable, "dial tcp: " + ec.message());
    if (!bounded) {
      boost::system::error_code kec;
      socket_layer.socket().set_option(net::socket_base::keep_alive(true), kec);
      const int idle = 30;
      ::setsockopt(socket_layer.socket().native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
      ::setsockopt(socket_layer.socket().native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &idle, sizeof(idle));
      socket_layer.expires_after(std::chrono::seconds(10));
    }

    stream.async_handshake(ssl::stream_base::client, [&](boost::system::error_code e) { ec = e; });
    run();
    if (ec == beast::error::timeout) {
      return bounded ? deadline_error() : fail(plugin::StatusCode::kUnavailable, "net/http: TLS handshake timeout");
    }
    if (ec) return fail(plugin::StatusCode::kUnavailable, "tls: " + ec.message());
    if (!bounded) socket_layer.expires_never();

    http::request<http::string_body> req;
    req.method_string(method);
    req.target(cred.path_prefix + target);
    req.version(11);
    req.set(http::field::host, cred.host + ":" + cred.port);
    req.set(http::field::user_agent, "flyteadmin-cpp");
    req.set(http::field::accept, "application/json");
    std::string token = cred.token;
    if (!cred.token_file.empty()) {
      // A file that cannot be read now keeps the last known token.
      if (auto fresh = ReadFile(cred.token_file); fresh.ok() && !Trim(fresh.value()).empty())
        token = Trim(fresh.value());
    }
    if (!token.empty()) req.set(http::field::authorization, "Bearer " + token);
    if (!body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = body;
    }
    req.prepare_payload();
    http::async_write(stream, req, [&](boost::system::error_code e, size_t) { ec = e; });
    run();
    if (ec == beast::error::timeout) return deadline_error();
    if (ec) return fail(plugin::StatusCode::kUnavailable, ec.message());

    beast::flat_buffer buffer;
    http::response<http::string_body> res;
    http::async_read(stream, buffer, res, [&](boost::system::error_code e, size_t) { ec = e; });
    run();
    if (ec == beast::error::timeout) return deadline_error();
    if (ec) return fail(plugin::StatusCode::kUnavailable, ec.message());

    // A clean TLS close is a courtesy; its failure changes nothing about the answer.
    beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(200));
    stream.async_shutdown([](boost::system::error_code) {});
    run();
    return KubeResponse{static_cast<int>(res.result_int()), res.body()};
  } catch (const std::exception& e) {
    return fail(plugin::StatusCode::kUnavailable, e.what());
  }
}

KubeRateLimiter::KubeRateLimiter(double qps, double burst)
    : qps_(qps), burst_(burst), tokens_(burst) {}

std::optional<std::chrono::nanoseconds> KubeRateLimiter::Reserve(std::chrono::steady_clock::time_point now,
                                                                 std::chrono::milliseconds max_wait) {
  std::lock_guard<std::mutex> lock(mu_);
  // Tokens accrue from the last reservation at qps_ per second, up to burst_; a reservation may
  // take the count below zero, and the calls behind it then wait for the bucket to refill.
  double tokens = tokens_;
  std::chrono::steady_clock::time_point last = started_ ? last_ : now;
  if (now > last) {
    tokens = std::min(burst_, tokens + std::chrono::duration<double>(now - last).count() * qps_);
    last = now;
  }
  tokens -= 1;
  std::chrono::nanoseconds wait{0};
  if (tokens < 0) wait = std::chrono::nanoseconds(static_cast<int64_t>(-tokens / qps_ * 1e9));
  if (max_wait.count() > 0 && wait > max_wait) return std::nullopt;
  tokens_ = tokens;
  last_ = last;
  started_ = true;
  return wait;
}

plugin::StatusOr<KubeResponse> KubeRequest(const KubeCredentials& credentials, KubeRateLimiter* limiter,
                                           const std::string& method, const std::string& target,
                                           const std::string& body, std::chrono::milliseconds timeout) {
  if (limiter != nullptr) {
    auto wait = limiter->Reserve(std::chrono::steady_clock::now(), timeout);
    if (!wait) {
      return plugin::Status(plugin::StatusCode::kDeadlineExceeded,
                            "client rate limiter Wait returned an error: rate: Wait(n=1) would exceed context deadline");
    }
    if (wait->count() > 0) {
      std::this_thread::sleep_for(*wait);
      // The wait counts against the call's bound; what is left stays positive, as 0 would
      // mean no bound at all.
      if (timeout.count() > 0) {
        timeout = std::max(std::chrono::milliseconds(1),
                           timeout - std::chrono::ceil<std::chrono::milliseconds>(*wait));
      }
    }
  }
  return KubeRequest(credentials, method, target, body, timeout);
}

bool IsAlreadyExists(const KubeResponse& response) {
  // apimachinery's IsAlreadyExists reads the Status's reason; an answer without one is a plain
  // conflict (a quota or an admission webhook), not an object that is already there.
  if (response.status != 409) return false;
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  return parsed.is_object() && parsed.value("kind", "") == "Status" &&
         parsed.contains("reason") && parsed["reason"] == "AlreadyExists";
}

std::string ExpandEnv(const std::string& text) {
  std::string out;
  auto value = [](const std::string& name) {
    const char* v = std::getenv(name.c_str());
    return v ? std::string(v) : std::string();
  };
  auto name_char = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == '{') {
      auto close = text.find('}', i + 2);
      if (close == std::string::npos) {  // Go drops a "${" without its brace
        i = text.size();
        break;
      }
      out += value(text.substr(i + 2, close - i - 2));
      i = close;
      continue;
    }
    std::size_t end = i + 1;
    while (end < text.size() && name_char(text[end])) ++end;
    if (end == i + 1) {
      out += text[i];  // "$" followed by no name stays as it is
      continue;
    }
    out += value(text.substr(i + 1, end - i - 1));
    i = end - 1;
  }
  return out;
}

std::string KubeErrorMessage(const KubeResponse& response, const std::string& method) {
  auto parsed = nlohmann::json::parse(response.body, nullptr, false);
  if (parsed.is_object() && parsed.value("kind", "") == "Status" && parsed.contains("message") &&
      parsed["message"].is_string()) {
    return parsed["message"].get<std::string>();
  }
  // client-go's newUnstructuredResponseError texts for answers without a Status.
  switch (response.status) {
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "the server could not find the requested resource";
    case 409: return "the server reported a conflict";
    case 500: return "an error on the server (\"" + response.body + "\") has prevented the request from succeeding";
    case 503: return "the server is currently unable to handle the request";
    case 504: return "the server was unable to return a response in the time allotted, but may still be processing the request";
    default:
      return "the server responded with the status code " + std::to_string(response.status) +
             " but did not return more information";
  }
  (void)method;
}

plugin::StatusOr<std::chrono::milliseconds> ParseGoDuration(const std::string& text) {
  std::string error;
  const auto ns = plugin::GoParseDuration(text, &error);
  if (!ns) return plugin::InvalidArgument(error);
  // Whole milliseconds; a positive duration below one stays positive (0 would mean none).
  if (*ns > 0 && *ns < 1000000) return std::chrono::milliseconds(1);
  return std::chrono::milliseconds(*ns / 1000000);
}

}  // namespace flyte::plugins::executor
