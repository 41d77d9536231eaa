// Gateway::Handle: one HTTP request transcoded to an in-process unary call the way a
// grpc-gateway v2.26 ServeMux with FlyteAdmin's options does it, plus gorilla/handlers CORS.
#include "flyte/core/gateway.h"
#include "flyte/core/dispatcher.h"
#include "gateway_internal.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/message.h>
#include <google/rpc/status.pb.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdint>
#include <exception>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace flyte::core::gateway {

namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using plugin::Status;
using plugin::StatusCode;
using Headers = std::vector<std::pair<std::string, std::string>>;

// strconv.ParseInt(v, 0, 32): an optional sign, then decimal, or hex ("0x"), octal ("0o" or a
// leading "0") or binary ("0b") digits. (Go's digit-separating underscores are not taken.)
std::optional<int32_t> ParseGoInt32Base0(std::string_view v) {
  bool negative = false;
  if (!v.empty() && (v.front() == '+' || v.front() == '-')) {
    negative = v.front() == '-';
    v.remove_prefix(1);
  }
  int base = 10;
  if (v.size() > 2 && v[0] == '0' && (v[1] == 'x' || v[1] == 'X')) {
    base = 16;
    v.remove_prefix(2);
  } else if (v.size() > 2 && v[0] == '0' && (v[1] == 'o' || v[1] == 'O')) {
    base = 8;
    v.remove_prefix(2);
  } else if (v.size() > 2 && v[0] == '0' && (v[1] == 'b' || v[1] == 'B')) {
    base = 2;
    v.remove_prefix(2);
  } else if (v.size() > 1 && v[0] == '0') {
    base = 8;
    v.remove_prefix(1);
  }
  if (v.empty() || v.front() == '+' || v.front() == '-') return std::nullopt;
  uint64_t magnitude = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), magnitude, base);
  if (ec != std::errc() || ptr != v.data() + v.size()) return std::nullopt;
  const uint64_t limit = negative ? uint64_t{1} << 31 : (uint64_t{1} << 31) - 1;
  if (magnitude > limit) return std::nullopt;
  return static_cast<int32_t>(negative ? -static_cast<int64_t>(magnitude) : static_cast<int64_t>(magnitude));
}

// grpc-gateway's runtime.Enum for a path variable bound to a top-level enum field: a value
// name, else a number the enum names; "<v> is not valid" otherwise.
Status SetEnumPathParam(Message& message, const FieldDescriptor* fd, const std::string& value) {
  const auto* known = fd->enum_type()->FindValueByName(value);
  if (known == nullptr) {
    if (auto number = ParseGoInt32Base0(value)) known = fd->enum_type()->FindValueByNumber(*number);
  }
  if (known == nullptr) return plugin::InvalidArgument(value + " is not valid");
  message.GetReflection()->SetEnumValue(&message, fd, known->number());
  return Status::Ok();
}

constexpr std::string_view kJsonType = "application/json";
constexpr std::string_view kBinaryType = "application/octet-stream";
constexpr std::string_view kFormType = "application/x-www-form-urlencoded";

// The marshalers FlyteAdmin registers: "application/json" (proto names, unknown fields are
// errors), "application/octet-stream" (binary), and grpc-gateway's default for everything else
// ("*": JSON names, unknown fields discarded, google.api.HttpBody passed through).
enum class Codec { kJson, kBinary, kDefault };

bool IsTokenChar(char c) {
  if (static_cast<unsigned char>(c) <= 0x20 || static_cast<unsigned char>(c) >= 0x7f) return false;
  return std::string_view("()<>@,;:\\\"/[]?=").find(c) == std::string_view::npos;
}

