// Filter, sort and paging SQL for the repositories' list queries.
#include "query_builder.h"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace flyte::core::db {

using plugin::InvalidArgument;
using plugin::Status;
using plugin::db::Filter;
using plugin::db::FilterOp;

namespace {

const char* OpName(FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
      return "equal";
    case FilterOp::kNe:
      return "not equal";
    case FilterOp::kGt:
      return "greater than";
    case FilterOp::kGte:
      return "greater than or equal";
    case FilterOp::kLt:
      return "less than";
    case FilterOp::kLte:
      return "less than or equal";
    case FilterOp::kContains:
      return "contains";
    case FilterOp::kNotLike:
      return "not like";
    case FilterOp::kValueIn:
      return "value in";
    case FilterOp::kValueNotIn:
      return "value not in";
    case FilterOp::kIsNull:
      return "is null";
  }
  return "";
}

const char* Comparison(FilterOp op) {
  switch (op) {
    case FilterOp::kEq:
      return " = ";
    case FilterOp::kNe:
      return " <> ";
    case FilterOp::kGt:
      return " > ";
    case FilterOp::kGte:
      return " >= ";
    case FilterOp::kLt:
      return " < ";
    case FilterOp::kLte:
      return " <= ";
    default:
      return nullptr;
  }
}

// Whether PostgreSQL reads `value` as an integer (blanks around an optionally signed run of
// digits) that fits in 64 bits. SQLite's CAST would read any other text as some number
// ("abc" as 0, "1x" as 1), so such a value is refused on both databases.
bool IsIntegerText(std::string_view value) {
  const size_t begin = value.find_first_not_of(" \t\n\r\f\v");
  if (begin == std::string_view::npos) return false;
  const size_t end = value.find_last_not_of(" \t\n\r\f\v") + 1;
  std::string_view digits = value.substr(begin, end - begin);
  // from_chars takes a '-' but no '+'.
  if (digits.front() == '+') {
    digits.remove_prefix(1);
    if (digits.empty() || digits.front() == '-') return false;
  }
  int64_t parsed = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), parsed);
  return ec == std::errc() && ptr == digits.data() + digits.size();
}

// A time filter's value on SQLite, as the text the repositories store times in (FormatTime's
// fixed-width UTC), so that the stored text compares as the times do, to the microsecond.
// Anything ParseIsoTimeMicros refuses is refused: SQLite would otherwise compare with NULL and
// match no row without a word.
std::optional<std::string> FilterTimeText(std::string_view text) {
  auto micros = ParseIsoTimeMicros(text);
  if (!micros) return std::nullopt;
  return FormatUtcMicros(*micros);
}

// Appends the placeholder of `value`, cast to the column's class.
void BindValue(Sql& sql, ValueClass cls, const std::string& value) {
  const bool pg = sql.dialect() == Dialect::kPostgres;
  switch (cls) {
    case ValueClass::kText:
      sql.BindText(value);
      break;
    case ValueClass::kInteger:
      sql << "CAST(";
      sql.BindText(value) << (pg ? " AS bigint)" : " AS INTEGER)");
      break;
    case ValueClass::kTime:
      if (pg) {
        sql << "CAST(";
        sql.BindText(value) << " AS timestamptz)";
      } else {
        sql.BindText(value);  // already FilterTimeText's
      }
      break;
    case ValueClass::kBytes:
      if (pg) {
        sql << "convert_to(";
        sql.BindText(value) << ", 'UTF8')";
      } else {
        sql << "CAST(";
        sql.BindText(value) << " AS BLOB)";
      }
      break;
    case ValueClass::kBool:
      sql << "CAST(";
      sql.BindText(value) << (pg ? " AS boolean)" : " AS INTEGER)");
      break;
  }
}

std::string EscapeLike(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '%' || c == '_') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

}  // namespace

