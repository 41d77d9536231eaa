// GetVersion load: the bare echo server, then `flyteadmin serve` over gRPC and over REST, at the
// same concurrency, each in its own process. Prints QPS, p50/p99 and the ratios to the echo.
#include <signal.h>

#include <utility>

#include <algorithm>
#include <utility>
#include <atomic>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <grpcpp/grpcpp.h>

#include "flyteidl/service/admin.grpc.pb.h"
#include "live_calls.h"
#include "test_support.h"

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using Clock = std::chrono::steady_clock;

namespace {

struct Result {
  double qps = 0;
  double p50_us = 0;
  double p99_us = 0;
  long errors = 0;
};

Result Summarise(std::vector<double>& latencies_us, long errors, double seconds) {
  Result r;
  r.errors = errors;
  if (latencies_us.empty()) return r;
  std::sort(latencies_us.begin(), latencies_us.end());
  r.qps = latencies_us.size() / seconds;
  r.p50_us = latencies_us[latencies_us.size() / 2];
  r.p99_us = latencies_us[std::min(latencies_us.size() - 1, latencies_us.size() * 99 / 100)];
  return r;
}

// `concurrency` calls in flight through the async callback API for `duration` (after warm-up).
Result LoadGrpc(int port, int concurrency, std::chrono::milliseconds warmup, std::chrono::milliseconds duration) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port), grpc::InsecureChannelCredentials());
  auto stub = flyteidl::service::AdminService::NewStub(channel);
  std::mutex mu;
  std::vector<double> latencies;
  std::atomic<long> errors{0};
  std::atomic<bool> recording{false};
  std::atomic<bool> stop{false};
  auto live = std::make_shared<flyte::bench::LiveCalls>();
  struct Call {
    explicit Call(std::shared_ptr<flyte::bench::LiveCalls> calls) : token(std::move(calls)) {}
    flyte::bench::LiveCalls::Token token;
    grpc::ClientContext ctx;
    flyteidl::admin::GetVersionRequest req;
    flyteidl::admin::GetVersionResponse resp;
    Clock::time_point start;
  };
  std::function<void()> issue = [&] {
    if (stop.load()) return;
    auto call = std::make_shared<Call>(live);
    call->start = Clock::now();
    stub->async()->GetVersion(&call->ctx, &call->req, &call->resp, [&, call](grpc::Status s) {
      double us = std::chrono::duration<double, std::micro>(Clock::now() - call->start).count();
      if (recording.load()) {
        if (s.ok()) {
          std::lock_guard lock(mu);
          latencies.push_back(us);
        } else {
          errors++;
        }
      }
      issue();
    });
  };
  for (int i = 0; i < concurrency; ++i) issue();
  std::this_thread::sleep_for(warmup);
  recording = true;
  auto t0 = Clock::now();
  std::this_thread::sleep_for(duration);
  recording = false;
  double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  stop = true;
  // Every call ends (its callback returned and its objects destroyed) before this frame, which
  // the callbacks use, goes away.
  live->WaitForNone();
  std::lock_guard lock(mu);
  return Summarise(latencies, errors.load(), seconds);
}