bool IsHeaderFieldByte(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// Go's textproto.CanonicalMIMEHeaderKey: "x-request-id" -> "X-Request-Id"; a name holding a
// byte that is not a token character is left as it is.
std::string CanonicalHeaderKey(std::string_view s) {
  std::string out(s);
  for (char c : s) {
    if (!IsHeaderFieldByte(c)) return out;
  }
  bool upper = true;
  for (char& c : out) {
    if (upper && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
    if (!upper && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    upper = c == '-';
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view TrimSpace(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

const std::string* FirstHeader(const HttpRequest& req, const char* lower_name) {
  auto it = req.headers.find(lower_name);
  return it == req.headers.end() ? nullptr : &it->second;
}

// runtime.MarshalerForRequest: the first Accept value naming a registered type exactly picks
// the response codec; the first parseable Content-Type naming one picks the request codec;
// the request codec defaults to "*", the response codec to the request codec.
std::optional<Codec> CodecForType(std::string_view t) {
  if (t == kJsonType) return Codec::kJson;
  if (t == kBinaryType) return Codec::kBinary;
  if (t == "*") return Codec::kDefault;
  return std::nullopt;
}

// mime.ParseMediaType's parameter checks: "; name=value" pairs (a token, or a quoted string),
// names compared case-insensitively, a trailing ";" allowed, a name repeated only with its
// value. False for anything Go reports as an error (grpc-gateway then skips the header).
bool MediaParamsValid(std::string_view v) {
  const auto is_space = [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
  };
  const auto trim_left = [&](std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    return s;
  };
  const auto token = [](std::string_view& s) {
    size_t n = 0;
    while (n < s.size() && IsTokenChar(s[n])) ++n;
    std::string_view out = s.substr(0, n);
    s.remove_prefix(n);
    return out;
  };
  const auto is_tspecial = [](char c) {
    return std::string_view("()<>@,;:\\\"/[]?=").find(c) != std::string_view::npos;
  };
  // A value: a token, or a quoted string (a backslash escapes a tspecial only, as Go's
  // consumeValue; CR or LF, or no closing quote, make it no value).
  const auto value = [&](std::string_view& s, std::string& out) {
    out.clear();
    if (s.empty()) return;
    if (s.front() != '"') {
      out = std::string(token(s));
      return;
    }
    for (size_t i = 1; i < s.size(); ++i) {
      const char c = s[i];
      if (c == '"') {
        s.remove_prefix(i + 1);
        return;
      }
      if (c == '\\' && i + 1 < s.size() && is_tspecial(s[i + 1])) {
        out += s[++i];
        continue;
      }
      if (c == '\r' || c == '\n') break;
      out += c;
    }
    out.clear();  // unterminated: s stays where it was
  };
  std::map<std::string, std::string> params;
  while (true) {
    v = trim_left(v);
    if (v.empty()) return true;
    std::string_view rest = v;
    bool ok = false;
    std::string name, val;
    if (rest.front() == ';') {
      rest = trim_left(rest.substr(1));
      name = Lower(std::string(token(rest)));
      rest = trim_left(rest);
      if (!name.empty() && !rest.empty() && rest.front() == '=') {
        rest = trim_left(rest.substr(1));
        const std::string_view before = rest;
        value(rest, val);
        ok = !(val.empty() && rest.size() == before.size());
      }
    }
    if (!ok) return TrimSpace(v) == ";";  // a trailing semicolon is no error
    // Go keeps "name*N" continuations apart from plain names; either way a name may repeat only
    // with the same value.
    auto [it, inserted] = params.emplace(name, val);
    if (!inserted && it->second != val) return false;
    v = rest;
  }
}

// mime.ParseMediaType's media type: lower-cased "type/subtype" (or a bare token), parameters
// checked and dropped; nullopt when malformed.
std::optional<std::string> MediaType(std::string_view v) {
  auto semi = v.find(';');
  if (semi != std::string_view::npos && !MediaParamsValid(v.substr(semi))) return std::nullopt;
  std::string t = Lower(TrimSpace(v.substr(0, semi)));
  auto slash = t.find('/');
  auto valid_token = [](std::string_view s) {
    return !s.empty() && std::all_of(s.begin(), s.end(), IsTokenChar);
  };
  if (slash == std::string::npos) {
    if (!valid_token(t)) return std::nullopt;
  } else if (!valid_token(std::string_view(t).substr(0, slash)) ||
             !valid_token(std::string_view(t).substr(slash + 1))) {
    return std::nullopt;
  }
  return t;
}

void SelectCodecs(const HttpRequest& req, Codec* in, Codec* out) {
  std::optional<Codec> o, i;
  for (auto [it, end] = req.headers.equal_range("accept"); it != end && !o; ++it) {
    o = CodecForType(it->second);
  }
  for (auto [it, end] = req.headers.equal_range("content-type"); it != end && !i; ++it) {
    if (auto t = MediaType(it->second)) i = CodecForType(*t);
  }
  *in = i.value_or(Codec::kDefault);
  *out = o.value_or(*in);
}

std::string_view ContentTypeOf(Codec c) { return c == Codec::kBinary ? kBinaryType : kJsonType; }

bool IsHex(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// url.QueryUnescape: '+' is a space; a bad escape is Go's EscapeError text.
bool QueryUnescape(std::string_view in, std::string& out, std::string* err) {
  out.clear();
  out.reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size() || !IsHex(in[i + 1]) || !IsHex(in[i + 2])) {
        std::string bad(in.substr(i, std::min<size_t>(3, in.size() - i)));
        *err = "invalid URL escape \"" + bad + "\"";
        return false;
      }
      out.push_back(static_cast<char>(HexValue(in[i + 1]) * 16 + HexValue(in[i + 2])));
      i += 2;
    } else if (c == '+') {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  return true;
}

// Form values in order of first appearance (Go keeps a map; the order is not observable
// except through which of several bad parameters is reported).
using FormValues = std::vector<std::pair<std::string, std::vector<std::string>>>;

void AddFormValue(FormValues& form, std::string key, std::string value) {
  for (auto& [k, vs] : form) {
    if (k == key) {
      vs.push_back(std::move(value));
      return;
    }
  }
  form.push_back({std::move(key), {std::move(value)}});
}

// url.ParseQuery: every pair is kept that decodes; the first problem is reported.
Status ParseQuery(std::string_view q, FormValues& form) {
  Status first_error;
  while (!q.empty()) {
    auto amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.find(';') != std::string_view::npos) {
      if (first_error.ok())
        first_error = plugin::InvalidArgument("invalid semicolon separator in query");
      continue;
    }
    if (part.empty()) continue;
    auto eq = part.find('=');
    std::string key, value, err;
    if (!QueryUnescape(part.substr(0, eq), key, &err) ||
        !QueryUnescape(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1),
                       value, &err)) {
      if (first_error.ok()) first_error = plugin::InvalidArgument(err);
      continue;
    }
    AddFormValue(form, std::move(key), std::move(value));
  }
  return first_error;
}

bool PathEscapesValid(std::string_view path) {
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '%') {
      if (i + 2 >= path.size() || !IsHex(path[i + 1]) || !IsHex(path[i + 2])) return false;
      i += 2;
    }
  }
  return true;
}

bool IsValidMetadataKey(std::string_view k) {
  return std::all_of(k.begin(), k.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
  });
}

bool IsValidMetadataText(std::string_view v) {
  return std::all_of(v.begin(), v.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && static_cast<unsigned char>(c) <= 0x7e;
  });
}

