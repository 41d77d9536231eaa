// Literal and type builders the tests write their inputs, outputs and signal values with.
#pragma once

#include <cstdint>
#include <string>

#include "flyteidl/core/literals.pb.h"
#include "flyteidl/core/types.pb.h"

namespace flyte::test {

inline flyteidl::core::LiteralType Simple(flyteidl::core::SimpleType t) {
  flyteidl::core::LiteralType type;
  type.set_simple(t);
  return type;
}

inline flyteidl::core::Literal Int(int64_t v) {
  flyteidl::core::Literal l;
  l.mutable_scalar()->mutable_primitive()->set_integer(v);
  return l;
}

inline flyteidl::core::Literal Bool(bool v) {
  flyteidl::core::Literal l;
  l.mutable_scalar()->mutable_primitive()->set_boolean(v);
  return l;
}

inline flyteidl::core::Literal Str(const std::string& v) {
  flyteidl::core::Literal l;
  l.mutable_scalar()->mutable_primitive()->set_string_value(v);
  return l;
}

}  // namespace flyte::test