Status AppendFilters(Sql& sql, const std::vector<Filter>& filters,
                     const std::vector<TableRef>& tables, const FilterOptions& options,
                     std::string_view prefix) {
  bool first = true;
  for (const Filter& f : filters) {
    std::string table = f.table;
    if (!options.reroute_from.empty() && table == options.reroute_from &&
        std::find(options.reroute_columns.begin(), options.reroute_columns.end(), f.column) !=
            options.reroute_columns.end()) {
      table = options.reroute_to;
    }
    const TableRef* ref = nullptr;
    for (const TableRef& t : tables) {
      if (t.filter_table == table) ref = &t;
    }
    if (!ref && !tables.empty() &&
        std::find(options.fold_tables.begin(), options.fold_tables.end(), table) !=
            options.fold_tables.end()) {
      ref = &tables.front();
    }
    if (!ref) {
      return InvalidArgument("unrecognized entity in filter expression: " + f.table);
    }
    const ColumnDef* col = FindColumn(*ref->def, f.column);
    if (!col) {
      return InvalidArgument("'" + f.table + "." + f.column + "' is invalid filter");
    }
    ValueClass cls = ClassOf(col->type);
    std::string column = QuoteIdent(ref->sql_name) + "." + QuoteIdent(col->name);
    if (table == options.coalesce_table && f.column == options.coalesce_column) {
      column = "COALESCE(" + column + ", 0)";
    }
    const bool repeated = f.op == FilterOp::kValueIn || f.op == FilterOp::kValueNotIn;
    if (f.op == FilterOp::kIsNull) {
      if (!f.values.empty()) return InvalidArgument("invalid null filter expression: is null");
      sql << (first ? prefix : std::string_view(" AND "));
      first = false;
      sql << "(" << QuoteIdent(ref->sql_name) << "." << QuoteIdent(col->name) << " IS NULL)";
      continue;
    }
    if (f.values.empty() || (!repeated && f.values.size() != 1)) {
      return InvalidArgument(std::string(repeated ? "invalid repeated value filter expression: "
                                                  : "invalid single value filter expression: ") +
                             OpName(f.op));
    }
    const bool like = f.op == FilterOp::kContains || f.op == FilterOp::kNotLike;
    if (cls == ValueClass::kInteger && !like) {
      for (const std::string& v : f.values) {
        if (!IsIntegerText(v)) {
          return InvalidArgument("invalid value '" + v + "' for filter on '" + f.column +
                                 "': an integer is expected");
        }
      }
    }
    if (like && cls != ValueClass::kText) {
      return InvalidArgument(std::string("filter '") + OpName(f.op) + "' cannot apply to '" +
                             f.table + "." + f.column + "'");
    }
    std::vector<std::string> sqlite_times;
    if (cls == ValueClass::kTime && sql.dialect() == Dialect::kSqlite && !like) {
      for (const std::string& v : f.values) {
        auto text = FilterTimeText(v);
        if (!text) {
          return InvalidArgument("invalid value '" + v + "' for filter on '" + f.column +
                                 "': a time is expected, such as 2024-01-31T12:00:00Z");
        }
        sqlite_times.push_back(std::move(*text));
      }
    }
    const std::vector<std::string>& values = sqlite_times.empty() ? f.values : sqlite_times;

    sql << (first ? prefix : std::string_view(" AND "));
    first = false;
    sql << "(" << column;
    if (const char* cmp = Comparison(f.op)) {
      sql << cmp;
      BindValue(sql, cls, values[0]);
    } else if (f.op == FilterOp::kContains) {
      sql << " LIKE ";
      sql.BindText("%" + EscapeLike(f.values[0]) + "%") << " ESCAPE '\\'";
    } else if (f.op == FilterOp::kNotLike) {
      sql << " NOT LIKE ";
      sql.BindText(f.values[0]);
    } else {
      sql << (f.op == FilterOp::kValueIn ? " IN (" : " NOT IN (");
      for (size_t i = 0; i < values.size(); ++i) {
        if (i) sql << ", ";
        BindValue(sql, cls, values[i]);
      }
      sql << ")";
    }
    sql << ")";
  }
  return Status::Ok();
}

Status AppendSort(Sql& sql, const std::optional<plugin::db::Sort>& sort, const TableRef& table) {
  if (!sort) return Status::Ok();
  const ColumnDef* col = FindColumn(*table.def, sort->column);
  if (!col) return InvalidArgument("invalid sort key '" + sort->column + "'");
  sql << " ORDER BY " << QuoteIdent(table.sql_name) << "." << QuoteIdent(col->name)
      << (sort->ascending ? " ASC" : " DESC");
  return Status::Ok();
}

void AppendLimitOffset(Sql& sql, uint32_t limit, uint64_t offset) {
  if (limit > 0) {
    sql << " LIMIT " << std::to_string(limit);
  } else if (offset > 0 && sql.dialect() == Dialect::kSqlite) {
    sql << " LIMIT -1";
  }
  if (offset > 0) sql << " OFFSET " << std::to_string(offset);
}

std::string ReadExpr(Dialect dialect, const std::string& table, const ColumnDef& column) {
  std::string expr = QuoteIdent(table) + "." + QuoteIdent(column.name);
  if (dialect == Dialect::kPostgres && column.type == ColType::kBytes) {
    return "encode(" + expr + ", 'hex')";
  }
  return expr;
}

int64_t IntOf(const std::optional<std::string>& v) {
  if (!v || v->empty()) return 0;
  try {
    return std::stoll(*v);
  } catch (...) {
    return 0;
  }
}

plugin::db::Time TimeOf(const std::optional<std::string>& v) {
  if (!v) return {};
  auto t = ParseTime(*v);
  return t ? *t : plugin::db::Time{};
}

std::string TextOf(const std::optional<std::string>& v) { return v.value_or(""); }

std::string BytesOf(Dialect dialect, const std::optional<std::string>& v) {
  if (!v) return "";
  return dialect == Dialect::kPostgres ? HexDecode(*v) : *v;
}

}  // namespace flyte::core::db