// Go's base64 for "-Bin" headers: padded when the length is a multiple of 4, else unpadded.
bool DecodeBinHeader(std::string_view v, std::string& out) {
  static const std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string_view body = v;
  if (v.size() % 4 == 0) {
    while (!body.empty() && body.back() == '=' && v.size() - body.size() < 2) body.remove_suffix(1);
  }
  if (body.size() % 4 == 1) return false;
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : body) {
    auto pos = kAlphabet.find(c);
    if (pos == std::string_view::npos) return false;
    acc = (acc << 6) | static_cast<uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return true;
}

// The IP of a gRPC-style peer string ("ipv4:127.0.0.1:5555", "ipv6:[::1]:5555"), as
// net.SplitHostPort finds it in Go's RemoteAddr; empty when there is none.
std::string RemoteIp(std::string_view peer) {
  if (peer.rfind("ipv4:", 0) == 0 || peer.rfind("ipv6:", 0) == 0) peer.remove_prefix(5);
  auto colon = peer.rfind(':');
  if (colon == std::string_view::npos) return {};
  std::string_view host = peer.substr(0, colon);
  if (!host.empty() && host.front() == '[') {
    if (host.back() != ']') return {};
    host = host.substr(1, host.size() - 2);
  } else if (host.find(':') != std::string_view::npos) {
    return {};
  }
  return std::string(host);
}

