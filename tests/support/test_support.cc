// Test helpers: ports, HTTP client (Boost.Beast), processes (fork/exec), temp files.
#include "test_support.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace flyte::test {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

const std::filesystem::path& TempDir() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() /
             ("flyteadmin-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    std::atexit([] {
      std::error_code ec;
      std::filesystem::remove_all(std::filesystem::temp_directory_path() /
                                      ("flyteadmin-test-" + std::to_string(::getpid())),
                                  ec);
    });
    return d;
  }();
  return dir;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::string UniqueName(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
}

namespace {

// The low end of the kernel's ephemeral range (where it picks the local port of every outgoing
// connection, and of a bind to port 0).
int EphemeralLow() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 0;
  if (!(in >> low) || low <= 11000) return 32768;
  return low;
}

}  // namespace

int FreePort() {
  // Never hand out the same port twice in one process: a test asks for two ports before
  // either is bound.
  static std::mutex mu;
  static std::set<int> given;
  static std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
  std::lock_guard lock(mu);
  // Below the ephemeral range: a port the kernel offered as free is also the one it hands the
  // next outgoing connection of any process (the tests open many), which can take it before
  // the server started on it binds it ("Address already in use"). Random, so that test
  // processes running side by side rarely pick the same one.
  static const int high = EphemeralLow() - 1;
  std::uniform_int_distribution<int> pick(10000, high);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    const int port = pick(rng);
    if (given.count(port)) continue;
    asio::io_context io;
    tcp::acceptor acceptor(io);
    beast::error_code ec;
    acceptor.open(tcp::v4(), ec);
    if (!ec) acceptor.bind(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
    if (ec) continue;
    given.insert(port);
    return port;
  }
  throw std::runtime_error("no free loopback port below " + std::to_string(high + 1));
}

std::string WriteTempFile(const std::string& name, const std::string& content) {
  auto path = TempDir() / name;
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path) << content;
  return path.string();
}

bool ProcessGone(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // "<pid> (<comm>) <state> ...": the command may hold blanks and parentheses, the last ')' ends it.
  auto close = stat.rfind(')');
  return close == std::string::npos || stat.substr(close + 2, 1) == "Z";
}

bool WaitProcessGone(int pid, std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!ProcessGone(pid) && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  return ProcessGone(pid);
}

std::string ServerDataDir(int grpc_port) {
  return (TempDir() / ("server-" + std::to_string(grpc_port))).string();
}

std::string ServerConfigYaml(int grpc_port, int http_port, const std::string& extra_plugins,
                             const std::string& extra) {
  // Each server gets its own SQLite file and storage directory.
  std::string dir = ServerDataDir(grpc_port);
  std::filesystem::create_directories(dir);
  std::string data = "database:\n  sqlite:\n    file: " + dir + "/admin.db\n  migrateOnStart: true\n"
                     "  seedProjects: [flytesnacks]\n"
                     "storage:\n  type: local\n  container: bucket\n  stow:\n    config:\n      path: " +
                     dir + "/storage\n";
  std::string yaml = data + "server:\n  bindAddress: 127.0.0.1\n  httpPort: " + std::to_string(http_port) +
                     "\n  grpc:\n    port: " + std::to_string(grpc_port) +
                     "\n  gracefulShutdownTimeoutSeconds: 5\n"
                     "logger:\n  level: 3\n"
                     "pluginHost:\n  directory: " FLYTE_PLUGIN_DIR "\n  load:\n"
                     "    - name: flyte_interceptor_recovery\n"
                     "    - name: flyte_interceptor_request_id\n"
                     "    - name: flyte_interceptor_metrics\n"
                     "    - name: flyte_manager_version\n" +
                     extra_plugins;
  // Upstream's profiling port (10254 by default) on any free port, so that servers run side by
  // side, unless `extra` sets it; it joins a `flyteadmin:` section that `extra` may carry.
  const std::string profiler = "  profilerPort: 0\n";
  std::string rest = extra;
  if (rest.find("profilerPort:") != std::string::npos) return yaml + rest;
  for (size_t at = rest.find("flyteadmin:\n"); at != std::string::npos;
       at = rest.find("flyteadmin:\n", at + 1)) {
    if (at == 0 || rest[at - 1] == '\n') {
      rest.insert(at + std::string("flyteadmin:\n").size(), profiler);
      return yaml + rest;
    }
  }
  if (!rest.empty() && rest.back() != '\n') rest.push_back('\n');
  return yaml + rest + "flyteadmin:\n" + profiler;
}