// `concurrency` keep-alive connections, each sending GET /api/v1/version back to back.
Result LoadRest(int port, int concurrency, std::chrono::milliseconds warmup, std::chrono::milliseconds duration) {
  asio::io_context io;
  std::vector<double> latencies;
  long errors = 0;
  bool recording = false;
  bool stop = false;
  struct Conn : std::enable_shared_from_this<Conn> {
    explicit Conn(asio::io_context& io) : stream(io) {}
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    http::request<http::empty_body> req;
    http::response<http::string_body> res;
    Clock::time_point start;
  };
  std::function<void(std::shared_ptr<Conn>)> send = [&](std::shared_ptr<Conn> c) {
    if (stop) return;
    c->res = {};
    c->start = Clock::now();
    http::async_write(c->stream, c->req, [&, c](beast::error_code ec, std::size_t) {
      if (ec) { errors++; return; }
      http::async_read(c->stream, c->buffer, c->res, [&, c](beast::error_code ec2, std::size_t) {
        double us = std::chrono::duration<double, std::micro>(Clock::now() - c->start).count();
        if (recording) {
          if (!ec2 && c->res.result_int() == 200) latencies.push_back(us); else errors++;
        }
        if (ec2) return;
        send(c);
      });
    });
  };
  std::vector<std::shared_ptr<Conn>> conns;
  for (int i = 0; i < concurrency; ++i) {
    auto c = std::make_shared<Conn>(io);
    c->stream.connect(asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    c->stream.socket().set_option(asio::ip::tcp::no_delay(true));
    c->req = http::request<http::empty_body>(http::verb::get, "/api/v1/version", 11);
    c->req.set(http::field::host, "127.0.0.1");
    c->req.keep_alive(true);
    conns.push_back(c);
    send(c);
  }
  asio::steady_timer timer(io);
  Clock::time_point t0;
  timer.expires_after(warmup);
  timer.async_wait([&](beast::error_code) {
    recording = true;
    t0 = Clock::now();
    timer.expires_after(duration);
    timer.async_wait([&](beast::error_code) {
      recording = false;
      stop = true;
      for (auto& c : conns) {
        beast::error_code ec;
        c->stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ec);
      }
    });
  });
  io.run();
  double seconds = std::chrono::duration<double>(duration).count();
  return Summarise(latencies, errors, seconds);
}

void Print(const char* name, const Result& r, const Result* baseline) {
  std::printf("%-28s %10.0f qps  p50 %8.1f us  p99 %8.1f us  errors %ld", name, r.qps, r.p50_us, r.p99_us, r.errors);
  if (baseline && (r.errors > 0 || baseline->errors > 0)) {
    std::printf("  no ratio: a run had errors");
  } else if (baseline && baseline->qps > 0) {
    std::printf("  ratio %.2f", r.qps / baseline->qps);
  }
  std::printf("\n");
}

}  // namespace

int main(int argc, char** argv) {
  int concurrency = argc > 1 ? std::atoi(argv[1]) : 16;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 5;
  auto warmup = std::chrono::milliseconds(1000);
  auto duration = std::chrono::milliseconds(seconds * 1000);
  std::printf("GetVersion load, concurrency %d, %d s per run (after 1 s warm-up)\n", concurrency, seconds);

  int echo_port = flyte::test::FreePort();
  Result echo;
  {
    flyte::test::Child echo_server({BENCH_ECHO_BIN, std::to_string(echo_port)});
    if (!flyte::test::WaitForPort(echo_port, std::chrono::seconds(10))) {
      std::cerr << "echo server did not start\n";
      return 1;
    }
    echo = LoadGrpc(echo_port, concurrency, warmup, duration);
    echo_server.Signal(SIGTERM);
    echo_server.Wait(std::chrono::seconds(10));
  }

  int grpc_port = flyte::test::FreePort();
  int http_port = flyte::test::FreePort();
  auto config = flyte::test::WriteTempFile("bench.yaml", flyte::test::ServerConfigYaml(grpc_port, http_port));
  Result admin_grpc, admin_rest;
  {
    flyte::test::Child server({FLYTEADMIN_BIN, "--config", config, "serve"});
    if (!flyte::test::WaitForPort(http_port, std::chrono::seconds(20)) ||
        !flyte::test::WaitForPort(grpc_port, std::chrono::seconds(20))) {
      std::cerr << "flyteadmin did not start: " << server.Stderr() << "\n";
      return 1;
    }
    admin_grpc = LoadGrpc(grpc_port, concurrency, warmup, duration);
    admin_rest = LoadRest(http_port, concurrency, warmup, duration);
    server.Signal(SIGTERM);
    server.Wait(std::chrono::seconds(20));
  }
  Print("bare gRPC echo (baseline)", echo, nullptr);
  Print("flyteadmin gRPC", admin_grpc, &echo);
  Print("flyteadmin REST", admin_rest, &echo);
  std::printf("goals: gRPC ratio >= 0.80, REST ratio >= 0.60\n");
  // Errors mean a run measured failures, not answers: the benchmark fails.
  return echo.errors == 0 && admin_grpc.errors == 0 && admin_rest.errors == 0 ? 0 : 1;
}
