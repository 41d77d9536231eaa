// Turns the list grammar's Filter/Sort/limit/offset into SQL: columns are checked against the
// schema catalog and written as quoted, table-qualified identifiers; values are always bound
// parameters, cast to the column's type on both dialects.
#pragma once

#include <string>
#include <vector>

#include "connection.h"
#include "flyte/plugin/repositories.h"
#include "schema.h"

namespace flyte::core::db {

// A table a list query may filter on: `filter_table` is what Filter::table says, `sql_name`
// what the query calls it (a table or a subquery alias), `def` its columns.
struct TableRef {
  std::string filter_table;
  std::string sql_name;
  const TableDef* def;
};

struct FilterOptions {
  // Filters on this table/column compare COALESCE(<column>, 0) (named entity state).
  std::string coalesce_table;
  std::string coalesce_column;
  // Filters naming this table are rerouted to `reroute_to` for the listed columns.
  std::string reroute_from;
  std::string reroute_to;
  std::vector<std::string> reroute_columns;
  // Filters on tables not in the list but naming a column of the first table are applied to
  // it (description entities: upstream parses against the task/workflow/LP entity and applies
  // the column unqualified).
  std::vector<std::string> fold_tables;
};

// Appends "<prefix><cond> AND <cond> ..." for `filters` (nothing when empty). INVALID_ARGUMENT
// for an unknown table or column, an operator the column cannot take, or a wrong value count.
plugin::Status AppendFilters(Sql& sql, const std::vector<plugin::db::Filter>& filters,
                             const std::vector<TableRef>& tables, const FilterOptions& options,
                             std::string_view prefix);

// " ORDER BY <table>.<column> ASC|DESC", or nothing. INVALID_ARGUMENT for an unknown column.
plugin::Status AppendSort(Sql& sql, const std::optional<plugin::db::Sort>& sort,
                          const TableRef& table);

// " LIMIT n OFFSET m" (limit 0: no limit).
void AppendLimitOffset(Sql& sql, uint32_t limit, uint64_t offset);

// Column expression for reading: hex-encoded bytes on PostgreSQL, the column otherwise.
std::string ReadExpr(Dialect dialect, const std::string& table, const ColumnDef& column);

// Row value helpers.
int64_t IntOf(const std::optional<std::string>& v);
plugin::db::Time TimeOf(const std::optional<std::string>& v);
std::string TextOf(const std::optional<std::string>& v);
std::string BytesOf(Dialect dialect, const std::optional<std::string>& v);

}  // namespace flyte::core::db