// grpc-timeout syntax (runtime.timeoutDecode): digits and one unit of H M S m u n.
bool ValidGrpcTimeout(std::string_view s) {
  if (s.size() < 2 || std::string_view("HMSmun").find(s.back()) == std::string_view::npos) {
    return false;
  }
  std::string_view digits = s.substr(0, s.size() - 1);
  if (!digits.empty() && (digits[0] == '+' || digits[0] == '-')) digits.remove_prefix(1);
  return !digits.empty() && digits.size() <= 18 &&
         std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// A valid grpc-timeout in nanoseconds (Go's time.Duration arithmetic, saturated here).
int64_t GrpcTimeoutNanos(std::string_view s) {
  int64_t unit = 1;
  switch (s.back()) {
    case 'H': unit = 3600LL * 1000000000LL; break;
    case 'M': unit = 60LL * 1000000000LL; break;
    case 'S': unit = 1000000000LL; break;
    case 'm': unit = 1000000LL; break;
    case 'u': unit = 1000LL; break;
    default: unit = 1; break;
  }
  const int64_t value = std::stoll(std::string(s.substr(0, s.size() - 1)));
  int64_t out = 0;
  if (__builtin_mul_overflow(value, unit, &out)) {
    return value < 0 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max();
  }
  return out;
}

// `headers_sent`: the call produced gRPC response headers. Upstream's gateway reaches the
// server through a gRPC client connection, and grpc-go reports the response's content-type
// among the header metadata, so every such response carries
// "Grpc-Metadata-Content-Type: application/grpc"; a bare error (trailers-only) carries none.
void AddServerMetadata(const Headers& outgoing, bool headers_sent, Headers& headers) {
  if (headers_sent) headers.emplace_back("Grpc-Metadata-Content-Type", "application/grpc");
  for (const auto& [k, v] : outgoing) {
    // grpc-gateway's default outgoing matcher: "Grpc-Metadata-<key>".
    headers.emplace_back(CanonicalHeaderKey("Grpc-Metadata-" + k), v);
    // Deliberate addition: upstream FlyteAdmin never sends the request id back (service.go
    // only puts it in the Go context), so a response had no id at all; when our request-id
    // interceptor reports it we also expose it under its own name for clients and proxies.
    if (k == "x-request-id") headers.emplace_back("X-Request-Id", v);
  }
}

// DefaultHTTPErrorHandler: the status in the response codec, the handler's header metadata,
// WWW-Authenticate for Unauthenticated, HTTP status from the code.
HttpResponse ErrorResponse(const Status& status, Codec codec, const Headers* outgoing,
                           bool headers_sent = false) {
  HttpResponse resp;
  resp.headers.emplace_back("Content-Type", std::string(ContentTypeOf(codec)));
  if (status.code() == StatusCode::kUnauthenticated) {
    resp.headers.emplace_back("Www-Authenticate", status.message());
  }
  if (codec == Codec::kBinary) {
    google::rpc::Status proto;
    internal::FillRpcStatus(status, &proto);
    resp.body = proto.SerializeAsString();
  } else {
    auto json = internal::RpcStatusToJson(status, codec == Codec::kJson);
    if (!json.ok()) {
      resp.status = 500;
      resp.body = R"({"code": 13, "message": "failed to marshal error message"})";
      return resp;
    }
    resp.body = std::move(json).value();
  }
  if (outgoing != nullptr) {
    // Header metadata makes grpc-go send headers before the status, content-type among them.
    // The request id is ours alone (upstream sends none back), so it does not count: an error
    // carrying only it is still answered as upstream's bare error.
    const bool other_metadata = std::any_of(outgoing->begin(), outgoing->end(),
                                            [](const auto& kv) { return kv.first != "x-request-id"; });
    AddServerMetadata(*outgoing, headers_sent || other_metadata, resp.headers);
  }
  resp.status = HttpStatusFromCode(status.code());
  return resp;
}

// DefaultRoutingErrorHandler.
HttpResponse RoutingError(int http_status, Codec codec) {
  switch (http_status) {
    case 400:
      return ErrorResponse(Status(StatusCode::kInvalidArgument, "Bad Request"), codec, nullptr);
    case 405:
      return ErrorResponse(Status(StatusCode::kUnimplemented, "Method Not Allowed"), codec,
                           nullptr);
    case 404:
      return ErrorResponse(Status(StatusCode::kNotFound, "Not Found"), codec, nullptr);
    default:
      return ErrorResponse(Status(StatusCode::kInternal, "Unexpected routing error"), codec,
                           nullptr);
  }
}

const Message* PrototypeFor(const Descriptor* d,
                            std::unique_ptr<google::protobuf::DynamicMessageFactory>& dynamic) {
  const Message* proto = google::protobuf::MessageFactory::generated_factory()->GetPrototype(d);
  if (proto != nullptr) return proto;
  if (!dynamic) {
    dynamic = std::make_unique<google::protobuf::DynamicMessageFactory>(d->file()->pool());
  }
  return dynamic->GetPrototype(d);
}

// The last field of a dotted path through singular message fields, or nullptr.
const FieldDescriptor* ResolvePath(const Descriptor* d, std::string_view path) {
  const FieldDescriptor* fd = nullptr;
  for (size_t start = 0;;) {
    size_t dot = path.find('.', start);
    std::string part(path.substr(start, dot == std::string_view::npos ? dot : dot - start));
    if (d == nullptr) return nullptr;
    fd = d->FindFieldByName(part);
    if (fd == nullptr) return nullptr;
    if (dot == std::string_view::npos) return fd;
    if (fd->is_repeated() || fd->message_type() == nullptr) return nullptr;
    d = fd->message_type();
    start = dot + 1;
  }
}

// The message holding the last field of a (valid) dotted path, created on the way.
Message* MutableParent(Message& root, std::string_view path) {
  Message* m = &root;
  auto last_dot = path.rfind('.');
  if (last_dot == std::string_view::npos) return m;
  std::string_view prefix = path.substr(0, last_dot);
  for (size_t start = 0;;) {
    size_t dot = prefix.find('.', start);
    std::string part(prefix.substr(start, dot == std::string_view::npos ? dot : dot - start));
    const FieldDescriptor* fd = m->GetDescriptor()->FindFieldByName(part);
    m = m->GetReflection()->MutableMessage(m, fd);
    if (dot == std::string_view::npos) return m;
    start = dot + 1;
  }
}

// The generated handlers' HasQueryParam: not for body "*", else when some top-level request
// field is bound by neither the body nor a path variable (a nested variable "id.project" does
// not bind "id").
bool HasQueryParam(const Route& route, const Descriptor* input, const RouteMatch& match) {
  if (route.body == "*") return false;
  for (int i = 0; i < input->field_count(); ++i) {
    const std::string& name = input->field(i)->name();
    if (name == route.body) continue;
    bool bound = false;
    for (const auto& [path, value] : match.path_params) {
      if (path == name) {
        bound = true;
        break;
      }
    }
    if (!bound) return true;
  }
  return false;
}

// utilities.DoubleArray.HasCommonPrefix over the body and path field paths.
bool Filtered(const std::vector<std::string>& key_path, const Route& route,
              const RouteMatch& match) {
  auto is_prefix = [&](std::string_view bound) {
    size_t k = 0;
    for (size_t start = 0;;) {
      size_t dot = bound.find('.', start);
      std::string_view part =
          bound.substr(start, dot == std::string_view::npos ? dot : dot - start);
      if (k >= key_path.size() || key_path[k] != part) return false;
      ++k;
      if (dot == std::string_view::npos) return true;
      start = dot + 1;
    }
  };
  if (!route.body.empty() && is_prefix(route.body)) return true;
  for (const auto& [path, value] : match.path_params) {
    if (is_prefix(path)) return true;
  }
  return false;
}

// DefaultQueryParser.Parse: "key[mapkey]=v" is a map entry, keys in proto or JSON names,
// unknown fields ignored, fields bound by the path or body skipped.
Status PopulateQuery(Message& msg, const FormValues& form, const Route& route,
                     const RouteMatch& match) {
  for (const auto& [raw_key, raw_values] : form) {
    std::string_view key = raw_key;
    std::vector<std::string_view> values;
    values.reserve(raw_values.size() + 1);
    if (key.size() >= 2 && key.back() == ']') {
      auto open = key.rfind('[');
      if (open != std::string_view::npos) {
        values.push_back(key.substr(open + 1, key.size() - open - 2));
        key = key.substr(0, open);
      }
    }
    for (const auto& v : raw_values) values.push_back(v);
    std::vector<std::string> path = internal::NormalizeFieldPath(msg.GetDescriptor(), key);
    if (Filtered(path, route, match)) continue;
    if (auto st = internal::PopulateField(msg, path, values); !st.ok()) return st;
  }
  return Status::Ok();
}

// FlyteAdmin's forward-response option (auth.GetUserInfoForwardResponseHandler): the subject
// and each additional claim of a UserInfoResponse as response headers.
void AddUserInfoHeaders(const Message& resp, Headers& headers) {
  const Descriptor* d = resp.GetDescriptor();
  const Reflection* r = resp.GetReflection();
  const FieldDescriptor* claims_fd = d->FindFieldByName("additional_claims");
  if (claims_fd != nullptr && claims_fd->message_type() != nullptr &&
      r->HasField(resp, claims_fd)) {
    const Message& claims = r->GetMessage(resp, claims_fd);
    const FieldDescriptor* fields_fd = claims.GetDescriptor()->FindFieldByNumber(1);
    const Reflection* cr = claims.GetReflection();
    std::vector<std::pair<std::string, std::string>> sorted;
    for (int i = 0; i < cr->FieldSize(claims, fields_fd); ++i) {
      const Message& entry = cr->GetRepeatedMessage(claims, fields_fd, i);
      const auto* ed = entry.GetDescriptor();
      std::string key = entry.GetReflection()->GetString(entry, ed->map_key());
      auto json = internal::MessageToJson(entry.GetReflection()->GetMessage(entry, ed->map_value()),
                                          /*proto_names=*/true);
      if (!json.ok()) continue;  // upstream logs and skips the claim
      std::replace(key.begin(), key.end(), '_', '-');
      sorted.emplace_back(CanonicalHeaderKey("X-User-Claim-" + key), std::move(json).value());
    }
    std::sort(sorted.begin(), sorted.end());
    for (auto& h : sorted) {
      auto it = std::find_if(headers.begin(), headers.end(),
                             [&](const auto& e) { return e.first == h.first; });
      if (it != headers.end()) {
        it->second = std::move(h.second);
      } else {
        headers.push_back(std::move(h));
      }
    }
  }
  if (const FieldDescriptor* sub = d->FindFieldByName("subject")) {
    headers.emplace_back("X-User-Subject", r->GetString(resp, sub));
  }
}

}  // namespace

