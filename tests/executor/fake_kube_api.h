// A loopback HTTPS server standing in for the Kubernetes API server: a throwaway CA, server and
// client certificates made with the openssl CLI, scripted answers, and every request recorded.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>

struct FakeKubeCerts {
  // ca.crt/ca.key, server.crt/server.key (SAN 127.0.0.1, localhost), client.crt/client.key
  // (CN flyteadmin-client), other-ca.crt (an unrelated CA).
  explicit FakeKubeCerts(const std::filesystem::path& dir);
  std::filesystem::path dir;
  std::string Read(const std::string& name) const;
};

struct RecordedRequest {
  std::string method, target, body;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string client_cn;                       // subject CN of the client certificate, if any
};

struct ScriptedAnswer {
  int status = 200;
  std::string body = "{}";
  std::chrono::milliseconds delay{0};
};

class FakeKubeApi {
 public:
  // require_client_cert: the TLS handshake fails without a certificate signed by the test CA.
  FakeKubeApi(const FakeKubeCerts& certs, bool require_client_cert = false);
  ~FakeKubeApi();
  int port() const { return port_; }
  std::string url() const { return "https://127.0.0.1:" + std::to_string(port_); }
  void Answer(ScriptedAnswer answer);  // queued; without one the answer is 201 with the body
  std::vector<RecordedRequest> Requests();
  int handshake_failures() const { return handshake_failures_; }

 private:
  void Serve();
  boost::asio::io_context ioc_;
  boost::asio::ssl::context ctx_;
  boost::asio::ip::tcp::acceptor acceptor_;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> handshake_failures_{0};
  std::mutex mu_;
  std::deque<ScriptedAnswer> answers_;
  std::vector<RecordedRequest> requests_;
  std::thread thread_;
};
