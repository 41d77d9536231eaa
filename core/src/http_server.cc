// HTTP/1.1 on Boost.Beast, one session per connection, handlers run on the I/O threads.
#include "flyte/core/http_server.h"

#include <atomic>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>

namespace flyte::core {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpHandler handler, std::shared_ptr<spdlog::logger> logger)
      : handler_(std::move(handler)), logger_(std::move(logger)), acceptor_(io_) {}

  ~Impl() { Stop(std::chrono::milliseconds(0)); }

  plugin::Status Start(const HttpServerOptions& options) {
    options_ = options;
    beast::error_code ec;
    auto address = asio::ip::make_address(options.address, ec);
    if (ec) return plugin::InvalidArgument("bad HTTP bind address '" + options.address + "'");
    tcp::endpoint endpoint(address, static_cast<unsigned short>(options.port));
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) {
      return plugin::Unavailable("cannot listen for HTTP on " + options.address + ":" +
                                 std::to_string(options.port) + ": " + ec.message());
    }
    port_ = acceptor_.local_endpoint().port();
    Accept();
    int n = std::max(1, options.threads);
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
    return plugin::Status::Ok();
  }

  int port() const { return port_; }

  void Stop(std::chrono::milliseconds grace) {
    if (stopped_.exchange(true)) return;
    asio::post(io_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
    });
    // Idle keep-alive connections are closed at once; busy ones finish their response first.
    CloseIdle();
    auto until = std::chrono::steady_clock::now() + grace;
    while (active_.load() > 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      CloseIdle();
    }
    io_.stop();
    for (auto& t : threads_) {
      if (t.joinable()) t.join();
    }
    threads_.clear();
  }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(Impl& server, tcp::socket socket) : server(server), stream(std::move(socket)) {}

    void Read() {
      parser.emplace();
      parser->body_limit(server.options_.body_limit);
      parser->header_limit(64 * 1024);
      idle = true;
      stream.expires_after(server.options_.read_header_timeout);
      http::async_read_header(stream, buffer, *parser,
                              [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                self->OnHeader(ec);
                              });
    }

    // Clients uploading large bodies (curl, Go's client with ExpectContinueTimeout) send
    // "Expect: 100-continue" and wait for the interim answer before the body.
    void OnHeader(beast::error_code ec) {
      if (ec) return OnRead(ec);
      idle = false;
      // The header timeout does not cover the body, as Go's ReadHeaderTimeout; a slow upload
      // still has a bound.
      stream.expires_after(std::chrono::minutes(5));
      const auto& req = parser->get();
      if (!parser->is_done() && beast::iequals(req[http::field::expect], "100-continue")) {
        auto interim = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
        http::async_write(stream, *interim,
                          [self = shared_from_this(), interim](beast::error_code wec, std::size_t) {
                            if (wec) return self->Close();
                            self->ReadBody();
                          });
        return;
      }
      ReadBody();
    }

    void ReadBody() {
      http::async_read(stream, buffer, *parser,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) {
                         self->OnRead(ec);
                       });
    }

    void OnRead(beast::error_code ec) {
      idle = false;
      if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
          ec == beast::error::timeout || ec == asio::error::eof || ec == asio::error::connection_reset) {
        return Close();
      }
      if (ec) {
        // A request the parser refuses (too large, malformed) gets an answer, not a hang-up.
        int status = ec == http::error::body_limit ? 413 : 400;
        gateway::HttpResponse r;
        r.status = status;
        r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
        r.body = "bad request: " + ec.message() + "\n";
        keep_alive = false;
        return Write(std::move(r), 11, false);
      }
      auto req = parser->release();
      gateway::HttpRequest request;
      request.method = std::string(req.method_string());
      request.target = std::string(req.target());
      for (const auto& field : req) {
        auto name = field.name_string();
        request.headers.emplace(Lower(std::string_view(name.data(), name.size())),
                                std::string(field.value()));
      }
      request.body = std::move(req.body());
      beast::error_code pec;
      auto remote = stream.socket().remote_endpoint(pec);
      if (!pec) {
        request.peer = (remote.address().is_v4() ? "ipv4:" : "ipv6:") + remote.address().to_string() +
                       ":" + std::to_string(remote.port());
      }
      keep_alive = req.keep_alive() && !server.stopped_.load();
      server.active_.fetch_add(1);
      gateway::HttpResponse response;
      try {
        response = server.handler_(request);
      } catch (const std::exception& e) {
        server.logger_->error("HTTP handler failed on {} {}: {}", request.method, request.target, e.what());
        response = gateway::HttpResponse{500, {{"Content-Type", "application/json"}},
                                         R"({"code":13,"message":"","details":[]})"};
      }
      server.active_.fetch_sub(1);
      Write(std::move(response), req.version(), req.method() == http::verb::head);
    }

    void Write(gateway::HttpResponse r, unsigned version, bool head) {
      auto res = std::make_shared<http::response<http::string_body>>(
          static_cast<http::status>(r.status), version);
      for (auto& [k, v] : r.headers) res->insert(k, v);
      res->keep_alive(keep_alive);
      res->body() = std::move(r.body);
      res->prepare_payload();
      // A response to HEAD has no body (RFC 9110 9.3.2): its Content-Length still says what a
      // GET would have sent, as Go's net/http does; bytes after the header would be read as
      // the start of the next response on a kept-alive connection.
      if (head) res->body().clear();
      stream.expires_after(std::chrono::seconds(60));
      http::async_write(stream, *res,
                        [self = shared_from_this(), res](beast::error_code ec, std::size_t) {
                          if (ec || !self->keep_alive || self->server.stopped_.load()) return self->Close();
                          self->Read();
                        });
    }

    void Close() {
      beast::error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      stream.close();
      std::lock_guard lock(server.sessions_mu_);
      server.sessions_.erase(this);
    }

    Impl& server;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    std::optional<http::request_parser<http::string_body>> parser;
    bool keep_alive = true;
    std::atomic<bool> idle{true};
  };

  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (!stopped_.load() && ec != asio::error::operation_aborted) Accept();
        return;
      }
      socket.set_option(tcp::no_delay(true), ec);
      auto session = std::make_shared<Session>(*this, std::move(socket));
      {
        std::lock_guard lock(sessions_mu_);
        sessions_[session.get()] = session;
      }
      session->Read();
      if (!stopped_.load()) Accept();
    });
  }

  void CloseIdle() {
    std::vector<std::shared_ptr<Session>> idle;
    {
      std::lock_guard lock(sessions_mu_);
      for (auto& [ptr, weak] : sessions_) {
        if (auto s = weak.lock(); s && s->idle.load()) idle.push_back(s);
      }
    }
    for (auto& s : idle) {
      asio::post(s->stream.get_executor(), [s] { s->stream.cancel(); });
    }
  }

  HttpHandler handler_;
  std::shared_ptr<spdlog::logger> logger_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  HttpServerOptions options_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopped_{false};
  std::atomic<int> active_{0};
  int port_ = 0;
  std::mutex sessions_mu_;
  std::map<Session*, std::weak_ptr<Session>> sessions_;
};

HttpServer::HttpServer(HttpHandler handler, std::shared_ptr<spdlog::logger> logger)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(logger))) {}
HttpServer::~HttpServer() = default;
plugin::Status HttpServer::Start(const HttpServerOptions& options) { return impl_->Start(options); }
int HttpServer::port() const { return impl_->port(); }
void HttpServer::Shutdown(std::chrono::milliseconds grace) { impl_->Stop(grace); }

}  // namespace flyte::core
