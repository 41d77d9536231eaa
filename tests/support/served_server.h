// `flyteadmin serve` as a child process on loopback ports, for end-to-end tests: the default
// plugins plus the ones a test names, its own SQLite file and storage, optional config layers
// merged over it (e.g. PostgreSQL), and SIGTERM with a clean exit at the end.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>

#include "test_support.h"

namespace flyte::test {

class ServedServer {
 public:
  // `extra_plugins`: pluginHost.load entries ("    - name: ...\n"); `layers`: further config
  // documents, each written to a file and passed with its own --config after the base one.
  explicit ServedServer(const std::string& extra_plugins, const std::vector<std::string>& layers = {});
  ~ServedServer();
  ServedServer(const ServedServer&) = delete;
  ServedServer& operator=(const ServedServer&) = delete;

  std::shared_ptr<grpc::Channel> channel() const { return channel_; }
  // Where the base config puts its SQLite file (admin.db) and storage (storage/), unless a layer
  // moves them; a later server can take them over with a layer pointing database.sqlite.file and
  // storage.stow.config.path there.
  std::string data_dir() const { return ServerDataDir(grpc_port); }
  // Stops it now, as an operator would (SIGTERM), and requires a clean exit; the destructor
  // then does nothing more.
  void Stop();
  // Kills it (SIGKILL), as a crash would; nothing is required of its exit.
  void Kill();
  // What the server has written to stderr so far (its log).
  std::string Stderr() const { return child_ ? child_->Stderr() : std::string(); }
  int grpc_port = 0;
  int http_port = 0;

 private:
  std::unique_ptr<Child> child_;
  std::shared_ptr<grpc::Channel> channel_;
  bool stopped_ = false;
};

// A config layer moving the server to the PostgreSQL test fixture (FLYTE_TEST_PG_STATE), in a
// database of its own named `dbname` (created by the server).
std::string PostgresLayer(const std::string& dbname);

}  // namespace flyte::test
