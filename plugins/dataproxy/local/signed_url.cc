// HMAC-SHA256 signing of object URLs, the key rules, and the encodings.
#include "signed_url.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <map>
#include <utility>

namespace flyte::plugins::dataproxy {

namespace {

constexpr char kBase32Alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool Unreserved(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

plugin::Status CheckSegment(std::string_view segment, std::string_view whole) {
  if (segment.empty() || segment == "." || segment == ".." ||
      segment.find('/') != std::string_view::npos || segment.find('\0') != std::string_view::npos) {
    return plugin::InvalidArgument("invalid path segment '" + std::string(segment) + "' in '" +
                                   std::string(whole) + "'");
  }
  // Objects are files here: a longer name could be signed but never written.
  constexpr std::size_t kMaxFileName = 255;
  if (segment.size() > kMaxFileName) {
    return plugin::InvalidArgument("path segment '" + std::string(segment) + "' in '" +
                                   std::string(whole) + "' is longer than " +
                                   std::to_string(kMaxFileName) +
                                   " bytes, the most a local file name holds");
  }
  return plugin::Status::Ok();
}

// The query of a signed URL: key=value pairs, '+' as space, as Go's url.ParseQuery reads them.
std::optional<std::map<std::string, std::string>> ParseQuery(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string key(pair.substr(0, eq));
    std::string value(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
    for (auto* s : {&key, &value}) {
      for (auto& c : *s) {
        if (c == '+') c = ' ';
      }
    }
    auto k = PercentDecode(key);
    auto v = PercentDecode(value);
    if (!k || !v) return std::nullopt;
    out.emplace(std::move(*k), std::move(*v));  // the first value of a repeated key wins
  }
  return out;
}

}  // namespace

std::string Base32(std::string_view bytes) {
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 5) {
    std::size_t n = std::min<std::size_t>(5, bytes.size() - i);
    uint64_t v = 0;
    for (std::size_t j = 0; j < 5; ++j) v = (v << 8) | (j < n ? uint8_t(bytes[i + j]) : 0);
    // 1..5 input bytes give 2, 4, 5, 7 or 8 characters; the rest of the block is padding.
    static constexpr int kChars[] = {0, 2, 4, 5, 7, 8};
    for (int k = 0; k < 8; ++k) {
      out += k < kChars[n] ? kBase32Alphabet[(v >> (35 - 5 * k)) & 31] : '=';
    }
  }
  return out;
}

std::string Md5(std::string_view bytes) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest.data(), &len, EVP_md5(), nullptr);
  return std::string(reinterpret_cast<const char*>(digest.data()), len);
}

Md5Stream::Md5Stream() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(static_cast<EVP_MD_CTX*>(ctx_), EVP_md5(), nullptr);
}
Md5Stream::~Md5Stream() { EVP_MD_CTX_free(static_cast<EVP_MD_CTX*>(ctx_)); }
void Md5Stream::Update(std::string_view bytes) {
  EVP_DigestUpdate(static_cast<EVP_MD_CTX*>(ctx_), bytes.data(), bytes.size());
}
std::string Md5Stream::Digest() {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  EVP_DigestFinal_ex(static_cast<EVP_MD_CTX*>(ctx_), digest.data(), &len);
  return std::string(reinterpret_cast<const char*>(digest.data()), len);
}

std::string PercentEncode(std::string_view text) {
  std::string out;
  for (unsigned char c : text) {
    if (Unreserved(c)) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += "0123456789ABCDEF"[c >> 4];
      out += "0123456789ABCDEF"[c & 15];
    }
  }
  return out;
}

std::optional<std::string> PercentDecode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    int hi = HexValue(text[i + 1]);
    int lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

std::string GoDuration(std::chrono::nanoseconds d) {
  int64_t v = d.count();
  if (v == 0) return "0s";
  bool negative = v < 0;
  uint64_t u = negative ? uint64_t(0) - uint64_t(v) : uint64_t(v);
  // The `precision` low decimal digits of `n` as a fraction without trailing zeros (".5"), and
  // what is left of `n` above them.
  auto fraction = [](uint64_t n, int precision) {
    std::string digits;
    bool significant = false;
    for (int i = 0; i < precision; ++i) {
      char digit = static_cast<char>('0' + n % 10);
      significant = significant || digit != '0';
      if (significant) digits.insert(digits.begin(), digit);
      n /= 10;
    }
    if (!digits.empty()) digits.insert(digits.begin(), '.');
    return std::make_pair(digits, n);
  };
  std::string sign = negative ? "-" : "";
  if (u < 1000000000ULL) {
    if (u < 1000) return sign + std::to_string(u) + "ns";
    auto [frac, whole] = fraction(u, u < 1000000 ? 3 : 6);
    return sign + std::to_string(whole) + frac + (u < 1000000 ? "\u00b5s" : "ms");
  }
  auto [frac, seconds] = fraction(u, 9);
  std::string out = std::to_string(seconds % 60) + frac + "s";
  uint64_t minutes = seconds / 60;
  if (minutes > 0) {
    out = std::to_string(minutes % 60) + "m" + out;
    if (minutes / 60 > 0) out = std::to_string(minutes / 60) + "h" + out;
  }
  return sign + out;
}

