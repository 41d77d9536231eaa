// What the benchmarks share: timing helpers, and the database a run measures against (a SQLite
// file, or a database of a PostgreSQL server started by scripts/postgres-test.sh).
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
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

// CPU time (user + system, all threads) used so far, in microseconds, by this process (`pid`
// 0) or by another one, read from /proc; with `tree`, also by its children: those it reaped
// and those still running (PostgreSQL's backends under its postmaster). -1 when unreadable.
inline double ProcessCpuMicros(int pid = 0, bool tree = false) {
  auto fields = [](const std::string& path) {
    std::ifstream in(path);
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::vector<unsigned long long> out;  // out[0] is field 3 (state, as 0), out[1] field 4 ...
    auto close = stat.rfind(')');  // the command name, in parentheses, may hold spaces
    if (close == std::string::npos) return out;
    std::istringstream rest(stat.substr(close + 2));
    std::string field;
    while (out.size() < 15 && rest >> field) out.push_back(out.empty() ? 0 : std::stoull(field));
    return out;
  };
  // Fields 14-17: utime, stime, cutime, cstime; field 4: the parent's pid.
  auto at = [](const std::vector<unsigned long long>& f, int field) { return f[static_cast<size_t>(field - 3)]; };
  auto own = fields(pid == 0 ? std::string("/proc/self/stat") : "/proc/" + std::to_string(pid) + "/stat");
  if (own.size() < 15) return -1;
  unsigned long long ticks = at(own, 14) + at(own, 15);
  if (tree && pid > 0) {
    ticks += at(own, 16) + at(own, 17);
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
      const std::string name = entry.path().filename().string();
      if (name.find_first_not_of("0123456789") != std::string::npos) continue;
      auto child = fields(entry.path().string() + "/stat");
      if (child.size() >= 15 && at(child, 4) == static_cast<unsigned long long>(pid)) {
        ticks += at(child, 14) + at(child, 15);
      }
    }
  }
  return static_cast<double>(ticks) * 1e6 / static_cast<double>(::sysconf(_SC_CLK_TCK));
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

  // The postmaster's pid (0 on SQLite or when unreadable): its first line of postmaster.pid.
  int PostmasterPid() const {
    if (pg_state.empty()) return 0;
    std::ifstream state(pg_state);
    std::string line;
    while (std::getline(state, line)) {
      if (line.rfind("PGROOT=", 0) != 0) continue;
      std::ifstream pidfile(line.substr(7) + "/data/postmaster.pid");
      int pid = 0;
      pidfile >> pid;
      return pid;
    }
    return 0;
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
