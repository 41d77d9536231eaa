// Executions, node executions, task executions, their events and signals, with the queries of
// upstream's gormimpl execution_repo.go, node_execution_repo.go, task_execution_repo.go,
// execution_event_repo.go, node_execution_event_repo.go and signal_repo.go. Updates are
// read-modify-write under a row lock; the event-ingestion writes (creates and updates of
// executions, node and task executions) share transactions with concurrent callers through
// Pool::RunGrouped (group commit).
#include "execution_repo.h"

#include <chrono>
#include <functional>

#include "query_builder.h"
#include "schema.h"

namespace flyte::core::db {

using plugin::InvalidArgument;
using plugin::NotFound;
using plugin::Status;
using plugin::StatusOr;
using namespace plugin::db;  // NOLINT: the models and repository interfaces

namespace {

constexpr const char* kEntryNotFound = "entry not found";
constexpr const char* kSignalNotFound = "signal does not exist";

// ---------------------------------------------------------------------------------------------
// Column values

// Appends one bound value (with the cast its column needs) to a statement.
using Binder = std::function<void(Sql&)>;

Binder TextV(std::string s) {
  return [s = std::move(s)](Sql& q) { q.BindText(s); };
}
Binder OptTextV(std::optional<std::string> s) {
  return [s = std::move(s)](Sql& q) { q.BindOptText(s); };
}
Binder BytesV(std::string s) {
  return [s = std::move(s)](Sql& q) { q.BindBytes(s); };
}
Binder OptBytesV(std::optional<std::string> s) {
  return [s = std::move(s)](Sql& q) { q.BindOptBytes(s); };
}
Binder IntV(int64_t i) {
  return [i](Sql& q) { q.BindInt(i); };
}
Binder OptIntV(std::optional<int64_t> i) {
  return [i](Sql& q) { q.Bind(i ? Value::Int(*i) : Value::Null()); };
}
Binder TimeV(Time t) {
  return [t](Sql& q) { q.BindTime(t); };
}
Binder OptTimeV(std::optional<Time> t) {
  return [t](Sql& q) {
    if (t) {
      q.BindTime(*t);
    } else {
      q.Bind(Value::Null());
    }
  };
}

std::optional<Time> OptTimeOf(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  return TimeOf(v);
}
std::optional<int64_t> OptIntOf(const std::optional<std::string>& v) {
  if (!v) return std::nullopt;
  return IntOf(v);
}

// Reads the columns of a row in order.
class Reader {
 public:
  Reader(Dialect dialect, const Row& row, size_t at = 0) : dialect_(dialect), row_(row), at_(at) {}
  const std::optional<std::string>& Raw() { return row_[at_++]; }
  std::string Text() { return TextOf(Raw()); }
  std::optional<std::string> OptText() { return Raw(); }
  std::string Bytes() { return BytesOf(dialect_, Raw()); }
  std::optional<std::string> OptBytes() {
    const auto& v = Raw();
    if (!v) return std::nullopt;
    return BytesOf(dialect_, v);
  }
  int64_t Int() { return IntOf(Raw()); }
  std::optional<int64_t> OptInt() { return OptIntOf(Raw()); }
  Time TimeAt() { return TimeOf(Raw()); }
  std::optional<Time> OptTime() { return OptTimeOf(Raw()); }

