// PostgreSQL pipelining of a group-commit batch (pg_pipeline.h).
#include "pg_pipeline.h"

#include <cxxabi.h>
#include <poll.h>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#include <boost/context/fiber.hpp>
#include <boost/context/protected_fixedsize_stack.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <utility>

namespace flyte::core::db {

namespace {

// An operation's code runs on its fiber's stack: the manager's event handling and the
// repositories under it, whose deepest paths (protobuf of nested literals, storage) stay far
// below this. The stacks are mapped with a guard page, so an overflow faults instead of
// writing over another stack.
constexpr size_t kStackSize = 1 << 20;
// Stacks a batch thread keeps between its batches (one per operation of the largest batch):
// mapping and protecting a stack costs system calls that would otherwise recur per operation.
constexpr size_t kCachedStacks = 64;

class StackCache {
 public:
  ~StackCache() {
    boost::context::protected_fixedsize_stack alloc(kStackSize);
    for (auto& sc : stacks_) alloc.deallocate(sc);
  }
  boost::context::stack_context Take() {
    if (stacks_.empty()) return boost::context::protected_fixedsize_stack(kStackSize).allocate();
    boost::context::stack_context sc = stacks_.back();
    stacks_.pop_back();
    return sc;
  }
  void Give(boost::context::stack_context& sc) {
    if (stacks_.size() < kCachedStacks) {
      stacks_.push_back(sc);
      return;
    }
    boost::context::protected_fixedsize_stack(kStackSize).deallocate(sc);
  }

