// Helpers shared by the tests: loopback ports, an HTTP client, child processes, temp files.
#pragma once

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace flyte::test {

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

// `prefix` made unique to this process and call ("<prefix>_<pid>_<n>"): a database, directory or
// execution name that no other test run uses.
std::string UniqueName(const std::string& prefix);

// A file under a per-process temp directory, removed with it at exit.
std::string WriteTempFile(const std::string& name, const std::string& content);

// The directory ServerConfigYaml gives the server on `grpc_port` for its SQLite file (admin.db)
// and its storage (storage/).
std::string ServerDataDir(int grpc_port);

// Config YAML that loads the default distribution's plugins from the build tree, listening on
// 127.0.0.1 at the given ports, with its own migrated SQLite file (project flytesnacks) and
// storage directory, plus `extra_plugins` (pluginHost.load entries) and `extra` YAML appended
// verbatim (other top-level keys; to override database or storage, pass a second --config).
std::string ServerConfigYaml(int grpc_port, int http_port, const std::string& extra_plugins = "",
                             const std::string& extra = "");

struct HttpResult {
  int status = 0;
  std::multimap<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const;
};

// The value of the first sample line starting with `prefix` in Prometheus text (-1: none).
double MetricSample(const std::string& text, const std::string& prefix);

// One HTTP/1.1 request to 127.0.0.1:port. Throws on connection failure.
HttpResult Http(int port, const std::string& method, const std::string& target,
                const std::string& body = "",
                const std::vector<std::pair<std::string, std::string>>& headers = {});

// Whether process `pid` has ended: gone, or a zombie (killed, its parent not reaping it yet or
// gone too). Reads /proc, so it also sees processes that are not this one's children.
bool ProcessGone(int pid);
// Polls ProcessGone until it holds or `limit` passes; its last answer.
bool WaitProcessGone(int pid, std::chrono::milliseconds limit);

struct ProcessResult {
  int exit_code = -1;  // -1: killed by a signal
  int signal = 0;
  std::string out;
  std::string err;
};

// Runs argv to completion (killed after `timeout`), capturing stdout and stderr.
ProcessResult Run(const std::vector<std::string>& argv,
                  std::chrono::seconds timeout = std::chrono::seconds(60));

// A background child process whose output goes to files.
class Child {
 public:
  explicit Child(const std::vector<std::string>& argv);
  ~Child();  // kills it if still running
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  void Signal(int sig);
  // Waits for exit; returns the result, or exit_code -1/signal 9 after killing it on timeout.
  ProcessResult Wait(std::chrono::seconds timeout);
  bool Running();
  int Pid() const { return pid_; }
  std::string Stderr() const;

 private:
  int pid_ = -1;
  std::string out_path_, err_path_;
  bool reaped_ = false;
  ProcessResult result_;
};

// Polls until `port` on 127.0.0.1 accepts connections or the timeout passes.
bool WaitForPort(int port, std::chrono::milliseconds timeout);

// Runs fn(0) ... fn(n - 1) on n threads at once (races under test) and returns their results in
// that order.
template <class Fn>
auto Concurrently(int n, Fn fn) -> std::vector<decltype(fn(0))> {
  std::vector<decltype(fn(0))> results(static_cast<std::size_t>(n));
  std::vector<std::thread> threads;
  for (int i = 0; i < n; ++i) {
    threads.emplace_back([&results, &fn, i] { results[static_cast<std::size_t>(i)] = fn(i); });
  }
  for (auto& t : threads) t.join();
  return results;
}

}  // namespace flyte::test
