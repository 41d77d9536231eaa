// AreTypesCastable and LiteralTypeForLiteral tables (upstream validators/typing.go, utils.go).
#include "flyte/core/compiler/typing.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "compiler_test_util.h"
#include "flyte/core/compiler/compiler.h"
#include "flyte/plugin/go_compat.h"

using compiler_test::Parse;
using flyte::core::compiler::AreTypesCastable;
using flyte::plugin::GoProtoText;
using flyteidl::core::Literal;
using flyteidl::core::LiteralType;

namespace {

struct CastCase {
  const char* name;
  std::string upstream;
  std::string downstream;
  bool castable;
};

const std::string kSdParquet = "structured_dataset_type { format: \"parquet\" }";

// A dataclass schema: properties with their JSON types, and the required names.
std::string Schema(const std::vector<std::pair<std::string, std::string>>& props,
                   const std::vector<std::string>& required) {
  std::string fields;
  for (const auto& [name, type] : props) {
    fields += "fields { key: \"" + name +
              "\" value { struct_value { fields { key: \"type\" value { "
              "string_value: \"" +
              type + "\" } } } } } ";
  }
  std::string req;
  for (const auto& r : required) req += "values { string_value: \"" + r + "\" } ";
  return "simple: STRUCT metadata { fields { key: \"type\" value { string_value: \"object\" } } "
         "fields { key: \"properties\" value { struct_value { " +
         fields +
         "} } } "
         "fields { key: \"required\" value { list_value { " +
         req + "} } } }";
}

}  // namespace

