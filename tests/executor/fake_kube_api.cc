// Loopback HTTPS fake of the Kubernetes API server for the executor tests.
#include "fake_kube_api.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <openssl/x509.h>

#include <boost/asio/connect.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;

namespace {

void Run(const std::string& command) {
  if (std::system((command + " >/dev/null 2>&1").c_str()) != 0)
    throw std::runtime_error("failed: " + command);
}

}  // namespace

FakeKubeCerts::FakeKubeCerts(const std::filesystem::path& d) : dir(d) {
  std::filesystem::create_directories(dir);
  const std::string p = dir.string() + "/";
  auto ca = [&](const std::string& name, const std::string& cn) {
    Run("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=" + cn + " -keyout " + p +
        name + ".key -out " + p + name + ".crt");
  };
  ca("ca", "fake-kube-ca");
  ca("other-ca", "unrelated-ca");
  std::ofstream(p + "server.ext") << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  Run("openssl req -newkey rsa:2048 -nodes -subj /CN=fake-kube-apiserver -keyout " + p +
      "server.key -out " + p + "server.csr");
  Run("openssl x509 -req -in " + p + "server.csr -CA " + p + "ca.crt -CAkey " + p +
      "ca.key -CAcreateserial -days 2 -extfile " + p + "server.ext -out " + p + "server.crt");
  Run("openssl req -newkey rsa:2048 -nodes -subj /CN=flyteadmin-client -keyout " + p +
      "client.key -out " + p + "client.csr");
  Run("openssl x509 -req -in " + p + "client.csr -CA " + p + "ca.crt -CAkey " + p +
      "ca.key -CAcreateserial -days 2 -out " + p + "client.crt");
}

std::string FakeKubeCerts::Read(const std::string& name) const {
  std::ifstream in(dir / name);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

FakeKubeApi::FakeKubeApi(const FakeKubeCerts& certs, bool require_client_cert)
    : ctx_(ssl::context::tls_server), acceptor_(ioc_) {
  ctx_.use_certificate_chain_file((certs.dir / "server.crt").string());
  ctx_.use_private_key_file((certs.dir / "server.key").string(), ssl::context::pem);
  if (require_client_cert) {
    ctx_.load_verify_file((certs.dir / "ca.crt").string());
    ctx_.set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert);
  }
  tcp::endpoint endpoint(net::ip::make_address("127.0.0.1"), 0);
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(tcp::acceptor::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen();
  port_ = acceptor_.local_endpoint().port();
  thread_ = std::thread([this] { Serve(); });
}

FakeKubeApi::~FakeKubeApi() {
  stop_ = true;
  try {
    net::io_context ioc;
    tcp::socket wake(ioc);
    wake.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port_));
  } catch (...) {
  }
  thread_.join();
}

void FakeKubeApi::Answer(ScriptedAnswer answer) {
  std::lock_guard<std::mutex> lock(mu_);
  answers_.push_back(std::move(answer));
}

std::vector<RecordedRequest> FakeKubeApi::Requests() {
  std::lock_guard<std::mutex> lock(mu_);
  return requests_;
}

void FakeKubeApi::Serve() {
  while (!stop_) {
    tcp::socket socket(ioc_);
    boost::system::error_code ec;
    acceptor_.accept(socket, ec);
    if (ec || stop_) continue;
    beast::ssl_stream<tcp::socket> stream(std::move(socket), ctx_);
    stream.handshake(ssl::stream_base::server, ec);
    if (ec) {
      ++handshake_failures_;
      continue;
    }
    beast::flat_buffer buffer;
    http::request<http::string_body> req;
    http::read(stream, buffer, req, ec);
    if (ec) continue;
    RecordedRequest rec;
    rec.method = std::string(req.method_string());
    rec.target = std::string(req.target());
    rec.body = req.body();
    for (const auto& field : req) {
      std::string name(field.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      rec.headers[name] = std::string(field.value());
    }
    if (X509* peer = SSL_get_peer_certificate(stream.native_handle())) {
      char cn[256] = {0};
      X509_NAME_get_text_by_NID(X509_get_subject_name(peer), NID_commonName, cn, sizeof cn);
      rec.client_cn = cn;
      X509_free(peer);
    }
    ScriptedAnswer answer{201, rec.body, std::chrono::milliseconds(0)};
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(rec);
      if (!answers_.empty()) {
        answer = answers_.front();
        answers_.pop_front();
      }
    }
    if (answer.delay.count() > 0) std::this_thread::sleep_for(answer.delay);
    http::response<http::string_body> res{static_cast<http::status>(answer.status), 11};
    res.set(http::field::content_type, "application/json");
    res.body() = answer.body;
    res.prepare_payload();
    http::write(stream, res, ec);
    stream.shutdown(ec);
  }
}