 private:
  Dialect dialect_;
  const Row& row_;
  size_t at_;
};

// ---------------------------------------------------------------------------------------------
// Entity mappings: key columns, data columns (everything but id, created_at, updated_at and
// the key), their values and how a row reads back. Rows are selected as
// id, created_at, updated_at, <key columns>, <data columns>.

struct ExecutionTraits {
  using Model = ExecutionModel;
  using Key = ExecutionKey;
  static constexpr const char* kTable = "executions";
  static const std::vector<std::string>& KeyColumns() {
    static const std::vector<std::string> cols = {"execution_project", "execution_domain", "execution_name"};
    return cols;
  }
  static std::vector<Binder> KeyValues(const Key& k) {
    return {TextV(k.project), TextV(k.domain), TextV(k.name)};
  }
  static Key KeyOf(const Model& m) { return m.key; }
  static Key ReadKey(Reader& r) {
    Key k;
    k.project = r.Text();
    k.domain = r.Text();
    k.name = r.Text();
    return k;
  }
  static const std::vector<std::string>& DataColumns() {
    static const std::vector<std::string> cols = {"launch_plan_id", "workflow_id", "task_id", "phase", "closure", "spec",
            "started_at", "execution_created_at", "execution_updated_at", "duration",
            "abort_cause", "mode", "source_execution_id", "parent_node_execution_id", "cluster",
            "inputs_uri", "user_inputs_uri", "error_kind", "error_code", "user", "state",
            "launch_entity"};
    return cols;
  }
  static std::vector<Binder> DataValues(const Model& m) {
    return {IntV(m.launch_plan_id),
            IntV(m.workflow_id),
            IntV(m.task_id),
            TextV(m.phase),
            BytesV(m.closure),
            BytesV(m.spec),
            OptTimeV(m.started_at),
            OptTimeV(m.execution_created_at),
            OptTimeV(m.execution_updated_at),
            IntV(m.duration_ns),
            TextV(m.abort_cause),
            IntV(m.mode),
            IntV(m.source_execution_id),
            IntV(m.parent_node_execution_id),
            TextV(m.cluster),
            TextV(m.inputs_uri),
            TextV(m.user_inputs_uri),
            OptTextV(m.error_kind),
            OptTextV(m.error_code),
            TextV(m.user),
            IntV(m.state),
            TextV(m.launch_entity)};
  }
  static void ReadData(Model& m, Reader& r) {
    m.launch_plan_id = r.Int();
    m.workflow_id = r.Int();
    m.task_id = r.Int();
    m.phase = r.Text();
    m.closure = r.Bytes();
    m.spec = r.Bytes();
    m.started_at = r.OptTime();
    m.execution_created_at = r.OptTime();
    m.execution_updated_at = r.OptTime();
    m.duration_ns = r.Int();
    m.abort_cause = r.Text();
    m.mode = static_cast<int32_t>(r.Int());
    m.source_execution_id = r.Int();
    m.parent_node_execution_id = r.Int();
    m.cluster = r.Text();
    m.inputs_uri = r.Text();
    m.user_inputs_uri = r.Text();
    m.error_kind = r.OptText();
    m.error_code = r.OptText();
    m.user = r.Text();
    m.state = static_cast<int32_t>(r.Int());
    m.launch_entity = r.Text();
  }
};

struct NodeExecutionTraits {
  using Model = NodeExecutionModel;
  using Key = NodeExecutionKey;
  static constexpr const char* kTable = "node_executions";
  static const std::vector<std::string>& KeyColumns() {
    static const std::vector<std::string> cols = {"execution_project", "execution_domain", "execution_name", "node_id"};
    return cols;
  }
  static std::vector<Binder> KeyValues(const Key& k) {
    return {TextV(k.execution.project), TextV(k.execution.domain), TextV(k.execution.name),
            TextV(k.node_id)};
  }
  static Key KeyOf(const Model& m) { return m.key; }
  static Key ReadKey(Reader& r) {
    Key k;
    k.execution = ExecutionTraits::ReadKey(r);
    k.node_id = r.Text();
    return k;
  }
  static const std::vector<std::string>& DataColumns() {
    static const std::vector<std::string> cols = {"phase",
            "input_uri",
            "closure",
            "started_at",
            "node_execution_created_at",
            "node_execution_updated_at",
            "duration",
            "node_execution_metadata",
            "parent_id",
            "parent_task_execution_id",
            "error_kind",
            "error_code",
            "cache_status",
            "dynamic_workflow_remote_closure_reference",
            "internal_data"};
    return cols;
  }
  static std::vector<Binder> DataValues(const Model& m) {
    return {TextV(m.phase),
            TextV(m.input_uri),
            BytesV(m.closure),
            OptTimeV(m.started_at),
            OptTimeV(m.node_execution_created_at),
            OptTimeV(m.node_execution_updated_at),
            IntV(m.duration_ns),
            BytesV(m.node_execution_metadata),
            OptIntV(m.parent_id),
            OptIntV(m.parent_task_execution_id),
            OptTextV(m.error_kind),
            OptTextV(m.error_code),
            OptTextV(m.cache_status),
            TextV(m.dynamic_workflow_remote_closure_reference),
            BytesV(m.internal_data)};
  }
  static void ReadData(Model& m, Reader& r) {
    m.phase = r.Text();
    m.input_uri = r.Text();
    m.closure = r.Bytes();
    m.started_at = r.OptTime();
    m.node_execution_created_at = r.OptTime();
    m.node_execution_updated_at = r.OptTime();
    m.duration_ns = r.Int();
    m.node_execution_metadata = r.Bytes();
    m.parent_id = r.OptInt();
    m.parent_task_execution_id = r.OptInt();
    m.error_kind = r.OptText();
    m.error_code = r.OptText();
    m.cache_status = r.OptText();
    m.dynamic_workflow_remote_closure_reference = r.Text();
    m.internal_data = r.Bytes();
  }
};

struct TaskExecutionTraits {
  using Model = TaskExecutionModel;
  using Key = TaskExecutionKey;
  static constexpr const char* kTable = "task_executions";
  static const std::vector<std::string>& KeyColumns() {
    static const std::vector<std::string> cols = {"project",          "domain",         "name",    "version",      "execution_project",
            "execution_domain", "execution_name", "node_id", "retry_attempt"};
    return cols;
  }
  static std::vector<Binder> KeyValues(const Key& k) {
    return {TextV(k.task.project),
            TextV(k.task.domain),
            TextV(k.task.name),
            TextV(k.task.version),
            TextV(k.node_execution.execution.project),
            TextV(k.node_execution.execution.domain),
            TextV(k.node_execution.execution.name),
            TextV(k.node_execution.node_id),
            IntV(k.retry_attempt)};
  }
  static Key KeyOf(const Model& m) { return m.key; }
  static Key ReadKey(Reader& r) {
    Key k;
    k.task.project = r.Text();
    k.task.domain = r.Text();
    k.task.name = r.Text();
    k.task.version = r.Text();
    k.node_execution = NodeExecutionTraits::ReadKey(r);
    k.retry_attempt = static_cast<uint32_t>(r.Int());
    return k;
  }
  static const std::vector<std::string>& DataColumns() {
    static const std::vector<std::string> cols = {"phase",      "phase_version",          "input_uri", "closure", "started_at",
            "task_execution_created_at", "task_execution_updated_at", "duration"};
    return cols;
  }
  static std::vector<Binder> DataValues(const Model& m) {
    return {TextV(m.phase),
            IntV(m.phase_version),
            TextV(m.input_uri),
            BytesV(m.closure),
            OptTimeV(m.started_at),
            OptTimeV(m.task_execution_created_at),
            OptTimeV(m.task_execution_updated_at),
            IntV(m.duration_ns)};
  }
  static void ReadData(Model& m, Reader& r) {
    m.phase = r.Text();
    m.phase_version = static_cast<uint32_t>(r.Int());
    m.input_uri = r.Text();
    m.closure = r.Bytes();
    m.started_at = r.OptTime();
    m.task_execution_created_at = r.OptTime();
    m.task_execution_updated_at = r.OptTime();
    m.duration_ns = r.Int();
  }
};

struct SignalTraits {
  using Model = SignalModel;
  using Key = SignalKey;
  static constexpr const char* kTable = "signals";
  static const std::vector<std::string>& KeyColumns() {
    static const std::vector<std::string> cols = {"execution_project", "execution_domain", "execution_name", "signal_id"};
    return cols;
  }
  static std::vector<Binder> KeyValues(const Key& k) {
    return {TextV(k.execution.project), TextV(k.execution.domain), TextV(k.execution.name),
            TextV(k.signal_id)};
  }
  static Key KeyOf(const Model& m) { return m.key; }
  static Key ReadKey(Reader& r) {
    Key k;
    k.execution = ExecutionTraits::ReadKey(r);
    k.signal_id = r.Text();
    return k;
  }
  static const std::vector<std::string>& DataColumns() {
    static const std::vector<std::string> cols = {"type", "value"};
    return cols;
  }
  static std::vector<Binder> DataValues(const Model& m) {
    return {BytesV(m.type), OptBytesV(m.value)};
  }
  static void ReadData(Model& m, Reader& r) {
    m.type = r.Bytes();
    m.value = r.OptBytes();
  }
};

// A boolean column: boolean on PostgreSQL, numeric 0/1 on SQLite (gorm's mapping).
Binder BoolV(bool b) {
  return [b](Sql& q) {
    if (q.dialect() == Dialect::kPostgres) {
      q << "CAST(";
      q.BindText(b ? "true" : "false") << " AS boolean)";
    } else {
      q.BindInt(b ? 1 : 0);
    }
  };
}
bool BoolOf(const std::optional<std::string>& v) {
  return v && (*v == "t" || *v == "true" || *v == "1" || *v == "TRUE");
}

struct SchedulableEntityTraits {
  using Model = SchedulableEntityModel;
  using Key = EntityKey;
  static constexpr const char* kTable = "schedulable_entities";
  static const std::vector<std::string>& KeyColumns() {
    static const std::vector<std::string> cols = {"project", "domain", "name", "version"};
    return cols;
  }
  static std::vector<Binder> KeyValues(const Key& k) {
    return {TextV(k.project), TextV(k.domain), TextV(k.name), TextV(k.version)};
  }
  static Key KeyOf(const Model& m) { return m.key; }
  static Key ReadKey(Reader& r) {
    Key k;
    k.project = r.Text();
    k.domain = r.Text();
    k.name = r.Text();
    k.version = r.Text();
    return k;
  }
  static const std::vector<std::string>& DataColumns() {
    static const std::vector<std::string> cols = {"cron_expression", "fixed_rate_value", "unit",
                                                  "kickoff_time_input_arg", "active"};
    return cols;
  }
  static std::vector<Binder> DataValues(const Model& m) {
    return {TextV(m.cron_expression), IntV(m.fixed_rate_value), IntV(m.unit),
            TextV(m.kickoff_time_input_arg), BoolV(m.active)};
  }
  // Rows other writers made may hold NULLs (the columns are nullable).
  static void ReadData(Model& m, Reader& r) {
    m.cron_expression = r.OptText().value_or("");
    m.fixed_rate_value = r.OptInt().value_or(0);
    m.unit = static_cast<int32_t>(r.OptInt().value_or(0));
    m.kickoff_time_input_arg = r.OptText().value_or("");
    m.active = BoolOf(r.OptText());
  }
};

// ---------------------------------------------------------------------------------------------
// Generic statements over a mapping

template <class T>
const std::vector<std::string>& SelectedColumns() {
  static const std::vector<std::string> cols = [] {
    std::vector<std::string> all = {"id", "created_at", "updated_at"};
    for (auto& c : T::KeyColumns()) all.push_back(c);
    for (auto& c : T::DataColumns()) all.push_back(c);
    return all;
  }();
  return cols;
}

// The select list of SelectedColumns, built once per dialect (it is part of every read).
template <class T>
const std::string& SelectList(Dialect dialect) {
  auto build = [](Dialect d) {
    const TableDef* def = FindTable(T::kTable);
    std::string out;
    bool first = true;
    for (const auto& c : SelectedColumns<T>()) {
      if (!first) out += ", ";
      first = false;
      out += ReadExpr(d, T::kTable, *FindColumn(*def, c));
    }
    return out;
  };
  static const std::string sqlite = build(Dialect::kSqlite);
  static const std::string postgres = build(Dialect::kPostgres);
  return dialect == Dialect::kSqlite ? sqlite : postgres;
}

template <class T>
typename T::Model ReadRow(Dialect dialect, const Row& row) {
  typename T::Model m;
  Reader r(dialect, row);
  m.id = r.Int();
  m.created_at = r.TimeAt();
  m.updated_at = r.TimeAt();
  m.key = T::ReadKey(r);
  T::ReadData(m, r);
  return m;
}

// INSERT of `columns`/`values`, with the id on SQLite (the next one, under the write lock every
// transaction of this library holds); PostgreSQL's sequence fills it otherwise.
// Returns the rows inserted: with `if_absent`, a row whose key is taken is skipped (0) instead
// of failing, so that a transaction can go on without a savepoint.
void AppendInsert(Sql& sql, const std::string& table, const std::vector<std::string>& columns,
                  const std::vector<Binder>& values, bool if_absent) {
  const bool sqlite = sql.dialect() == Dialect::kSqlite;
  sql << "INSERT INTO ";
  sql.Ident(table) << " (";
  if (sqlite) sql << "\"id\", ";
  for (size_t i = 0; i < columns.size(); ++i) (sql << (i ? ", " : "")).Ident(columns[i]);
  sql << ") VALUES (";
  if (sqlite) (sql << "(SELECT COALESCE(MAX(\"id\"), 0) + 1 FROM ").Ident(table) << "), ";
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) sql << ", ";
    values[i](sql);
  }
  sql << ")";
  if (if_absent) sql << " ON CONFLICT DO NOTHING";
}