TEST_CASE("AreTypesCastable follows upstream's table", "[unit]") {
  const std::vector<CastCase> cases = {
      {"same simple", "simple: INTEGER", "simple: INTEGER", true},
      {"no int to float widening", "simple: INTEGER", "simple: FLOAT", false},
      {"float to int", "simple: FLOAT", "simple: INTEGER", false},
      {"none to int", "simple: NONE", "simple: INTEGER", false},
      {"none to none", "simple: NONE", "simple: NONE", true},
      {"int to none", "simple: INTEGER", "simple: NONE", false},
      {"datetime is not a string", "simple: DATETIME", "simple: STRING", false},
      {"metadata ignored",
       "simple: INTEGER metadata { fields { key: \"a\" value { string_value: \"b\" } } }",
       "simple: INTEGER", true},
      {"annotation ignored", "simple: INTEGER annotation { }", "simple: INTEGER", true},
      {"enum to string", "enum_type { values: \"a\" }", "simple: STRING", true},
      {"string to enum", "simple: STRING", "enum_type { values: \"a\" }", true},
      {"same enum", "enum_type { values: \"a\" values: \"b\" }",
       "enum_type { values: \"a\" values: \"b\" }", true},
      {"enum values in another order", "enum_type { values: \"b\" values: \"a\" }",
       "enum_type { values: \"a\" values: \"b\" }", false},
      {"different tags", "simple: INTEGER structure { tag: \"x\" }",
       "simple: INTEGER structure { tag: \"y\" }", false},
      {"untagged upstream", "simple: INTEGER", "simple: INTEGER structure { tag: \"y\" }", true},
      // Unions.
      {"int to union with int", "simple: INTEGER",
       "union_type { variants { simple: INTEGER } variants { simple: STRING } }", true},
      {"int to ambiguous union", "simple: INTEGER",
       "union_type { variants { simple: INTEGER structure { tag: \"a\" } } variants { simple: "
       "INTEGER "
       "structure { tag: \"b\" } } }",
       false},
      {"union subset to union", "union_type { variants { simple: INTEGER } }",
       "union_type { variants { simple: INTEGER } variants { simple: STRING } }", true},
      {"union superset to union",
       "union_type { variants { simple: INTEGER } variants { simple: STRING } variants { simple: "
       "FLOAT } }",
       "union_type { variants { simple: INTEGER } variants { simple: STRING } }", false},
      {"single-variant union to its variant", "union_type { variants { simple: INTEGER } }",
       "simple: INTEGER", true},
      {"union to scalar", "union_type { variants { simple: INTEGER } variants { simple: STRING } }",
       "simple: INTEGER", false},
      {"none to optional", "simple: NONE",
       "union_type { variants { simple: INTEGER } variants { simple: NONE } }", true},
      // Collections and maps.
      {"list of int", "collection_type { simple: INTEGER }", "collection_type { simple: INTEGER }",
       true},
      {"empty list to any list", "collection_type { simple: NONE }",
       "collection_type { simple: STRING }", true},
      {"list of int to list of float", "collection_type { simple: INTEGER }",
       "collection_type { simple: FLOAT }", false},
      {"list to scalar", "collection_type { simple: INTEGER }", "simple: INTEGER", false},
      {"nesting levels differ", "collection_type { simple: INTEGER }",
       "collection_type { collection_type { simple: INTEGER } }", false},
      {"list of int to list of optional int", "collection_type { simple: INTEGER }",
       "collection_type { union_type { variants { simple: INTEGER } variants { simple: NONE } } }",
       true},
      {"map of int", "map_value_type { simple: INTEGER }", "map_value_type { simple: INTEGER }",
       true},
      {"empty map to any map", "map_value_type { simple: NONE }",
       "map_value_type { simple: FLOAT }", true},
      {"map to list", "map_value_type { simple: INTEGER }", "collection_type { simple: INTEGER }",
       false},
      {"map of int to map of map", "map_value_type { simple: INTEGER }",
       "map_value_type { map_value_type { simple: INTEGER } }", false},
      // Blobs.
      {"generic blobs", "blob { }", "blob { }", true},
      {"format to generic", "blob { format: \"csv\" }", "blob { }", true},
      {"generic to format", "blob { }", "blob { format: \"csv\" }", true},
      {"same format, other dimensionality", "blob { format: \"csv\" dimensionality: MULTIPART }",
       "blob { format: \"csv\" }", true},
      {"formats differ", "blob { format: \"csv\" }", "blob { format: \"CSV\" }", false},
      {"none to blob", "simple: NONE", "blob { }", false},
      // Schemas.
      {"generic schemas", "schema { }", "schema { }", true},
      {"typed to generic schema", "schema { columns { name: \"a\" type: INTEGER } }", "schema { }",
       true},
      {"generic to typed schema", "schema { }", "schema { columns { name: \"a\" type: INTEGER } }",
       true},
      {"superset to subset schema",
       "schema { columns { name: \"a\" type: INTEGER } columns { name: \"b\" type: STRING } }",
       "schema { columns { name: \"a\" type: INTEGER } }", true},
      {"subset to superset schema", "schema { columns { name: \"a\" type: INTEGER } }",
       "schema { columns { name: \"a\" type: INTEGER } columns { name: \"b\" type: STRING } }",
       false},
      {"schema column types differ", "schema { columns { name: \"a\" type: INTEGER } }",
       "schema { columns { name: \"a\" type: FLOAT } }", false},
      {"parquet dataset to schema",
       "structured_dataset_type { format: \"Parquet\" columns { name: \"a\" literal_type { simple: "
       "INTEGER } } }",
       "schema { columns { name: \"a\" type: INTEGER } }", true},
      {"csv dataset to schema", "structured_dataset_type { format: \"csv\" }", "schema { }", false},
      {"none to schema", "simple: NONE", "schema { }", false},
      // Structured datasets.
      {"generic datasets", "structured_dataset_type { }", "structured_dataset_type { }", true},
      {"none to dataset", "simple: NONE", kSdParquet, true},
      {"format to empty format", kSdParquet, "structured_dataset_type { }", true},
      {"formats differ in case only", "structured_dataset_type { format: \"PARQUET\" }", kSdParquet,
       true},
      {"formats differ", "structured_dataset_type { format: \"csv\" }", kSdParquet, false},
      {"superset to subset columns",
       "structured_dataset_type { columns { name: \"a\" literal_type { simple: INTEGER } } columns "
       "{ name: "
       "\"b\" literal_type { simple: STRING } } }",
       "structured_dataset_type { columns { name: \"a\" literal_type { simple: INTEGER } } }",
       true},
      {"subset to superset columns",
       "structured_dataset_type { columns { name: \"a\" literal_type { simple: INTEGER } } }",
       "structured_dataset_type { columns { name: \"a\" literal_type { simple: INTEGER } } columns "
       "{ name: "
       "\"b\" literal_type { simple: STRING } } }",
       false},
      {"column types differ",
       "structured_dataset_type { columns { name: \"a\" literal_type { simple: INTEGER } } }",
       "structured_dataset_type { columns { name: \"a\" literal_type { simple: FLOAT } } }", false},
      {"schema to dataset", "schema { columns { name: \"a\" type: INTEGER } }",
       "structured_dataset_type { columns { name: \"a\" literal_type { simple: INTEGER } } }",
       true},
      {"schema to csv dataset", "schema { }", "structured_dataset_type { format: \"csv\" }", false},
      {"int to dataset", "simple: INTEGER", kSdParquet, false},
      // Generic structs and dataclasses.
      {"struct to struct", "simple: STRUCT", "simple: STRUCT", true},
      {"struct without schema", Schema({{"a", "integer"}}, {"a"}), "simple: STRUCT", true},
      {"same dataclass", Schema({{"a", "integer"}}, {"a"}), Schema({{"a", "integer"}}, {"a"}),
       true},
      {"child to parent dataclass", Schema({{"a", "integer"}, {"b", "string"}}, {"a", "b"}),
       Schema({{"a", "integer"}}, {"a"}), true},
      {"parent to child dataclass", Schema({{"a", "integer"}}, {"a"}),
       Schema({{"a", "integer"}, {"b", "string"}}, {"a", "b"}), false},
      {"different dataclasses", Schema({{"b", "integer"}}, {"b"}), Schema({{"d", "string"}}, {"d"}),
       false},
      {"field types differ", Schema({{"a", "string"}}, {"a"}), Schema({{"a", "integer"}}, {"a"}),
       false},
      {"struct to int", "simple: STRUCT", "simple: INTEGER", false},
      {"binary to struct", "simple: BINARY", "simple: STRUCT", false},
  };
  for (const auto& c : cases) {
    INFO(c.name << ": " << c.upstream << " -> " << c.downstream);
    CHECK(AreTypesCastable(Parse<LiteralType>(c.upstream), Parse<LiteralType>(c.downstream)) ==
          c.castable);
  }
}

