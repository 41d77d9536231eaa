// Content digests of registered entities and the "different structure" diff text.
#pragma once

#include <google/protobuf/message.h>

#include <string>
#include <vector>

namespace flyte::plugins::manager {

// SHA-256 (32 raw bytes) of the message's deterministic binary serialization (map entries
// sorted, default values omitted). Equal messages give equal digests within this build; the
// bytes differ from upstream's objecthash of jsonpb, so a database shared with Go admin would
// see different digests (only self-consistency is needed for the duplicate check).
std::string Digest(const google::protobuf::Message& message);

// Lowercase hex of Digest(), for logs and tests.
std::string DigestHex(const google::protobuf::Message& message);

// The lines upstream appends to "... with different structure already exists" messages: a JSON
// diff of the two messages (proto field names), keeping the paths changed in both directions,
// each as "<json pointer>:\n\t- <old value> \n\t+ <new value>" (a missing side prints "<nil>",
// strings print bare, objects as Go's map[...] text). Joined with "\n" by the callers.
std::vector<std::string> StructureDiff(const google::protobuf::Message& existing,
                                       const google::protobuf::Message& requested);

}  // namespace flyte::plugins::manager