 private:
  std::vector<boost::context::stack_context> stacks_;
};

thread_local StackCache t_stacks;

// The stack allocator the fibers use: the calling thread's cache. The stack it hands out is
// recorded in `*given` (for AddressSanitizer's stack switches).
struct CachedStack {
  boost::context::stack_context* given = nullptr;
  boost::context::stack_context allocate() {
    boost::context::stack_context sc = t_stacks.Take();
    if (given != nullptr) *given = sc;
    return sc;
  }
  void deallocate(boost::context::stack_context& sc) noexcept { t_stacks.Give(sc); }
};

// AddressSanitizer follows a stack switch only when told of it (Boost.Context's own switch does
// not tell it): without this, it takes a fiber's frames for the thread's and reports them.
#if defined(__SANITIZE_ADDRESS__)
// Before leaving the current stack for the one at [bottom, bottom + size); `save` keeps the
// current stack's fake frames (nullptr when the current stack is never resumed).
void StartSwitch(void** save, const void* bottom, size_t size) { __sanitizer_start_switch_fiber(save, bottom, size); }
// On arrival; `from_bottom`/`from_size` receive the stack switched from.
void FinishSwitch(void* save, const void** from_bottom, size_t* from_size) {
  __sanitizer_finish_switch_fiber(save, from_bottom, from_size);
}
#else
void StartSwitch(void**, const void*, size_t) {}
void FinishSwitch(void*, const void**, size_t*) {}
#endif

// Thrown into an operation's fiber when the batch is abandoned, to unwind its stack. Not a
// std::exception: no handler of database errors takes it for one.
struct PipelineUnwind {};

// Statements that change the transaction's nesting: they cannot be interleaved with other
// operations' statements.
bool ChangesNesting(const std::string& sql) {
  size_t i = 0;
  while (i < sql.size() && std::isspace(static_cast<unsigned char>(sql[i]))) ++i;
  auto starts = [&](const char* word) {
    size_t n = std::char_traits<char>::length(word);
    if (sql.size() - i < n) return false;
    for (size_t k = 0; k < n; ++k) {
      if (std::toupper(static_cast<unsigned char>(sql[i + k])) != word[k]) return false;
    }
    return true;
  };
  return starts("SAVEPOINT") || starts("RELEASE") || starts("ROLLBACK") || starts("BEGIN") ||
         starts("COMMIT") || starts("START") || starts("END") || starts("ABORT");
}

// `sql` with Sql's placeholders (":p1", as SOCI reads them) written as libpq's ("$1"). Quoted
// text and identifiers are copied as they are, as are casts ("::").
std::string PositionalPlaceholders(const std::string& sql) {
  std::string out;
  out.reserve(sql.size());
  char quote = 0;
  for (size_t i = 0; i < sql.size(); ++i) {
    const char c = sql[i];
    if (quote != 0) {
      if (c == quote) quote = 0;  // a doubled quote closes and reopens: the same text
      out.push_back(c);
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == ':' && i + 2 < sql.size() && sql[i + 1] == 'p' &&
               std::isdigit(static_cast<unsigned char>(sql[i + 2])) && (i == 0 || sql[i - 1] != ':')) {
      out.push_back('$');
      i += 1;  // past "p": the digits follow as they are
      continue;
    }
    out.push_back(c);
  }
  return out;
}

// The error a failed result reports, as SOCI's PostgreSQL backend words and classifies it (MapError
// and the batch's retry logic read its SQLSTATE).
std::exception_ptr ErrorOf(const PGresult* res) {
  const char* state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
  std::string message = "Cannot execute query. ";
  message += PQresultErrorMessage(res);
  return std::make_exception_ptr(
      soci::postgresql_soci_error(message, state != nullptr && std::strlen(state) == 5 ? state : "XX000"));
}

}  // namespace

struct PgPipeline::Task {
  Op* op = nullptr;
  boost::context::stack_context stack;  // the fiber's
  void* fake_stack = nullptr;           // AddressSanitizer's, while suspended
  boost::context::fiber fiber;
  boost::context::fiber back;  // the scheduler, while the operation runs
  Request* request = nullptr;  // the statement it waits on
  bool started = false;
  bool finished = false;
  std::exception_ptr error;
  std::vector<std::string> claimed;  // keys of its nested grouped calls
};

const std::string* PipelineStatements::Find(const std::string& text) const {
  auto it = names_.find(text);
  return it == names_.end() ? nullptr : &it->second;
}

std::string PipelineStatements::NewName() {
  if (names_.size() >= kMaxEntries) return {};
  return "flyte_pipe_" + std::to_string(next_++);
}

void PgPipeline::ThrowConnection(const std::string& what) {
  std::string message = what + ": ";
  message += PQerrorMessage(pg_);
  // SQLSTATE class 08: SOCI classifies it as a connection error (the batch runs again, each
  // operation alone, on another connection).
  throw soci::postgresql_soci_error(message, "08006");
}

PgPipeline::Request& PgPipeline::Submit(Request& request) {
  Task* task = current_;
  if (task == nullptr) throw std::logic_error("a pipelined statement outside of its operation");
  if (unwinding_) throw PipelineUnwind{};
  // Inside a catch handler the thread's record of the exceptions being handled would be shared
  // with the other operations while this one waits (C++ forbids co_await there for the same
  // reason): the batch runs without the pipeline instead.
  if (abi::__cxa_current_exception_type() != nullptr) throw PipelineNeedsSerial{};
  task->request = &request;
  StartSwitch(&task->fake_stack, scheduler_stack_bottom_, scheduler_stack_size_);
  task->back = std::move(task->back).resume();
  FinishSwitch(task->fake_stack, &scheduler_stack_bottom_, &scheduler_stack_size_);
  if (unwinding_) throw PipelineUnwind{};
  if (request.error) std::rethrow_exception(request.error);
  return request;
}

int64_t PgPipeline::Exec(const Sql& sql) {
  Request request;
  request.sql = &sql;
  return Submit(request).affected;
}

std::vector<Row> PgPipeline::Query(const Sql& sql, size_t columns) {
  Request request;
  request.sql = &sql;
  request.columns = columns;
  return std::move(Submit(request).rows);
}

void PgPipeline::ExecLiteral(const std::string& sql) {
  if (ChangesNesting(sql)) throw PipelineNeedsSerial{};
  Request request;
  request.literal = &sql;
  Submit(request);
}

bool PgPipeline::HeldInFlight(const std::string& key, const Task* except) const {
  for (const Task& other : *tasks_) {
    if (&other == except || !other.started || other.finished) continue;
    if (*other.op->key == key) return true;
    for (const std::string& k : other.claimed) {
      if (k == key) return true;
    }
  }
  return false;
}

void PgPipeline::Claim(const std::string& key) {
  Task* task = current_;
  if (task == nullptr || tasks_ == nullptr || key.empty() || key == *task->op->key) return;
  if (HeldInFlight(key, task)) throw PipelineNeedsSerial{};
  task->claimed.push_back(key);
}

void PgPipeline::Resume(Task& task) {
  current_ = &task;
  void* fake_stack = nullptr;
  StartSwitch(&fake_stack, static_cast<char*>(task.stack.sp) - task.stack.size, task.stack.size);
  task.fiber = std::move(task.fiber).resume();
  FinishSwitch(fake_stack, nullptr, nullptr);
  current_ = nullptr;
}

void PgPipeline::Send(Request& request) {
  if (request.literal != nullptr) {
    if (PQsendQueryParams(pg_, request.literal->c_str(), 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
      ThrowConnection("cannot send a statement");
    }
    return;
  }
  const Sql& sql = *request.sql;
  const auto& params = sql.params();
  std::vector<std::string> ints;
  ints.reserve(params.size());
  std::vector<const char*> values(params.size(), nullptr);
  for (size_t i = 0; i < params.size(); ++i) {
    const Value& p = params[i];
    if (p.kind == Value::Kind::kText) {
      values[i] = p.text.c_str();
    } else if (p.kind == Value::Kind::kInt) {
      ints.push_back(std::to_string(p.integer));
      values[i] = ints.back().c_str();
    }
  }
  const int n = static_cast<int>(params.size());
  if (sql.cached()) {
    if (const std::string* name = statements_.Find(sql.sql())) {
      request.name = *name;
    } else if (auto it = preparing_.find(sql.sql()); it != preparing_.end()) {
      request.name = it->second;
    } else {
      request.name = statements_.NewName();
      if (!request.name.empty()) {
        if (PQsendPrepare(pg_, request.name.c_str(), PositionalPlaceholders(sql.sql()).c_str(), 0, nullptr) != 1) {
          ThrowConnection("cannot send a statement");
        }
        request.prepare = true;
        preparing_.emplace(sql.sql(), request.name);
      }
    }
  }
  const int sent = request.name.empty()
                       ? PQsendQueryParams(pg_, PositionalPlaceholders(sql.sql()).c_str(), n, nullptr, values.data(),
                                           nullptr, nullptr, 0)
                       : PQsendQueryPrepared(pg_, request.name.c_str(), n, values.data(), nullptr, nullptr, 0);
  if (sent != 1) ThrowConnection("cannot send a statement");
}

void PgPipeline::Flush() {
  // Non-blocking: while the server's input is full, read what it answers meanwhile (libpq
  // buffers it), so that neither side waits for the other.
  for (;;) {
    int r = PQflush(pg_);
    if (r == 0) return;
    if (r < 0) ThrowConnection("cannot send statements");
    pollfd fd{PQsocket(pg_), POLLIN | POLLOUT, 0};
    if (::poll(&fd, 1, -1) < 0 && errno != EINTR) ThrowConnection("cannot wait for the database");
    if ((fd.revents & POLLIN) != 0 && PQconsumeInput(pg_) != 1) ThrowConnection("cannot read from the database");
  }
}

void PgPipeline::ReadResults(Request& request) {
  // Every command's results end with a null result.
  auto end_of_command = [&] {
    while (PGresult* extra = PQgetResult(pg_)) PQclear(extra);
  };
  if (request.prepare) {
    PGresult* res = PQgetResult(pg_);
    if (res == nullptr) ThrowConnection("lost the answer of a statement");
    if (PQresultStatus(res) == PGRES_COMMAND_OK) {
      statements_.Add(request.sql->sql(), request.name);
    } else if (PQresultStatus(res) == PGRES_FATAL_ERROR) {
      request.error = ErrorOf(res);
    }
    PQclear(res);
    end_of_command();
  }
  PGresult* res = PQgetResult(pg_);
  if (res == nullptr) ThrowConnection("lost the answer of a statement");
  switch (PQresultStatus(res)) {
    case PGRES_TUPLES_OK: {
      const int fields = PQnfields(res);
      const int tuples = PQntuples(res);
      const size_t available = static_cast<size_t>(fields);
      request.rows.reserve(static_cast<size_t>(tuples));
      for (int t = 0; t < tuples; ++t) {
        // A caller that names more columns than the statement has gets NULL for the rest.
        Row row(request.columns);
        for (size_t c = 0; c < std::min(request.columns, available); ++c) {
          const int col = static_cast<int>(c);
          if (PQgetisnull(res, t, col)) continue;
          row[c].emplace(PQgetvalue(res, t, col), static_cast<size_t>(PQgetlength(res, t, col)));
        }
        request.rows.push_back(std::move(row));
      }
      [[fallthrough]];
    }
    case PGRES_COMMAND_OK: {
      const char* tuples = PQcmdTuples(res);
      request.affected = (tuples != nullptr && *tuples != '\0') ? std::stoll(tuples) : 0;
      break;
    }
    case PGRES_PIPELINE_ABORTED:
      if (!request.error) {
        request.error = std::make_exception_ptr(soci::postgresql_soci_error(
            "Cannot execute query. ERROR:  not run: an earlier statement of its transaction failed", "25P02"));
      }
      break;
    default:
      if (!request.error) request.error = ErrorOf(res);
      break;
  }
  PQclear(res);
  end_of_command();
}

void PgPipeline::ReadBegin() {
  PGresult* res = PQgetResult(pg_);
  if (res == nullptr) ThrowConnection("lost the answer of BEGIN");
  const bool ok = PQresultStatus(res) == PGRES_COMMAND_OK;
  std::exception_ptr error = ok ? nullptr : ErrorOf(res);
  PQclear(res);
  while (PGresult* extra = PQgetResult(pg_)) PQclear(extra);
  if (error) std::rethrow_exception(error);
}

void PgPipeline::ReadSync() {
  PGresult* res = PQgetResult(pg_);
  if (res == nullptr) ThrowConnection("lost the end of a pipeline");
  const bool ok = PQresultStatus(res) == PGRES_PIPELINE_SYNC;
  PQclear(res);
  if (!ok) ThrowConnection("unexpected answer at the end of a pipeline");
}

PgPipeline::Outcome PgPipeline::Run(Conn& conn, std::vector<Op>& ops) {
  std::vector<Task> tasks(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) tasks[i].op = &ops[i];
  tasks_ = &tasks;
  if (PQenterPipelineMode(pg_) != 1) ThrowConnection("cannot enter pipeline mode");
  if (PQsetnonblocking(pg_, 1) != 0) {
    PQexitPipelineMode(pg_);
    ThrowConnection("cannot make the connection non-blocking");
  }

  std::exception_ptr failure;
  bool serial = false;
  // An operation that ended with an exception ends the pipelined run: PipelineNeedsSerial asks
  // for a run without it, anything else is thrown to the pool.
  auto judge = [&](Task& task) {
    if (!task.finished || !task.error || failure || serial) return;
    try {
      std::rethrow_exception(task.error);
    } catch (const PipelineNeedsSerial&) {
      serial = true;
    } catch (...) {
      failure = task.error;
    }
  };
  // Whether task `i` may start: the operation before it on its key is done (started or not),
  // and no operation in flight holds its key.
  auto may_start = [&](size_t i) {
    const Task& task = tasks[i];
    if (i > 0 && *tasks[i - 1].op->key == *task.op->key && !tasks[i - 1].finished) return false;
    return !HeldInFlight(*task.op->key, &task);
  };
  auto start = [&](Task& task) {
    task.started = true;
    task.fiber = boost::context::fiber(std::allocator_arg, CachedStack{&task.stack},
                                       [this, &task, &conn](boost::context::fiber&& back) {
                                         FinishSwitch(nullptr, &scheduler_stack_bottom_, &scheduler_stack_size_);
                                         task.back = std::move(back);
                                         try {
                                           task.op->status = (*task.op->fn)(conn);
                                         } catch (const boost::context::detail::forced_unwind&) {
                                           throw;
                                         } catch (const PipelineUnwind&) {
                                         } catch (...) {
                                           task.error = std::current_exception();
                                         }
                                         task.finished = true;
                                         task.claimed.clear();
                                         // This stack is not resumed again.
                                         StartSwitch(nullptr, scheduler_stack_bottom_, scheduler_stack_size_);
                                         return std::move(task.back);
                                       });
    Resume(task);
  };

  try {
    for (;;) {
      for (size_t i = 0; i < tasks.size() && !failure && !serial; ++i) {
        if (!tasks[i].started && may_start(i)) {
          start(tasks[i]);
          judge(tasks[i]);
        }
      }
      if (failure || serial) break;
      std::vector<Task*> waiting;
      for (Task& task : tasks) {
        if (task.request != nullptr) waiting.push_back(&task);
      }
      if (waiting.empty()) break;  // every operation is done
      // One round trip: BEGIN first in the first one, then each waiting statement in lock
      // order, then a sync point.
      const bool first = !begun_;
      if (first) {
        begun_ = true;
        if (PQsendQueryParams(pg_, "BEGIN", 0, nullptr, nullptr, nullptr, nullptr, 0) != 1) {
          ThrowConnection("cannot send BEGIN");
        }
      }
      for (Task* task : waiting) Send(*task->request);
      if (PQpipelineSync(pg_) != 1) ThrowConnection("cannot end a pipeline");
      Flush();
      if (first) ReadBegin();
      for (Task* task : waiting) ReadResults(*task->request);
      ReadSync();
      preparing_.clear();
      for (Task* task : waiting) {
        task->request = nullptr;
        Resume(*task);
        judge(*task);
      }
    }
  } catch (...) {
    if (!failure) failure = std::current_exception();
  }

  // Unwind the operations still in flight: each statement they issue now throws.
  unwinding_ = true;
  for (Task& task : tasks) {
    if (task.started && !task.finished) Resume(task);
  }
  tasks_ = nullptr;
  PQsetnonblocking(pg_, 0);
  // Fails only with results unread (the connection failed mid-round): the pool then closes it.
  PQexitPipelineMode(pg_);
  if (failure) std::rethrow_exception(failure);
  return serial ? Outcome::kSerial : Outcome::kDone;
}

}  // namespace flyte::core::db
