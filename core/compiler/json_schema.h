// JSON-schema comparisons for STRUCT types carrying a dataclass/BaseModel schema in metadata.
#pragma once

#include <google/protobuf/struct.pb.h>

namespace flyte::core::compiler {

// Upstream's isSameTypeInJSON: the two schemas are the same JSON document.
bool IsSameTypeInJson(const google::protobuf::Struct& source,
                      const google::protobuf::Struct& target);

// Upstream's isSuperTypeInJSON (jsonschema + json-schema-compare, ignoring "not implemented"
// findings): every value the source schema admits is admitted by the target schema. This is an
// approximation over the keywords mashumaro and pydantic emit: type (integer within number),
// required, properties, additionalProperties, items, prefixItems, enum/const, anyOf/oneOf/allOf
// and local $ref ("#/$defs/..", "#/definitions/.."); other keywords are ignored, as upstream
// ignores keywords its comparer does not implement.
bool IsSuperTypeInJson(const google::protobuf::Struct& source,
                       const google::protobuf::Struct& target);

}  // namespace flyte::core::compiler