int64_t Insert(Conn& conn, const std::string& table, const std::vector<std::string>& columns,
               const std::vector<Binder>& values, bool if_absent = false) {
  Sql sql(conn.dialect());
  AppendInsert(sql, table, columns, values, if_absent);
  return conn.Exec(sql.Cached());
}

// The INSERT of the row `m` (created_at and updated_at default to now).
template <class T>
void AppendInsertRow(Sql& sql, const typename T::Model& m, bool if_absent) {
  Time now = plugin::db::Now();
  std::vector<std::string> cols = {"created_at", "updated_at"};
  std::vector<Binder> vals = {TimeV(m.created_at == Time{} ? now : m.created_at),
                              TimeV(m.updated_at == Time{} ? now : m.updated_at)};
  for (auto& c : T::KeyColumns()) cols.push_back(c);
  for (auto& v : T::KeyValues(T::KeyOf(m))) vals.push_back(std::move(v));
  for (auto& c : T::DataColumns()) cols.push_back(c);
  for (auto& v : T::DataValues(m)) vals.push_back(std::move(v));
  AppendInsert(sql, T::kTable, cols, vals, if_absent);
}

template <class T>
int64_t InsertRow(Conn& conn, const typename T::Model& m, bool if_absent = false) {
  Sql sql(conn.dialect());
  AppendInsertRow<T>(sql, m, if_absent);
  return conn.Exec(sql.Cached());
}


// The group-commit order key of a row: its table and key values (operations on one row keep
// their arrival order; batches lock rows in this order).
template <class T>
std::string OrderKey(const Pool& pool, const typename T::Key& key) {
  // A call made inside a transaction joins it, where the key orders nothing, unless the
  // transaction is a pipelined batch, which checks it against its other operations in flight.
  if (pool.InTransaction() && !pool.InPipeline()) return {};
  Sql sql(Dialect::kSqlite);
  for (auto& v : T::KeyValues(key)) v(sql);
  std::string out = T::kTable;
  for (const Value& p : sql.params()) {
    out += '\x1f';
    out += p.kind == Value::Kind::kInt ? std::to_string(p.integer) : p.text;
  }
  return out;
}

template <class T>
void WhereKey(Sql& sql, const typename T::Key& key) {
  const auto& cols = T::KeyColumns();
  auto vals = T::KeyValues(key);
  for (size_t i = 0; i < cols.size(); ++i) {
    (sql << (i ? " AND " : " WHERE ")).Ident(T::kTable) << ".";
    sql.Ident(cols[i]) << " = ";
    vals[i](sql);
  }
}

// DELETE of the row with `key` (undoing an insert made in the same transaction).
template <class T>
void DeleteRow(Conn& conn, const typename T::Key& key) {
  Sql sql(conn.dialect());
  sql << "DELETE FROM " << QuoteIdent(T::kTable);
  WhereKey<T>(sql, key);
  conn.Exec(sql.Cached());
}

// The names the columns of SelectList take inside a WITH ("c0", "c1", ...): the select list's
// expressions would otherwise name several columns alike ("encode" on PostgreSQL).
template <class T>
const std::string& RowAliases() {
  static const std::string aliases = [] {
    std::string out;
    for (size_t i = 0; i < SelectedColumns<T>().size(); ++i) {
      out += (i ? ", \"c" : "\"c") + std::to_string(i) + "\"";
    }
    return out;
  }();
  return aliases;
}

// What QueryRow reads with the row, in the same statement, whether the row exists or not (the
// row is read in a WITH, which keeps its lock, joined to one-row queries of these).
struct RowContext {
  // This execution's cluster goes to `cluster` ('' when NULL; nullopt with no such execution).
  const ExecutionKey* execution = nullptr;
  std::optional<std::string>* cluster = nullptr;
  // Whether this node execution exists goes to `node_exists`.
  const NodeExecutionKey* node = nullptr;
  bool* node_exists = nullptr;
};

// The row with `key`, read in `conn` (with FOR UPDATE when `lock` on PostgreSQL), and what
// `context` asks for.
template <class T>
std::optional<typename T::Model> QueryRow(Conn& conn, const typename T::Key& key, bool lock,
                                          const RowContext& context = {}) {
  const bool joined = context.execution || context.node;
  Sql sql(conn.dialect());
  if (joined) sql << "WITH \"flyte_row\" (" << RowAliases<T>() << ") AS (";
  sql << "SELECT " << SelectList<T>(conn.dialect()) << " FROM ";
  sql.Ident(T::kTable);
  // No LIMIT on these primary-key lookups: PostgreSQL's generic plan for a prepared
  // "... LIMIT 1" walks the first index whose leading columns match (project and domain, the
  // same on every row) and filters the rest, reading half the table per lookup.
  WhereKey<T>(sql, key);
  if (lock && conn.dialect() == Dialect::kPostgres) sql << " FOR UPDATE";
  if (joined) sql << ") SELECT \"flyte_row\".*";
  if (context.execution) {
    sql << ", (SELECT COALESCE(\"executions\".\"cluster\", '') FROM \"executions\"";
    WhereKey<ExecutionTraits>(sql, *context.execution);
    sql << ")";
  }
  if (context.node) {
    sql << ", (SELECT 1 FROM \"node_executions\"";
    WhereKey<NodeExecutionTraits>(sql, *context.node);
    sql << ")";
  }
  if (joined) sql << " FROM (SELECT 1) AS \"flyte_one\" LEFT JOIN \"flyte_row\" ON TRUE";
  const size_t columns = SelectedColumns<T>().size();
  auto rows = conn.Query(sql.Cached(), columns + (context.execution ? 1 : 0) + (context.node ? 1 : 0));
  if (rows.empty()) return std::nullopt;
  if (joined) {
    size_t extra = columns;
    if (context.execution && context.cluster) *context.cluster = rows[0][extra];
    if (context.execution) ++extra;
    if (context.node && context.node_exists) *context.node_exists = rows[0][extra].has_value();
    if (!rows[0][0]) return std::nullopt;  // the row's id: absent, only the context was read
  }
  return ReadRow<T>(conn.dialect(), rows[0]);
}

