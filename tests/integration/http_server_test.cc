// The HTTP server's streamed (spooled) bodies on a loopback port: a body sent at a steady pace
// is read whole, while one trickled in slower than the lowest rate loses its connection even
// though no single read ever stalls for the idle window.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <spdlog/sinks/null_sink.h>
#include <spdlog/spdlog.h>
#include <string>
#include <thread>

#include "flyte/core/http_server.h"

namespace {

using Clock = std::chrono::steady_clock;

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t at = 0;
  while (at < data.size()) {
    ssize_t n = ::send(fd, data.data() + at, data.size() - at, MSG_NOSIGNAL);
    if (n <= 0) return false;
    at += static_cast<size_t>(n);
  }
  return true;
}

// Whatever the server writes until it closes (or 10 s pass).
std::string ReadUntilClosed(int fd) {
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

struct SpoolingServer {
  explicit SpoolingServer(const std::filesystem::path& dir)
      : server(
            [this](const flyte::core::gateway::HttpRequest& req) {
              flyte::core::gateway::HttpResponse r;
              r.status = 200;
              r.body = std::to_string(std::filesystem::file_size(req.body_file));
              ++handled;
              return r;
            },
            std::make_shared<spdlog::logger>("http-test", std::make_shared<spdlog::sinks::null_sink_mt>()),
            [dir](const flyte::core::gateway::HttpRequest&) {
              flyte::core::BodyPlan plan;
              plan.spool_directory = dir.string();
              return plan;
            }) {
    flyte::core::HttpServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    options.body_idle_timeout = std::chrono::milliseconds(400);
    options.body_min_rate = 2000;  // bytes per second
    REQUIRE(server.Start(options).ok());
  }
  ~SpoolingServer() { server.Shutdown(std::chrono::milliseconds(500)); }
  std::atomic<int> handled{0};
  flyte::core::HttpServer server;
};

// A server on a free loopback port (two threads, no log) answering with `handler`; shut down
// when it goes.
struct LoopbackServer {
  explicit LoopbackServer(flyte::core::HttpHandler handler)
      : server(std::move(handler),
               std::make_shared<spdlog::logger>("http-test", std::make_shared<spdlog::sinks::null_sink_mt>())) {
    flyte::core::HttpServerOptions options;
    options.address = "127.0.0.1";
    options.port = 0;
    options.threads = 2;
    REQUIRE(server.Start(options).ok());
  }
  ~LoopbackServer() { server.Shutdown(std::chrono::milliseconds(500)); }
  flyte::core::HttpServer server;
};

}  // namespace

