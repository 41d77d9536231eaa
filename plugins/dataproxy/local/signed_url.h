// Signed, expiring URLs to objects the host itself serves: the HMAC signer, the object-key rules
// that keep every path inside the storage container, and the encodings upstream's texts use.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "flyte/manager/encoding.h"
#include "flyte/plugin/status.h"

namespace flyte::plugins::dataproxy {

// Base64 and hex, as the other plugins write them.
using manager::Base64;
using manager::Base64Decode;
inline std::string Hex(std::string_view bytes) { return manager::LowerHex(bytes); }
// RFC 4648 base32, upper-case alphabet with '=' padding (Go's base32.StdEncoding).
std::string Base32(std::string_view bytes);
// The raw 16-byte MD5 digest.
std::string Md5(std::string_view bytes);
// The same over bytes given in pieces (a file read in chunks).
class Md5Stream {
 public:
  Md5Stream();
  ~Md5Stream();
  Md5Stream(const Md5Stream&) = delete;
  Md5Stream& operator=(const Md5Stream&) = delete;
  void Update(std::string_view bytes);
  std::string Digest();  // once

 private:
  void* ctx_;  // EVP_MD_CTX
};
// Every byte but RFC 3986 unreserved characters as %XX.
std::string PercentEncode(std::string_view text);
// nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view text);
// Go's time.Duration.String(): "1h0m0s", "1.5s", "300ms", "0s".
std::string GoDuration(std::chrono::nanoseconds d);

// Splits a key part on '/', ignoring leading and trailing slashes as upstream's
// ConstructReference does. INVALID_ARGUMENT for an empty inner segment, ".", "..", or a NUL:
// nothing a client names can leave the directory it was given; and for a segment over 255
// bytes, which no local file can be named.
plugin::StatusOr<std::vector<std::string>> KeySegments(std::string_view part);

// What a signature covers. `key` is the object's path under the container, segments joined by
// '/'; `expires` is in Unix seconds; `content_md5` is base64, empty when none was declared.
struct SignedObject {
  std::string method;  // "PUT" or "GET"
  std::string key;
  int64_t expires = 0;
  std::string content_md5;
};

// The object, signature and expiry named by a request to the object route.
struct ObjectRequest {
  std::vector<std::string> segments;  // percent-decoded, each checked as KeySegments does
  SignedObject object;                // method left empty: the request's own method is signed
  std::string signature;              // hex
};

// HMAC-SHA256 URL signing. Immutable after construction; thread-safe.
class UrlSigner {
 public:
  // `base_url` is how clients reach the HTTP port ("http://localhost:8088"); `route_prefix` is
  // the object route's path prefix, ending in '/'.
  UrlSigner(std::string secret, std::string base_url, std::string route_prefix);

  // base_url + route_prefix + the key's segments percent-encoded +
  // "?expires=..&md5=..&signature=..".
  std::string Url(const SignedObject& object) const;
  // Lower-case hex of the HMAC over the canonical form of `object`.
  std::string Signature(const SignedObject& object) const;
  // Constant-time comparison against a signature taken from a URL.
  bool Verify(const SignedObject& object, std::string_view signature_hex) const;

  const std::string& route_prefix() const { return route_prefix_; }

 private:
  std::string secret_;
  std::string base_url_;
  std::string route_prefix_;
};

// Parses the part of a request path after the route prefix, and its query. INVALID_ARGUMENT
// when a segment is malformed or escapes (".", "..", an encoded '/'), PERMISSION_DENIED when the
// signature or expiry parameters are missing or malformed.
plugin::StatusOr<ObjectRequest> ParseObjectRequest(std::string_view path_after_prefix,
                                                   std::string_view query);

// A random secret for signing when none is configured (32 bytes from the OpenSSL CSPRNG).
plugin::StatusOr<std::string> RandomSecret();

}  // namespace flyte::plugins::dataproxy