// Whether the row with `key` exists, reading only its id.
template <class T>
StatusOr<bool> ExistsRow(Pool& pool, const typename T::Key& key) {
  Sql sql(pool.dialect());
  sql << "SELECT " << QuoteIdent(T::kTable) << ".\"id\" FROM " << QuoteIdent(T::kTable);
  WhereKey<T>(sql, key);  // no LIMIT: see QueryRow
  bool exists = false;
  Status status = pool.Run([&](Conn& conn) -> Status {
    exists = !conn.Query(sql.Cached(), 1).empty();
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return exists;
}

template <class T>
StatusOr<std::optional<typename T::Model>> Find(Pool& pool, const typename T::Key& key) {
  std::optional<typename T::Model> found;
  Status status = pool.Run([&](Conn& conn) -> Status {
    found = QueryRow<T>(conn, key, false);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return found;
}

template <class T>
StatusOr<typename T::Model> GetRow(Pool& pool, const typename T::Key& key,
                                   const char* not_found = kEntryNotFound) {
  auto found = Find<T>(pool, key);
  if (!found.ok()) return found.status();
  if (!found.value()) return NotFound(not_found);
  return *found.value();
}

bool SameParams(const std::vector<Value>& a, size_t a_from, size_t a_to, const std::vector<Value>& b,
                size_t b_from, size_t b_to) {
  if (a_to - a_from != b_to - b_from) return false;
  for (size_t i = 0; i < a_to - a_from; ++i) {
    const Value& x = a[a_from + i];
    const Value& y = b[b_from + i];
    if (x.kind != y.kind || x.text != y.text || x.integer != y.integer) return false;
  }
  return true;
}

// UPDATE of updated_at and the data columns of the row `stored` whose values differ from it
// (the row as read under the same lock, so the row written equals `m` in every column). Leaving
// unchanged columns out of SET spares SQLite rewriting the index entries of those columns (it
// rewrites every index on a SET column, changed or not). The row is found by its id, read with
// it under that lock: a primary-key lookup instead of a search of the unique index on the key's
// text columns (nine of them for a task execution).
template <class T>
void AppendWrite(Sql& sql, const typename T::Model& m, const typename T::Model& stored) {
  const auto& cols = T::DataColumns();
  auto vals = T::DataValues(m);
  auto old_vals = T::DataValues(stored);
  Sql now_bound(sql.dialect()), old_bound(sql.dialect());
  sql << "UPDATE ";
  sql.Ident(T::kTable) << " SET \"updated_at\" = ";
  sql.BindTime(m.updated_at);
  for (size_t i = 0; i < cols.size(); ++i) {
    size_t a = now_bound.params().size(), b = old_bound.params().size();
    vals[i](now_bound);
    old_vals[i](old_bound);
    if (SameParams(now_bound.params(), a, now_bound.params().size(), old_bound.params(), b,
                   old_bound.params().size())) {
      continue;
    }
    sql << ", ";
    sql.Ident(cols[i]) << " = ";
    vals[i](sql);
  }
  (sql << " WHERE ").Ident(T::kTable) << ".\"id\" = ";
  sql.BindInt(stored.id);
}

template <class T>
int64_t WriteRow(Conn& conn, const typename T::Model& m, const typename T::Model& stored) {
  Sql sql(conn.dialect());
  AppendWrite<T>(sql, m, stored);
  return conn.Exec(sql.Cached());
}

// An event row written with an Update: its INSERT (skipped when an event of its key exists),
// and the DELETE that removes it again.
struct EventWrite {
  std::function<void(Sql&)> append_insert;
  std::function<void(Conn&)> remove;
};

Status EventExists() {
  return Status(plugin::StatusCode::kAlreadyExists,
                "value with matching already exists (an event of this phase is already recorded)");
}

// The read-modify-write of an Update: lock, mutate, then the event insert and the write back.
// Nothing is written when it fails with a status (a refused mutation, or an event of this key
// already recorded), so when it joins a grouped operation it needs no savepoint of its own.
// On PostgreSQL the event insert and the update are one statement (a data-modifying WITH whose
// UPDATE applies only when the insert did): one round trip fewer per event.
// With `check`, the row is read with the cluster of `execution` (UpdateChecked), and with
// `node_exists`, with whether `node` exists.
template <class T>
StatusOr<typename T::Model> MutateRow(Pool& pool, const typename T::Key& key,
                                      const std::function<Status(typename T::Model&)>& mutate,
                                      const std::optional<EventWrite>& event,
                                      const ExecutionClusterCheck* check = nullptr,
                                      const ExecutionKey* execution = nullptr, const NodeExecutionKey* node = nullptr,
                                      bool* node_exists = nullptr) {
  typename T::Model result;
  // Whether the node execution exists (a task execution's first event requires it) is read as
  // the operations on that node leave it: in a pipelined batch, one in flight on the node (its
  // first event, creating it) makes the batch run in key order, node first, as without one.
  if (node != nullptr && pool.InPipeline()) pool.ReadInPipeline(OrderKey<NodeExecutionTraits>(pool, *node));
  Status status = pool.RunGroupedAtomic(OrderKey<T>(pool, key), [&](Conn& conn) -> Status {
    std::optional<std::string> cluster;
    RowContext context;
    if (check) {
      context.execution = execution;
      context.cluster = &cluster;
    }
    if (node_exists) {
      context.node = node;
      context.node_exists = node_exists;
    }
    auto row = QueryRow<T>(conn, key, true, context);
    if (check) {
      if (!cluster) return NotFound(kEntryNotFound);
      // Judged whether the row exists or not: a first event's caller needs no read of its own.
      if (Status s = (*check)(*cluster); !s.ok()) return s;
    }
    if (!row) return NotFound(kEntryNotFound);
    typename T::Model m = *row;
    if (mutate) {
      if (Status s = mutate(m); !s.ok()) return s;
    }
    // Identity columns stay as read.
    m.id = row->id;
    m.key = row->key;
    m.created_at = row->created_at;
    m.updated_at = plugin::db::Now();
    if (event && conn.dialect() == Dialect::kPostgres) {
      Sql sql(conn.dialect());
      sql << "WITH \"flyte_event\" AS (";
      event->append_insert(sql);
      sql << " RETURNING 1) ";
      AppendWrite<T>(sql, m, *row);
      sql << " AND EXISTS (SELECT 1 FROM \"flyte_event\")";
      // The row is locked: no update means the event insert was skipped.
      if (conn.Exec(sql.Cached()) == 0) return EventExists();
    } else {
      if (event) {
        Sql insert(conn.dialect());
        event->append_insert(insert);
        if (conn.Exec(insert.Cached()) == 0) return EventExists();
      }
      if (WriteRow<T>(conn, m, *row) == 0) {
        if (event) event->remove(conn);
        return NotFound(kEntryNotFound);
      }
    }
    result = std::move(m);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return result;
}

Status ValidateListInput(const ListInput& input) {
  if (input.limit == 0) return InvalidArgument("missing and/or invalid parameters: limit");
  if (input.filters.empty()) return InvalidArgument("missing and/or invalid parameters: filters");
  return Status::Ok();
}

TableRef Ref(const std::string& table) { return TableRef{table, table, FindTable(table)}; }

// A table a list query joins when a filter names it.
struct JoinDef {
  std::string table;
  std::string clause;  // " INNER JOIN ... ON ..."
};

std::string OnKey(const std::string& a, const std::string& b,
                  const std::vector<std::string>& columns, const char* kind) {
  std::string out = std::string(" ") + kind + " JOIN " + QuoteIdent(b) + " ON ";
  for (size_t i = 0; i < columns.size(); ++i) {
    if (i) out += " AND ";
    out += QuoteIdent(a) + "." + QuoteIdent(columns[i]) + " = " + QuoteIdent(b) + "." +
           QuoteIdent(columns[i]);
  }
  return out;
}

// FROM <table> plus the joins of the tables `filters` reference; the tables filters may name.
template <class T>
std::vector<TableRef> AppendFrom(Sql& sql, const std::vector<Filter>& filters,
                                 const std::vector<JoinDef>& joins) {
  sql << " FROM " << QuoteIdent(T::kTable);
  std::vector<TableRef> refs = {Ref(T::kTable)};
  for (const JoinDef& j : joins) {
    refs.push_back(Ref(j.table));
    for (const Filter& f : filters) {
      if (f.table == j.table) {
        sql << j.clause;
        break;
      }
    }
  }
  return refs;
}

// Runs a query selecting SelectList<T>() and reads its rows. The statement is prepared once per
// connection: the executions table's many indexes make planning a list query cost more than
// running it (on SQLite, preparing took about a fifth of the server's time for a page of 25
// executions), and a list's text varies only with the shape of its filters.
template <class T>
StatusOr<std::vector<typename T::Model>> QueryModels(Pool& pool, Sql sql) {
  sql.Cached();
  std::vector<typename T::Model> out;
  Status status = pool.Run([&](Conn& conn) -> Status {
    for (auto& row : conn.Query(sql, SelectedColumns<T>().size())) {
      out.push_back(ReadRow<T>(conn.dialect(), row));
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return out;
}

template <class T>
StatusOr<std::vector<typename T::Model>> ListRows(Pool& pool, const ListInput& input,
                                                  const std::vector<JoinDef>& joins) {
  if (Status s = ValidateListInput(input); !s.ok()) return s;
  Sql sql(pool.dialect());
  sql << "SELECT " << SelectList<T>(sql.dialect());
  auto refs = AppendFrom<T>(sql, input.filters, joins);
  if (Status s = AppendFilters(sql, input.filters, refs, {}, " WHERE "); !s.ok()) return s;
  if (Status s = AppendSort(sql, input.sort, refs.front()); !s.ok()) return s;
  AppendLimitOffset(sql, input.limit, input.offset);
  return QueryModels<T>(pool, sql);
}

// PostgreSQL plans "newest executions of launch plan X" by walking the project's newest
// executions and discarding other plans' rows: thousands of rows for a plan with 1% of the runs.
// When every filter names the entity's table or one joined table whose rows the entity points
// to by id (`fk_column`), the same rows come out of: the joined table's matching ids, then for
// each id its newest `offset + limit` rows through the (fk_column, sort column) index, merged.
// Joining on a primary key never repeats a row, so the answer is the plain join's. nullopt when
// the request does not have that shape.
//
// SQLite has no LATERAL and plans the plain join by walking the project's newest rows: about a
// hundred rows per row listed for a plan with 1% of the project's runs. There the matching ids
// are read first, then that id's page (one id, the common case: it comes in index order) or each
// id's newest rows as a subquery of a UNION ALL, merged (at most kSqliteMaxJoinedIds of them,
// else the plain join), both read in one transaction.
constexpr size_t kSqliteMaxJoinedIds = 16;

// " FROM <table> WHERE <table>.<fk_column> = <id>" with the entity's own filters and the sort:
// one joined id's rows in the list's order. `id` appends the id (a parameter, or the lateral
// row's column).
template <class T>
Status AppendRowsOfId(Sql& sql, const std::string& fk_column, const std::function<void(Sql&)>& id,
                      const std::vector<Filter>& own, const ListInput& input) {
  const TableRef self = Ref(T::kTable);
  sql << " FROM " << QuoteIdent(T::kTable) << " WHERE " << QuoteIdent(T::kTable) << "." << QuoteIdent(fk_column)
      << " = ";
  id(sql);
  if (Status s = AppendFilters(sql, own, {self}, {}, " AND "); !s.ok()) return s;
  return AppendSort(sql, input.sort, self);
}

template <class T>
std::optional<StatusOr<std::vector<typename T::Model>>> ListThroughJoinedIdsSqlite(
    Pool& pool, const ListInput& input, const std::vector<Filter>& own, const std::vector<Filter>& joined,
    const std::string& join_table, const std::string& fk_column) {
  const TableRef self = Ref(T::kTable);
  Sql ids_sql(pool.dialect());
  ids_sql << "SELECT " << QuoteIdent(join_table) << ".\"id\" FROM " << QuoteIdent(join_table);
  if (Status s = AppendFilters(ids_sql, joined, {Ref(join_table)}, {}, " WHERE "); !s.ok()) return s;
  ids_sql << " ORDER BY " << QuoteIdent(join_table) << ".\"id\" LIMIT " << std::to_string(kSqliteMaxJoinedIds + 1);
  ids_sql.Cached();
  const uint64_t per_id = static_cast<uint64_t>(input.limit) + input.offset;
  bool too_many = false;
  std::vector<typename T::Model> out;
  Status status = pool.Run([&](Conn& conn) -> Status {
    // One snapshot for both reads (a transaction of the caller's already is one).
    const bool own_tx = !pool.InTransaction();
    if (own_tx) conn.ExecRepeated("BEGIN");
    struct End {
      Conn& conn;
      bool active;
      ~End() {
        if (!active) return;
        try {
          conn.ExecRepeated("COMMIT");
        } catch (...) {
        }
      }
    } end{conn, own_tx};
    std::vector<int64_t> ids;
    for (const auto& row : conn.Query(ids_sql, 1)) ids.push_back(IntOf(row[0]));
    if (ids.size() > kSqliteMaxJoinedIds) {
      too_many = true;
      return Status::Ok();
    }
    if (ids.empty()) return Status::Ok();
    Sql sql(pool.dialect());
    if (ids.size() == 1) {
      // One id: its rows come in the index's order, a page as they are.
      sql << "SELECT " << SelectList<T>(sql.dialect());
      auto bind = [&](Sql& q) { q.BindInt(ids[0]); };
      if (Status s = AppendRowsOfId<T>(sql, fk_column, bind, own, input); !s.ok()) return s;
    } else {
      sql << "SELECT " << SelectList<T>(sql.dialect()) << " FROM (";
      for (size_t i = 0; i < ids.size(); ++i) {
        if (i > 0) sql << " UNION ALL ";
        sql << "SELECT * FROM (SELECT " << QuoteIdent(T::kTable) << ".*";
        auto bind = [&](Sql& q) { q.BindInt(ids[i]); };
        if (Status s = AppendRowsOfId<T>(sql, fk_column, bind, own, input); !s.ok()) return s;
        sql << " LIMIT " << std::to_string(per_id) << ")";
      }
      sql << ") AS " << QuoteIdent(T::kTable);
      if (Status s = AppendSort(sql, input.sort, self); !s.ok()) return s;
    }
    AppendLimitOffset(sql, input.limit, input.offset);
    sql.Cached();
    for (auto& row : conn.Query(sql, SelectedColumns<T>().size())) out.push_back(ReadRow<T>(conn.dialect(), row));
    return Status::Ok();
  });
  if (!status.ok()) return status;
  if (too_many) return std::nullopt;
  return out;
}

template <class T>
std::optional<StatusOr<std::vector<typename T::Model>>> ListThroughJoinedIds(
    Pool& pool, const ListInput& input, const std::string& join_table,
    const std::string& fk_column) {
  const bool sqlite = pool.dialect() == Dialect::kSqlite;
  if (!input.sort || input.limit == 0 || input.offset > (sqlite ? 1000 : 100000)) {
    return std::nullopt;  // deep pages: the plain join
  }
  std::vector<Filter> own, joined;
  for (const Filter& f : input.filters) {
    if (f.table == T::kTable) {
      own.push_back(f);
    } else if (f.table == join_table) {
      joined.push_back(f);
    } else {
      return std::nullopt;
    }
  }
  if (joined.empty()) return std::nullopt;
  TableRef self = Ref(T::kTable);
  if (!FindColumn(*self.def, input.sort->column)) return std::nullopt;  // the plain path reports it
  if (sqlite) return ListThroughJoinedIdsSqlite<T>(pool, input, own, joined, join_table, fk_column);
  const std::string ids = "flyte_joined_ids";
  Sql sql(pool.dialect());
  sql << "SELECT " << SelectList<T>(sql.dialect()) << " FROM (SELECT " << QuoteIdent(join_table)
      << ".\"id\" FROM " << QuoteIdent(join_table);
  if (Status s = AppendFilters(sql, joined, {Ref(join_table)}, {}, " WHERE "); !s.ok()) return s;
  sql << ") AS " << QuoteIdent(ids) << " CROSS JOIN LATERAL (SELECT " << QuoteIdent(T::kTable) << ".*";
  auto lateral_id = [&](Sql& q) { q << QuoteIdent(ids) << ".\"id\""; };
  if (Status s = AppendRowsOfId<T>(sql, fk_column, lateral_id, own, input); !s.ok()) return s;
  // Each id's rows up to the page's end (in 64 bits: a limit near 2^32 must not wrap).
  sql << " LIMIT " << std::to_string(static_cast<uint64_t>(input.limit) + input.offset);
  sql << ") AS " << QuoteIdent(T::kTable);
  if (Status s = AppendSort(sql, input.sort, self); !s.ok()) return s;
  AppendLimitOffset(sql, input.limit, input.offset);
  return QueryModels<T>(pool, sql);
}

template <class T>
StatusOr<int64_t> CountRows(Pool& pool, const ListInput& input, const std::vector<JoinDef>& joins) {
  Sql sql(pool.dialect());
  sql << "SELECT COUNT(*)";
  auto refs = AppendFrom<T>(sql, input.filters, joins);
  if (Status s = AppendFilters(sql, input.filters, refs, {}, " WHERE "); !s.ok()) return s;
  int64_t count = 0;
  Status status = pool.Run([&](Conn& conn) -> Status {
    auto rows = conn.Query(sql, 1);
    if (!rows.empty()) count = IntOf(rows[0][0]);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return count;
}

// An event row: the owner's key columns and values, then request_id, occurred_at, phase.
template <class Event>
void AppendEventInsert(Sql& sql, const std::string& table, const std::vector<std::string>& key_columns,
                       std::vector<Binder> key_values, const Event& e) {
  Time now = plugin::db::Now();
  std::vector<std::string> cols = {"created_at", "updated_at"};
  std::vector<Binder> vals = {TimeV(now), TimeV(now)};
  cols.insert(cols.end(), key_columns.begin(), key_columns.end());
  for (auto& v : key_values) vals.push_back(std::move(v));
  cols.insert(cols.end(), {"request_id", "occurred_at", "phase"});
  vals.push_back(TextV(e.request_id));
  vals.push_back(TimeV(e.occurred_at));
  vals.push_back(TextV(e.phase));
  AppendInsert(sql, table, cols, vals, true);
}

// Inserts an event row unless one of its key exists; whether it did.
template <class Event>
bool InsertEvent(Conn& conn, const std::string& table, const std::vector<std::string>& key_columns,
                 std::vector<Binder> key_values, const Event& e) {
  Sql sql(conn.dialect());
  AppendEventInsert(sql, table, key_columns, std::move(key_values), e);
  return conn.Exec(sql.Cached()) > 0;
}

// DELETE of the event row of `phase` (undoing InsertEvent in the same transaction).
void DeleteEvent(Conn& conn, const std::string& table, const std::vector<std::string>& key_columns,
                 const std::vector<Binder>& key_values, const std::string& phase) {
  Sql sql(conn.dialect());
  sql << "DELETE FROM " << QuoteIdent(table);
  for (size_t i = 0; i < key_columns.size(); ++i) {
    sql << (i ? " AND " : " WHERE ") << QuoteIdent(key_columns[i]) << " = ";
    key_values[i](sql);
  }
  sql << " AND \"phase\" = ";
  sql.BindText(phase);
  conn.Exec(sql.Cached());
}

// The event write of an Update of a row of `T`.
template <class T, class Event>
EventWrite EventWriteOf(const std::string& table, const typename T::Key& key, const Event& e) {
  return EventWrite{
      [table, &key, &e](Sql& sql) { AppendEventInsert(sql, table, T::KeyColumns(), T::KeyValues(key), e); },
      [table, &key, &e](Conn& conn) {
        DeleteEvent(conn, table, T::KeyColumns(), T::KeyValues(key), e.phase);
      }};
}

// ---------------------------------------------------------------------------------------------
// Executions

class SqlExecutionRepo final : public ExecutionRepo {
 public:
  explicit SqlExecutionRepo(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Status Create(const ExecutionModel& execution,
                const std::vector<ExecutionTagModel>& tags) override {
    return pool_->RunGrouped(OrderKey<ExecutionTraits>(*pool_, execution.key), [&](Conn& conn) -> Status {
      Time now = plugin::db::Now();
      for (const ExecutionTagModel& tag : tags) {
        Insert(conn, "execution_tags",
               {"created_at", "updated_at", "execution_project", "execution_domain",
                "execution_name", "key", "value"},
               {TimeV(now), TimeV(now), TextV(execution.key.project), TextV(execution.key.domain),
                TextV(execution.key.name), TextV(tag.key), TextV(tag.value)});
      }
      InsertRow<ExecutionTraits>(conn, execution);
      return Status::Ok();
    });
  }

  StatusOr<ExecutionModel> Get(const ExecutionKey& key) override {
    return GetRow<ExecutionTraits>(*pool_, key);
  }

  StatusOr<std::string> GetCluster(const ExecutionKey& key) override {
    std::optional<std::string> cluster;
    bool found = false;
    Status status = pool_->Run([&](Conn& conn) -> Status {
      Sql sql(conn.dialect());
      sql << "SELECT " << QuoteIdent("cluster") << " FROM " << QuoteIdent(ExecutionTraits::kTable);
      WhereKey<ExecutionTraits>(sql, key);  // no LIMIT: see QueryRow
      auto rows = conn.Query(sql.Cached(), 1);
      if (rows.empty()) return Status::Ok();
      found = true;
      cluster = rows[0][0];
      return Status::Ok();
    });
    if (!status.ok()) return status;
    if (!found) return NotFound(kEntryNotFound);
    return cluster.value_or("");
  }

  StatusOr<std::vector<ExecutionModel>> List(const ListInput& input) override {
    if (Status s = ValidateListInput(input); !s.ok()) return s;
    for (const auto& [table, fk] : {std::pair<const char*, const char*>{"launch_plans", "launch_plan_id"},
                                    {"workflows", "workflow_id"}}) {
      if (auto rows = ListThroughJoinedIds<ExecutionTraits>(*pool_, input, table, fk)) {
        return std::move(*rows);
      }
    }
    return ListRows<ExecutionTraits>(*pool_, input, Joins());
  }

  StatusOr<int64_t> Count(const ListInput& input) override {
    return CountRows<ExecutionTraits>(*pool_, input, Joins());
  }

  StatusOr<ExecutionModel> Update(const ExecutionKey& key, const ExecutionMutation& mutate,
                                  const std::optional<ExecutionEventModel>& event) override {
    std::optional<EventWrite> write;
    if (event) write = EventWriteOf<ExecutionTraits>("execution_events", key, *event);
    return MutateRow<ExecutionTraits>(*pool_, key, mutate, write);
  }

 private:
  // Upstream's joins of ExecutionRepo.List (execution_tags on the execution name only).
  static const std::vector<JoinDef>& Joins() {
    static const std::vector<JoinDef> joins = {
        {"launch_plans",
         " INNER JOIN \"launch_plans\" ON \"executions\".\"launch_plan_id\" = "
         "\"launch_plans\".\"id\""},
        {"workflows",
         " INNER JOIN \"workflows\" ON \"executions\".\"workflow_id\" = \"workflows\".\"id\""},
        {"tasks", " INNER JOIN \"tasks\" ON \"executions\".\"task_id\" = \"tasks\".\"id\""},
        {"execution_tags",
         " INNER JOIN \"execution_tags\" ON \"executions\".\"execution_name\" = "
         "\"execution_tags\".\"execution_name\""}};
    return joins;
  }

  std::shared_ptr<Pool> pool_;
};

// ---------------------------------------------------------------------------------------------
// Node executions

const std::vector<std::string>& ExecKeyColumns() {
  static const std::vector<std::string> cols = {"execution_project", "execution_domain",
                                                "execution_name"};
  return cols;
}

class SqlNodeExecutionRepo final : public NodeExecutionRepo {
 public:
  explicit SqlNodeExecutionRepo(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Status Create(const NodeExecutionModel& node_execution,
                const std::optional<NodeExecutionEventModel>& event) override {
    // Writes nothing when the row or its event exists, so it joins a grouped operation without
    // a savepoint of its own.
    return pool_->RunGroupedAtomic(OrderKey<NodeExecutionTraits>(*pool_, node_execution.key),
                                   [&](Conn& conn) -> Status {
      const auto row_exists = [&] {
        return Status(plugin::StatusCode::kAlreadyExists,
                      "value with matching already exists (node execution " + node_execution.key.node_id +
                          " of execution " + node_execution.key.execution.name + ")");
      };
      const auto& key_columns = NodeExecutionTraits::KeyColumns();
      if (event && conn.dialect() == Dialect::kPostgres) {
        // Both inserts in one statement (one round trip fewer for a node's first event), each
        // reporting whether it wrote; what one wrote without the other is removed again, so
        // that nothing is written when this fails.
        Sql sql(conn.dialect());
        sql << "WITH \"flyte_new\" AS (";
        AppendInsertRow<NodeExecutionTraits>(sql, node_execution, true);
        sql << " RETURNING 1), \"flyte_event\" AS (";
        AppendEventInsert(sql, "node_execution_events", key_columns,
                          NodeExecutionTraits::KeyValues(node_execution.key), *event);
        sql << " RETURNING 1) SELECT (SELECT COUNT(*) FROM \"flyte_new\"), (SELECT COUNT(*) FROM \"flyte_event\")";
        auto rows = conn.Query(sql.Cached(), 2);
        const bool row_written = !rows.empty() && IntOf(rows[0][0]) > 0;
        const bool event_written = !rows.empty() && IntOf(rows[0][1]) > 0;
        if (!row_written) {
          if (event_written) {
            DeleteEvent(conn, "node_execution_events", key_columns,
                        NodeExecutionTraits::KeyValues(node_execution.key), event->phase);
          }
          return row_exists();
        }
        if (!event_written) {
          DeleteRow<NodeExecutionTraits>(conn, node_execution.key);
          return EventExists();
        }
        return Status::Ok();
      }
      if (InsertRow<NodeExecutionTraits>(conn, node_execution, true) == 0) return row_exists();
      if (event && !InsertEvent(conn, "node_execution_events", key_columns,
                                NodeExecutionTraits::KeyValues(node_execution.key), *event)) {
        DeleteRow<NodeExecutionTraits>(conn, node_execution.key);
        return EventExists();
      }
      return Status::Ok();
    });
  }

  StatusOr<NodeExecutionModel> Get(const NodeExecutionKey& key) override {
    return GetRow<NodeExecutionTraits>(*pool_, key);
  }

  StatusOr<bool> Exists(const NodeExecutionKey& key) override {
    return ExistsRow<NodeExecutionTraits>(*pool_, key);
  }

  StatusOr<std::vector<NodeExecutionModel>> List(const ListInput& input) override {
    return ListRows<NodeExecutionTraits>(*pool_, input, Joins());
  }

  StatusOr<int64_t> Count(const ListInput& input) override {
    return CountRows<NodeExecutionTraits>(*pool_, input, Joins());
  }

  StatusOr<NodeExecutionModel> Update(
      const NodeExecutionKey& key, const NodeExecutionMutation& mutate,
      const std::optional<NodeExecutionEventModel>& event) override {
    std::optional<EventWrite> write;
    if (event) write = EventWriteOf<NodeExecutionTraits>("node_execution_events", key, *event);
    return MutateRow<NodeExecutionTraits>(*pool_, key, mutate, write);
  }

  StatusOr<NodeExecutionModel> UpdateChecked(
      const NodeExecutionKey& key, const ExecutionClusterCheck& check,
      const NodeExecutionMutation& mutate,
      const std::optional<NodeExecutionEventModel>& event) override {
    std::optional<EventWrite> write;
    if (event) write = EventWriteOf<NodeExecutionTraits>("node_execution_events", key, *event);
    return MutateRow<NodeExecutionTraits>(*pool_, key, mutate, write, &check, &key.execution);
  }

 private:
  static const std::vector<JoinDef>& Joins() {
    static const std::vector<JoinDef> joins = {
        {"executions", OnKey("node_executions", "executions", ExecKeyColumns(), "INNER")}};
    return joins;
  }

  std::shared_ptr<Pool> pool_;
};

// ---------------------------------------------------------------------------------------------
// Task executions

class SqlTaskExecutionRepo final : public TaskExecutionRepo {
 public:
  explicit SqlTaskExecutionRepo(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Status Create(const TaskExecutionModel& task_execution) override {
    // Writes nothing when the row exists, so it joins a grouped operation without a savepoint.
    return pool_->RunGroupedAtomic(OrderKey<TaskExecutionTraits>(*pool_, task_execution.key),
                                   [&](Conn& conn) -> Status {
      if (InsertRow<TaskExecutionTraits>(conn, task_execution, true) == 0) {
        return Status(plugin::StatusCode::kAlreadyExists,
                      "value with matching already exists (task execution " + task_execution.key.task.name +
                          " attempt " + std::to_string(task_execution.key.retry_attempt) + " of node " +
                          task_execution.key.node_execution.node_id + ")");
      }
      return Status::Ok();
    });
  }

  StatusOr<TaskExecutionModel> Get(const TaskExecutionKey& key) override {
    return GetRow<TaskExecutionTraits>(*pool_, key);
  }

  StatusOr<bool> Exists(const TaskExecutionKey& key) override {
    return ExistsRow<TaskExecutionTraits>(*pool_, key);
  }

  StatusOr<std::vector<TaskExecutionModel>> List(const ListInput& input) override {
    return ListRows<TaskExecutionTraits>(*pool_, input, Joins());
  }

  StatusOr<int64_t> Count(const ListInput& input) override {
    return CountRows<TaskExecutionTraits>(*pool_, input, Joins());
  }

  StatusOr<TaskExecutionModel> Update(const TaskExecutionKey& key,
                                      const TaskExecutionMutation& mutate) override {
    return MutateRow<TaskExecutionTraits>(*pool_, key, mutate, std::nullopt);
  }

  StatusOr<TaskExecutionModel> UpdateChecked(const TaskExecutionKey& key,
                                             const ExecutionClusterCheck& check,
                                             const TaskExecutionMutation& mutate,
                                             bool* node_exists) override {
    return MutateRow<TaskExecutionTraits>(*pool_, key, mutate, std::nullopt, &check,
                                          &key.node_execution.execution, &key.node_execution, node_exists);
  }

 private:
  // Upstream's leftJoinTaskToTaskExec, innerJoinNodeExecToTaskExec, innerJoinExecToTaskExec.
  static const std::vector<JoinDef>& Joins() {
    static const std::vector<JoinDef> joins = {
        {"tasks", OnKey("task_executions", "tasks", {"project", "domain", "name", "version"},
                        "LEFT")},
        {"node_executions",
         OnKey("task_executions", "node_executions",
               {"node_id", "execution_project", "execution_domain", "execution_name"}, "INNER")},
        {"executions", OnKey("task_executions", "executions", ExecKeyColumns(), "INNER")}};
    return joins;
  }

  std::shared_ptr<Pool> pool_;
};

// ---------------------------------------------------------------------------------------------
// Signals

class SqlSignalRepo final : public SignalRepo {
 public:
  explicit SqlSignalRepo(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  StatusOr<SignalModel> GetOrCreate(const SignalModel& signal) override {
    std::optional<SignalModel> result;
    auto get_or_create = [&](Conn& conn) -> Status {
      // FirstOrCreate's condition is the key and the type; a row with the key and another
      // type is not found, and the insert then collides.
      Sql sql(conn.dialect());
      sql << "SELECT " << SelectList<SignalTraits>(conn.dialect()) << " FROM \"signals\"";
      WhereKey<SignalTraits>(sql, signal.key);
      sql << " AND \"signals\".\"type\" = ";
      sql.BindBytes(signal.type) << " LIMIT 1";
      auto rows = conn.Query(sql, SelectedColumns<SignalTraits>().size());
      if (!rows.empty()) {
        result = ReadRow<SignalTraits>(conn.dialect(), rows[0]);
        return Status::Ok();
      }
      InsertRow<SignalTraits>(conn, signal);
      result = QueryRow<SignalTraits>(conn, signal.key, false);
      return Status::Ok();
    };
    Status status = pool_->RunTx(get_or_create);
    // On PostgreSQL two first calls at once both find nothing, and the later insert collides
    // with the earlier one's row: asked again, it finds that row (or, for another type, collides
    // again and stays ALREADY_EXISTS).
    if (status.code() == plugin::StatusCode::kAlreadyExists) status = pool_->RunTx(get_or_create);
    if (!status.ok()) return status;
    if (!result) return NotFound(kSignalNotFound);
    return *result;
  }

  StatusOr<SignalModel> Get(const SignalKey& key) override {
    return GetRow<SignalTraits>(*pool_, key, kSignalNotFound);
  }

  StatusOr<std::vector<SignalModel>> List(const ListInput& input) override {
    return ListRows<SignalTraits>(*pool_, input, {});
  }

  Status Update(const SignalKey& key, const std::string& value) override {
    return pool_->RunTx([&](Conn& conn) -> Status {
      Sql sql(conn.dialect());
      sql << "UPDATE \"signals\" SET \"updated_at\" = ";
      sql.BindTime(plugin::db::Now()) << ", \"value\" = ";
      sql.BindBytes(value);
      WhereKey<SignalTraits>(sql, key);
      if (conn.Exec(sql) == 0) return NotFound(kSignalNotFound);
      return Status::Ok();
    });
  }

 private:
  std::shared_ptr<Pool> pool_;
};

// ---------------------------------------------------------------------------------------------
// Schedules of launch plans

class SqlSchedulableEntityRepo final : public SchedulableEntityRepo {
 public:
  explicit SqlSchedulableEntityRepo(std::shared_ptr<Pool> pool) : pool_(std::move(pool)) {}

  Status Activate(const SchedulableEntityModel& entity) override {
    return pool_->RunTx([&](Conn& conn) -> Status {
      // Upstream: the row with the key, else a new one as given; an existing row keeps its
      // schedule and only becomes active.
      if (InsertRow<SchedulableEntityTraits>(conn, entity, /*if_absent=*/true) > 0) return Status::Ok();
      SetActive(conn, entity.key, true);
      return Status::Ok();
    });
  }

  Status Deactivate(const EntityKey& key) override {
    return pool_->RunTx([&](Conn& conn) -> Status {
      SetActive(conn, key, false);
      return Status::Ok();
    });
  }

  StatusOr<SchedulableEntityModel> Get(const EntityKey& key) override {
    return GetRow<SchedulableEntityTraits>(*pool_, key);
  }

  StatusOr<std::vector<SchedulableEntityModel>> GetAll() override {
    Sql sql(pool_->dialect());
    sql << "SELECT " << SelectList<SchedulableEntityTraits>(sql.dialect())
        << " FROM \"schedulable_entities\" ORDER BY \"schedulable_entities\".\"id\"";
    return QueryModels<SchedulableEntityTraits>(*pool_, sql);
  }

 private:
  static void SetActive(Conn& conn, const EntityKey& key, bool active) {
    Sql sql(conn.dialect());
    sql << "UPDATE \"schedulable_entities\" SET \"updated_at\" = ";
    sql.BindTime(plugin::db::Now()) << ", \"active\" = ";
    BoolV(active)(sql);
    WhereKey<SchedulableEntityTraits>(sql, key);
    conn.Exec(sql);
  }

  std::shared_ptr<Pool> pool_;
};

}  // namespace

std::unique_ptr<ExecutionRepo> MakeExecutionRepo(std::shared_ptr<Pool> pool) {
  return std::make_unique<SqlExecutionRepo>(std::move(pool));
}
std::unique_ptr<NodeExecutionRepo> MakeNodeExecutionRepo(std::shared_ptr<Pool> pool) {
  return std::make_unique<SqlNodeExecutionRepo>(std::move(pool));
}
std::unique_ptr<TaskExecutionRepo> MakeTaskExecutionRepo(std::shared_ptr<Pool> pool) {
  return std::make_unique<SqlTaskExecutionRepo>(std::move(pool));
}
std::unique_ptr<SignalRepo> MakeSignalRepo(std::shared_ptr<Pool> pool) {
  return std::make_unique<SqlSignalRepo>(std::move(pool));
}
std::unique_ptr<SchedulableEntityRepo> MakeSchedulableEntityRepo(std::shared_ptr<Pool> pool) {
  return std::make_unique<SqlSchedulableEntityRepo>(std::move(pool));
}

}  // namespace flyte::core::db