TEST_CASE("LiteralTypeForLiteral infers upstream's types", "[unit]") {
  struct InferCase {
    const char* name;
    std::string literal;
    std::string type;  // empty: unknown
  };
  const std::vector<InferCase> cases = {
      {"integer", "scalar { primitive { integer: 1 } }", "simple: INTEGER"},
      {"float", "scalar { primitive { float_value: 1.5 } }", "simple: FLOAT"},
      {"string", "scalar { primitive { string_value: \"a\" } }", "simple: STRING"},
      {"boolean", "scalar { primitive { boolean: true } }", "simple: BOOLEAN"},
      {"datetime", "scalar { primitive { datetime { seconds: 1 } } }", "simple: DATETIME"},
      {"duration", "scalar { primitive { duration { seconds: 1 } } }", "simple: DURATION"},
      {"empty primitive", "scalar { primitive { } }", "simple: NONE"},
      {"blob", "scalar { blob { metadata { type { format: \"csv\" } } uri: \"s3://x\" } }",
       "blob { format: \"csv\" }"},
      {"blob without metadata", "scalar { blob { uri: \"s3://x\" } }", ""},
      {"msgpack binary", "scalar { binary { value: \"x\" tag: \"msgpack\" } }", "simple: STRUCT"},
      {"raw binary", "scalar { binary { value: \"x\" } }", "simple: BINARY"},
      {"schema",
       "scalar { schema { uri: \"s3://x\" type { columns { name: \"a\" type: INTEGER } } } }",
       "schema { columns { name: \"a\" type: INTEGER } }"},
      {"dataset without metadata", "scalar { structured_dataset { uri: \"s3://x\" } }",
       "structured_dataset_type { }"},
      {"dataset",
       "scalar { structured_dataset { metadata { structured_dataset_type { format: \"parquet\" } } "
       "} }",
       kSdParquet},
      {"none", "scalar { none_type { } }", "simple: NONE"},
      {"error", "scalar { error { message: \"x\" } }", "simple: ERROR"},
      {"generic", "scalar { generic { } }", "simple: STRUCT"},
      {"union",
       "scalar { union { value { scalar { primitive { integer: 1 } } } type { simple: INTEGER } } "
       "}",
       "union_type { variants { simple: INTEGER } }"},
      {"empty scalar", "scalar { }", ""},
      {"empty literal", "", ""},
      {"empty list", "collection { }", "collection_type { simple: NONE }"},
      {"homogeneous list",
       "collection { literals { scalar { primitive { integer: 1 } } } literals { scalar { "
       "primitive { integer: 2 } } } }",
       "collection_type { simple: INTEGER }"},
      {"mixed list becomes a sorted union",
       "collection { literals { scalar { primitive { string_value: \"a\" } } } literals { scalar { "
       "primitive { "
       "integer: 2 } } } literals { scalar { primitive { string_value: \"b\" } } } }",
       "collection_type { union_type { variants { simple: INTEGER } variants { simple: STRING } } "
       "}"},
      {"list of unions",
       "collection { literals { scalar { union { value { scalar { primitive { integer: 1 } } } "
       "type { simple: "
       "INTEGER } } } } literals { scalar { union { value { scalar { primitive { string_value: "
       "\"x\" } } } type "
       "{ simple: STRING } } } } }",
       "collection_type { union_type { variants { union_type { variants { simple: INTEGER } } } "
       "variants { "
       "union_type { variants { simple: STRING } } } } }"},
      {"nested list with an empty list",
       "collection { literals { collection { literals { scalar { primitive { string_value: \"a\" } "
       "} } } } "
       "literals { collection { } } }",
       "collection_type { collection_type { simple: STRING } }"},
      {"only empty nested lists", "collection { literals { collection { } } }",
       "collection_type { collection_type { simple: NONE } }"},
      {"nested lists of different types flatten into one union",
       "collection { literals { collection { literals { scalar { primitive { integer: 1 } } } "
       "literals { scalar "
       "{ primitive { string_value: \"a\" } } } } } literals { collection { literals { scalar { "
       "primitive { "
       "boolean: true } } } literals { scalar { primitive { integer: 3 } } } } } }",
       "collection_type { collection_type { union_type { variants { simple: BOOLEAN } variants { "
       "simple: "
       "INTEGER } variants { simple: INTEGER } variants { simple: STRING } } } }"},
      {"map", "map { literals { key: \"a\" value { scalar { primitive { integer: 1 } } } } }",
       "map_value_type { simple: INTEGER }"},
      {"empty map", "map { }", "map_value_type { simple: NONE }"},
      {"offloaded",
       "offloaded_metadata { uri: \"s3://x\" inferred_type { collection_type { simple: INTEGER } } "
       "}",
       "collection_type { simple: INTEGER }"},
      {"offloaded without type", "offloaded_metadata { uri: \"s3://x\" }", ""},
  };
  for (const auto& c : cases) {
    INFO(c.name << ": " << c.literal);
    auto type = flyte::core::compiler::LiteralTypeForLiteral(Parse<Literal>(c.literal));
    if (c.type.empty()) {
      CHECK_FALSE(type.has_value());
    } else {
      REQUIRE(type.has_value());
      CHECK(GoProtoText(*type) == GoProtoText(Parse<LiteralType>(c.type)));
    }
  }
  auto compiler = flyte::core::compiler::MakeWorkflowCompiler();
  auto unknown = compiler->LiteralTypeForLiteral(Literal());
  REQUIRE_FALSE(unknown.ok());
  CHECK(unknown.status().code() == flyte::plugin::StatusCode::kInvalidArgument);
  CHECK(compiler->LiteralTypeForLiteral(Parse<Literal>("scalar { primitive { integer: 1 } }"))
            ->simple() == flyteidl::core::INTEGER);
}

