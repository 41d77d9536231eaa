// Upstream FlyteAdmin's final schema (v1.16.5, as gorm builds it on PostgreSQL), one table per
// entry: columns with their types on both dialects, primary keys and named indexes. The DDL of
// the migrations and the column whitelist of list filters both come from here.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "connection.h"

namespace flyte::core::db {

// How a column's values are compared and cast.
enum class ValueClass { kText, kInteger, kTime, kBytes, kBool };

enum class ColType {
  kSerial,      // bigserial NOT NULL (sqlite: integer NOT NULL, assigned by the repositories)
  kSerialPk,    // bigserial, primary key (sqlite: integer PRIMARY KEY AUTOINCREMENT)
  kBigInt,      // bigint
  kInt,         // integer
  kText,        // text
  kVarchar32,   // varchar(32)
  kVarchar255,  // varchar(255) (sqlite: text, as gorm's sqlite driver)
  kVarchar300,  // varchar(300)
  kTime,        // timestamptz (sqlite: datetime)
  kBytes,       // bytea (sqlite: blob)
  kBool,        // boolean (sqlite: numeric)
};

struct ColumnDef {
  std::string name;
  ColType type;
  bool not_null = false;
  std::string default_value;  // SQL literal, e.g. "0"
  std::string added_by;       // migration id that adds it after the baseline ("" = baseline)
};

struct IndexDef {
  std::string name;
  std::vector<std::string> columns;
  bool unique = false;
  std::string where;     // partial index predicate
  std::string added_by;  // migration id that adds it after the baseline
};

struct TableDef {
  std::string name;
  std::vector<ColumnDef> columns;
  std::vector<std::string> primary_key;
  std::vector<IndexDef> indexes;
  std::string added_by;  // migration id that creates it after the baseline
};

// Every table of upstream's final schema except `migrations`.
const std::vector<TableDef>& Tables();
const TableDef* FindTable(std::string_view name);
const ColumnDef* FindColumn(const TableDef& table, std::string_view column);
ValueClass ClassOf(ColType type);

// Column type as it appears in CREATE TABLE / ALTER TABLE ADD COLUMN on the dialect.
std::string ColumnSql(const ColumnDef& column, Dialect dialect);
// CREATE TABLE [IF NOT EXISTS] with the columns and primary key (columns added by a later
// migration omitted when `baseline_only`).
std::string CreateTableSql(const TableDef& table, Dialect dialect, bool baseline_only,
                           bool if_not_exists);
std::string CreateIndexSql(const TableDef& table, const IndexDef& index, bool if_not_exists);

}  // namespace flyte::core::db