std::optional<std::string> DefaultHeaderMatcher(std::string_view header) {
  std::string key = CanonicalHeaderKey(header);
  // FlyteAdmin's auth.GetCustomHeaderMatcher passes the request id through under its name.
  if (key == "X-Request-Id") return std::string("x-request-id");
  static constexpr std::string_view kPermanent[] = {"Accept",
                                                    "Accept-Charset",
                                                    "Accept-Language",
                                                    "Accept-Ranges",
                                                    "Authorization",
                                                    "Cache-Control",
                                                    "Content-Type",
                                                    "Cookie",
                                                    "Date",
                                                    "Expect",
                                                    "From",
                                                    "Host",
                                                    "If-Match",
                                                    "If-Modified-Since",
                                                    "If-None-Match",
                                                    "If-Schedule-Tag-Match",
                                                    "If-Unmodified-Since",
                                                    "Max-Forwards",
                                                    "Origin",
                                                    "Pragma",
                                                    "Referer",
                                                    "User-Agent",
                                                    "Via",
                                                    "Warning"};
  for (auto p : kPermanent) {
    if (key == p) return "grpcgateway-" + Lower(key);
  }
  constexpr std::string_view kPrefix = "Grpc-Metadata-";
  if (key.size() > kPrefix.size() && key.compare(0, kPrefix.size(), kPrefix) == 0) {
    return Lower(std::string_view(key).substr(kPrefix.size()));
  }
  return std::nullopt;
}

int HttpStatusFromCode(plugin::StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kCancelled:
      return 499;
    case StatusCode::kUnknown:
      return 500;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kDeadlineExceeded:
      return 504;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kFailedPrecondition:
      return 400;
    case StatusCode::kAborted:
      return 409;
    case StatusCode::kOutOfRange:
      return 400;
    case StatusCode::kUnimplemented:
      return 501;
    case StatusCode::kInternal:
      return 500;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kDataLoss:
      return 500;
  }
  return 500;
}

Gateway::Gateway(Router router, Invoker invoker, HeaderMatcher matcher)
    : router_(std::move(router)), invoker_(std::move(invoker)), matcher_(std::move(matcher)) {
  if (!matcher_) matcher_ = DefaultHeaderMatcher;
}