plugin::StatusOr<std::vector<std::string>> KeySegments(std::string_view part) {
  std::string_view trimmed = part;
  while (!trimmed.empty() && trimmed.front() == '/') trimmed.remove_prefix(1);
  while (!trimmed.empty() && trimmed.back() == '/') trimmed.remove_suffix(1);
  std::vector<std::string> out;
  if (trimmed.empty()) return out;
  std::size_t start = 0;
  while (true) {
    auto slash = trimmed.find('/', start);
    std::string_view segment =
        trimmed.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (auto s = CheckSegment(segment, part); !s.ok()) return s;
    out.emplace_back(segment);
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  return out;
}

UrlSigner::UrlSigner(std::string secret, std::string base_url, std::string route_prefix)
    : secret_(std::move(secret)),
      base_url_(std::move(base_url)),
      route_prefix_(std::move(route_prefix)) {
  while (!base_url_.empty() && base_url_.back() == '/') base_url_.pop_back();
}

std::string UrlSigner::Signature(const SignedObject& object) const {
  // Each field with its length in front: a key may hold any byte but '/' and NUL (a newline
  // too), so no separator alone could keep one field from passing for several.
  std::string canonical = "flyteadmin-dataproxy-v2";
  for (const std::string& field :
       {object.method, object.key, std::to_string(object.expires), object.content_md5}) {
    canonical += '\n' + std::to_string(field.size()) + ':' + field;
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  HMAC(EVP_sha256(), secret_.data(), static_cast<int>(secret_.size()),
       reinterpret_cast<const unsigned char*>(canonical.data()), canonical.size(), mac.data(),
       &len);
  return Hex(std::string_view(reinterpret_cast<const char*>(mac.data()), len));
}

bool UrlSigner::Verify(const SignedObject& object, std::string_view signature_hex) const {
  std::string expected = Signature(object);
  if (signature_hex.size() != expected.size()) return false;
  std::string given(signature_hex);
  for (auto& c : given) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return CRYPTO_memcmp(expected.data(), given.data(), expected.size()) == 0;
}

std::string UrlSigner::Url(const SignedObject& object) const {
  std::string path;
  std::string_view key = object.key;
  while (true) {
    auto slash = key.find('/');
    path += PercentEncode(key.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path += '/';
    key.remove_prefix(slash + 1);
  }
  std::string url = base_url_ + route_prefix_ + path + "?expires=" + std::to_string(object.expires);
  if (!object.content_md5.empty()) url += "&md5=" + PercentEncode(object.content_md5);
  return url + "&signature=" + Signature(object);
}

plugin::StatusOr<ObjectRequest> ParseObjectRequest(std::string_view path_after_prefix,
                                                   std::string_view query) {
  ObjectRequest out;
  if (path_after_prefix.empty()) return plugin::InvalidArgument("no object named in the path");
  std::size_t start = 0;
  while (true) {
    auto slash = path_after_prefix.find('/', start);
    std::string_view raw =
        path_after_prefix.substr(start, slash == std::string_view::npos ? slash : slash - start);
    auto segment = PercentDecode(raw);
    if (!segment)
      return plugin::InvalidArgument("malformed escape in path segment '" + std::string(raw) + "'");
    if (auto s = CheckSegment(*segment, path_after_prefix); !s.ok()) return s;
    out.segments.push_back(std::move(*segment));
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  for (const auto& s : out.segments) {
    if (!out.object.key.empty()) out.object.key += '/';
    out.object.key += s;
  }

  auto params = ParseQuery(query);
  if (!params)
    return plugin::Status(plugin::StatusCode::kPermissionDenied, "malformed query string");
  auto expires = params->find("expires");
  auto signature = params->find("signature");
  if (expires == params->end() || signature == params->end()) {
    return plugin::Status(plugin::StatusCode::kPermissionDenied,
                          "the URL is not signed: 'expires' and 'signature' are required");
  }
  const std::string& e = expires->second;
  bool digits = !e.empty() && e.size() <= 18 &&
                e.find_first_not_of("0123456789", e.front() == '-' ? 1 : 0) == std::string::npos &&
                e != "-";
  if (!digits)
    return plugin::Status(plugin::StatusCode::kPermissionDenied, "malformed 'expires' parameter");
  out.object.expires = std::stoll(e);
  if (auto md5 = params->find("md5"); md5 != params->end()) out.object.content_md5 = md5->second;
  out.signature = signature->second;
  return out;
}

plugin::StatusOr<std::string> RandomSecret() {
  std::string secret(32, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(secret.data()),
                 static_cast<int>(secret.size())) != 1) {
    return plugin::Internal("cannot generate a signing key: the OpenSSL random generator failed");
  }
  return secret;
}

}  // namespace flyte::plugins::dataproxy
