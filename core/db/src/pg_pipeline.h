// PostgreSQL pipelining of a group-commit batch: the batch's operations run interleaved, each on
// a fiber of its own, and the statements they are waiting on are sent together (libpq's pipeline
// mode) and answered together, so that a batch costs a round trip per step of its operations
// instead of one per statement of each.
//
// Each operation is still the same function of a Conn it is in RunGrouped: it runs on its
// fiber until it issues a statement, which suspends it until the statement's result has come
// back. Once every started operation is waiting (or done), the waiting statements are sent, in
// the batch's lock order, and each is answered. Interleaving is only valid for operations that
// write nothing when they fail (atomic ones: no savepoint of their own) and that do not write
// the rows of another operation in flight. Run starts an operation only once the one before it
// with the same order key is done (and no operation in flight has claimed that key); an
// operation that asks for a savepoint, or claims (through a nested grouped call) a key another
// operation in flight holds, makes the whole batch run again without the pipeline.
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <exception>
#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "connection.h"

namespace flyte::core::db {

// The statements one connection has prepared through its pipelines (named apart from SOCI's).
class PipelineStatements {
 public:
  // The name `text` is prepared under, or "" when it is not yet.
  const std::string* Find(const std::string& text) const;
  // A new name for `text`, recorded once its PREPARE has succeeded (Add); "" when the cache is
  // full (the statement then runs unnamed).
  std::string NewName();
  void Add(const std::string& text, std::string name) { names_.emplace(text, std::move(name)); }

 private:
  static constexpr size_t kMaxEntries = 256;
  std::unordered_map<std::string, std::string> names_;
  uint64_t next_ = 0;
};

// Thrown by a statement that cannot run interleaved with others (a savepoint), or by a nested
// grouped call on a key another operation in flight holds: the batch runs again without the
// pipeline. Not a std::exception, so that no handler of database errors takes it for one.
struct PipelineNeedsSerial {};

class PgPipeline {
 public:
  PgPipeline(PGconn* pg, PipelineStatements& statements) : pg_(pg), statements_(statements) {}
  PgPipeline(const PgPipeline&) = delete;
  PgPipeline& operator=(const PgPipeline&) = delete;

  struct Op {
    const std::function<plugin::Status(Conn&)>* fn = nullptr;
    const std::string* key = nullptr;  // the operation's order key; operations come sorted by it
    plugin::Status status;
  };
  enum class Outcome {
    kDone,    // every operation ran; their statuses are set; the transaction is open to commit
    kSerial,  // an operation needs the batch run without the pipeline; roll back first
  };
  // Runs `ops` on `conn` (whose pipeline this is), in a transaction it begins. Throws the first
  // exception an operation threw (a database error, after which the transaction is to be rolled
  // back and the operations run again one at a time), or a soci::soci_error for a failure of the
  // connection itself. The connection is out of pipeline mode again whenever it returns or
  // throws, unless the connection is lost.
  Outcome Run(Conn& conn, std::vector<Op>& ops);
  // Whether a transaction was begun (a statement was sent), so that it needs ending.
  bool begun() const { return begun_; }

  // Called through Conn by an operation on its fiber: queue the statement, wait for its result.
  int64_t Exec(const Sql& sql);
  std::vector<Row> Query(const Sql& sql, size_t columns);
  void ExecLiteral(const std::string& sql);
  // A nested grouped call of the running operation on `key`: throws PipelineNeedsSerial when
  // another operation in flight holds it.
  void Claim(const std::string& key);

 private:
  struct Request {
    const Sql* sql = nullptr;
    const std::string* literal = nullptr;
    size_t columns = 0;
    bool prepare = false;    // a PREPARE is sent before it
    std::string name;        // the prepared statement's name ("" for an unnamed one)
    std::vector<Row> rows;
    int64_t affected = 0;
    std::exception_ptr error;
  };
  struct Task;

  // Whether an operation in flight other than `except` has `key` as its own or has claimed it.
  bool HeldInFlight(const std::string& key, const Task* except) const;
  Request& Submit(Request& request);
  void Resume(Task& task);
  void Send(Request& request);
  void Flush();
  void ReadResults(Request& request);
  void ReadBegin();
  void ReadSync();
  [[noreturn]] void ThrowConnection(const std::string& what);

  PGconn* pg_;
  PipelineStatements& statements_;
  std::vector<Task>* tasks_ = nullptr;
  Task* current_ = nullptr;
  bool unwinding_ = false;
  bool begun_ = false;
  // The scheduler's stack, as AddressSanitizer reports it on a switch to a fiber.
  const void* scheduler_stack_bottom_ = nullptr;
  size_t scheduler_stack_size_ = 0;
  // Names whose PREPARE is in the round being sent: a second use in the same round reuses it.
  std::unordered_map<std::string, std::string> preparing_;
};

}  // namespace flyte::core::db