TEST_CASE("Types print as Go's proto text and STRUCTs in upstream's own form", "[unit]") {
  using flyte::core::compiler::LiteralTypeToStr;
  CHECK(GoProtoText(Parse<LiteralType>("collection_type { simple: INTEGER } metadata { }")) ==
        "collection_type:{simple:INTEGER} metadata:{}");
  CHECK(GoProtoText(Parse<LiteralType>(
            "union_type { variants { simple: NONE } variants { blob { format: \"a\\\"b\" } } }")) ==
        "union_type:{variants:{simple:NONE} variants:{blob:{format:\"a\\\"b\"}}}");
  CHECK(GoProtoText(Parse<flyteidl::core::Identifier>(
            "resource_type: TASK project: \"p\" name: \"n\" org: \"o\"")) ==
        "resource_type:TASK project:\"p\" name:\"n\" org:\"o\"");
  CHECK(GoProtoText(Parse<flyteidl::core::Primitive>("float_value: 1500000")) == "float_value:1.5e+06");
  CHECK(GoProtoText(Parse<flyteidl::core::Primitive>("float_value: 0.25")) == "float_value:0.25");
  CHECK(GoProtoText(Parse<flyteidl::core::Primitive>("float_value: 0.00001")) == "float_value:1e-05");
  CHECK(GoProtoText(Parse<flyteidl::core::Primitive>("float_value: 123456")) == "float_value:123456");
  CHECK(LiteralTypeToStr(nullptr) == "None");
  auto dc = Parse<LiteralType>(
      "simple: STRUCT structure { dataclass_type { key: \"b\" value { simple: STRING } } "
      "dataclass_type { "
      "key: \"a\" value { simple: INTEGER } } }");
  CHECK(LiteralTypeToStr(&dc) ==
        "simple: STRUCT structure{dataclass_type:{key:a value:{simple:INTEGER}, "
        "dataclass_type:{key:b "
        "value:{simple:STRING}}");
}
