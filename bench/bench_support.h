// What the benchmarks share: timing helpers, and the database a run measures against (a SQLite
// file, or a database of a PostgreSQL server started by scripts/postgres-test.sh).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "flyte/core/config.h"
#include "test_support.h"

namespace flyte::bench {

using Clock = std::chrono::steady_clock;

inline double Micros(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Stats {
  double p50 = 0, p99 = 0;
};

inline Stats Percentiles(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return {};
  return {v[v.size() / 2], v[std::min(v.size() - 1, v.size() * 99 / 100)]};
}

inline core::Config ConfigFrom(const std::string& yaml) {
  auto c = core::Config::FromDocuments({yaml}, [](const std::string&) { return std::nullopt; });
  if (!c.ok()) throw std::runtime_error(c.status().ToString());
  return std::move(c.value());
}

// One database for one part of a run, in a directory of its own: `db_yaml` points flyteadmin
// (or OpenDatabase) at it, `soci_backend`/`soci_connect` open it directly.
struct BenchDatabase {
  std::string backend;  // "sqlite" or "postgres"
  std::filesystem::path dir;
  std::string db_yaml;
  std::string soci_backend;
  std::string soci_connect;
  std::string pg_state;

  // Throws when PostgreSQL cannot be started.
  static BenchDatabase Start(const std::string& backend, const std::string& tag) {
    BenchDatabase b;
    b.backend = backend;
    b.dir = std::filesystem::temp_directory_path() /
            ("flyteadmin-bench-" + tag + "-" + std::to_string(::getpid()) + "-" + backend);
    std::filesystem::create_directories(b.dir);
    if (backend == "sqlite") {
      const std::string file = (b.dir / "admin.db").string();
      b.db_yaml = "database:\n  sqlite:\n    file: " + file + "\n";
      b.soci_backend = "sqlite3";
      b.soci_connect = "db=\"" + file + "\" timeout=30";
      return b;
    }
    b.pg_state = (b.dir / "postgres.state").string();
    // Measured as deployed: fsync and synchronous commit on, so an acknowledged write is
    // durable on both backends (SQLite runs synchronous=FULL). BENCH_PG_FAST=1: the tests'
    // settings, without durability.
    const bool fast = std::getenv("BENCH_PG_FAST") != nullptr;
    ::setenv("PG_DURABLE", fast ? "0" : "1", 1);
    std::printf("[postgres] fsync and synchronous_commit %s\n", fast ? "off (BENCH_PG_FAST)" : "on");
    auto start = test::Run({"/bin/bash", std::string(FLYTE_SOURCE_DIR) + "/scripts/postgres-test.sh", "start", b.pg_state},
                           std::chrono::seconds(120));
    if (start.exit_code != 0) throw std::runtime_error("cannot start PostgreSQL: " + start.err);
    std::ifstream in(b.pg_state);
    std::string line, port;
    while (std::getline(in, line)) {
      if (line.rfind("PGPORT=", 0) == 0) port = line.substr(7);
    }
    b.db_yaml = "database:\n  sqlite:\n    file: \"\"\n  postgres:\n    host: 127.0.0.1\n    port: " + port +
                "\n    dbname: bench\n    username: postgres\n    password: \"\"\n"
                // The pool keeps the connections it opens, as the raw loop keeps its own: with
                // upstream's default of 10 idle connections, every request beyond ten at once
                // opens and closes a PostgreSQL connection (p99 83 ms instead of 40 here).
                "  maxIdleConnections: 100\n";
    b.soci_backend = "postgresql";
    b.soci_connect = "host=127.0.0.1 port=" + port + " dbname=bench user=postgres sslmode=disable";
    return b;
  }

  // Stops PostgreSQL and removes the directory (both kept when BENCH_KEEP is set).
  void Stop() {
    if (std::getenv("BENCH_KEEP") != nullptr) {
      std::printf("[%s] kept %s\n", backend.c_str(), dir.c_str());
      return;
    }
    if (!pg_state.empty()) {
      test::Run({"/bin/bash", std::string(FLYTE_SOURCE_DIR) + "/scripts/postgres-test.sh", "stop", pg_state});
    }
    std::filesystem::remove_all(dir);
  }
};

}  // namespace flyte::bench