HttpResponse Gateway::Handle(const HttpRequest& request) const {
  Codec in = Codec::kDefault, out = Codec::kDefault;
  try {
    SelectCodecs(request, &in, &out);
    std::string_view target = request.target;
    auto qmark = target.find('?');
    std::string_view path = target.substr(0, qmark);
    std::string_view query =
        qmark == std::string_view::npos ? std::string_view() : target.substr(qmark + 1);
    // A raw '#' is no fragment here: Go's url.ParseRequestURI keeps it in the path or query.

    if (!PathEscapesValid(path)) {
      // Go's HTTP server refuses a request URI it cannot unescape before any handler runs.
      HttpResponse bad;
      bad.status = 400;
      bad.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
      bad.body = "400 Bad Request";
      return bad;
    }
    if (path.empty() || path[0] != '/') return RoutingError(400, out);

    // Path-length fallback: a form POST may stand for a GET (or X-HTTP-Method-Override).
    std::string method = request.method;
    const std::string* content_type = FirstHeader(request, "content-type");
    const bool form_post =
        method == "POST" && content_type != nullptr && *content_type == kFormType;
    FormValues form;
    bool form_parsed = false;
    auto parse_form = [&]() -> Status {
      form_parsed = true;
      if (auto st = ParseQuery(request.body, form); !st.ok()) return st;
      return ParseQuery(query, form);
    };
    if (const std::string* ov = FirstHeader(request, "x-http-method-override");
        form_post && ov != nullptr && !ov->empty()) {
      if (auto st = parse_form(); !st.ok()) return ErrorResponse(st, out, nullptr);
      method = *ov;
      for (char& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }

    bool other_method = false;
    std::optional<RouteMatch> match = router_.Find(method, path, &other_method);
    if (!match) {
      if (!other_method) return RoutingError(404, out);
      if (method == "POST" && form_post) match = router_.Find("GET", path);
      if (!match) return RoutingError(405, out);
      if (!form_parsed) {
        if (auto st = parse_form(); !st.ok()) return ErrorResponse(st, out, nullptr);
      }
    }
    const Route& route = *match->route;
    const google::protobuf::MethodDescriptor& md = *route.method;

    // runtime.AnnotateContext: request headers to call metadata, and grpc-timeout to a deadline
    // on the call (upstream's hop to its gRPC server then fails with DEADLINE_EXCEEDED once it
    // passes, whether or not the handler finishes later).
    std::optional<std::chrono::steady_clock::time_point> deadline;
    if (const std::string* tm = FirstHeader(request, "grpc-timeout");
        tm != nullptr && !tm->empty()) {
      if (!ValidGrpcTimeout(*tm)) {
        return ErrorResponse(plugin::InvalidArgument("invalid grpc-timeout: " + *tm), out, nullptr);
      }
      const int64_t ns = GrpcTimeoutNanos(*tm);
      const auto now = std::chrono::steady_clock::now();
      const int64_t room = std::chrono::duration_cast<std::chrono::nanoseconds>(
                               std::chrono::steady_clock::time_point::max() - now)
                               .count();
      if (ns < room) deadline = now + std::chrono::nanoseconds(ns);
    }
    const auto past_deadline = [&deadline] { return deadline && std::chrono::steady_clock::now() >= *deadline; };
    const auto deadline_exceeded = [] { return Status(StatusCode::kDeadlineExceeded, "context deadline exceeded"); };
    if (past_deadline()) return ErrorResponse(deadline_exceeded(), out, nullptr);
    plugin::CallContext::Metadata metadata;
    std::string xff;
    std::string forwarded_host;
    std::string host;
    for (const auto& [name, value] : request.headers) {
      if (name == "x-forwarded-for") {
        if (!xff.empty()) xff += ", ";
        xff += value;
        continue;
      }
      if (name == "x-forwarded-host") {
        if (forwarded_host.empty()) forwarded_host = value;
        continue;
      }
      if (name == "host") {  // Go moves Host out of the header map
        if (host.empty()) host = value;
        continue;
      }
      std::string key = CanonicalHeaderKey(name);
      if (key == "Authorization") metadata.emplace("authorization", value);
      auto mapped = matcher_(key);
      if (!mapped || !IsValidMetadataKey(*mapped)) continue;
      if (key.size() > 4 && key.compare(key.size() - 4, 4, "-Bin") == 0) {
        std::string decoded;
        if (!DecodeBinHeader(value, decoded)) {
          return ErrorResponse(
              plugin::InvalidArgument("invalid binary header " + key + ": illegal base64 data"),
              out, nullptr);
        }
        metadata.emplace(Lower(*mapped), std::move(decoded));
      } else if (IsValidMetadataText(value)) {
        metadata.emplace(Lower(*mapped), value);
      }
    }
    if (!forwarded_host.empty()) {
      metadata.emplace("x-forwarded-host", forwarded_host);
    } else if (!host.empty()) {
      metadata.emplace("x-forwarded-host", host);
    }
    if (std::string ip = RemoteIp(request.peer); !ip.empty()) {
      if (!xff.empty()) xff += ", ";
      xff += ip;
    }
    if (!xff.empty()) metadata.emplace("x-forwarded-for", xff);

    std::unique_ptr<google::protobuf::DynamicMessageFactory> dynamic;
    std::unique_ptr<Message> req(PrototypeFor(md.input_type(), dynamic)->New());
    std::unique_ptr<Message> resp(PrototypeFor(md.output_type(), dynamic)->New());

    // Body, then path variables (which override it), then the query.
    // A form parsed for the fallback has consumed the body, as Go's ParseForm does.
    const std::string_view body = form_parsed ? std::string_view() : std::string_view(request.body);
    if (!route.body.empty()) {
      Status st;
      const bool whole = route.body == "*";
      const FieldDescriptor* body_fd = whole ? nullptr : ResolvePath(md.input_type(), route.body);
      if (!whole && body_fd == nullptr) {
        return ErrorResponse(plugin::Internal("body field " + route.body + " not found in " +
                                              md.input_type()->full_name()),
                             out, nullptr);
      }
      Message* target_msg = whole ? req.get() : MutableParent(*req, route.body);
      if (in == Codec::kBinary) {
        Message* dest = target_msg;
        if (!whole) {
          if (body_fd->is_repeated() || body_fd->message_type() == nullptr) {
            return ErrorResponse(plugin::InvalidArgument("unable to unmarshal non proto field"),
                                 out, nullptr);
          }
          dest = target_msg->GetReflection()->MutableMessage(target_msg, body_fd);
        }
        // Go's proto.Unmarshal, as grpc-gateway's ProtoMarshaller runs it. A string that is not
        // UTF-8 is found first: protobuf's parser would log an error for each one a client sends.
        const internal::WireCheck check = internal::CheckWireUtf8(dest->GetDescriptor(), body);
        if (check == internal::WireCheck::kInvalidUtf8) {
          st = plugin::InvalidArgument("string field contains invalid UTF-8");
        } else if (check == internal::WireCheck::kMalformed ||
                   !dest->ParseFromArray(body.data(), static_cast<int>(body.size()))) {
          st = plugin::InvalidArgument("proto: cannot parse invalid wire-format data");
        }
      } else if (whole) {
        st = internal::ParseJsonBody(body, *req, in == Codec::kDefault);
      } else {
        st = internal::ParseJsonBodyField(body, *target_msg, body_fd, in == Codec::kDefault);
      }
      if (!st.ok()) return ErrorResponse(plugin::InvalidArgument(st.message()), out, nullptr);
    }
    for (const auto& [field_path, value] : match->path_params) {
      Status st;
      const FieldDescriptor* fd = field_path.find('.') == std::string::npos
                                      ? md.input_type()->FindFieldByName(field_path)
                                      : nullptr;
      if (fd != nullptr && !fd->is_repeated() && fd->enum_type() != nullptr) {
        // A top-level enum variable: the generated gateway's runtime.Enum, not the field parser.
        st = SetEnumPathParam(*req, fd, value);
      } else if (fd != nullptr && fd->is_repeated() && !fd->is_map()) {
        // A top-level repeated variable holds comma-separated values and replaces the field.
        req->GetReflection()->ClearField(req.get(), fd);
        std::vector<std::string_view> parts;
        std::string_view v = value;
        for (size_t start = 0;;) {
          size_t comma = v.find(',', start);
          parts.push_back(v.substr(start, comma == std::string_view::npos ? comma : comma - start));
          if (comma == std::string_view::npos) break;
          start = comma + 1;
        }
        st = internal::PopulateField(*req, {field_path}, parts);
      } else {
        st = SetFieldFromString(*req, field_path, value);
      }
      if (!st.ok()) {
        return ErrorResponse(plugin::InvalidArgument("type mismatch, parameter: " + field_path +
                                                     ", error: " + st.message()),
                             out, nullptr);
      }
    }
    const bool from_query = HasQueryParam(route, md.input_type(), *match);
    if (from_query) {
      if (!form_parsed) {
        if (auto st = ParseQuery(query, form); !st.ok()) return ErrorResponse(st, out, nullptr);
      }
      if (auto st = PopulateQuery(*req, form, route, *match); !st.ok()) {
        return ErrorResponse(st, out, nullptr);
      }
    }
    // Path and query values are taken as decoded, whatever their bytes (as the generated gateway
    // does); upstream's hop to its gRPC server then refuses to marshal a string that is not
    // UTF-8, and nothing reaches the handler. (Bodies are checked as they are parsed.)
    if ((from_query || !match->path_params.empty()) && internal::HasInvalidUtf8(*req)) {
      return ErrorResponse(plugin::Internal("grpc: error while marshaling: string field contains invalid UTF-8"), out,
                           nullptr);
    }

    std::string full_method;
    full_method.reserve(md.service()->full_name().size() + md.name().size() + 2);
    full_method.push_back('/');
    full_method += md.service()->full_name();
    full_method.push_back('/');
    full_method += md.name();
    plugin::CallContext call(std::move(full_method), std::move(metadata), request.peer,
                             /*from_http=*/true);
    Status status;
    try {
      status = invoker_(md, call, *req, *resp);
    } catch (const std::exception& e) {
      status = plugin::Internal(std::string("handler threw: ") + e.what());
    } catch (...) {
      status = plugin::Internal("handler threw a non-standard exception");
    }
    if (past_deadline()) return ErrorResponse(deadline_exceeded(), out, nullptr);
    // Upstream's gateway reaches the handlers over gRPC, so its errors are cut as gRPC's are.
    if (!status.ok()) return ErrorResponse(BoundedForWire(status), out, &call.outgoing());

    // runtime.ForwardResponseMessage.
    HttpResponse response;
    AddServerMetadata(call.outgoing(), /*headers_sent=*/true, response.headers);
    const Message* body_msg = resp.get();
    const FieldDescriptor* response_fd = nullptr;
    if (!route.response_body.empty()) {
      response_fd = ResolvePath(md.output_type(), route.response_body);
      if (response_fd != nullptr) {
        const Message* parent = resp.get();
        std::string_view rb = route.response_body;
        for (size_t start = 0;;) {
          size_t dot = rb.find('.', start);
          if (dot == std::string_view::npos) break;
          const FieldDescriptor* f =
              parent->GetDescriptor()->FindFieldByName(std::string(rb.substr(start, dot - start)));
          parent = &parent->GetReflection()->GetMessage(*parent, f);
          start = dot + 1;
        }
        body_msg = parent;
      }
    }
    const bool http_body = out == Codec::kDefault && response_fd == nullptr &&
                           md.output_type()->full_name() == "google.api.HttpBody";
    std::string content_type_out(ContentTypeOf(out));
    if (http_body) {
      const auto* ct = md.output_type()->FindFieldByName("content_type");
      if (ct != nullptr) content_type_out = resp->GetReflection()->GetString(*resp, ct);
    }
    response.headers.emplace_back("Content-Type", content_type_out);
    if (md.output_type()->full_name() == "flyteidl.service.UserInfoResponse") {
      AddUserInfoHeaders(*resp, response.headers);
    }

    if (http_body) {
      const auto* data = md.output_type()->FindFieldByName("data");
      if (data != nullptr) response.body = resp->GetReflection()->GetString(*resp, data);
    } else if (out == Codec::kBinary) {
      if (response_fd != nullptr) {
        if (response_fd->is_repeated() || response_fd->message_type() == nullptr) {
          return ErrorResponse(Status(StatusCode::kUnknown, "unable to marshal non proto field"),
                               out, &call.outgoing(), /*headers_sent=*/true);
        }
        response.body =
            body_msg->GetReflection()->GetMessage(*body_msg, response_fd).SerializeAsString();
      } else {
        response.body = resp->SerializeAsString();
      }
    } else {
      const bool names = out == Codec::kJson;
      plugin::StatusOr<std::string> json = std::string();
      if (response_fd == nullptr) {
        json = internal::MessageToJson(*resp, names);
      } else if (!response_fd->is_repeated() && response_fd->message_type() != nullptr &&
                 !body_msg->GetReflection()->HasField(*body_msg, response_fd)) {
        json = std::string("{}");  // a nil message marshals as {}
      } else {
        json = internal::FieldToJson(*body_msg, response_fd, names);
      }
      if (!json.ok()) {
        // A marshalling failure is a plain Go error: status Unknown.
        return ErrorResponse(Status(StatusCode::kUnknown, json.status().message()), out,
                             &call.outgoing(), /*headers_sent=*/true);
      }
      response.body = std::move(json).value();
    }
    response.status = 200;
    return response;
  } catch (const std::exception& e) {
    return ErrorResponse(plugin::Internal(std::string("gateway failure: ") + e.what()), out,
                         nullptr);
  } catch (...) {
    return ErrorResponse(plugin::Internal("gateway failure"), out, nullptr);
  }
}

std::optional<HttpResponse> ApplyCors(
    const CorsOptions& options, const HttpRequest& request,
    std::vector<std::pair<std::string, std::string>>& extra_headers) {
  if (!options.enabled) return std::nullopt;
  static constexpr std::string_view kDefaultHeaders[] = {"Accept", "Accept-Language",
                                                         "Content-Language", "Origin"};
  static constexpr std::string_view kDefaultMethods[] = {"GET", "HEAD", "POST"};
  static constexpr std::string_view kAllowedMethods[] = {"GET",  "POST", "DELETE",
                                                         "HEAD", "PUT",  "PATCH"};
  const bool match_all = std::find(options.allowed_origins.begin(), options.allowed_origins.end(),
                                   "*") != options.allowed_origins.end();
  const std::string* origin_h = FirstHeader(request, "origin");
  const std::string origin = origin_h ? *origin_h : std::string();
  bool allowed = false;
  if (!origin.empty()) {
    allowed = options.allowed_origins.empty() || match_all ||
              std::find(options.allowed_origins.begin(), options.allowed_origins.end(), origin) !=
                  options.allowed_origins.end();
  }
  const bool preflight = request.method == "OPTIONS";
  if (!allowed) {
    // gorilla answers every OPTIONS itself, with a bare 200, when the origin is not allowed.
    if (preflight) return HttpResponse{};
    return std::nullopt;
  }

  std::vector<std::pair<std::string, std::string>> headers;
  if (preflight) {
    const std::string* req_method = FirstHeader(request, "access-control-request-method");
    if (req_method == nullptr) return HttpResponse{400, {}, {}, {}};
    if (std::find(std::begin(kAllowedMethods), std::end(kAllowedMethods), *req_method) ==
        std::end(kAllowedMethods)) {
      return HttpResponse{405, {}, {}, {}};
    }
    std::vector<std::string> allowed_headers(std::begin(kDefaultHeaders),
                                             std::end(kDefaultHeaders));
    // Upstream hands gorilla its configured list with Content-Type always added.
    allowed_headers.emplace_back("Content-Type");
    for (const auto& h : options.allowed_headers) {
      std::string c = CanonicalHeaderKey(TrimSpace(h));
      if (!c.empty() &&
          std::find(allowed_headers.begin(), allowed_headers.end(), c) == allowed_headers.end()) {
        allowed_headers.push_back(std::move(c));
      }
    }
    const std::string* req_headers = FirstHeader(request, "access-control-request-headers");
    std::string granted;
    std::string_view rest = req_headers ? std::string_view(*req_headers) : std::string_view();
    for (size_t start = 0; req_headers != nullptr;) {
      size_t comma = rest.find(',', start);
      std::string c = CanonicalHeaderKey(
          TrimSpace(rest.substr(start, comma == std::string_view::npos ? comma : comma - start)));
      if (!c.empty() && std::find(std::begin(kDefaultHeaders), std::end(kDefaultHeaders), c) ==
                            std::end(kDefaultHeaders)) {
        if (std::find(allowed_headers.begin(), allowed_headers.end(), c) == allowed_headers.end()) {
          return HttpResponse{403, {}, {}, {}};
        }
        if (!granted.empty()) granted.push_back(',');
        granted += c;
      }
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    if (!granted.empty()) headers.emplace_back("Access-Control-Allow-Headers", granted);
    if (std::find(std::begin(kDefaultMethods), std::end(kDefaultMethods), *req_method) ==
        std::end(kDefaultMethods)) {
      headers.emplace_back("Access-Control-Allow-Methods", *req_method);
    }
  }
  // FlyteAdmin always configures AllowCredentials.
  headers.emplace_back("Access-Control-Allow-Credentials", "true");
  const size_t origin_count = match_all ? 1 : options.allowed_origins.size();
  if (origin_count > 1) headers.emplace_back("Vary", "Origin");
  headers.emplace_back("Access-Control-Allow-Origin",
                       options.allowed_origins.empty() || match_all ? std::string("*") : origin);
  if (preflight) {
    HttpResponse resp;
    resp.status = 200;
    resp.headers = std::move(headers);
    return resp;
  }
  for (auto& h : headers) extra_headers.push_back(std::move(h));
  return std::nullopt;
}

}  // namespace flyte::core::gateway
