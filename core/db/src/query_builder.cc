// Filter, sort and paging SQL for the repositories' list queries.
#include "query_builder.h"

#include <algorithm>
#include <cctype>
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

// Days since 1970-01-01 of a proleptic Gregorian date, and back.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

void CivilFromDays(int64_t z, int64_t& y, int& m, int& d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const int64_t doe = z - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = yoe + era * 400 + (m <= 2);
}

// A time filter's value on SQLite, as the text the repositories store times in
// ("YYYY-MM-DD HH:MM:SS.ffffff+00:00", UTC, fixed width), so that the stored text compares as
// the times do, to the microsecond. Reads the ISO 8601 forms PostgreSQL reads: a date, then
// optionally 'T' or spaces and HH:MM[:SS[.fraction]], then optionally Z, UTC, GMT or an offset
// (+HH, +HH:MM, +HHMM); a time without a zone is UTC. Anything else is refused: SQLite would
// otherwise compare with NULL and match no row without a word.
std::optional<std::string> FilterTimeText(std::string_view text) {
  size_t pos = 0;
  const auto skip_blanks = [&] {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
  };
  const auto number = [&](size_t width, int64_t& out) {
    if (pos + width > text.size()) return false;
    int64_t v = 0;
    for (size_t i = 0; i < width; ++i) {
      const char c = text[pos + i];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    out = v;
    pos += width;
    return true;
  };
  const auto take = [&](char c) {
    if (pos < text.size() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  };
  skip_blanks();
  int64_t year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, micros = 0;
  if (!number(4, year) || !take('-') || !number(2, month) || !take('-') || !number(2, day)) {
    return std::nullopt;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (year < 1 || month < 1 || month > 12 || day < 1 ||
      day > kDays[month - 1] + (month == 2 && leap ? 1 : 0)) {
    return std::nullopt;
  }
  const size_t before_time = pos;
  if (pos < text.size() && (text[pos] == 'T' || text[pos] == 't')) {
    ++pos;
  } else {
    skip_blanks();
  }
  if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (!number(2, hour) || !take(':') || !number(2, minute)) return std::nullopt;
    if (take(':')) {
      if (!number(2, second)) return std::nullopt;
      if (take('.')) {
        // Rounded to the microsecond, as PostgreSQL rounds.
        int64_t scale = 100000;
        size_t digits = 0;
        bool round_up = false;
        while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
          if (digits < 6) {
            micros += (text[pos] - '0') * scale;
            scale /= 10;
          } else if (digits == 6) {
            round_up = text[pos] >= '5';
          }
          ++digits;
          ++pos;
        }
        if (digits == 0) return std::nullopt;
        if (round_up) ++micros;
      }
    }
    if (hour > 24 || minute > 59 || second > 60 ||
        (hour == 24 && (minute != 0 || second != 0 || micros != 0))) {
      return std::nullopt;
    }
  } else {
    pos = before_time;
  }
  skip_blanks();
  int64_t offset_seconds = 0;
  if (pos < text.size()) {
    const std::string_view rest = text.substr(pos);
    const auto zone_is = [&](std::string_view name) {
      if (rest.size() < name.size()) return false;
      for (size_t i = 0; i < name.size(); ++i) {
        if (std::toupper(static_cast<unsigned char>(rest[i])) != name[i]) return false;
      }
      return true;
    };
    if (zone_is("UTC") || zone_is("GMT")) {
      pos += 3;
    } else if (text[pos] == 'Z' || text[pos] == 'z') {
      ++pos;
    } else if (text[pos] == '+' || text[pos] == '-') {
      const int64_t sign = text[pos] == '+' ? 1 : -1;
      ++pos;
      int64_t oh = 0, om = 0;
      if (!number(2, oh)) return std::nullopt;
      if (take(':')) {
        if (!number(2, om)) return std::nullopt;
      } else if (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
        if (!number(2, om)) return std::nullopt;
      }
      if (oh > 15 || om > 59) return std::nullopt;
      offset_seconds = sign * (oh * 3600 + om * 60);
    }
  }
  skip_blanks();
  if (pos != text.size()) return std::nullopt;

  const int64_t total =
      (DaysFromCivil(year, static_cast<int>(month), static_cast<int>(day)) * 86400 + hour * 3600 +
       minute * 60 + second - offset_seconds) *
          1000000 +
      micros;
  int64_t days = total / 86400000000;
  int64_t rem = total % 86400000000;
  if (rem < 0) {
    rem += 86400000000;
    --days;
  }
  int64_t y = 0;
  int m = 0, d = 0;
  CivilFromDays(days, y, m, d);
  // The stored times all fall within 1677-2262; a year outside 1-9999 (an offset across the
  // ends) is clamped to them, which orders the same against every stored time.
  if (y < 1) return std::string("0001-01-01 00:00:00.000000+00:00");
  if (y > 9999) return std::string("9999-12-31 23:59:59.999999+00:00");
  std::string out = "0000-00-00 00:00:00.000000+00:00";
  const auto put = [&out](size_t at, int width, int64_t v) {
    for (int i = width - 1; i >= 0; --i) {
      out[at + i] = static_cast<char>('0' + v % 10);
      v /= 10;
    }
  };
  put(0, 4, y);
  put(5, 2, m);
  put(8, 2, d);
  put(11, 2, rem / 3600000000);
  put(14, 2, rem / 60000000 % 60);
  put(17, 2, rem / 1000000 % 60);
  put(20, 6, rem % 1000000);
  return out;
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