TEST_CASE("A streamed body must keep the lowest average rate, not only avoid stalling", "[integration]") {
  const auto dir = std::filesystem::temp_directory_path() / ("flyte-http-spool-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  SpoolingServer s(dir);
  const int port = s.server.port();
  REQUIRE(port > 0);

  // 24 KB in 8 pieces 100 ms apart: 30 KB/s, well above the lowest rate, and longer in all than
  // the idle window: answered.
  {
    int fd = Connect(port);
    REQUIRE(SendAll(fd, "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 24000\r\nConnection: close\r\n\r\n"));
    for (int i = 0; i < 8; ++i) {
      REQUIRE(SendAll(fd, std::string(3000, 'a')));
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    const std::string answer = ReadUntilClosed(fd);
    ::close(fd);
    CHECK(answer.rfind("HTTP/1.1 200", 0) == 0);
    CHECK(answer.find("\r\n\r\n24000") != std::string::npos);
    CHECK(s.handled == 1);
  }

  // 10 bytes every 50 ms: no read waits anywhere near the 400 ms idle window, but 200 bytes/s
  // earns almost nothing beyond it. Without the lowest rate the 100 KB would take 500 s.
  {
    int fd = Connect(port);
    REQUIRE(SendAll(fd, "PUT /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"));
    const auto start = Clock::now();
    std::atomic<bool> stop{false};
    std::thread trickle([&] {
      while (!stop && Clock::now() - start < std::chrono::seconds(20)) {
        if (!SendAll(fd, std::string(10, 'b'))) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      }
    });
    const std::string answer = ReadUntilClosed(fd);
    const auto took = Clock::now() - start;
    stop = true;
    trickle.join();
    ::close(fd);
    CHECK(answer.empty());  // the connection is dropped, nothing handled
    CHECK(took < std::chrono::seconds(5));
    CHECK(s.handled == 1);
  }
  // Nothing of the dropped body is left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir)) ++files;
  CHECK(files == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("A request head up to Go's 1 MiB is read; a larger one is answered 431", "[integration]") {
  LoopbackServer loopback([](const flyte::core::gateway::HttpRequest& req) {
    flyte::core::gateway::HttpResponse r;
    r.status = 200;
    r.body = std::to_string(req.target.size());
    return r;
  });
  const auto request = [&](size_t query_bytes) {
    int fd = Connect(loopback.server.port());
    const std::string target = "/api/v1/executions/p/d?filters=" + std::string(query_bytes, 'a');
    REQUIRE(SendAll(fd, "GET " + target + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
    std::string answer = ReadUntilClosed(fd);
    ::close(fd);
    return std::make_pair(answer, target.size());
  };
  // 200 KB of filters: more than the 64 KiB this server once allowed.
  auto [ok, target_size] = request(200 * 1024);
  CHECK(ok.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(ok.find("\r\n\r\n" + std::to_string(target_size)) != std::string::npos);
  auto [large, unused] = request((1u << 20) + 8192);
  CHECK(large.rfind("HTTP/1.1 431", 0) == 0);
  CHECK(large.find("\r\n\r\n431 Request Header Fields Too Large") != std::string::npos);
}

TEST_CASE("An HTTP/1.1 request needs one well-formed Host header as Go's net/http requires", "[integration]") {
  int calls = 0;
  LoopbackServer loopback([&calls](const flyte::core::gateway::HttpRequest&) {
    ++calls;
    flyte::core::gateway::HttpResponse r;
    r.status = 200;
    r.body = "served";
    return r;
  });
  const auto answer = [&](const std::string& head) {
    int fd = Connect(loopback.server.port());
    REQUIRE(SendAll(fd, head));
    std::string text = ReadUntilClosed(fd);
    ::close(fd);
    return text;
  };
  const auto refused = [](const std::string& text, const std::string& why) {
    return text.rfind("HTTP/1.1 400", 0) == 0 && text.find("\r\n\r\n400 Bad Request: " + why) != std::string::npos;
  };
  CHECK(refused(answer("GET /healthcheck HTTP/1.1\r\nConnection: close\r\n\r\n"), "missing required Host header"));
  const std::string twice = answer("GET /healthcheck HTTP/1.1\r\nHost: a\r\nHost: b\r\nConnection: close\r\n\r\n");
  CHECK(twice.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(twice.substr(twice.find("\r\n\r\n")) == "\r\n\r\n400 Bad Request");
  CHECK(refused(answer("GET /healthcheck HTTP/1.1\r\nHost: a b\r\nConnection: close\r\n\r\n"), "malformed Host header"));
  CHECK(refused(answer("GET /healthcheck HTTP/1.1\r\nHost: a/b\r\nConnection: close\r\n\r\n"), "malformed Host header"));
  // A refused request never reaches the handler; the connection is closed after the answer, even
  // with a body announced and never sent.
  CHECK(refused(answer("POST /api/v1/projects HTTP/1.1\r\nContent-Length: 100\r\n\r\n"), "missing required Host header"));
  CHECK(calls == 0);
  // Served: HTTP/1.0 without one; an empty one; IPv6 literals and ports.
  for (const char* head : {"GET /healthcheck HTTP/1.0\r\n\r\n", "GET /healthcheck HTTP/1.1\r\nHost:\r\nConnection: close\r\n\r\n",
                           "GET /healthcheck HTTP/1.1\r\nHost: [::1]:8089\r\nConnection: close\r\n\r\n",
                           "GET /healthcheck HTTP/1.1\r\nHost: flyte.example_1.com:80\r\nConnection: close\r\n\r\n"}) {
    CAPTURE(head);
    const std::string text = answer(head);
    CHECK(text.find(" 200 ") != std::string::npos);
    CHECK(text.find("\r\n\r\nserved") != std::string::npos);
  }
  CHECK(calls == 4);
}
