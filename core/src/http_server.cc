// HTTP/1.1 on Boost.Beast, one session per connection; handlers run on the I/O threads while one
// of them stays free, else on a pool of their own.
#include "flyte/core/http_server.h"

#include <array>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <spdlog/spdlog.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <unistd.h>

namespace flyte::core {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Beast 1.74 compares a declared length with an unset limit as over it: "none" is the largest.
constexpr std::uint64_t kNoBodyLimit = std::numeric_limits<std::uint64_t>::max();
// How long a body or an answer may make no progress.
constexpr std::chrono::seconds kIdleTransfer{60};

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Now as RFC 9110's IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"), whatever the locale.
std::string HttpDateNow() {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char text[40];
  std::snprintf(text, sizeof(text), "%s, %02d %s %04d %02d:%02d:%02d GMT", kDays[tm.tm_wday], tm.tm_mday,
                kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
  return text;
}

// The answer's headers, and a Date unless the handler gave one (as Go's net/http does).
template <class Fields>
void SetHeaders(Fields& fields, const std::vector<std::pair<std::string, std::string>>& headers) {
  for (const auto& [k, v] : headers) fields.insert(k, v);
  if (fields.find(http::field::date) == fields.end()) fields.set(http::field::date, HttpDateNow());
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(HttpHandler handler, std::shared_ptr<spdlog::logger> logger, BodyPlanner planner)
      : handler_(std::move(handler)), planner_(std::move(planner)), logger_(std::move(logger)), acceptor_(io_) {}

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
    handlers_ = std::make_unique<asio::thread_pool>(static_cast<std::size_t>(std::max(1, options.handler_threads)));
    Accept();
    int n = std::max(1, options.threads);
    io_threads_ = n;
    for (int i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
    return plugin::Status::Ok();
  }

  int port() const { return port_; }

  void Stop(std::chrono::milliseconds grace) {
    if (stopped_.exchange(true)) return;
    asio::post(io_, [this] {
      beast::error_code ec;
      acceptor_.close(ec);
      accept_timer_.cancel();
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
    // Handlers still running finish (their answers go nowhere: the I/O has stopped).
    if (handlers_) handlers_->join();
  }

 private:
  // The request line and headers: Go's http.Server default (DefaultMaxHeaderBytes, 1 MiB, plus
  // the 4 KiB it allows beyond), which upstream's servers keep. A console list URL with long
  // filters (value_in over many names) fits, as it does upstream.
  static constexpr std::uint32_t kHeaderLimit = (1u << 20) + 4096;

  struct Session : std::enable_shared_from_this<Session> {
    Session(Impl& server, tcp::socket socket) : server(server), stream(std::move(socket)) {}
    ~Session() {
      file_parser.reset();
      DropSpool();
    }

    void Read() {
      parser.emplace();
      // No limit while the head is read (Beast would refuse a declared length over it right
      // there): which limit applies, memory's or a spooled route's, is decided in OnHeader.
      parser->body_limit(kNoBodyLimit);
      parser->header_limit(kHeaderLimit);
      idle = true;
      if (first_request || buffer.size() > 0) {
        first_request = false;
        return ReadHeader();
      }
      // Kept alive: wait for the next request's first byte without a deadline, then time its
      // header from there (Go's net/http without IdleTimeout or ReadTimeout).
      stream.expires_never();
      stream.socket().async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
        if (ec) return self->Close();
        self->ReadHeader();
      });
    }

    void ReadHeader() {
      stream.expires_after(server.options_.read_header_timeout);
      http::async_read_header(stream, buffer, *parser,
                              [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                self->OnHeader(ec);
                              });
    }

    void OnHeader(beast::error_code ec) {
      if (ec) return OnRead(ec);
      idle = false;
      SetBusy(true);
      // The header timeout does not cover the body, as Go's ReadHeaderTimeout; a slow upload
      // still has a bound.
      stream.expires_after(std::chrono::minutes(5));
      const auto& req = parser->get();
      if (auto problem = HostProblem(req)) {
        return AnswerUnread(Plain(400, problem->empty() ? "400 Bad Request" : "400 Bad Request: " + *problem), req);
      }
      if (!parser->is_done() && server.planner_) {
        BodyPlan plan;
        try {
          plan = server.planner_(RequestOf(req));
        } catch (const std::exception& e) {
          server.logger_->error("HTTP body planner failed on {} {}: {}", std::string(req.method_string()),
                                std::string(req.target()), e.what());
          plan.refusal = Plain(500, "internal error\n");
        }
        if (plan.refusal) return AnswerUnread(std::move(*plan.refusal), req);
        if (!plan.spool_directory.empty()) return StartSpool(plan);
      }
      // Held in memory: within the server's body limit.
      const auto declared = parser->content_length();
      if (declared && *declared > server.options_.body_limit) {
        return AnswerUnread(
            Plain(413, "bad request: " + beast::error_code(http::error::body_limit).message() + "\n"), req);
      }
      parser->body_limit(server.options_.body_limit);
      AfterContinue([](Session& self) { self.ReadBody(); });
    }

    // Answers a request whose body is not read: nothing else can follow on this connection, and
    // what the client still sends is read and dropped after the answer (see Drain).
    void AnswerUnread(gateway::HttpResponse response, const http::request_header<>& req) {
      keep_alive = false;
      drain_before_close = true;
      Write(std::move(response), req.version(), req.method() == http::verb::head);
    }

    // Clients uploading large bodies (curl, Go's client with ExpectContinueTimeout) send
    // "Expect: 100-continue" and wait for the interim answer before the body.
    template <class Next>
    void AfterContinue(Next next) {
      const http::request_header<>& req =
          parser ? static_cast<const http::request_header<>&>(parser->get())
                 : static_cast<const http::request_header<>&>(file_parser->get());
      const bool done = parser ? parser->is_done() : file_parser->is_done();
      if (!done && beast::iequals(req[http::field::expect], "100-continue")) {
        auto interim = std::make_shared<http::response<http::empty_body>>(http::status::continue_, req.version());
        http::async_write(stream, *interim,
                          [self = shared_from_this(), interim, next](beast::error_code wec, std::size_t) {
                            if (wec) return self->Close();
                            next(*self);
                          });
        return;
      }
      next(*this);
    }

    void ReadBody() {
      http::async_read(stream, buffer, *parser,
                       [self = shared_from_this()](beast::error_code ec, std::size_t) {
                         self->OnRead(ec);
                       });
    }

    // The body goes to a new file in the planned directory as it arrives.
    void StartSpool(const BodyPlan& plan) {
      std::error_code fec;
      std::filesystem::create_directories(plan.spool_directory, fec);
      std::string name = (std::filesystem::path(plan.spool_directory) / "body-XXXXXX").string();
      int fd = ::mkstemp(name.data());
      if (fd < 0) {
        const std::string why = std::strerror(errno);
        server.logger_->error("cannot spool an HTTP body in {}: {}", plan.spool_directory, why);
        return AnswerUnread(Plain(500, "cannot store the request body: " + why + "\n"), parser->get());
      }
      ::close(fd);
      spool_path = name;
      file_parser.emplace(std::move(*parser));
      parser.reset();
      file_parser->body_limit(plan.spool_limit > 0 ? plan.spool_limit : kNoBodyLimit);
      beast::error_code oec;
      file_parser->get().body().open(spool_path.c_str(), beast::file_mode::write, oec);
      if (oec) {
        DropSpool();
        return AnswerUnread(Plain(500, "cannot store the request body: " + oec.message() + "\n"),
                            file_parser->get());
      }
      AfterContinue([](Session& self) {
        self.spool_started = std::chrono::steady_clock::now();
        self.spool_received = 0;
        self.ReadSpooled();
      });
    }

    // A spooled body may be large and slow: read piece by piece, each with its own idle window,
    // so that only a stalled upload, or one slower on average than the lowest rate, times out.
    void ReadSpooled() {
      const auto& o = server.options_;
      auto expiry = std::chrono::steady_clock::now() + o.body_idle_timeout;
      if (o.body_min_rate > 0) {
        const auto earned = std::chrono::milliseconds(static_cast<int64_t>(spool_received * 1000 / o.body_min_rate));
        expiry = std::min(expiry, spool_started + o.body_idle_timeout + earned);
      }
      stream.expires_at(expiry);
      http::async_read_some(stream, buffer, *file_parser,
                            [self = shared_from_this()](beast::error_code ec, std::size_t n) {
                              self->spool_received += n;
                              if (!ec && !self->file_parser->is_done()) return self->ReadSpooled();
                              self->OnSpooled(ec);
                            });
    }

    void OnSpooled(beast::error_code ec) {
      auto message = file_parser->release();
      file_parser.reset();
      message.body().close();
      if (ec) {
        DropSpool();
        return OnRead(ec);
      }
      gateway::HttpRequest request = RequestOf(message);
      request.body_file = spool_path;
      keep_alive = message.keep_alive() && !server.stopped_.load();
      Dispatch(std::move(request), message.version(), message.method() == http::verb::head);
    }

    void DropSpool() {
      if (spool_path.empty()) return;
      std::error_code rec;
      std::filesystem::remove(spool_path, rec);
      spool_path.clear();
    }

    // Go's net/http refuses an HTTP/1.1 request without exactly one Host header, or with one
    // holding a byte no host or port has (httpguts.ValidHostHeader), before any handler runs: the
    // reason it gives, or empty for several Host headers, which it refuses without one.
    static std::optional<std::string> HostProblem(const http::request_header<>& req) {
      const size_t hosts = req.count(http::field::host);
      if (hosts == 0) {
        if (req.version() >= 11 && req.method() != http::verb::connect) return "missing required Host header";
        return std::nullopt;
      }
      if (hosts > 1) return "";  // Go's plain error: the answer names no reason
      static const std::string_view kHostBytes =
          "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!$%&'()*+,-.:;=[]_~";
      for (char c : req[http::field::host]) {
        if (kHostBytes.find(c) == std::string_view::npos) return "malformed Host header";
      }
      return std::nullopt;
    }

    static gateway::HttpResponse Plain(int status, std::string text) {
      gateway::HttpResponse r;
      r.status = status;
      r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
      r.body = std::move(text);
      return r;
    }

    template <class Fields>
    gateway::HttpRequest RequestOf(const http::request_header<Fields>& req) {
      gateway::HttpRequest request;
      request.method = std::string(req.method_string());
      request.target = std::string(req.target());
      for (const auto& field : req) {
        auto name = field.name_string();
        request.headers.emplace(Lower(std::string_view(name.data(), name.size())),
                                std::string(field.value()));
      }
      // An absolute-form target ("http://host/path?q", RFC 9112 3.2.2, sent through proxies):
      // routed on its path, and its authority is the request's host (Go's net/http does both).
      const std::string lower_target = Lower(request.target.substr(0, 8));
      const size_t scheme_end = lower_target.rfind("http://", 0) == 0    ? 7
                                : lower_target.rfind("https://", 0) == 0 ? 8
                                                                         : 0;
      if (scheme_end > 0) {
        const size_t path = request.target.find_first_of("/?", scheme_end);
        std::string authority = request.target.substr(scheme_end, path == std::string::npos ? path : path - scheme_end);
        std::string rest = path == std::string::npos ? std::string() : request.target.substr(path);
        request.target = rest.empty() || rest.front() == '?' ? "/" + rest : rest;
        if (!authority.empty()) {
          request.headers.erase("host");
          request.headers.emplace("host", std::move(authority));
        }
      }
      beast::error_code pec;
      auto remote = stream.socket().remote_endpoint(pec);
      if (!pec) {
        request.peer = (remote.address().is_v4() ? "ipv4:" : "ipv6:") + remote.address().to_string() +
                       ":" + std::to_string(remote.port());
      }
      return request;
    }

    void OnRead(beast::error_code ec) {
      idle = false;
      if (ec == http::error::end_of_stream || ec == asio::error::operation_aborted ||
          ec == beast::error::timeout || ec == asio::error::eof || ec == asio::error::connection_reset) {
        return Close();
      }
      if (ec) {
        // A request the parser refuses (too large, malformed) gets an answer, not a hang-up.
        keep_alive = false;
        if (ec == http::error::header_limit) {
          // Go's net/http answers a head over its limit so.
          return Write(Plain(431, "431 Request Header Fields Too Large"), 11, false);
        }
        int status = ec == http::error::body_limit ? 413 : 400;
        return Write(Plain(status, "bad request: " + ec.message() + "\n"), 11, false);
      }
      auto req = parser->release();
      gateway::HttpRequest request = RequestOf(req);
      request.body = std::move(req.body());
      keep_alive = req.keep_alive() && !server.stopped_.load();
      Dispatch(std::move(request), req.version(), req.method() == http::verb::head);
    }

    // The handler runs on this I/O thread while another I/O thread is free of handlers (no hop
    // for the many quick calls); otherwise on the handler pool, with the answer written back on
    // this session's strand. Either way one I/O thread is always left to serve the other
    // connections, however slow the calls in progress.
    void Dispatch(gateway::HttpRequest request, unsigned version, bool head) {
      const int inline_limit = server.io_threads_ - 1;
      if (server.inline_handlers_.fetch_add(1) < inline_limit) {
        gateway::HttpResponse response = Handle(request);
        server.inline_handlers_.fetch_sub(1);
        return Write(std::move(response), version, head);
      }
      server.inline_handlers_.fetch_sub(1);
      asio::post(*server.handlers_, [self = shared_from_this(), request = std::move(request), version, head]() {
        gateway::HttpResponse response = self->Handle(request);
        asio::post(self->stream.get_executor(), [self, response = std::move(response), version, head]() mutable {
          self->Write(std::move(response), version, head);
        });
      });
    }

    gateway::HttpResponse Handle(const gateway::HttpRequest& request) {
      gateway::HttpResponse response;
      try {
        response = server.handler_(request);
      } catch (const std::exception& e) {
        server.logger_->error("HTTP handler failed on {} {}: {}", request.method, request.target, e.what());
        response = gateway::HttpResponse{500, {{"Content-Type", "application/json"}},
                                         R"({"code":13,"message":"","details":[]})", {}};
      }
      // A spooled body the handler did not move away is gone with its request.
      DropSpool();
      return response;
    }

    void Write(gateway::HttpResponse r, unsigned version, bool head) {
      if (!r.body_file.empty()) {
        http::file_body::value_type file;
        beast::error_code oec;
        file.open(r.body_file.c_str(), beast::file_mode::scan, oec);
        if (oec) {
          // Gone between the handler's answer and now.
          gateway::HttpResponse gone = Plain(404, "not found\n");
          for (auto& [k, v] : r.headers) {
            if (beast::iequals(k, "access-control-allow-origin") || beast::iequals(k, "vary") ||
                beast::iequals(k, "access-control-allow-credentials")) {
              gone.headers.emplace_back(k, v);
            }
          }
          return Write(std::move(gone), version, head);
        }
        if (!head) {
          auto res = std::make_shared<http::response<http::file_body>>(static_cast<http::status>(r.status), version);
          SetHeaders(*res, r.headers);
          res->keep_alive(keep_alive);
          res->body() = std::move(file);
          res->prepare_payload();
          auto serializer = std::make_shared<http::response_serializer<http::file_body>>(*res);
          return SendFile(res, serializer);
        }
        // HEAD: the size a GET would send, no bytes.
        const auto size = file.size();
        auto res = std::make_shared<http::response<http::empty_body>>(static_cast<http::status>(r.status), version);
        SetHeaders(*res, r.headers);
        res->keep_alive(keep_alive);
        res->content_length(size);
        return Send(res);
      }
      auto res = std::make_shared<http::response<http::string_body>>(
          static_cast<http::status>(r.status), version);
      SetHeaders(*res, r.headers);
      res->keep_alive(keep_alive);
      res->body() = std::move(r.body);
      res->prepare_payload();
      // A response to HEAD has no body (RFC 9110 9.3.2): its Content-Length still says what a
      // GET would have sent, as Go's net/http does; bytes after the header would be read as
      // the start of the next response on a kept-alive connection.
      if (head) res->body().clear();
      Send(res);
    }

    template <class Body>
    void Send(std::shared_ptr<http::response<Body>> res) {
      stream.expires_after(kIdleTransfer);
      http::async_write(stream, *res,
                        [self = shared_from_this(), res](beast::error_code ec, std::size_t) { self->Sent(ec); });
    }

    // A file answer is written piece by piece, each with its own minute (as ReadSpooled).
    void SendFile(std::shared_ptr<http::response<http::file_body>> res,
                  std::shared_ptr<http::response_serializer<http::file_body>> serializer) {
      stream.expires_after(kIdleTransfer);
      http::async_write_some(stream, *serializer,
                             [self = shared_from_this(), res, serializer](beast::error_code ec, std::size_t) {
                               if (!ec && !serializer->is_done()) return self->SendFile(res, serializer);
                               self->Sent(ec);
                             });
    }

    void Sent(beast::error_code ec) {
      SetBusy(false);
      if (!ec && drain_before_close) return Drain();
      if (ec || !keep_alive || server.stopped_.load()) return Close();
      Read();
    }

    // After answering a request whose body was not read: a client that sends its body before
    // reading the answer (most do without "Expect: 100-continue") would see its connection
    // reset, the answer lost, if it were closed with bytes unread. The rest is read and
    // dropped, for at most 30 seconds, then the connection closes.
    void Drain() {
      drain_before_close = false;
      beast::error_code ec;
      stream.socket().shutdown(tcp::socket::shutdown_send, ec);
      stream.expires_after(std::chrono::seconds(30));
      drained = std::make_unique<std::array<char, 1 << 16>>();
      DrainSome();
    }
    void DrainSome() {
      stream.async_read_some(asio::buffer(*drained), [self = shared_from_this()](beast::error_code ec, std::size_t) {
        if (ec) return self->Close();
        self->DrainSome();
      });
    }

    // A request counts for the shutdown's grace from its head until its answer is written (Go's
    // Server.Shutdown waits for such connections): a body still arriving or an answer still
    // going out is not cut. Only touched on the session's strand.
    void SetBusy(bool now) {
      if (now == busy) return;
      busy = now;
      if (now) {
        server.active_.fetch_add(1);
      } else {
        server.active_.fetch_sub(1);
      }
    }

    void Close() {
      SetBusy(false);
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
    std::optional<http::request_parser<http::file_body>> file_parser;  // a spooled body's
    std::string spool_path;  // its file, until handled
    std::chrono::steady_clock::time_point spool_started{};  // when its body began to be read
    std::uint64_t spool_received = 0;                       // body bytes read so far
    bool keep_alive = true;
    bool busy = false;  // counted in server.active_
    bool first_request = true;
    bool drain_before_close = false;
    std::unique_ptr<std::array<char, 1 << 16>> drained;
    std::atomic<bool> idle{true};
  };

  void Accept() {
    acceptor_.async_accept(asio::make_strand(io_), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (stopped_.load() || ec == asio::error::operation_aborted) return;
        // Out of descriptors (or another failure that the next accept would meet at once):
        // wait before trying again, from 5 ms doubling to 1 s, as Go's net/http does, instead
        // of spinning an I/O thread.
        accept_delay_ = accept_delay_.count() == 0
                            ? std::chrono::milliseconds(5)
                            : std::min(accept_delay_ * 2, std::chrono::milliseconds(1000));
        if (logger_) logger_->warn("HTTP accept failed: {}; retrying in {} ms", ec.message(), accept_delay_.count());
        accept_timer_.expires_after(accept_delay_);
        accept_timer_.async_wait([this](beast::error_code wait_ec) {
          if (!wait_ec && !stopped_.load()) Accept();
        });
        return;
      }
      accept_delay_ = std::chrono::milliseconds(0);
      socket.set_option(tcp::no_delay(true), ec);
      // Kept-alive connections may idle without limit (as Go's, see Session::Read); TCP
      // keep-alive probes, every 15 s after 15 s idle as Go's listeners send them, close those
      // whose peer vanished without a word (a dropped NAT entry, a dead node).
      socket.set_option(asio::socket_base::keep_alive(true), ec);
      const int seconds = 15;
      ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPIDLE, &seconds, sizeof(seconds));
      ::setsockopt(socket.native_handle(), IPPROTO_TCP, TCP_KEEPINTVL, &seconds, sizeof(seconds));
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
  BodyPlanner planner_;
  std::shared_ptr<spdlog::logger> logger_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_timer_{io_};
  std::chrono::milliseconds accept_delay_{0};  // only touched by the accept chain
  HttpServerOptions options_;
  std::vector<std::thread> threads_;
  // Declared after io_: destroyed (joined) before it, while the sessions its tasks hold can
  // still close their sockets.
  std::unique_ptr<asio::thread_pool> handlers_;
  int io_threads_ = 1;                    // set before the I/O threads start
  std::atomic<int> inline_handlers_{0};  // handlers running on I/O threads
  std::atomic<bool> stopped_{false};
  std::atomic<int> active_{0};
  int port_ = 0;
  std::mutex sessions_mu_;
  std::map<Session*, std::weak_ptr<Session>> sessions_;
};

HttpServer::HttpServer(HttpHandler handler, std::shared_ptr<spdlog::logger> logger, BodyPlanner planner)
    : impl_(std::make_unique<Impl>(std::move(handler), std::move(logger), std::move(planner))) {}
HttpServer::~HttpServer() = default;
plugin::Status HttpServer::Start(const HttpServerOptions& options) { return impl_->Start(options); }
int HttpServer::port() const { return impl_->port(); }
void HttpServer::Shutdown(std::chrono::milliseconds grace) { impl_->Stop(grace); }

}  // namespace flyte::core
