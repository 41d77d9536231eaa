// Byte encodings the plugins share: base64 as Go's base64.StdEncoding writes it, and lowercase
// hex (OpenSSL underneath).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace flyte::plugins::manager {

// Standard base64 with padding.
std::string Base64(std::string_view bytes);
// The bytes of `text`, or nullopt unless it is exactly what Base64 writes for them (standard
// alphabet, padded, no whitespace, zero bits after the last byte).
std::optional<std::string> Base64Decode(std::string_view text);
// Two lowercase hex digits per byte.
std::string LowerHex(std::string_view bytes);

}  // namespace flyte::plugins::manager
