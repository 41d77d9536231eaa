// Go's proto String() (single-line prototext), which upstream uses for keys, comparisons, sorting
// and error texts. Go randomly adds a second space between fields per binary; we always use one.
#pragma once

#include <google/protobuf/message.h>

#include <string>

namespace flyte::core::compiler {

// The Go String() of a present message: fields in declaration order, maps sorted by key,
// "name:value" separated by single spaces, sub-messages as "name:{...}".
std::string GoText(const google::protobuf::Message& message);

// As GoText, but "<nil>" for an absent message (Go's String() on a nil pointer).
std::string GoTextOrNil(const google::protobuf::Message* message);

// Go's strconv.FormatFloat(v, 'g', -1, bits) as prototext prints floats ("nan", "inf", "-inf").
std::string GoFormatFloat(double value, int bits);

}  // namespace flyte::core::compiler
