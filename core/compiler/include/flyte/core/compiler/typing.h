// Type rules of the compiler (upstream validators/typing.go and utils.go): castability and the
// type inferred for a literal.
#pragma once

#include <optional>
#include <string>

#include "flyteidl/core/interface.pb.h"
#include "flyteidl/core/literals.pb.h"
#include "flyteidl/core/types.pb.h"

namespace flyte::core::compiler {

// Whether a value of the upstream type may be bound to an input of the downstream type.
bool AreTypesCastable(const flyteidl::core::LiteralType& upstream,
                      const flyteidl::core::LiteralType& downstream);

// The type upstream infers for a literal; nullopt where upstream returns nil (unknown value).
// A nested unknown type (e.g. an element of a collection) is an empty LiteralType.
std::optional<flyteidl::core::LiteralType> LiteralTypeForLiteral(
    const flyteidl::core::Literal& literal);
std::optional<flyteidl::core::LiteralType> LiteralTypeForScalar(
    const flyteidl::core::Scalar& scalar);
flyteidl::core::LiteralType LiteralTypeForPrimitive(const flyteidl::core::Primitive& primitive);

// Upstream's ValidateLiteralType: the error text for a nil type (recursing through collection
// and map value types), or nullopt when the type is known.
std::optional<std::string> ValidateLiteralType(const flyteidl::core::LiteralType* type);

// How upstream prints a type in error messages ("None" for nil; STRUCT types in a custom form).
std::string LiteralTypeToStr(const flyteidl::core::LiteralType* type);

// A union with a variant whose simple type is NONE (which upstream's check also matches for any
// non-simple variant, since it reads the simple field's zero value).
bool IsOptionalType(const flyteidl::core::Variable& variable);

// The primitive/scalar type names Go's reflection prints for a scalar's value
// ("*core.Scalar_Blob").
std::string GoScalarValueTypeName(const flyteidl::core::Scalar& scalar);

}  // namespace flyte::core::compiler