std::string HttpResult::Header(const std::string& name) const {
  auto it = headers.find(name);
  return it == headers.end() ? "" : it->second;
}

double MetricSample(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) return std::stod(line.substr(line.rfind(' ') + 1));
  }
  return -1;
}

HttpResult Http(int port, const std::string& method, const std::string& target,
                const std::string& body,
                const std::vector<std::pair<std::string, std::string>>& headers) {
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.expires_after(std::chrono::seconds(30));
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)));
  http::request<http::string_body> req(http::string_to_verb(method), target, 11);
  req.set(http::field::host, "127.0.0.1:" + std::to_string(port));
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = body;
  req.prepare_payload();
  http::write(stream, req);
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(256 * 1024 * 1024);
  http::read(stream, buffer, parser);
  auto res = parser.release();
  HttpResult out;
  out.status = static_cast<int>(res.result_int());
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    out.headers.emplace(name, std::string(f.value()));
  }
  out.body = std::move(res.body());
  beast::error_code ec;
  stream.socket().shutdown(tcp::socket::shutdown_both, ec);
  return out;
}

namespace {

int Spawn(const std::vector<std::string>& argv, const std::string& out, const std::string& err) {
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  const pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    // A test that crashes or is killed by CTest's timeout takes its servers with it instead of
    // leaving them running (holding ports and CPU) for the tests after it. The signal follows
    // the forking thread: every caller spawns from a thread that outlives the child.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(127);
    int o = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int e = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int in = ::open("/dev/null", O_RDONLY);
    ::dup2(in, 0);
    ::dup2(o, 1);
    ::dup2(e, 2);
    // Signals the test process blocked must not stay blocked in the child.
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

ProcessResult Reap(int pid, std::chrono::seconds timeout, bool& reaped) {
  ProcessResult r;
  auto until = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (std::chrono::steady_clock::now() > until) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  reaped = true;
  if (WIFEXITED(status)) {
    r.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
  }
  return r;
}

int counter = 0;

}  // namespace

ProcessResult Run(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
  int n = ++counter;
  std::string out = (TempDir() / ("run" + std::to_string(n) + ".out")).string();
  std::string err = (TempDir() / ("run" + std::to_string(n) + ".err")).string();
  int pid = Spawn(argv, out, err);
  bool reaped = false;
  ProcessResult r = Reap(pid, timeout, reaped);
  r.out = ReadFile(out);
  r.err = ReadFile(err);
  return r;
}

Child::Child(const std::vector<std::string>& argv) {
  int n = ++counter;
  out_path_ = (TempDir() / ("child" + std::to_string(n) + ".out")).string();
  err_path_ = (TempDir() / ("child" + std::to_string(n) + ".err")).string();
  pid_ = Spawn(argv, out_path_, err_path_);
}

Child::~Child() {
  if (!reaped_ && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
}

void Child::Signal(int sig) {
  if (!reaped_) ::kill(pid_, sig);
}

bool Child::Running() {
  if (reaped_) return false;
  int status = 0;
  pid_t done = ::waitpid(pid_, &status, WNOHANG);
  if (done == pid_) {
    reaped_ = true;
    if (WIFEXITED(status)) result_.exit_code = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) result_.signal = WTERMSIG(status);
    return false;
  }
  return true;
}

ProcessResult Child::Wait(std::chrono::seconds timeout) {
  if (!reaped_) result_ = Reap(pid_, timeout, reaped_);
  ProcessResult r = result_;
  r.out = ReadFile(out_path_);
  r.err = ReadFile(err_path_);
  return r;
}

std::string Child::Stderr() const { return ReadFile(err_path_); }

bool WaitForPort(int port, std::chrono::milliseconds timeout) {
  auto until = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < until) {
    asio::io_context io;
    tcp::socket s(io);
    beast::error_code ec;
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(port)), ec);
    if (!ec) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  return false;
}

}  // namespace flyte::test
